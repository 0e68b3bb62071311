#include <udf/base32.hpp>

#include <string>

namespace udf {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}  // namespace

int base32_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

std::string base32_encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    unsigned buffer = 0;
    int bits = 0;
    for (const std::uint8_t b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kAlphabet[(buffer >> bits) & 0x1F]);
        }
        buffer &= (1U << bits) - 1U;
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1F]);
    return out;
}

std::string base32_encode_padded(std::span<const std::uint8_t> bytes) {
    std::string out = base32_encode(bytes);
    while (out.size() % 8 != 0) out.push_back('=');
    return out;
}

mesh::Result<mesh::Bytes> base32_decode(std::string_view text) {
    using mesh::Errc;
    std::size_t n = text.size();
    std::size_t pad = 0;
    while (pad < n && text[n - 1 - pad] == '=') ++pad;
    if (pad > 0) {
        // Padded input must be a whole number of 8-character groups with the RFC's pad counts.
        if (n % 8 != 0 || !(pad == 1 || pad == 3 || pad == 4 || pad == 6)) {
            return mesh::fail(Errc::malformed, "base32: wrong padding");
        }
        n -= pad;
    }
    const std::size_t rem = n % 8;
    if (rem == 1 || rem == 3 || rem == 6) {
        return mesh::fail(Errc::malformed, "base32: impossible length " + std::to_string(n));
    }
    mesh::Bytes out;
    out.reserve(n * 5 / 8);
    unsigned buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[i];
        const int v = (c >= 'a' && c <= 'z') ? -1 : base32_value(c);
        if (v < 0) {
            return mesh::fail(Errc::malformed,
                              "base32: invalid character at offset " + std::to_string(i));
        }
        buffer = (buffer << 5) | static_cast<unsigned>(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFF));
            buffer &= (1U << bits) - 1U;
        }
    }
    if (buffer != 0) return mesh::fail(Errc::malformed, "base32: non-zero trailing bits");
    return out;
}

}  // namespace udf
