#include <recrypt/request_signature.hpp>

#include <cctype>
#include <cstring>

#include <sodium.h>

#include <mesh/crypto_init.hpp>
#include <mesh/hash.hpp>
#include <udf/udf.hpp>

namespace recrypt {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr std::string_view kComponents = R"(("@method" "@path" "content-digest"))";
constexpr std::size_t kMaxHeader = 1024;

std::string base64(std::span<const std::uint8_t> b) {
    std::string out(sodium_base64_ENCODED_LEN(b.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);
    return out;
}

Result<mesh::Bytes> unbase64(std::string_view text, std::string_view what) {
    mesh::Bytes out(text.size() * 3 / 4 + 3);
    std::size_t len = 0;
    if (text.empty() || sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, nullptr,
                                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        return fail(Errc::malformed, std::string(what) + ": not base64");
    }
    out.resize(len);
    return out;
}

std::string params(std::int64_t created, std::string_view nonce, std::string_view keyid) {
    return std::string(kComponents) + ";created=" + std::to_string(created) + ";nonce=\"" + std::string(nonce) +
           "\";keyid=\"" + std::string(keyid) + "\";alg=\"ed25519\"";
}

std::string signature_base(std::string_view method, std::string_view path, std::string_view digest,
                           std::string_view signature_params) {
    std::string b;
    b.append("\"@method\": ").append(method).push_back('\n');
    b.append("\"@path\": ").append(path).push_back('\n');
    b.append("\"content-digest\": ").append(digest).push_back('\n');
    b.append("\"@signature-params\": ").append(signature_params);
    return b;
}

// A parameter value: token chars for numbers, "..." with no quotes or backslashes for strings.
bool printable(std::string_view s) {
    for (const char c : s) {
        if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') return false;
    }
    return true;
}

struct ParsedInput {
    std::int64_t created = 0;
    std::string nonce;
    std::string keyid;
};

// Exactly: sig1=("@method" "@path" "content-digest");created=N;nonce="..";keyid="..";alg="ed25519"
Result<ParsedInput> parse_input(std::string_view v) {
    const auto bad = [](std::string what) { return fail(Errc::malformed, "Signature-Input: " + std::move(what)); };
    if (v.size() > kMaxHeader) return bad("too long");
    constexpr std::string_view kLabel = "sig1=";
    if (!v.starts_with(kLabel)) return bad("expected one signature labelled sig1");
    v.remove_prefix(kLabel.size());
    if (!v.starts_with(kComponents)) return bad("must cover exactly \"@method\" \"@path\" \"content-digest\"");
    v.remove_prefix(kComponents.size());
    ParsedInput p;
    bool have_created = false;
    bool have_alg = false;
    while (!v.empty()) {
        if (v[0] != ';') return bad("unexpected character after the parameters");
        v.remove_prefix(1);
        const std::size_t eq = v.find('=');
        if (eq == std::string_view::npos) return bad("parameter without a value");
        const std::string_view name = v.substr(0, eq);
        v.remove_prefix(eq + 1);
        std::string value;
        if (!v.empty() && v[0] == '"') {
            const std::size_t end = v.find('"', 1);
            if (end == std::string_view::npos) return bad("unterminated string");
            value = std::string(v.substr(1, end - 1));
            if (!printable(value) || value.empty()) return bad("bad characters in " + std::string(name));
            v.remove_prefix(end + 1);
        } else {
            std::size_t end = 0;
            while (end < v.size() && std::isdigit(static_cast<unsigned char>(v[end])) != 0) ++end;
            if (end == 0 || end > 12) return bad("bad number for " + std::string(name));
            value = std::string(v.substr(0, end));
            v.remove_prefix(end);
        }
        if (name == "created" && !have_created) {
            if (!std::isdigit(static_cast<unsigned char>(value[0]))) return bad("created must be a number");
            p.created = std::stoll(value);
            have_created = true;
        } else if (name == "nonce" && p.nonce.empty()) {
            if (value.size() < 16 || value.size() > 64) return bad("nonce of " + std::to_string(value.size()) + " characters");
            p.nonce = value;
        } else if (name == "keyid" && p.keyid.empty()) {
            if (value.size() > 128 || !udf::canonical(value).has_value()) return bad("keyid is not a fingerprint");
            p.keyid = value;
        } else if (name == "alg" && !have_alg) {
            if (value != "ed25519") return bad("alg '" + value.substr(0, 32) + "' not supported");
            have_alg = true;
        } else {
            return bad("unknown or repeated parameter '" + std::string(name.substr(0, 32)) + "'");
        }
    }
    if (!have_created || p.nonce.empty() || p.keyid.empty() || !have_alg) {
        return bad("created, nonce, keyid and alg are all required");
    }
    return p;
}

Result<mesh::Bytes> parse_byte_sequence(std::string_view v, std::string_view prefix, std::string_view what) {
    if (v.size() > kMaxHeader || !v.starts_with(prefix) || v.size() < prefix.size() + 2 || v.back() != ':' ||
        v[prefix.size()] != ':') {
        return fail(Errc::malformed, std::string(what) + ": expected " + std::string(prefix) + ":<base64>:");
    }
    return unbase64(v.substr(prefix.size() + 1, v.size() - prefix.size() - 2), what);
}
}  // namespace

std::string content_digest(std::span<const std::uint8_t> body) {
    return "sha-512=:" + base64(mesh::sha512({body})) + ":";
}

SignedHeaders sign_request(const dare::SignaturePrivateKey& key, std::string_view method, std::string_view path,
                           std::span<const std::uint8_t> body, std::int64_t created, mesh::RandomSource& rng) {
    mesh::crypto_init();
    std::array<std::uint8_t, 16> n{};
    rng.fill(n);
    const std::string nonce = mesh::base64url_encode(n);
    const std::string digest = content_digest(body);
    const std::string p = params(created, nonce, key.public_key().kid());
    const auto sig = key.sign(mesh::as_bytes(signature_base(method, path, digest, p)));
    return SignedHeaders{digest, "sig1=" + p, "sig1=:" + base64(sig) + ":"};
}

std::size_t ReplayCache::KeyHash::operator()(const Key& k) const noexcept {
    std::size_t h = 0;
    std::memcpy(&h, k.data(), sizeof h);  // already a uniform digest
    return h;
}

Result<void> ReplayCache::check_and_remember(std::string_view keyid, std::string_view nonce, std::int64_t created, std::int64_t now) {
    Key key{};
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, key.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(keyid.data()), keyid.size());
    const unsigned char sep = 0;
    crypto_generichash_update(&st, &sep, 1);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size());
    crypto_generichash_final(&st, key.data(), key.size());
    const std::lock_guard lock(m_);
    // forget what can no longer be replayed: created more than a window ago
    while (!by_created_.empty() && by_created_.begin()->first < now - window_.count()) {
        for (const auto& k : by_created_.begin()->second) seen_.erase(k);
        by_created_.erase(by_created_.begin());
    }
    if (seen_.contains(key)) return fail(Errc::already_exists, "request: replayed (nonce already used)");
    if (seen_.size() >= capacity_) return fail(Errc::limit_exceeded, "request: replay cache full");
    seen_.insert(key);
    by_created_[created].push_back(key);
    return mesh::ok();
}

