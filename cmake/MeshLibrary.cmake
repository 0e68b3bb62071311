# mesh_add_library(TARGET EXPORT_NAME NAME SOURCES src...)
# A project library as STYLE.md §7 describes it: static, C++20, mesh::NAME alias, public headers
# in include/, private ones in src/, and the project's warnings. Link dependencies are added
# by the caller with target_link_libraries.
function(mesh_add_library target)
    cmake_parse_arguments(ARG "" "EXPORT_NAME" "SOURCES" ${ARGN})
    add_library(${target} STATIC ${ARG_SOURCES})
    add_library(mesh::${ARG_EXPORT_NAME} ALIAS ${target})
    set_target_properties(${target} PROPERTIES OUTPUT_NAME mesh_${ARG_EXPORT_NAME} EXPORT_NAME ${ARG_EXPORT_NAME})
    target_compile_features(${target} PUBLIC cxx_std_20)
    target_include_directories(${target} PRIVATE src PUBLIC
        $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
        $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_link_libraries(${target} PRIVATE mesh_warnings)
endfunction()
