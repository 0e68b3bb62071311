// udf/base32.hpp: RFC 4648 §6 Base32 (alphabet A-Z 2-7).
//
// encode() writes upper case without padding; encode_padded() adds '=' to a multiple of 8.
// decode() is the strict canonical parser: upper case only, padding either absent or exactly
// right, no impossible lengths (1, 3 or 6 characters in the last group), no non-zero trailing
// bits. UDF text, which is case-insensitive and has dashes, is parsed by udf::decode instead.
// Thread-safe (pure functions). Errors: decode -> malformed, with the offset of the fault.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <mesh/bytes.hpp>
#include <mesh/result.hpp>

namespace udf {

std::string base32_encode(std::span<const std::uint8_t> bytes);
std::string base32_encode_padded(std::span<const std::uint8_t> bytes);
mesh::Result<mesh::Bytes> base32_decode(std::string_view text);

/// The 5-bit value of a Base32 character, either case; -1 if it is not in the alphabet.
int base32_value(char c) noexcept;

}  // namespace udf
