# install(EXPORT) and the package files that make find_package(Tickwire) and
# pkg-config --cflags --libs tickwire work, and the Debian package (cpack -G DEB, or the
# `package` target). The version in each is project(VERSION) in the top CMakeLists.txt.
include(CMakePackageConfigHelpers)

install(TARGETS tickwire_base tickwire_schemas tickwire_net tickwire_sim
        EXPORT TickwireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY engine/base/include/ engine/net/include/ engine/sim/include/ schemas/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${TICKWIRE_SCHEMAS_INCLUDE_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tickwire/schemas
        FILES_MATCHING PATTERN "*.fbs" PATTERN include EXCLUDE)

set(tickwire_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/Tickwire)
install(EXPORT TickwireTargets NAMESPACE tickwire:: DESTINATION ${tickwire_cmake_dir})
configure_package_config_file(cmake/TickwireConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/TickwireConfig.cmake
                              INSTALL_DESTINATION ${tickwire_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TickwireConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/TickwireConfig.cmake
              ${PROJECT_BINARY_DIR}/TickwireConfigVersion.cmake
              cmake/FindENet.cmake
              cmake/FindSodium.cmake
              cmake/FindHiredis.cmake
        DESTINATION ${tickwire_cmake_dir})

# pkg-config. FlatBuffers is public (the generated schema headers include it). ENet, libsodium,
# OpenSSL and hiredis are private to the libraries: a shared libtickwire_net would carry them
# itself, but a static one needs them on the game's link line, so then they are public too
# (Tickwire is static unless BUILD_SHARED_LIBS=ON). Boost is headers only, used inside the libraries: nothing for the game to
# compile or link.
set(tickwire_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH TICKWIRE_PC_RELATIVE_PREFIX /${tickwire_pc_dir} /)
string(REGEX REPLACE "/$" "" TICKWIRE_PC_RELATIVE_PREFIX "${TICKWIRE_PC_RELATIVE_PREFIX}")
if(BUILD_SHARED_LIBS)
  set(TICKWIRE_PC_REQUIRES "flatbuffers")
  set(TICKWIRE_PC_REQUIRES_PRIVATE "libenet libsodium openssl hiredis")
else()
  set(TICKWIRE_PC_REQUIRES "flatbuffers libenet libsodium openssl hiredis")
  set(TICKWIRE_PC_REQUIRES_PRIVATE "")
endif()
configure_file(cmake/tickwire.pc.in ${PROJECT_BINARY_DIR}/tickwire.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tickwire.pc DESTINATION ${tickwire_pc_dir})

# The Debian package: libraries, headers, schemas and both package files, for building games
# (a -dev package; the demo programs are not in it). Depends on the -dev packages of what the
# libraries use.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libtickwire-dev)
set(CPACK_PACKAGE_VENDOR "Tickwire")
set(CPACK_PACKAGE_CONTACT "Tickwire maintainers <tickwire@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libenet-dev (>= 1.3.17), libsodium-dev, libssl-dev, libflatbuffers-dev, libboost-dev (>= 1.74), libhiredis-dev, pkg-config")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
include(CPack)
