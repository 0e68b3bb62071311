// dare/jsonb.hpp: JSON-B (draft-hallambaker-jsonbcd), FORMATS.md §4.
//
// JsonbWriter appends items to a byte buffer: strings (0x80+c), binary (0x88+c; chunks 0x8C+c),
// integers (A0-A3 / A8-AB, smallest length; A4/A5/A6 for 128/256/512-bit magnitudes), binary64
// floats (92), true/false/null (B0/B1/B2), objects with member names as tag strings (B4+c, as
// the reference writes them) and arrays, keeping JSON's { } [ ].
// parse_jsonb() reads one value into the Json DOM: binary data becomes a base64url string (its
// JSON form); chunked strings and binary are joined; member names may be B4-B7 or 80-83 strings.
// It checks every length against the bytes that remain before allocating, limits depth and
// total size, and rejects JSON-C (C0-D0) and frames as unsupported and F8-FF as reserved.
// Thread-safety: a writer is single-threaded; functions are thread-safe.
// Errors: malformed (truncation, lengths past the end, reserved tags, bad UTF-8, trailing data),
// unsupported (JSON-C, binary128/x87/decimal floats), limit_exceeded (depth, size).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/result.hpp>

namespace dare {

namespace jsonb {
inline constexpr std::uint8_t kString = 0x80;
inline constexpr std::uint8_t kStringChunk = 0x84;
inline constexpr std::uint8_t kBinary = 0x88;
inline constexpr std::uint8_t kBinaryChunk = 0x8C;
inline constexpr std::uint8_t kFloat64 = 0x92;
inline constexpr std::uint8_t kPositive = 0xA0;
inline constexpr std::uint8_t kNegative = 0xA8;
inline constexpr std::uint8_t kTrue = 0xB0;
inline constexpr std::uint8_t kFalse = 0xB1;
inline constexpr std::uint8_t kNull = 0xB2;
inline constexpr std::uint8_t kTagString = 0xB4;

/// Writes a tag whose low two bits give the length size, then the big-endian length.
void put_tagged_length(mesh::Bytes& out, std::uint8_t base, std::uint64_t length);
/// Reads such a tag's length at `pos` (just after the tag byte); advances `pos`.
/// malformed if the length bytes or the `length` bytes after them run past the end.
mesh::Result<std::uint64_t> get_tagged_length(std::span<const std::uint8_t> in, std::size_t& pos,
                                              std::uint8_t tag);
}  // namespace jsonb

class JsonbWriter final {
public:
    void begin_object() { out_.push_back('{'); }
    void end_object() { out_.push_back('}'); }
    void begin_array() { out_.push_back('['); }
    void end_array() { out_.push_back(']'); }
    void name(std::string_view n);
    void string(std::string_view s);
    void binary(std::span<const std::uint8_t> b);
    /// A non-final binary chunk (the last chunk is written with binary()).
    void binary_chunk(std::span<const std::uint8_t> b);
    void integer(std::int64_t v);
    void unsigned_integer(std::uint64_t v);
    /// Decimal digits with an optional '-': A0-A3/A8-AB if it fits 64 bits, else A4/A5/A6/AC..
    /// invalid_argument if not an integer or beyond 512 bits.
    mesh::Result<void> big_integer(std::string_view digits);
    void number(double v);
    void boolean(bool b) { out_.push_back(b ? jsonb::kTrue : jsonb::kFalse); }
    void null() { out_.push_back(jsonb::kNull); }
    /// Any DOM value.
    mesh::Result<void> value(const Json& v);

    [[nodiscard]] const mesh::Bytes& bytes() const noexcept { return out_; }
    mesh::Bytes take() { return std::move(out_); }

private:
    mesh::Bytes out_;
};

/// The JSON-B encoding of a DOM value.
mesh::Result<mesh::Bytes> to_jsonb(const Json& value);

struct JsonbLimits {
    std::size_t max_bytes = std::size_t{1} << 20;
    std::size_t max_depth = 32;
};

/// Parses exactly one JSON-B value covering all of `in`.
mesh::Result<Json> parse_jsonb(std::span<const std::uint8_t> in, const JsonbLimits& limits = {});
/// Parses one JSON-B value starting at `pos`; advances `pos` past it.
mesh::Result<Json> parse_jsonb_item(std::span<const std::uint8_t> in, std::size_t& pos,
                                    const JsonbLimits& limits = {});

}  // namespace dare
