# Configures, builds and runs one consumer project. With INSTALL_FROM set, first installs that
# Tickwire build into a fresh prefix and points the consumer at it.
#   cmake -DCONSUMER=find_package|add_subdirectory -DWORK_DIR=... -DTICKWIRE_SOURCE_DIR=...
#         [-DINSTALL_FROM=<tickwire build dir>] [-DGENERATOR=Ninja] [-DSHARED=ON]
#         -P run_consumer.cmake
# With -DSHARED=ON the consumer builds Tickwire as shared libraries (BUILD_SHARED_LIBS) and
# checks that it got them.
# With -DPROJECT_DIR=<dir> it builds that project instead of ./CONSUMER and runs nothing (the
# examples: their own tests run the programs).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(configure_args)
if(CONSUMER STREQUAL "add_subdirectory")
  # These consumers compile Tickwire's sources once more, which is not what they test (the main
  # build does): a unity build does it in half the CPU time. It also keeps the sources fit for
  # games that build everything as unity builds (no clashing names in anonymous namespaces).
  list(APPEND configure_args -DCMAKE_UNITY_BUILD=ON)
endif()
if(SHARED)
  list(APPEND configure_args -DBUILD_SHARED_LIBS=ON)
  # A second build of the whole library: through ccache, where there is one, to keep it cheap.
  find_program(ccache ccache)
  if(ccache)
    list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${ccache}
                               -DCMAKE_C_COMPILER_LAUNCHER=${ccache})
  endif()
endif()
if(INSTALL_FROM)
  run(${CMAKE_COMMAND} --install ${INSTALL_FROM} --prefix ${WORK_DIR}/prefix)
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
endif()
get_filename_component(here ${CMAKE_SCRIPT_MODE_FILE} DIRECTORY)
if(NOT PROJECT_DIR)
  set(PROJECT_DIR ${here}/${CONSUMER})
endif()
# A consumer that compiles Tickwire itself builds it unoptimised: what it checks is that the
# libraries configure, link and run in a game's tree, and -O3 would triple its CI minutes.
set(build_type Release)
if(CONSUMER STREQUAL "add_subdirectory")
  set(build_type "")
endif()
run(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DTICKWIRE_SOURCE_DIR=${TICKWIRE_SOURCE_DIR} "-DCMAKE_BUILD_TYPE=${build_type}" ${configure_args})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(SHARED)
  file(GLOB_RECURSE shared_libraries ${WORK_DIR}/build/tickwire/libtickwire_*.so)
  list(LENGTH shared_libraries count)
  if(NOT count EQUAL 2)
    message(FATAL_ERROR "expected libtickwire_net.so and libtickwire_sim.so, got: ${shared_libraries}")
  endif()
  message(STATUS "consumer: shared libraries ${shared_libraries}")
endif()
if(CONSUMER)
  run(${WORK_DIR}/build/consumer)
endif()
if(CONSUMER STREQUAL "add_subdirectory")
  # The game installs only what it installs itself (here: nothing), not Tickwire.
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/build --prefix ${WORK_DIR}/game-prefix)
  file(GLOB_RECURSE installed ${WORK_DIR}/game-prefix/*)
  if(installed)
    message(FATAL_ERROR "installing the game installed Tickwire's files too: ${installed}")
  endif()
endif()
