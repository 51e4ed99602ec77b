# `cmake --install` lays down headers, the static library and a package config so that
# find_package(cscore CONFIG REQUIRED) + target_link_libraries(app cscore::cscore) works.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/cscore DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
get_property(_cscore_modules GLOBAL PROPERTY CSCORE_MODULE_TARGETS)
install(TARGETS cscore ${_cscore_modules} EXPORT cscoreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET cscore_cli)
  install(TARGETS cscore_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT cscoreTargets NAMESPACE cscore::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cscore)
configure_package_config_file(cmake/cscoreConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cscoreConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cscore)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cscoreConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cscoreConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cscoreConfigVersion.cmake
              cmake/FindRE2.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cscore)
