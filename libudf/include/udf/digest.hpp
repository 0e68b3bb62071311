// udf/digest.hpp: content-digest UDFs (types 96-100, SHA-2-512; 80-84, SHA-3-512) and
// authenticator UDFs (type 0, HMAC-SHA-2-512), FORMATS.md §1.3-1.4.
//
// binary = type || H(UTF8(content_type) || ':' || H(data)); the type byte carries the
// compression level (trailing zero bits of the 512-bit value: >=20 -> +1, >=30 -> +2, >=40 -> +3,
// >=50 -> +4). Nothing is removed from the value; compression only changes the type byte.
// ContentDigester streams data of any size in constant memory. Not thread-safe per object.
// Errors: digest_fd -> io (with the errno text); present via udf::present -> invalid_argument.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <mesh/bytes.hpp>
#include <mesh/hash.hpp>
#include <mesh/result.hpp>

namespace udf {

enum class DigestAlg : std::uint8_t { sha2_512, sha3_512 };

/// Compression level 0..4 of a 64-byte typed digest value.
unsigned compression_level(std::span<const std::uint8_t, 64> typed_digest) noexcept;

/// The 65-byte UDF binary from the digest of the data (the shell's streamed "hash udf" path).
mesh::Bytes digest_to_binary(DigestAlg alg, std::string_view content_type,
                             std::span<const std::uint8_t, 64> data_digest);

/// The 65-byte UDF binary of `data`.
mesh::Bytes content_digest_binary(DigestAlg alg, std::string_view content_type,
                                  std::span<const std::uint8_t> data);

/// The presentation at `bits` precision (kMinBits..kMaxDigestBits).
mesh::Result<std::string> content_digest(DigestAlg alg, std::string_view content_type,
                                         std::span<const std::uint8_t> data,
                                         unsigned bits = 140);

/// Streams data into a content digest.
class ContentDigester final {
public:
    explicit ContentDigester(DigestAlg alg);
    void update(std::span<const std::uint8_t> data);
    /// H(data) of everything so far; resets the digester.
    mesh::Digest512 finish_data_digest();
    /// The UDF binary; resets the digester.
    mesh::Bytes finish(std::string_view content_type);

private:
    DigestAlg alg_;
    mesh::Hasher hasher_;
};

/// Reads `fd` to its end (retrying on EINTR) into the digester. A second thread reads ahead
/// while this one hashes (double buffering), so reading and hashing overlap.
mesh::Result<void> digest_fd(int fd, ContentDigester& digester);

/// The 65-byte authenticator binary: 0x00 || HMAC-SHA512(OKM, cty ':' SHA512(data)) with
/// OKM = HKDF-SHA512(salt "KeyedUDFMaster", key_string, info "KeyedUDFExpand", 64).
mesh::Bytes authenticator_binary(std::string_view key_string, std::string_view content_type,
                                 std::span<const std::uint8_t, 64> data_sha512);

}  // namespace udf
