# install(EXPORT) and the package files that make find_package(Tickwire) work.
include(CMakePackageConfigHelpers)

install(TARGETS tickwire_schemas tickwire_net tickwire_sim
        EXPORT TickwireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY engine/net/include/ engine/sim/include/ schemas/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${TICKWIRE_SCHEMAS_INCLUDE_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tickwire/schemas
        FILES_MATCHING PATTERN "*.fbs")

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
        DESTINATION ${tickwire_cmake_dir})
