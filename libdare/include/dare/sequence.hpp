// dare/sequence.hpp: the frame layer of DARE sequences (containers), FORMATS.md §3.
//
// A frame is tag 0xF4+c, its length L big-endian in 1/2/4/8 bytes (c = 0..3, the smallest that
// holds L), L bytes of content, then the same length bytes in reverse order and the tag again,
// so a file can be walked forwards and backwards. The content is two or three records
// (0xF0+c, big-endian length, bytes): header JSON, payload, and an optional trailer JSON.
// Headers are written in the reference's JSON layout (reference_json), which the published
// byte layouts depend on.
// This header is the frame layer only; container types, indexes, encryption and durability
// build on it (issue: libdare II).
// Thread-safety: pure functions. Errors: malformed (bad tags, lengths past the end, mismatched
// trailing length or tag, wrong record count), with the byte offset.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/hash.hpp>
#include <mesh/result.hpp>

namespace dare::sequence {

/// The whole frame of `records` (2 or 3: header, payload, optional trailer).
mesh::Bytes encode_frame(std::span<const std::span<const std::uint8_t>> records);

struct FrameView {
    std::uint64_t start = 0;  ///< offset of the leading tag
    std::uint64_t end = 0;    ///< offset just past the trailing tag
    std::span<const std::uint8_t> header;
    std::span<const std::uint8_t> payload;
    std::optional<std::span<const std::uint8_t>> trailer;
};

/// The frame that starts at `pos`.
mesh::Result<FrameView> read_frame(std::span<const std::uint8_t> data, std::uint64_t pos);
/// The frame that ends just before `end` (walking backwards).
mesh::Result<FrameView> read_frame_before(std::span<const std::uint8_t> data, std::uint64_t end);

/// The reference's JSON layout (FORMATS.md §2.6): members on their own lines indented two
/// spaces a level, `"Tag": value`, closing braces straight after the last value, base64url
/// strings broken with "\n  " when the column would pass 63 (`wrap_binary` names the members
/// whose strings are binary).
std::string reference_json(const Json& value, const std::vector<std::string>& wrap_binary = {});

/// Parses JSON written in the reference's layout: the line breaks it puts inside base64url
/// strings (a raw newline and the spaces after it) are removed before the strict parse.
mesh::Result<Json> parse_reference_json(std::string_view text, const JsonLimits& limits = {});

/// CombineDigest(a, b) = SHA-512(a || b), an absent input counting as 64 zero bytes.
mesh::Digest512 combine_digest(const std::optional<mesh::Digest512>& a, const std::optional<mesh::Digest512>& b);

/// The frame whose position frame n's TreePosition records (FORMATS.md §3.3); 0 for n = 0.
std::uint64_t previous_frame(std::uint64_t n);

}  // namespace dare::sequence