std::size_t ReplayCache::size() const {
    const std::lock_guard lock(m_);
    return seen_.size();
}

Result<VerifiedRequest> verify_request(const SignedHeaders& h, std::string_view method, std::string_view path,
                                       std::span<const std::uint8_t> body, const KeyLookup& lookup,
                                       const VerifyOptions& o) {
    mesh::crypto_init();
    if (h.content_digest.empty() || h.signature_input.empty() || h.signature.empty()) {
        return fail(Errc::malformed, "request: Content-Digest, Signature-Input and Signature are required");
    }
    MESH_ASSIGN_OR_RETURN(const ParsedInput in, parse_input(h.signature_input));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes claimed, parse_byte_sequence(h.content_digest, "sha-512=", "Content-Digest"));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes sig, parse_byte_sequence(h.signature, "sig1=", "Signature"));
    if (sig.size() != dare::kEd25519SignatureBytes) return fail(Errc::malformed, "Signature: not 64 bytes");
    // Cheap checks before the signature: the clock window, then the body's digest.
    const std::int64_t skew = o.now - in.created;
    if (skew > o.window.count() || -skew > o.window.count()) {
        return fail(Errc::permission_denied, "request: created " + std::to_string(in.created) +
                                                 " is outside the allowed window of the server's clock");
    }
    if (in.created < o.not_before) {
        return fail(Errc::permission_denied, "request: created before the service started (a replay across a restart?)");
    }
    const auto actual = mesh::sha512({body});
    if (!mesh::secure_equal(claimed, actual)) return fail(Errc::auth_failed, "request: Content-Digest does not match the body");
    const std::optional<dare::SignaturePublicKey> key = lookup ? lookup(in.keyid) : std::nullopt;
    if (!key) return fail(Errc::not_found, "request: unknown key " + in.keyid);
    // RFC 9421 §2.5: the signature parameters line is the Signature-Input value as received.
    const std::string_view p = std::string_view(h.signature_input).substr(5);
    if (!key->verify(mesh::as_bytes(signature_base(method, path, h.content_digest, p)), sig)) {
        return fail(Errc::auth_failed, "request: signature authentication failed");
    }
    // Only a verified request consumes its nonce, so forgeries cannot fill the cache.
    if (o.replay != nullptr) MESH_TRY(o.replay->check_and_remember(in.keyid, in.nonce, in.created, o.now));
    return VerifiedRequest{in.keyid, in.created};
}

}  // namespace recrypt
