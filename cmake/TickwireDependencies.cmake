# Every third-party package Tickwire's libraries need. cmake/TickwireConfig.cmake.in makes the
# same calls with find_dependency for consumers of an installed Tickwire: keep the two in step.
find_package(Threads REQUIRED)
find_package(FlatBuffers REQUIRED CONFIG)
find_package(ENet REQUIRED MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(Sodium REQUIRED MODULE)
# TLS for the WebSocket transport and the lobby (wss://, https://): OpenSSL, with Asio's SSL
# context.
find_package(OpenSSL 1.1.1 REQUIRED)
