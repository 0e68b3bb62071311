// mesh/assert.hpp: programmer-error checks that stay on in release builds.
//
// MESH_ASSERT(cond) reports file:line and the condition on stderr and aborts, like libsodium's
// sodium_misuse(). It is for broken invariants, never for bad input (bad input is a Result).
#pragma once

namespace mesh::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line) noexcept;
}  // namespace mesh::detail

#define MESH_ASSERT(cond)                                                  \
    do {                                                                   \
        if (!(cond)) ::mesh::detail::assert_fail(#cond, __FILE__, __LINE__); \
    } while (false)
