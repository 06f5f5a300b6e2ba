# Every third-party package Tickwire's libraries need. cmake/TickwireConfig.cmake.in makes the
# same calls with find_dependency for consumers of an installed Tickwire: keep the two in step.
find_package(Threads REQUIRED)
find_package(FlatBuffers REQUIRED CONFIG)
# Debian's libflatbuffers-dev has the library twice: flatbuffers::flatbuffers is the static
# archive, built without -fPIC, so no shared library can take it in; flatbuffers::flatbuffers_shared
# is libflatbuffers.so. Generated code and its Verifier are headers only; the library is needed for
# flatbuffers::Parser and reflection (the lobby's JSON). Shared Tickwire libraries link the .so.
if(BUILD_SHARED_LIBS AND TARGET flatbuffers::flatbuffers_shared)
  set(TICKWIRE_FLATBUFFERS_LIBRARY flatbuffers::flatbuffers_shared)
else()
  set(TICKWIRE_FLATBUFFERS_LIBRARY flatbuffers::flatbuffers)
endif()
find_package(ENet REQUIRED MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(Sodium REQUIRED MODULE)
# TLS for the WebSocket transport and the lobby (wss://, https://): OpenSSL, with Asio's SSL
# context.
find_package(OpenSSL 1.1.1 REQUIRED)
# The lobby state several lobby processes share through Redis (make_redis_lobby_state): hiredis.
find_package(Hiredis REQUIRED MODULE)
# Replay files' checksums (engine/sim/src/replay.cpp): xxHash's XXH3, compiled in from its header
# alone (XXH_INLINE_ALL), so nothing links to it and an installed Tickwire's consumers need none.
find_path(XXHash_INCLUDE_DIR NAMES xxhash.h REQUIRED)
mark_as_advanced(XXHash_INCLUDE_DIR)
