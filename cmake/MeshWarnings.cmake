# mesh_warnings: the project's warning set, linked PRIVATE by every project target.
add_library(mesh_warnings INTERFACE)
target_compile_options(mesh_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(MESH_WERROR)
    target_compile_options(mesh_warnings INTERFACE -Werror)
endif()
