# cscore_add_module(NAME SOURCES src... [DEPS targets...] [PRIVATE_DEPS targets...])
# Adds the static library cscore_<NAME> (alias cscore::<NAME>), with the public headers
# of include/cscore/<NAME>/, and links it into the umbrella target `cscore`. DEPS name the
# modules (cscore_frame, ...) and libraries this one's public headers need.
function(cscore_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target cscore_${name})
  if(NOT M_SOURCES)
    return()  # a module folder whose sources are not written yet
  endif()
  add_library(${target} STATIC ${M_SOURCES})
  add_library(cscore::${name} ALIAS ${target})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # src/ is visible privately so modules share internal headers such as config/yaml_util.h.
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target}
    PUBLIC absl::status absl::statusor absl::strings absl::str_format absl::span
           absl::flat_hash_map absl::time ${M_DEPS}
    PRIVATE ${M_PRIVATE_DEPS})
  target_compile_options(${target} PRIVATE ${CSCORE_WARNINGS})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(cscore INTERFACE ${target})
  set_property(GLOBAL APPEND PROPERTY CSCORE_MODULE_TARGETS ${target})
endfunction()
