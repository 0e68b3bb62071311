#include <udf/udf.hpp>

#include <udf/base32.hpp>

namespace udf {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

std::string type_name(std::uint8_t type) {
    const auto compressed = [](std::string base, unsigned level) {
        if (level == 0) return base;
        return base + " (" + std::to_string(10 + 10 * level) + " bits compressed)";
    };
    if (type >= 80 && type <= 84) return compressed("sha3-512 digest", type - 80U);
    if (type >= 96 && type <= 100) return compressed("sha2-512 digest", type - 96U);
    switch (static_cast<Type>(type)) {
        case Type::authenticator_sha2_512: return "hmac-sha2-512 authenticator";
        case Type::authenticator_sha3_512: return "hmac-sha3-512 authenticator";
        case Type::encryption_key: return "encryption key";
        case Type::encryption_signature_key: return "encryption and signature key";
        case Type::nonce: return "nonce";
        case Type::oid: return "oid";
        case Type::shamir_share: return "shamir share";
        case Type::derived_key: return "key-derivation seed";
        default: return "unknown";
    }
}

bool is_digest_type(std::uint8_t type) noexcept {
    return (type >= 80 && type <= 84) || (type >= 96 && type <= 100);
}

bool is_known_type(std::uint8_t type) noexcept {
    return is_digest_type(type) || type_name(type) != "unknown";
}

std::string add_dashes(std::string_view undashed) {
    std::string out;
    out.reserve(undashed.size() + undashed.size() / 4);
    for (std::size_t i = 0; i < undashed.size(); ++i) {
        if (i > 0 && i % 4 == 0) out.push_back('-');
        out.push_back(undashed[i]);
    }
    return out;
}

Result<std::string> present(std::span<const std::uint8_t> binary, unsigned bits) {
    if (bits < kMinBits || bits > kMaxDigestBits) {
        return fail(Errc::invalid_argument, "udf: precision " + std::to_string(bits) +
                                                " bits outside " + std::to_string(kMinBits) +
                                                ".." + std::to_string(kMaxDigestBits));
    }
    const std::size_t chars = (bits + 4) / 5;
    const std::size_t bytes = (bits + 7) / 8;
    if (bytes > binary.size()) {
        return fail(Errc::invalid_argument, "udf: precision " + std::to_string(bits) +
                                                " bits exceeds the " +
                                                std::to_string(binary.size() * 8) +
                                                " bits of the value");
    }
    std::string text = base32_encode(binary.first(bytes));
    text.resize(chars);
    return add_dashes(text);
}

std::string present_full(std::span<const std::uint8_t> binary) {
    return add_dashes(base32_encode(binary));
}

Result<std::string> canonical(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '-') continue;
        const int v = base32_value(c);
        if (v < 0) {
            return fail(Errc::malformed, "udf: invalid character at offset " + std::to_string(i));
        }
        out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
    if (out.size() < 2) {
        // Two characters are the least that hold a whole type byte.
        return fail(Errc::malformed, out.empty() ? std::string("udf: empty")
                                                 : std::string("udf: too short to hold a type"));
    }
    return out;
}

namespace {
Result<mesh::SecureBytes> decode_impl(std::string_view text, bool exact) {
    MESH_ASSIGN_OR_RETURN(std::string canon, canonical(text));
    mesh::SecureBytes out(canon.size() * 5 / 8);
    auto bytes = out.expose_secret_mut();
    unsigned buffer = 0;
    int bits = 0;
    std::size_t n = 0;
    for (const char c : canon) {
        buffer = (buffer << 5) | static_cast<unsigned>(base32_value(c));
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            bytes[n++] = static_cast<std::uint8_t>((buffer >> bits) & 0xFF);
            buffer &= (1U << bits) - 1U;
        }
    }
    const bool loose_bits = buffer != 0;
    mesh::secure_wipe(canon.data(), canon.size());
    mesh::secure_wipe(&buffer, sizeof buffer);
    if (exact && loose_bits) {
        return fail(Errc::malformed,
                    "udf: the last character holds bits that do not fill a byte (a truncated value)");
    }
    return out;
}
}  // namespace

Result<mesh::SecureBytes> decode(std::string_view text) { return decode_impl(text, false); }
Result<mesh::SecureBytes> decode_exact(std::string_view text) { return decode_impl(text, true); }

namespace {
// Both arguments canonical (upper case, no dashes).
bool prefix_match(const std::string& a, const std::string& b, unsigned floor_bits) noexcept {
    const std::string& shorter = a.size() <= b.size() ? a : b;
    const std::string& longer = a.size() <= b.size() ? b : a;
    if (shorter.size() * 5 < floor_bits) return false;
    return longer.compare(0, shorter.size(), shorter) == 0;
}
}  // namespace

Result<bool> matches(std::string_view a, std::string_view b, unsigned floor_bits) {
    MESH_ASSIGN_OR_RETURN(const std::string ca, canonical(a));
    MESH_ASSIGN_OR_RETURN(const std::string cb, canonical(b));
    return prefix_match(ca, cb, floor_bits);
}

Result<Fingerprint> Fingerprint::parse(std::string_view text) {
    MESH_ASSIGN_OR_RETURN(std::string canon, canonical(text));
    const std::uint8_t type =
        static_cast<std::uint8_t>((base32_value(canon[0]) << 3) | (base32_value(canon[1]) >> 2));
    if (!is_digest_type(type) && type != static_cast<std::uint8_t>(Type::oid)) {
        return fail(Errc::unsupported, "udf: type " + std::to_string(type) + " (" +
                                           type_name(type) + ") is not a fingerprint");
    }
    if (canon.size() * 5 < kMinBits) {
        return fail(Errc::malformed, "udf: " + std::to_string(canon.size() * 5) +
                                         " bits is below the " + std::to_string(kMinBits) +
                                         "-bit floor");
    }
    const std::size_t max_chars = (65 * 8 + 4) / 5;
    if (is_digest_type(type) && canon.size() > max_chars) {
        return fail(Errc::malformed, "udf: digest longer than 512 bits");
    }
    return Fingerprint(std::move(canon), type);
}

Result<Fingerprint> Fingerprint::from_binary(std::span<const std::uint8_t> binary, unsigned bits) {
    MESH_ASSIGN_OR_RETURN(const std::string text, present(binary, bits));
    return parse(text);
}

bool Fingerprint::matches(const Fingerprint& other, unsigned floor_bits) const noexcept {
    return prefix_match(canonical_, other.canonical_, floor_bits);
}

Result<std::string> strong_internet_name(std::string_view address, const Fingerprint& udf) {
    if (address.empty()) return fail(Errc::invalid_argument, "strong internet name: empty address");
    constexpr std::size_t kMaxLabel = 63;
    constexpr std::size_t kPrefix = 4;  // "mm--"
    std::string text = udf.to_string();
    // 59 characters of label after the prefix, dashes included; never end on a dash.
    if (text.size() > kMaxLabel - kPrefix) text.resize(kMaxLabel - kPrefix);
    while (!text.empty() && text.back() == '-') text.pop_back();
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return std::string(address) + ".mm--" + text;
}

}  // namespace udf
