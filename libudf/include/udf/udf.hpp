// udf/udf.hpp: Uniform Data Fingerprints: type bytes, presentation, parsing, comparison.
//
// A UDF is a type byte followed by data, shown as Base32 (upper case, no padding) with a dash
// after every 4 characters. Digest UDFs are shown at a precision in bits (default 140 = 28
// characters): the text has ceil(bits/5) characters of the binary. Fixed-length UDFs (keys,
// nonces, shares, OIDs, seeds) are always shown whole.
// Parsing is case-insensitive and skips dashes; any other character outside the alphabet is an
// error (the reference skips it; we reject it so that every UDF has one spelling).
// Thread-safe (pure functions and immutable values).
// Errors: decode/canonical/Fingerprint::parse -> malformed (empty, bad character with its
// offset, shorter than the floor), unsupported (type byte not a digest/OID for Fingerprint);
// present -> invalid_argument (precision outside the allowed range).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <mesh/bytes.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace udf {

/// The type byte values of FORMATS.md §1.2.
enum class Type : std::uint8_t {
    authenticator_sha2_512 = 0,
    authenticator_sha3_512 = 1,
    encryption_key = 32,
    encryption_signature_key = 33,
    digest_sha3_512 = 80,   // 81..84: compressed by 20, 30, 40, 50 bits
    digest_sha2_512 = 96,   // 97..100: compressed by 20, 30, 40, 50 bits
    nonce = 104,
    oid = 112,
    shamir_share = 144,
    derived_key = 200,
};

inline constexpr unsigned kDefaultBits = 140;     ///< 28 characters
inline constexpr unsigned kMinBits = 100;         ///< smallest precision we present or match
inline constexpr unsigned kMaxDigestBits = 440;   ///< the reference's MaximumBits
inline constexpr unsigned kMatchFloorBits = 100;  ///< prefix matching needs at least this

/// A readable name for a type byte ("sha2-512 digest (20 bits compressed)"), or "unknown".
std::string type_name(std::uint8_t type);
/// True for the bytes listed in Type (with the compressed digest variants).
bool is_known_type(std::uint8_t type) noexcept;
/// True for 80..84 and 96..100.
bool is_digest_type(std::uint8_t type) noexcept;

/// Base32 of the first ceil(bits/5) characters of `binary`, with dashes. `bits` must be within
/// kMinBits..kMaxDigestBits and no more than the binary holds.
mesh::Result<std::string> present(std::span<const std::uint8_t> binary, unsigned bits);
/// The whole binary, with dashes (fixed-length UDFs).
std::string present_full(std::span<const std::uint8_t> binary);
/// Inserts a dash after every 4 characters of undashed Base32 text.
std::string add_dashes(std::string_view undashed);

/// Validates UDF text and returns it upper case without dashes.
mesh::Result<std::string> canonical(std::string_view text);
/// Decodes UDF text to its binary (type byte first). Partial trailing bits are dropped.
/// The result may be secret (keys, shares, seeds), so it is a SecureBytes.
mesh::Result<mesh::SecureBytes> decode(std::string_view text);
/// As decode, but text whose last character carries bits that do not fill a byte (a truncated
/// presentation) is malformed: the binary holds everything the text says.
mesh::Result<mesh::SecureBytes> decode_exact(std::string_view text);

/// Prefix comparison (FORMATS.md §1.1): case-insensitive, dashes ignored, the shorter must be a
/// prefix of the longer and hold at least `floor_bits` (5 bits a character).
mesh::Result<bool> matches(std::string_view a, std::string_view b,
                           unsigned floor_bits = kMatchFloorBits);

/// A public fingerprint (digest or OID UDF) as text, validated and kept in canonical form.
class Fingerprint final {
public:
    /// Accepts digest types 80..84 and 96..100 and OID (112) with at least kMinBits.
    static mesh::Result<Fingerprint> parse(std::string_view text);
    /// From a digest UDF binary (type + 64 bytes) at `bits` precision.
    static mesh::Result<Fingerprint> from_binary(std::span<const std::uint8_t> binary,
                                                 unsigned bits = kDefaultBits);

    /// Upper case, with dashes.
    [[nodiscard]] std::string to_string() const { return add_dashes(canonical_); }
    [[nodiscard]] const std::string& canonical_text() const noexcept { return canonical_; }
    [[nodiscard]] std::uint8_t type_byte() const noexcept { return type_; }
    [[nodiscard]] unsigned bits() const noexcept {
        return static_cast<unsigned>(canonical_.size() * 5);
    }
    /// Prefix match with the 100-bit floor.
    [[nodiscard]] bool matches(const Fingerprint& other,
                               unsigned floor_bits = kMatchFloorBits) const noexcept;

    friend bool operator==(const Fingerprint&, const Fingerprint&) = default;

private:
    Fingerprint(std::string canonical, std::uint8_t type)
        : canonical_(std::move(canonical)), type_(type) {}
    std::string canonical_;
    std::uint8_t type_;
};

/// A Strong Internet Name label, "mm--" and the lower-case UDF at up to 240 bits (63 chars).
mesh::Result<std::string> strong_internet_name(std::string_view address, const Fingerprint& udf);

}  // namespace udf
