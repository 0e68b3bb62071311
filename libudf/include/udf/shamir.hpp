// udf/shamir.hpp: Shamir secret sharing with shares as UDFs (type 144), FORMATS.md §1.8.
//
// The field is GF(p), p the smallest prime above 2^(8B) for a B-byte secret (B = 1..64). Share
// x (1..n) is f(x) as B big-endian bytes after the byte threshold*16 + (x-1); a split whose f(x)
// does not fit in B bytes is redrawn. Recovery is Lagrange interpolation at 0.
// Arithmetic is OpenSSL BIGNUM (libsodium has no bignum), in constant-time mode, wiped on free.
// Thread-safe (pure functions; randomness injected).
// Errors: invalid_argument (secret length, threshold/share counts, too few shares), malformed
// (share text or length), unsupported (not a share UDF), already_exists (the same share twice).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace udf {

inline constexpr unsigned kMaxShares = 15;
inline constexpr unsigned kMaxThreshold = 15;
inline constexpr std::size_t kMaxSecretBytes = 64;

/// Offset of the prime for a B-byte secret: p = 2^(8B) + offset (B = 1..64).
unsigned shamir_prime_offset(std::size_t secret_bytes) noexcept;

/// Splits a 1..64-byte secret into `shares` share binaries, any `threshold` of which recover it
/// (2 <= threshold <= shares <= 15).
mesh::Result<std::vector<mesh::SecureBytes>> shamir_split(std::span<const std::uint8_t> secret,
                                                          unsigned threshold, unsigned shares,
                                                          mesh::RandomSource& rng);

/// Recovers the secret from share binaries (at least the threshold, all with the same threshold
/// and length, no x twice). Extra shares beyond the threshold are used as given: only the first
/// `threshold` distinct shares enter the interpolation.
mesh::Result<mesh::SecureBytes> shamir_recover(std::span<const mesh::SecureBytes> shares);

/// Parses share text (a UDF of type 144) to its binary.
mesh::Result<mesh::SecureBytes> parse_share(std::string_view text);

}  // namespace udf
