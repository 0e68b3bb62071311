# RECRYPT_SANITIZE=address,undefined builds everything with those sanitizers.
if(RECRYPT_SANITIZE)
    string(REPLACE "," ";" _mesh_sanitizers "${RECRYPT_SANITIZE}")
    foreach(_s IN LISTS _mesh_sanitizers)
        if(NOT _s MATCHES "^(address|undefined|leak|thread)$")
            message(FATAL_ERROR "RECRYPT_SANITIZE: unknown sanitizer '${_s}' (address, undefined, leak, thread)")
        endif()
    endforeach()
    add_compile_options(-fsanitize=${RECRYPT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${RECRYPT_SANITIZE})
endif()

# RECRYPT_FUZZ=ON: coverage for libFuzzer in every object (the fuzz programs link the fuzzer).
if(RECRYPT_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "RECRYPT_FUZZ needs clang (CXX=clang++)")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
