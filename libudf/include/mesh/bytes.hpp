// mesh/bytes.hpp: byte strings and their text encodings (hex, base64url).
//
// All decoders are strict: they accept exactly the canonical form and report where the input is
// wrong. Thread-safe (pure functions).
// Errors: hex_decode -> malformed; base64url_decode -> malformed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mesh/result.hpp>

namespace mesh {

using Bytes = std::vector<std::uint8_t>;

/// Views a string's characters as bytes.
std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept;

/// Lower-case hex (libsodium sodium_bin2hex).
std::string hex_encode(std::span<const std::uint8_t> bytes);
/// Upper-case hex, as the reference and our vector files print it.
std::string hex_encode_upper(std::span<const std::uint8_t> bytes);
/// Hex in either case, even length, no separators. Errc::malformed otherwise.
Result<Bytes> hex_decode(std::string_view text);

/// RFC 4648 §5 base64url without padding.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
/// Strict base64url without padding: no '=', '+', '/', whitespace or non-canonical trailing bits.
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace mesh
