// mesh/crypto_init.hpp: one-time initialisation of libsodium (sodium_init under std::call_once).
// Called by every library entry point that needs libsodium, by both mains and the test main.
// Aborts if libsodium cannot initialise (no usable randomness): nothing safe can follow.
#pragma once

namespace mesh {
void crypto_init() noexcept;
}  // namespace mesh
