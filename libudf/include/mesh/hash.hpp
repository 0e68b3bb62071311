// mesh/hash.hpp: SHA-2-512, SHA-3-512, HMAC-SHA-512/256 and HKDF (RFC 5869).
//
// One-shot SHA-2-512 and HMAC come from libsodium. The streaming classes (bulk data) use
// OpenSSL's libcrypto: its SHA-2-512 measured 1.6x libsodium's portable code on our machines
// (docs/benchmarks.md), and libsodium has no SHA-3. HKDF is built on libsodium's HMAC (1.0.18 has no HKDF) and is checked against the RFC
// 5869 and Wycheproof vectors. Objects are not thread-safe; functions are.
// Errors: hkdf_expand_* -> invalid_argument when the length is 0 or over 255 hash lengths.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace mesh {

inline constexpr std::size_t kSha512Bytes = 64;
inline constexpr std::size_t kSha256Bytes = 32;
using Digest512 = std::array<std::uint8_t, kSha512Bytes>;
using Digest256 = std::array<std::uint8_t, kSha256Bytes>;
using ByteParts = std::initializer_list<std::span<const std::uint8_t>>;

enum class HashAlg : std::uint8_t { sha2_512, sha3_512 };

/// Streaming SHA-2-512 or SHA-3-512 (64-byte digests).
class Hasher final {
public:
    explicit Hasher(HashAlg alg);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    void update(std::span<const std::uint8_t> data);
    /// Returns the digest and resets the object for reuse.
    Digest512 finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

Digest512 sha512(ByteParts parts) noexcept;
Digest512 sha3_512(ByteParts parts);

/// HMAC over the concatenation of `parts`. Any key length.
Digest512 hmac_sha512(std::span<const std::uint8_t> key, ByteParts parts) noexcept;
Digest256 hmac_sha256(std::span<const std::uint8_t> key, ByteParts parts) noexcept;

enum class HkdfHash : std::uint8_t { sha256, sha512 };

/// HKDF-Extract: PRK = HMAC(salt, ikm). An empty salt means HashLen zero bytes (RFC 5869 §2.2).
SecureBytes hkdf_extract(HkdfHash hash, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> ikm);
/// HKDF-Expand to `length` bytes (1 .. 255 * HashLen).
Result<SecureBytes> hkdf_expand(HkdfHash hash, std::span<const std::uint8_t> prk,
                                std::span<const std::uint8_t> info, std::size_t length);
/// Extract then expand.
Result<SecureBytes> hkdf(HkdfHash hash, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> info,
                         std::size_t length);

}  // namespace mesh
