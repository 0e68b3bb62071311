// The shared vocabulary: assertions, Errc names, wiping, randomness, crypto_init, hex, base64url.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include <sodium.h>

#include <mesh/assert.hpp>
#include <mesh/bytes.hpp>
#include <mesh/crypto_init.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace mesh {

namespace detail {
void assert_fail(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "mesh: assertion failed: %s (%s:%d)\n", expr, file, line);
    std::abort();
}
}  // namespace detail

namespace {
constexpr std::array<std::string_view, 10> kErrcNames = {
    "invalid_argument", "malformed", "unsupported", "auth_failed", "not_found",
    "already_exists",   "permission_denied", "limit_exceeded", "io", "internal"};
}  // namespace

std::string_view errc_name(Errc code) noexcept {
    const auto i = static_cast<std::size_t>(code);
    return i < kErrcNames.size() ? kErrcNames[i] : std::string_view("internal");
}

bool errc_from_name(std::string_view name, Errc& out) noexcept {
    for (std::size_t i = 0; i < kErrcNames.size(); ++i) {
        if (kErrcNames[i] == name) {
            out = static_cast<Errc>(i);
            return true;
        }
    }
    return false;
}

void secure_wipe(void* p, std::size_t n) noexcept {
    if (p != nullptr && n != 0) sodium_memzero(p, n);
}

bool secure_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void crypto_init() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) {
            std::fputs("mesh: libsodium could not be initialised\n", stderr);
            std::abort();
        }
    });
}

void SystemRandom::fill(std::span<std::uint8_t> out) {
    crypto_init();
    if (!out.empty()) randombytes_buf(out.data(), out.size());
}

RandomSource& system_random() noexcept {
    static SystemRandom source;
    return source;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string hex_encode(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0F]);
    }
    return out;
}

std::string hex_encode_upper(std::span<const std::uint8_t> bytes) {
    std::string out = hex_encode(bytes);
    for (char& c : out) {
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

Result<Bytes> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) {
        return fail(Errc::malformed, "hex: odd number of digits (" + std::to_string(text.size()) + ")");
    }
    Bytes out(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = hex_value(text[i]);
        const int lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            const std::size_t at = hi < 0 ? i : i + 1;
            return fail(Errc::malformed, "hex: invalid character at offset " + std::to_string(at));
        }
        out[i / 2] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return out;
}

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), kVariant);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
    // libsodium rejects '=', '+', '/', whitespace, non-canonical trailing bits and a length of
    // 1 mod 4 when b64_end is NULL (with a non-NULL end it stops early and returns 0).
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return fail(Errc::malformed,
                        "base64url: invalid character at offset " + std::to_string(i));
        }
    }
    if (text.size() % 4 == 1) {
        return fail(Errc::malformed,
                    "base64url: impossible length " + std::to_string(text.size()));
    }
    Bytes out(text.size() * 3 / 4 + 3);
    std::size_t len = 0;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        return fail(Errc::malformed, "base64url: non-canonical trailing bits");
    }
    out.resize(len);
    return out;
}

}  // namespace mesh
