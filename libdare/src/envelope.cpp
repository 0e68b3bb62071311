#include <dare/envelope.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include <sodium.h>
#include <unistd.h>

#include <dare/jsonb.hpp>
#include "frame_crypto.hpp"
#include <mesh/crypto_init.hpp>

namespace dare {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kWrappedBytes = kKeyBytes + kTagBytes;
constexpr std::string_view kAuthFailed = "dare: authentication failed";
using Key = mesh::SecretArray<kKeyBytes>;

static_assert(kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kTagBytes == crypto_aead_aes256gcm_ABYTES);

mesh::Error auth_failed() { return mesh::Error{Errc::auth_failed, std::string(kAuthFailed)}; }

// ---- AEAD with the chunk index and final flag in the nonce ----------------------------------

std::size_t nonce_bytes(Aead a) noexcept {
    return a == Aead::xchacha20_poly1305 ? crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
                                         : crypto_aead_aes256gcm_NPUBBYTES;
}

// zeros || index (8 bytes, big-endian) || flag (1 = last). Keys are unique per envelope.
std::array<std::uint8_t, 24> make_nonce(Aead a, std::uint64_t index, bool last) {
    std::array<std::uint8_t, 24> n{};
    const std::size_t len = nonce_bytes(a);
    for (int i = 0; i < 8; ++i) n[len - 2 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(index >> (8 * i));
    n[len - 1] = last ? 1 : 0;
    return n;
}

void seal(Aead a, const Key& key, std::uint64_t index, bool last, std::span<const std::uint8_t> aad,
          std::span<const std::uint8_t> pt, std::uint8_t* out) {
    const auto nonce = make_nonce(a, index, last);
    unsigned long long clen = 0;
    const unsigned char* ad = aad.empty() ? nullptr : aad.data();
    if (a == Aead::xchacha20_poly1305) {
        MESH_ASSERT(crypto_aead_xchacha20poly1305_ietf_encrypt(out, &clen, pt.data(), pt.size(), ad, aad.size(),
                                                               nullptr, nonce.data(),
                                                               key.expose_secret().data()) == 0);
    } else {
        MESH_ASSERT(crypto_aead_aes256gcm_encrypt(out, &clen, pt.data(), pt.size(), ad, aad.size(), nullptr,
                                                  nonce.data(), key.expose_secret().data()) == 0);
    }
}

Result<void> open(Aead a, const Key& key, std::uint64_t index, bool last, std::span<const std::uint8_t> aad,
                  std::span<const std::uint8_t> ct, std::uint8_t* out) {
    if (ct.size() < kTagBytes) return auth_failed();
    const auto nonce = make_nonce(a, index, last);
    unsigned long long mlen = 0;
    const unsigned char* ad = aad.empty() ? nullptr : aad.data();
    int rc = 0;
    if (a == Aead::xchacha20_poly1305) {
        rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, nullptr, ct.data(), ct.size(), ad, aad.size(),
                                                        nonce.data(), key.expose_secret().data());
    } else {
        rc = crypto_aead_aes256gcm_decrypt(out, &mlen, nullptr, ct.data(), ct.size(), ad, aad.size(), nonce.data(),
                                           key.expose_secret().data());
    }
    if (rc != 0) return auth_failed();
    return mesh::ok();
}

// ---- key schedule ----------------------------------------------------------------------------

struct Keys {
    Key payload;
    Key meta;  // ContentMetaData (index 0) and annotations (index i + 1)
};

Key expand(std::span<const std::uint8_t> prk, std::string_view info) {
    auto okm = mesh::hkdf_expand(mesh::HkdfHash::sha512, prk, mesh::as_bytes(info), kKeyBytes);
    MESH_ASSERT(okm.has_value());
    return Key(okm->expose_secret().first<kKeyBytes>());
}

Keys derive_keys(const Key& cek, std::span<const std::uint8_t> salt, Aead a, std::uint32_t chunk) {
    const mesh::SecureBytes prk = mesh::hkdf_extract(mesh::HkdfHash::sha512, salt, cek.expose_secret());
    const std::string suffix = std::string(aead_name(a)) + "/" + std::to_string(chunk);
    return Keys{expand(prk.expose_secret(), "DARE/payload/" + suffix),
                expand(prk.expose_secret(), "DARE/metadata/" + suffix)};
}

Key derive_kek(const SharedPoint& shared, const PublicKey& epk, const PublicKey& recipient) {
    static constexpr std::string_view kLabel = "DARE/kek/ristretto255";
    auto kek = mesh::hkdf(mesh::HkdfHash::sha512, {}, shared.expose_secret(),
                          [&] {
                              mesh::Bytes info(kLabel.begin(), kLabel.end());
                              info.insert(info.end(), epk.bytes().begin(), epk.bytes().end());
                              info.insert(info.end(), recipient.bytes().begin(), recipient.bytes().end());
                              return info;
                          }(),
                          kKeyBytes);
    MESH_ASSERT(kek.has_value());
    return Key(kek->expose_secret().first<kKeyBytes>());
}

RecipientEntry wrap_for(const Key& cek, const PublicKey& recipient, mesh::RandomSource& rng) {
    const PrivateKey e = PrivateKey::generate(rng);
    const PublicKey epk = e.public_key();
    auto shared = e.agree(recipient);
    MESH_ASSERT(shared.has_value());  // valid non-identity point, non-zero scalar
    const Key kek = derive_kek(*shared, epk, recipient);
    RecipientEntry r{recipient.kid(), epk, mesh::Bytes(kWrappedBytes), {}, {}};
    seal(Aead::xchacha20_poly1305, kek, 0, true, mesh::as_bytes(r.kid), cek.expose_secret(), r.wmk.data());
    return r;
}

Result<Key> unwrap(const RecipientEntry& r, const Agreement& a) {
    if (r.wmk.size() != kWrappedBytes) {
        return fail(Errc::malformed, "dare: wrapped key of " + std::to_string(r.wmk.size()) + " bytes, expected 48");
    }
    const Key kek = derive_kek(a.shared, r.epk, a.recipient);
    Key cek;
    MESH_TRY(open(Aead::xchacha20_poly1305, kek, 0, true, mesh::as_bytes(r.kid), r.wmk,
                  cek.expose_secret_mut().data()));
    return cek;
}

// ---- what signatures cover -------------------------------------------------------------------

void put_field(mesh::Hasher& h, std::span<const std::uint8_t> b) {
    std::array<std::uint8_t, 8> len{};
    for (int i = 0; i < 8; ++i) len[7 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b.size() >> (8 * i));
    h.update(len);
    h.update(b);
}

// SHA-512 over the header values that are not the payload, and the payload digest: independent
// of how the header was serialized (JSON or JSON-B, whitespace, member order).
mesh::Digest512 signature_input(const Header& h, const mesh::Digest512& payload_digest) {
    mesh::Hasher s(mesh::HashAlg::sha2_512);
    put_field(s, mesh::as_bytes("DARE/signature/v1"));
    put_field(s, mesh::as_bytes(h.envelope_id.value_or("")));
    put_field(s, mesh::as_bytes(h.enc ? aead_name(*h.enc) : std::string_view()));
    put_field(s, mesh::as_bytes(std::to_string(h.chunk_bytes)));
    put_field(s, h.salt);
    put_field(s, mesh::as_bytes(std::to_string(h.annotations.size())));
    for (const auto& a : h.annotations) put_field(s, a);
    put_field(s, h.content_meta ? std::span<const std::uint8_t>(*h.content_meta) : std::span<const std::uint8_t>());
    put_field(s, payload_digest);
    return s.finish();
}

// ---- annotations: EDS = binary(index) binary(body), FORMATS.md §2.5 -------------------------

mesh::Bytes eds_encode(std::size_t index, std::span<const std::uint8_t> body) {
    JsonbWriter w;
    const std::uint8_t prefix[1] = {static_cast<std::uint8_t>(index)};
    w.binary(prefix);
    w.binary(body);
    return w.take();
}

Result<mesh::Bytes> eds_decode(std::size_t index, std::span<const std::uint8_t> eds) {
    const std::string where = "dare: annotation " + std::to_string(index);
    std::size_t pos = 0;
    std::array<mesh::Bytes, 2> parts;
    for (auto& part : parts) {
        if (pos >= eds.size() || (eds[pos] & 0xFC) != jsonb::kBinary) {
            return fail(Errc::malformed, where + ": not a JSON-B binary item");
        }
        const std::uint8_t tag = eds[pos++];
        MESH_ASSIGN_OR_RETURN(const std::uint64_t len, jsonb::get_tagged_length(eds, pos, tag));
        part.assign(eds.begin() + static_cast<std::ptrdiff_t>(pos), eds.begin() + static_cast<std::ptrdiff_t>(pos + len));
        pos += len;
    }
    if (pos != eds.size()) return fail(Errc::malformed, where + ": data after the body");
    if (parts[0].size() != 1 || parts[0][0] != index) return fail(Errc::malformed, where + ": wrong salt prefix");
    return std::move(parts[1]);
}

// ---- validation of options ----------------------------------------------------------------

Result<void> check_options(const EncodeOptions& o) {
    if (o.recipients.size() > kMaxRecipients) return fail(Errc::limit_exceeded, "dare: too many recipients");
    if (o.signers.size() > kMaxSigners) return fail(Errc::limit_exceeded, "dare: too many signers");
    if (o.annotations.size() > kMaxAnnotations) return fail(Errc::limit_exceeded, "dare: too many annotations");
    if (o.chunk_bytes < kMinChunkBytes || o.chunk_bytes > kMaxChunkBytes) {
        return fail(Errc::invalid_argument, "dare: chunk size " + std::to_string(o.chunk_bytes) + " outside " +
                                                std::to_string(kMinChunkBytes) + ".." + std::to_string(kMaxChunkBytes));
    }
    if (o.aead == Aead::aes256_gcm && !aes256gcm_available()) {
        return fail(Errc::unsupported, "dare: AES-256-GCM needs hardware support this CPU lacks");
    }
    for (const auto* s : o.signers) {
        if (s == nullptr) return fail(Errc::invalid_argument, "dare: null signer");
    }
    return mesh::ok();
}

}  // namespace

std::string_view aead_name(Aead a) noexcept { return a == Aead::xchacha20_poly1305 ? "XC20P" : "A256GCM"; }

bool aes256gcm_available() noexcept {
    mesh::crypto_init();
    return crypto_aead_aes256gcm_is_available() == 1;
}

// ---- the payload, chunk by chunk -------------------------------------------------------------

class PayloadSealer {
public:
    PayloadSealer(std::optional<Aead> a, Key key) : aead_(a), key_(std::move(key)) {}
    [[nodiscard]] std::size_t carried_size(std::size_t plain) const noexcept {
        return aead_ ? plain + kTagBytes : plain;
    }
    /// Seals chunk `index` into `out` (carried_size bytes). Thread-safe for distinct indexes.
    void seal_at(std::uint64_t index, std::span<const std::uint8_t> pt, bool last, std::uint8_t* out) const {
        if (aead_) {
            seal(*aead_, key_, index, last, {}, pt, out);
        } else if (!pt.empty()) {
            std::memcpy(out, pt.data(), pt.size());
        }
    }
    /// Reserves the next `n` chunk indexes; returns the first.
    std::uint64_t take_indexes(std::uint64_t n) noexcept {
        const std::uint64_t first = index_;
        index_ += n;
        return first;
    }
    /// Appends the chunk as carried (ciphertext with tag, or plaintext) to `out`.
    void chunk(std::span<const std::uint8_t> pt, bool last, mesh::Bytes& out) {
        const std::size_t at = out.size();
        if (aead_) {
            out.resize(at + pt.size() + kTagBytes);
            seal(*aead_, key_, index_++, last, {}, pt, out.data() + at);
        } else {
            out.insert(out.end(), pt.begin(), pt.end());
        }
    }

private:
    std::optional<Aead> aead_;
    Key key_;
    std::uint64_t index_ = 0;
};

class PayloadOpener {
public:
    PayloadOpener(std::optional<Aead> a, Key key, std::uint32_t chunk) : aead_(a), key_(std::move(key)), chunk_(chunk) {}
    /// Checks the carried size and opens the chunk (plaintext is passed through).
    Result<mesh::Bytes> chunk(std::span<const std::uint8_t> carried, bool last) {
        mesh::Bytes pt(plain_size(carried.size()));
        MESH_TRY(open_at(index_, carried, last, pt.data()));
        ++index_;
        return pt;
    }
    [[nodiscard]] std::size_t plain_size(std::size_t carried) const noexcept {
        return aead_ ? (carried >= kTagBytes ? carried - kTagBytes : 0) : carried;
    }
    /// Opens chunk `index` into `out` (plain_size bytes). Thread-safe for distinct indexes.
    Result<void> open_at(std::uint64_t index, std::span<const std::uint8_t> carried, bool last,
                         std::uint8_t* out) const {
        if (!aead_) {
            if (!carried.empty()) std::memcpy(out, carried.data(), carried.size());
            return mesh::ok();
        }
        const std::size_t full = std::size_t{chunk_} + kTagBytes;
        if (carried.size() > full || carried.size() < kTagBytes || (!last && carried.size() != full)) {
            return fail(Errc::malformed, "dare: chunk " + std::to_string(index) + " has " +
                                             std::to_string(carried.size()) + " bytes");
        }
        return open(*aead_, key_, index, last, {}, carried, out);
    }
    void skip(std::uint64_t n) noexcept { index_ += n; }
    [[nodiscard]] std::uint64_t chunk_index() const noexcept { return index_; }

private:
    std::optional<Aead> aead_;
    Key key_;
    std::uint32_t chunk_;
    std::uint64_t index_ = 0;
};

// ---- JSON of the header and trailer ----------------------------------------------------------

Json to_json(const ContentMeta& m) {
    JsonObject o;
    const auto put = [&](const char* name, const std::optional<std::string>& v) {
        if (v) o.emplace_back(name, Json(*v));
    };
    put("UniqueId", m.unique_id);
    put("MessageType", m.message_type);
    put("Event", m.event);
    put("cty", m.content_type);
    put("Filename", m.filename);
    put("Created", m.created);
    put("Modified", m.modified);
    return Json(std::move(o));
}

Result<ContentMeta> content_meta_from_json(const Json& j, const std::string& path) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, path));
    ContentMeta m;
    MESH_ASSIGN_OR_RETURN(m.unique_id, r.optional_string("UniqueId"));
    MESH_ASSIGN_OR_RETURN(m.message_type, r.optional_string("MessageType"));
    MESH_ASSIGN_OR_RETURN(m.event, r.optional_string("Event", 16));
    if (m.event && *m.event != "New" && *m.event != "Update" && *m.event != "Delete") {
        return fail(Errc::malformed, r.member_path("Event") + ": New, Update or Delete");
    }
    MESH_ASSIGN_OR_RETURN(m.content_type, r.optional_string("cty"));
    MESH_ASSIGN_OR_RETURN(m.filename, r.optional_string("Filename"));
    MESH_ASSIGN_OR_RETURN(m.created, r.optional_string("Created"));
    MESH_ASSIGN_OR_RETURN(m.modified, r.optional_string("Modified"));
    MESH_TRY(r.finish());
    return m;
}

Json to_json(const Header& h) {
    JsonObject o;
    if (h.envelope_id) o.emplace_back("EnvelopeId", Json(*h.envelope_id));
    if (h.enc) {
        o.emplace_back("enc", Json(aead_name(*h.enc)));
        o.emplace_back("ChunkSize", Json(static_cast<std::uint64_t>(h.chunk_bytes)));
    }
    if (h.digest) o.emplace_back("dig", Json("S512"));
    if (!h.salt.empty()) o.emplace_back("Salt", Json(mesh::base64url_encode(h.salt)));
    if (!h.recipients.empty()) o.emplace_back("recipients", detail::recipients_to_json(h.recipients));
    if (!h.annotations.empty()) {
        JsonArray as;
        for (const auto& a : h.annotations) as.emplace_back(mesh::base64url_encode(a));
        o.emplace_back("annotations", Json(std::move(as)));
    }
    if (h.content_meta) o.emplace_back("ContentMetaData", Json(mesh::base64url_encode(*h.content_meta)));
    return Json(std::move(o));
}

namespace {
Result<PublicKey> epk_from_json(const Json& j, const std::string& path) {
    MESH_ASSIGN_OR_RETURN(ObjectReader outer, ObjectReader::open(j, path));
    MESH_ASSIGN_OR_RETURN(const Json* inner, outer.value("PublicKeyECDH"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(*inner, path + ".PublicKeyECDH"));
    MESH_ASSIGN_OR_RETURN(const std::string crv, r.string("crv", 64));
    if (crv != "ristretto255") {
        return fail(Errc::unsupported, r.member_path("crv") + ": curve '" + crv + "' not supported");
    }
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes pub, r.fixed_bytes("Public", kPointBytes));
    MESH_TRY(r.finish());
    auto key = PublicKey::from_bytes(pub);
    if (!key) return fail(Errc::malformed, r.member_path("Public") + ": " + key.error().message);
    return key;
}
}  // namespace

Result<Header> header_from_json(const Json& j, const std::string& path) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, path));
    Header h;
    MESH_ASSIGN_OR_RETURN(h.envelope_id, r.optional_string("EnvelopeId", 256));
    MESH_ASSIGN_OR_RETURN(const auto enc, r.optional_string("enc", 64));
    if (enc) {
        MESH_ASSIGN_OR_RETURN(h.enc, detail::aead_from_name(*enc, r.member_path("enc")));
        MESH_ASSIGN_OR_RETURN(const std::uint64_t chunk, r.uint("ChunkSize", kMaxChunkBytes));
        if (chunk < kMinChunkBytes) return fail(Errc::malformed, r.member_path("ChunkSize") + ": below 1024");
        h.chunk_bytes = static_cast<std::uint32_t>(chunk);
        MESH_ASSIGN_OR_RETURN(h.salt, r.fixed_bytes("Salt", kSaltBytes));
    } else if (r.has("Salt") || r.has("ChunkSize") || r.has("recipients")) {
        return fail(Errc::malformed, path + ": Salt, ChunkSize or recipients without enc");
    }
    MESH_ASSIGN_OR_RETURN(const auto dig, r.optional_string("dig", 64));
    if (dig) {
        if (*dig != "S512") {
            return fail(Errc::unsupported, r.member_path("dig") + ": digest algorithm '" + dig->substr(0, 32) +
                                               "' not supported");
        }
        h.digest = true;
    }
    MESH_ASSIGN_OR_RETURN(h.recipients, detail::recipients_from_json(r, "recipients"));
    if (h.enc && h.recipients.empty()) return fail(Errc::malformed, path + ": encrypted without recipients");
    MESH_ASSIGN_OR_RETURN(const JsonArray* as, r.optional_array("annotations", kMaxAnnotations));
    for (std::size_t i = 0; i < as->size(); ++i) {
        const std::string p = r.member_path("annotations") + "[" + std::to_string(i) + "]";
        if (!(*as)[i].is_string()) return type_error(p, "base64url string", (*as)[i]);
        auto b = base64url_decode_lenient((*as)[i].as_string());
        if (!b) return fail(Errc::malformed, p + ": " + b.error().message);
        h.annotations.push_back(std::move(b).value());
    }
    MESH_ASSIGN_OR_RETURN(h.content_meta, r.optional_bytes("ContentMetaData", 64 * 1024));
    MESH_TRY(r.finish());
    return h;
}

Json to_json(const Trailer& t) {
    JsonObject o;
    if (t.payload_digest) o.emplace_back("PayloadDigest", Json(mesh::base64url_encode(*t.payload_digest)));
    if (!t.signatures.empty()) {
        JsonArray ss;
        for (const auto& s : t.signatures) {
            ss.emplace_back(JsonObject{{"alg", Json(s.alg)}, {"kid", Json(s.kid)},
                                       {"signature", Json(mesh::base64url_encode(s.value))}});
        }
        o.emplace_back("signatures", Json(std::move(ss)));
    }
    return Json(std::move(o));
}

Result<Trailer> trailer_from_json(const Json& j, const std::string& path) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, path));
    Trailer t;
    MESH_ASSIGN_OR_RETURN(const auto pd, r.optional_bytes("PayloadDigest", 65));
    if (pd) {
        if (pd->size() != mesh::kSha512Bytes) return fail(Errc::malformed, r.member_path("PayloadDigest") + ": not 64 bytes");
        t.payload_digest.emplace();
        std::copy(pd->begin(), pd->end(), t.payload_digest->begin());
    }
    MESH_ASSIGN_OR_RETURN(const JsonArray* ss, r.optional_array("signatures", kMaxSigners));
    for (std::size_t i = 0; i < ss->size(); ++i) {
        const std::string p = r.member_path("signatures") + "[" + std::to_string(i) + "]";
        MESH_ASSIGN_OR_RETURN(ObjectReader e, ObjectReader::open((*ss)[i], p));
        SignatureEntry s;
        MESH_ASSIGN_OR_RETURN(s.alg, e.string("alg", 64));
        if (s.alg != "Ed25519") return fail(Errc::unsupported, e.member_path("alg") + ": '" + s.alg.substr(0, 32) + "' not supported");
        MESH_ASSIGN_OR_RETURN(s.kid, e.string("kid", 256));
        MESH_ASSIGN_OR_RETURN(s.value, e.fixed_bytes("signature", kEd25519SignatureBytes));
        MESH_TRY(e.finish());
        t.signatures.push_back(std::move(s));
    }
    MESH_TRY(r.finish());
    return t;
}

// ---- key agreement with private keys ---------------------------------------------------------

void PrivateKeyAgreement::add(const PrivateKey& key) {
    const PublicKey pub = key.public_key();
    keys_.push_back(Entry{pub.kid(), key.clone(), pub});
}

const PrivateKey* PrivateKeyAgreement::find(std::string_view kid) const noexcept {
    for (const auto& e : keys_) {
        if (e.kid == kid) return &e.key;
    }
    return nullptr;
}

Result<Agreement> PrivateKeyAgreement::agree(const RecipientEntry& r) {
    for (const auto& e : keys_) {
        if (e.kid == r.kid) {
            MESH_ASSIGN_OR_RETURN(SharedPoint s, e.key.agree(r.epk));
            return Agreement{std::move(s), e.pub};
        }
    }
    return fail(Errc::not_found, "no private key for " + r.kid);
}

// ---- shared parts of sealing and opening -----------------------------------------------------

namespace {
struct Sealing {
    Header header;
    std::optional<PayloadSealer> sealer;
};

Result<Sealing> start_sealing(const EncodeOptions& o, mesh::RandomSource& rng) {
    MESH_TRY(check_options(o));
    Sealing s;
    s.header.envelope_id = o.envelope_id;
    s.header.digest = o.digest || !o.signers.empty();
    if (o.recipients.empty()) {
        s.sealer.emplace(std::nullopt, Key());
        for (std::size_t i = 0; i < o.annotations.size(); ++i) s.header.annotations.push_back(eds_encode(i, o.annotations[i]));
        if (o.meta) {
            const std::string text = to_json(to_json(*o.meta));
            s.header.content_meta = mesh::Bytes(text.begin(), text.end());
        }
        return s;
    }
    s.header.enc = o.aead;
    s.header.chunk_bytes = o.chunk_bytes;
    s.header.salt.resize(kSaltBytes);
    rng.fill(s.header.salt);
    Key cek;
    rng.fill(cek.expose_secret_mut());
    if (o.conjunctions.size() > o.recipients.size()) {
        return fail(Errc::invalid_argument, "dare: more conjunctions than recipients");
    }
    if (o.services.size() > o.recipients.size()) return fail(Errc::invalid_argument, "dare: more service hints than recipients");
    for (std::size_t i = 0; i < o.recipients.size(); ++i) {
        s.header.recipients.push_back(wrap_for(cek, o.recipients[i], rng));
        if (i < o.conjunctions.size()) s.header.recipients.back().conjunction = o.conjunctions[i];
        if (i < o.services.size()) s.header.recipients.back().services = o.services[i];
    }
    Keys keys = derive_keys(cek, s.header.salt, o.aead, o.chunk_bytes);
    for (std::size_t i = 0; i < o.annotations.size(); ++i) {
        mesh::Bytes sealed(o.annotations[i].size() + kTagBytes);
        seal(o.aead, keys.meta, i + 1, false, {}, o.annotations[i], sealed.data());
        s.header.annotations.push_back(eds_encode(i, sealed));
    }
    if (o.meta) {
        const std::string text = to_json(to_json(*o.meta));
        mesh::Bytes sealed(text.size() + kTagBytes);
        seal(o.aead, keys.meta, 0, false, {}, mesh::as_bytes(text), sealed.data());
        s.header.content_meta = std::move(sealed);
    }
    s.sealer.emplace(o.aead, std::move(keys.payload));
    return s;
}

Trailer make_trailer(const Header& h, const EncodeOptions& o, const mesh::Digest512& digest) {
    Trailer t;
    if (h.digest) t.payload_digest = digest;
    const mesh::Digest512 input = signature_input(h, digest);
    for (const auto* signer : o.signers) {
        const auto sig = signer->sign(input);
        t.signatures.push_back(SignatureEntry{"Ed25519", signer->public_key().kid(), mesh::Bytes(sig.begin(), sig.end())});
    }
    return t;
}

struct Opening {
    Opened info;
    std::optional<PayloadOpener> opener;
};

Result<Opening> start_opening(Header header, const OpenOptions& o) {
    Opening op;
    if (!header.enc) {
        for (std::size_t i = 0; i < header.annotations.size(); ++i) {
            MESH_ASSIGN_OR_RETURN(mesh::Bytes body, eds_decode(i, header.annotations[i]));
            op.info.annotations.push_back(std::move(body));
        }
        if (header.content_meta) {
            const std::string_view text(reinterpret_cast<const char*>(header.content_meta->data()), header.content_meta->size());
            MESH_ASSIGN_OR_RETURN(const Json j, parse_json(text));
            MESH_ASSIGN_OR_RETURN(op.info.meta, content_meta_from_json(j, "ContentMetaData"));
        }
        op.opener.emplace(std::nullopt, Key(), 0);
        op.info.header = std::move(header);
        return op;
    }
    if (o.keys == nullptr) return fail(Errc::not_found, "dare: the envelope is encrypted and no key was given");
    std::optional<Key> cek;
    std::string tried;
    for (const auto& r : header.recipients) {
        auto agreement = o.keys->agree(r);
        if (!agreement) {
            if (agreement.error().code != Errc::not_found) return std::move(agreement).error();
            tried += (tried.empty() ? "" : ", ") + r.kid;
            continue;
        }
        MESH_ASSIGN_OR_RETURN(Key k, unwrap(r, *agreement));
        cek.emplace(std::move(k));
        break;
    }
    if (!cek) return fail(Errc::not_found, "dare: no key for any recipient (" + tried + ")");
    const Aead a = *header.enc;
    Keys keys = derive_keys(*cek, header.salt, a, header.chunk_bytes);
    for (std::size_t i = 0; i < header.annotations.size(); ++i) {
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes sealed, eds_decode(i, header.annotations[i]));
        if (sealed.size() < kTagBytes) return auth_failed();
        mesh::Bytes body(sealed.size() - kTagBytes);
        MESH_TRY(open(a, keys.meta, i + 1, false, {}, sealed, body.data()));
        op.info.annotations.push_back(std::move(body));
    }
    if (header.content_meta) {
        const auto& sealed = *header.content_meta;
        if (sealed.size() < kTagBytes) return auth_failed();
        mesh::Bytes text(sealed.size() - kTagBytes);
        MESH_TRY(open(a, keys.meta, 0, false, {}, sealed, text.data()));
        MESH_ASSIGN_OR_RETURN(const Json j, parse_json(std::string_view(reinterpret_cast<const char*>(text.data()), text.size())));
        MESH_ASSIGN_OR_RETURN(op.info.meta, content_meta_from_json(j, "ContentMetaData"));
    }
    op.opener.emplace(a, std::move(keys.payload), header.chunk_bytes);
    op.info.header = std::move(header);
    return op;
}

// The trailer checks: payload digest and signatures.
Result<void> check_trailer(Opened& info, const OpenOptions& o, const mesh::Digest512& digest) {
    const Header& h = info.header;
    const Trailer& t = info.trailer;
    if (h.digest) {
        if (!t.payload_digest) return fail(Errc::malformed, "dare: trailer without the PayloadDigest the header announces");
        if (!mesh::secure_equal(*t.payload_digest, digest)) return auth_failed();
    } else if (t.payload_digest || !t.signatures.empty()) {
        return fail(Errc::malformed, "dare: trailer digest or signatures without dig in the header");
    }
    const mesh::Digest512 input = signature_input(h, digest);
    for (const auto& s : t.signatures) {
        std::optional<SignaturePublicKey> key = o.signers ? o.signers(s.kid) : std::nullopt;
        if (!key) {
            info.unknown_signers.push_back(s.kid);
            continue;
        }
        if (key->kid() != s.kid) return fail(Errc::internal, "dare: signer lookup returned another key");
        MESH_TRY(key->verify(input, s.value));
        info.verified_signers.push_back(s.kid);
    }
    if (o.require_signature && info.verified_signers.empty()) {
        return fail(Errc::not_found, "dare: no signature by a known key");
    }
    return mesh::ok();
}

Result<void> read_exact(Source& src, std::span<std::uint8_t> out, std::string_view what) {
    std::size_t got = 0;
    while (got < out.size()) {
        MESH_ASSIGN_OR_RETURN(const std::size_t n, src.read(out.subspan(got)));
        if (n == 0) return fail(Errc::malformed, "dare: truncated " + std::string(what));
        got += n;
    }
    return mesh::ok();
}

// Reads a JSON-B tag and its big-endian length from a stream.
Result<std::uint64_t> read_length(Source& src, std::uint8_t tag, std::string_view what) {
    std::array<std::uint8_t, 8> b{};
    const std::size_t n = std::size_t{1} << (tag & 3U);
    MESH_TRY(read_exact(src, std::span(b).first(n), what));
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | b[i];
    return len;
}

// A binary item holding JSON-B (the header or trailer); nullopt for B2 (no trailer).
Result<std::optional<Json>> read_jsonb_item(Source& src, std::string_view what, bool allow_null) {
    std::uint8_t tag = 0;
    MESH_TRY(read_exact(src, std::span(&tag, 1), what));
    if (allow_null && tag == jsonb::kNull) return std::optional<Json>();
    if ((tag & 0xFC) != jsonb::kBinary) {
        return fail(Errc::malformed, "dare: expected the " + std::string(what) + " item");
    }
    MESH_ASSIGN_OR_RETURN(const std::uint64_t len, read_length(src, tag, what));
    if (len > kMaxHeaderBytes) {
        return fail(Errc::limit_exceeded, "dare: " + std::string(what) + " of " + std::to_string(len) +
                                              " bytes exceeds the limit of " + std::to_string(kMaxHeaderBytes));
    }
    mesh::Bytes body(static_cast<std::size_t>(len));
    MESH_TRY(read_exact(src, body, what));
    auto j = parse_jsonb(body, JsonbLimits{kMaxHeaderBytes, 16});
    if (!j) return fail(j.error().code, "dare: " + std::string(what) + ": " + j.error().message);
    return std::optional<Json>(std::move(j).value());
}

Result<Header> read_prefix_and_header(Source& src) {
    std::array<std::uint8_t, kFilePrefix.size()> prefix{};
    auto r = read_exact(src, prefix, "prefix");
    if (!r || prefix != kFilePrefix) return fail(Errc::malformed, "dare: not a DARE file (no DARE prefix)");
    MESH_ASSIGN_OR_RETURN(const auto j, read_jsonb_item(src, "header", false));
    return header_from_json(*j, "header");
}

void write_item(mesh::Bytes& out, std::uint8_t base, std::span<const std::uint8_t> body) {
    jsonb::put_tagged_length(out, base, body.size());
    out.insert(out.end(), body.begin(), body.end());
}

Result<mesh::Bytes> jsonb_item_of(const Json& j) {
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes body, to_jsonb(j));
    mesh::Bytes out;
    write_item(out, jsonb::kBinary, body);
    return out;
}
}  // namespace

// ---- sinks and sources -----------------------------------------------------------------------

Result<void> BytesSink::write(std::span<const std::uint8_t> data) {
    bytes.insert(bytes.end(), data.begin(), data.end());
    return mesh::ok();
}

Result<std::size_t> SpanSource::read(std::span<std::uint8_t> out) {
    const std::size_t n = std::min(out.size(), data_.size());
    std::copy_n(data_.begin(), n, out.begin());
    data_ = data_.subspan(n);
    return n;
}

std::optional<std::span<const std::uint8_t>> SpanSource::read_view(std::size_t n) {
    const auto view = data_.first(std::min(n, data_.size()));
    data_ = data_.subspan(view.size());
    return view;
}

Result<void> FdSink::write(std::span<const std::uint8_t> data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(Errc::io, std::string("write: ") + std::strerror(errno));
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return mesh::ok();
}

Result<std::size_t> FdSource::read(std::span<std::uint8_t> out) {
    for (;;) {
        const ssize_t n = ::read(fd_, out.data(), out.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) return fail(Errc::io, std::string("read: ") + std::strerror(errno));
    }
}

// ---- the streaming writer --------------------------------------------------------------------

namespace {
constexpr std::size_t kBlockChunks = 4;  // chunks a worker reads and seals at a time

// Runs `work(worker)` on `threads` threads (the caller is one of them) and joins them.
void run_workers(unsigned threads, const std::function<void(unsigned)>& work) {
    std::vector<std::thread> extra;
    for (unsigned t = 1; t < threads; ++t) extra.emplace_back(work, t);
    work(0);
    for (auto& t : extra) t.join();
}
}  // namespace

struct EnvelopeWriter::State {
    EncodeOptions options;
    Sealing sealing;
    Sink* sink = nullptr;
    mesh::Bytes pending;   // plaintext of the chunk being filled
    std::unique_ptr<std::uint8_t[]> out;  // reused output buffer (not zero-filled)
    std::size_t out_capacity = 0;
    std::size_t out_len = 0;
    std::optional<mesh::Hasher> digest;  // only when the trailer carries PayloadDigest
    bool finished = false;
    bool final_written = false;  // write_all sealed the final chunk
};

EnvelopeWriter::EnvelopeWriter(std::unique_ptr<State> s) : s_(std::move(s)) {}
EnvelopeWriter::EnvelopeWriter(EnvelopeWriter&&) noexcept = default;
EnvelopeWriter& EnvelopeWriter::operator=(EnvelopeWriter&&) noexcept = default;
EnvelopeWriter::~EnvelopeWriter() = default;

Result<EnvelopeWriter> EnvelopeWriter::begin(const EncodeOptions& options, mesh::RandomSource& rng, Sink& sink) {
    MESH_ASSIGN_OR_RETURN(Sealing sealing, start_sealing(options, rng));
    auto s = std::make_unique<State>();
    s->options = options;
    s->sealing = std::move(sealing);
    s->sink = &sink;
    if (s->sealing.header.digest) s->digest.emplace(mesh::HashAlg::sha2_512);
    s->pending.reserve(options.chunk_bytes);
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes header, jsonb_item_of(to_json(s->sealing.header)));
    MESH_TRY(sink.write(kFilePrefix));
    MESH_TRY(sink.write(header));
    return EnvelopeWriter(std::move(s));
}

// The digest covers the carried payload bytes, not the JSON-B framing: skip each item's tag.
static void digest_items(mesh::Hasher& h, std::span<const std::uint8_t> items) {
    std::size_t pos = 0;
    while (pos < items.size()) {
        const std::uint8_t tag = items[pos++];
        auto len = jsonb::get_tagged_length(items, pos, tag);
        MESH_ASSERT(len.has_value());  // we wrote these items
        h.update(items.subspan(pos, *len));
        pos += *len;
    }
}

// Seals consecutive chunks of `data` (whole chunks; the last may be short and is final if
// `last`) with indexes from `first`, as JSON-B items, into `out`. Thread-safe: the sealer is
// only read. Returns the bytes used.
static std::size_t seal_block(const PayloadSealer& sealer, std::size_t chunk, std::uint64_t first,
                              std::span<const std::uint8_t> data, bool last, std::uint8_t* out) {
    std::size_t len = 0;
    std::size_t off = 0;
    mesh::Bytes tag;
    do {
        const std::size_t plain = std::min(chunk, data.size() - off);
        const bool final_chunk = last && off + plain == data.size();
        const std::size_t carried = sealer.carried_size(plain);
        tag.clear();
        jsonb::put_tagged_length(tag, final_chunk ? jsonb::kBinary : jsonb::kBinaryChunk, carried);
        std::memcpy(out + len, tag.data(), tag.size());
        len += tag.size();
        sealer.seal_at(first++, data.subspan(off, plain), final_chunk, out + len);
        len += carried;
        off += plain;
    } while (off < data.size());
    return len;
}

static std::size_t sealed_bound(std::size_t plain, std::size_t chunk) {
    return (plain / chunk + 1) * (9 + kTagBytes) + plain;
}

// Seals `chunks` in order into s.out and feeds the digest.
static void seal_batch(EnvelopeWriter::State& s, const std::vector<std::span<const std::uint8_t>>& chunks, bool last) {
    const PayloadSealer& sealer = *s.sealing.sealer;
    const std::size_t chunk = s.options.chunk_bytes;
    std::size_t need = 0;
    for (const auto& c : chunks) need += sealed_bound(c.size(), chunk);
    if (need > s.out_capacity) {
        s.out = std::make_unique_for_overwrite<std::uint8_t[]>(need);
        s.out_capacity = need;
    }
    s.out_len = 0;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        const std::uint64_t first = s.sealing.sealer->take_indexes(1);
        const std::size_t start = s.out_len;
        s.out_len += seal_block(sealer, chunk, first, chunks[i], last && i + 1 == chunks.size(), s.out.get() + start);
        if (s.digest) digest_items(*s.digest, std::span<const std::uint8_t>(s.out.get() + start, s.out_len - start));
    }
}


Result<void> EnvelopeWriter::emit_chunk(bool last) {
    State& s = *s_;
    seal_batch(s, {s.pending}, last);
    s.pending.clear();
    return s.sink->write(std::span<const std::uint8_t>(s.out.get(), s.out_len));
}

Result<void> EnvelopeWriter::write(std::span<const std::uint8_t> data) {
    State& s = *s_;
    if (s.finished) return fail(Errc::invalid_argument, "dare: write after finish");
    const std::size_t chunk = s.options.chunk_bytes;
    // Top up a partly filled chunk first.
    if (!s.pending.empty() && s.pending.size() < chunk) {
        const std::size_t take = std::min(chunk - s.pending.size(), data.size());
        s.pending.insert(s.pending.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
        data = data.subspan(take);
    }
    if (data.empty()) return mesh::ok();
    // Every whole chunk that more data follows is not the last: seal them together, the
    // pending one first, straight from the caller's buffer.
    std::vector<std::span<const std::uint8_t>> batch;
    if (!s.pending.empty()) batch.emplace_back(s.pending);  // full, and data follows
    while (data.size() > chunk) {
        batch.push_back(data.first(chunk));
        data = data.subspan(chunk);
    }
    if (!batch.empty()) {
        seal_batch(s, batch, false);
        MESH_TRY(s.sink->write(std::span<const std::uint8_t>(s.out.get(), s.out_len)));
    }
    s.pending.assign(data.begin(), data.end());
    return mesh::ok();
}

Result<void> EnvelopeWriter::write_all(Source& source, unsigned threads,
                                       const std::function<void(std::size_t)>& progress) {
    State& s = *s_;
    if (s.finished || s.final_written) return fail(Errc::invalid_argument, "dare: write after finish");
    if (!s.pending.empty()) {
        return fail(Errc::invalid_argument, "dare: write_all after write: the payload must come from one place");
    }
    threads = std::clamp(threads, 1U, 8U);
    const std::size_t chunk = s.options.chunk_bytes;
    const std::size_t block = chunk * kBlockChunks;
    const PayloadSealer& sealer = *s.sealing.sealer;
    const std::uint64_t base = s.sealing.sealer->take_indexes(0);

    std::mutex m;  // the source, everything below, the sink and the digest
    std::condition_variable turn;
    std::uint64_t next_block = 0;
    std::uint64_t next_write = 0;
    std::optional<std::uint64_t> eof_block;  // the lowest block that came back short
    bool done = false;                       // the final block was written
    std::optional<mesh::Error> error;
    std::uint64_t chunks_total = 0;

    const auto work = [&](unsigned) {
        auto in = std::make_unique_for_overwrite<std::uint8_t[]>(block);
        auto out = std::make_unique_for_overwrite<std::uint8_t[]>(sealed_bound(block, chunk));
        for (;;) {
            std::unique_lock lock(m);
            if (error || eof_block || done) return;
            const std::uint64_t k = next_block++;
            std::size_t n = 0;
            std::optional<mesh::Error> read_error;
            std::span<const std::uint8_t> data;
            if (auto view = source.read_view(block)) {  // in memory: seal in place
                data = *view;
                n = data.size();
            } else {
                while (n < block) {  // whole blocks: a short read is not the end
                    auto got = source.read(std::span(in.get() + n, block - n));
                    if (!got) {
                        read_error = std::move(got).error();
                        break;
                    }
                    if (*got == 0) break;
                    n += *got;
                }
                data = std::span<const std::uint8_t>(in.get(), n);
            }
            if (read_error) error = std::move(read_error);
            const bool last = n < block;  // the final chunk is short, possibly empty
            if (last && (!eof_block || k < *eof_block)) eof_block = k;
            if (error) {
                lock.unlock();
                turn.notify_all();
                return;
            }
            lock.unlock();

            const std::size_t len = seal_block(sealer, chunk, base + k * kBlockChunks, data, last, out.get());
            lock.lock();
            turn.wait(lock, [&] { return next_write == k || error.has_value() || done; });
            if (error || done || (eof_block && k > *eof_block)) return;
            const std::span<const std::uint8_t> bytes(out.get(), len);
            if (s.digest) digest_items(*s.digest, bytes);
            auto w = s.sink->write(bytes);
            if (!w) {
                error = std::move(w).error();
            } else {
                ++next_write;
                if (last) {
                    chunks_total = k * kBlockChunks + (n == 0 ? 1 : (n + chunk - 1) / chunk);
                    done = true;
                }
                if (progress) progress(n);
            }
            lock.unlock();
            turn.notify_all();
            if (last) return;
        }
    };
    run_workers(threads, work);
    if (error) return std::move(*error);
    s.sealing.sealer->take_indexes(chunks_total);
    s.final_written = true;
    return mesh::ok();
}

Result<void> EnvelopeWriter::finish() {
    State& s = *s_;
    if (s.finished) return fail(Errc::invalid_argument, "dare: finish called twice");
    s.finished = true;
    if (!s.final_written) MESH_TRY(emit_chunk(true));
    const mesh::Digest512 digest = s.digest ? s.digest->finish() : mesh::Digest512{};
    const Trailer t = make_trailer(s.sealing.header, s.options, digest);
    if (!t.payload_digest && t.signatures.empty()) {
        const std::uint8_t null[1] = {jsonb::kNull};
        return s.sink->write(null);
    }
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes trailer, jsonb_item_of(to_json(t)));
    return s.sink->write(trailer);
}

// ---- the streaming reader --------------------------------------------------------------------

struct EnvelopeReader::State {
    Source* source = nullptr;
    OpenOptions options;
    Opening opening;
    std::optional<mesh::Hasher> digest;  // when the header announces PayloadDigest
    bool ended = false;     // the final chunk was read
    bool finished = false;
};

EnvelopeReader::EnvelopeReader(std::unique_ptr<State> s) : s_(std::move(s)) {}
EnvelopeReader::EnvelopeReader(EnvelopeReader&&) noexcept = default;
EnvelopeReader& EnvelopeReader::operator=(EnvelopeReader&&) noexcept = default;
EnvelopeReader::~EnvelopeReader() = default;

Result<Header> read_header(Source& source) { return read_prefix_and_header(source); }

Result<EnvelopeReader> EnvelopeReader::open(Source& source, const OpenOptions& options) {
    MESH_ASSIGN_OR_RETURN(Header header, read_prefix_and_header(source));
    MESH_ASSIGN_OR_RETURN(Opening opening, start_opening(std::move(header), options));
    auto s = std::make_unique<State>();
    s->source = &source;
    s->options = options;
    s->opening = std::move(opening);
    if (s->opening.info.header.digest) s->digest.emplace(mesh::HashAlg::sha2_512);
    return EnvelopeReader(std::move(s));
}

const Opened& EnvelopeReader::info() const noexcept { return s_->opening.info; }

Result<mesh::Bytes> EnvelopeReader::next_chunk() {
    State& s = *s_;
    if (s.ended) return mesh::Bytes();
    std::uint8_t tag = 0;
    MESH_TRY(read_exact(*s.source, std::span(&tag, 1), "payload"));
    const bool last = (tag & 0xFC) == jsonb::kBinary;
    if (!last && (tag & 0xFC) != jsonb::kBinaryChunk) return fail(Errc::malformed, "dare: expected a payload chunk");
    MESH_ASSIGN_OR_RETURN(const std::uint64_t len, read_length(*s.source, tag, "payload"));
    const std::uint64_t limit = s.opening.info.header.enc ? s.opening.info.header.chunk_bytes + kTagBytes : kMaxChunkBytes;
    if (len > limit) return fail(Errc::malformed, "dare: payload chunk of " + std::to_string(len) + " bytes");
    mesh::Bytes carried(static_cast<std::size_t>(len));
    MESH_TRY(read_exact(*s.source, carried, "payload"));
    if (s.digest) s.digest->update(carried);
    MESH_ASSIGN_OR_RETURN(mesh::Bytes pt, s.opening.opener->chunk(carried, last));
    s.ended = last;
    return pt;
}

namespace {
// One payload chunk item read from a stream: checks the tag and the size limit.
Result<bool> read_chunk_item(Source& src, std::uint64_t limit, mesh::Bytes& carried) {
    std::uint8_t tag = 0;
    MESH_TRY(read_exact(src, std::span(&tag, 1), "payload"));
    const bool last = (tag & 0xFC) == jsonb::kBinary;
    if (!last && (tag & 0xFC) != jsonb::kBinaryChunk) return fail(Errc::malformed, "dare: expected a payload chunk");
    MESH_ASSIGN_OR_RETURN(const std::uint64_t len, read_length(src, tag, "payload"));
    if (len > limit) return fail(Errc::malformed, "dare: payload chunk of " + std::to_string(len) + " bytes");
    carried.resize(static_cast<std::size_t>(len));
    MESH_TRY(read_exact(src, carried, "payload"));
    return last;
}
}  // namespace

Result<void> EnvelopeReader::read_all(Sink& sink, unsigned threads, const std::function<void(std::size_t)>& progress) {
    State& s = *s_;
    if (s.ended) return mesh::ok();
    threads = std::clamp(threads, 1U, 8U);
    const Header& h = s.opening.info.header;
    const std::uint64_t limit = h.enc ? h.chunk_bytes + kTagBytes : kMaxChunkBytes;
    const PayloadOpener& opener = *s.opening.opener;
    const std::uint64_t base = s.opening.opener->chunk_index();

    std::mutex m;  // the source, the sink, the digest and everything below
    std::condition_variable turn;
    std::uint64_t next_block = 0;
    std::uint64_t next_write = 0;
    bool ended = false;
    std::optional<mesh::Error> error;
    std::uint64_t chunks_total = 0;

    const auto work = [&](unsigned) {
        std::vector<mesh::Bytes> carried(kBlockChunks);
        mesh::Bytes plain;
        for (;;) {
            std::uint64_t k = 0;
            std::uint64_t first = 0;
            std::size_t count = 0;
            bool last = false;
            std::unique_lock lock(m);
            {
                if (error || ended) return;
                k = next_block++;
                first = base + k * kBlockChunks;
                for (; count < kBlockChunks && !last; ++count) {
                    auto item = read_chunk_item(*s.source, limit, carried[count]);
                    if (!item) {
                        error = std::move(item).error();
                        break;
                    }
                    last = *item;
                }
                if (error) {
                    lock.unlock();
                    turn.notify_all();
                    return;
                }
                ended = last;
            }
            lock.unlock();
            std::size_t total = 0;
            for (std::size_t i = 0; i < count; ++i) total += opener.plain_size(carried[i].size());
            plain.resize(total);
            std::size_t at = 0;
            std::optional<mesh::Error> local;
            for (std::size_t i = 0; i < count && !local; ++i) {
                auto r = opener.open_at(first + i, carried[i], last && i + 1 == count, plain.data() + at);
                if (!r) local = std::move(r).error();
                at += opener.plain_size(carried[i].size());
            }
            lock.lock();
            turn.wait(lock, [&] { return next_write == k || error.has_value(); });
            if (error) return;
            if (local) {  // nothing of this block or after it is released
                error = std::move(local);
            } else {
                if (s.digest) {
                    for (std::size_t i = 0; i < count; ++i) s.digest->update(carried[i]);
                }
                auto w = sink.write(plain);
                if (!w) {
                    error = std::move(w).error();
                } else {
                    ++next_write;
                    if (last) chunks_total = k * kBlockChunks + count;
                    if (progress) progress(plain.size());
                }
            }
            const bool stop = last || error.has_value();
            lock.unlock();
            turn.notify_all();
            if (stop) return;
        }
    };
    run_workers(threads, work);
    if (error) return std::move(*error);
    s.opening.opener->skip(chunks_total);
    s.ended = true;
    return mesh::ok();
}

Result<void> EnvelopeReader::finish() {
    State& s = *s_;
    if (s.finished) return fail(Errc::invalid_argument, "dare: finish called twice");
    while (!s.ended) MESH_TRY(next_chunk());  // drain what the caller did not read
    s.finished = true;
    MESH_ASSIGN_OR_RETURN(const auto trailer, read_jsonb_item(*s.source, "trailer", true));
    if (trailer) {
        MESH_ASSIGN_OR_RETURN(s.opening.info.trailer, trailer_from_json(*trailer, "trailer"));
    }
    std::uint8_t extra = 0;
    MESH_ASSIGN_OR_RETURN(const std::size_t n, s.source->read(std::span(&extra, 1)));
    if (n != 0) return fail(Errc::malformed, "dare: data after the envelope");
    return check_trailer(s.opening.info, s.options, s.digest ? s.digest->finish() : mesh::Digest512{});
}

// ---- in-memory forms -------------------------------------------------------------------------

Result<mesh::Bytes> encode_binary(const EncodeOptions& options, mesh::RandomSource& rng,
                                  std::span<const std::uint8_t> payload) {
    BytesSink sink;
    sink.bytes.reserve(payload.size() + (payload.size() / options.chunk_bytes + 1) * (kTagBytes + 9) +
                       4096 * (1 + options.recipients.size()));
    MESH_ASSIGN_OR_RETURN(EnvelopeWriter w, EnvelopeWriter::begin(options, rng, sink));
    MESH_TRY(w.write(payload));
    MESH_TRY(w.finish());
    return std::move(sink.bytes);
}

Result<Json> encode_value(const EncodeOptions& options, mesh::RandomSource& rng,
                          std::span<const std::uint8_t> payload) {
    MESH_ASSIGN_OR_RETURN(Sealing s, start_sealing(options, rng));
    mesh::Bytes carried;
    const std::size_t chunk = options.chunk_bytes;
    std::size_t off = 0;
    do {
        const std::size_t take = std::min(chunk, payload.size() - off);
        const bool last = off + take == payload.size();
        s.sealer->chunk(payload.subspan(off, take), last, carried);
        off += take;
    } while (off < payload.size());
    JsonArray parts{to_json(s.header), Json(mesh::base64url_encode(carried))};
    const Trailer t = make_trailer(s.header, options, mesh::sha512({carried}));
    if (t.payload_digest || !t.signatures.empty()) parts.push_back(to_json(t));
    return Json(std::move(parts));
}

Result<std::string> encode_json(const EncodeOptions& options, mesh::RandomSource& rng,
                                std::span<const std::uint8_t> payload) {
    MESH_ASSIGN_OR_RETURN(Json v, encode_value(options, rng, payload));
    return to_json(Json(JsonObject{{"DareEnvelope", std::move(v)}}));
}

Result<Decoded> decode_binary(std::span<const std::uint8_t> file, const OpenOptions& options) {
    SpanSource src(file);
    MESH_ASSIGN_OR_RETURN(EnvelopeReader r, EnvelopeReader::open(src, options));
    mesh::SecureBytes payload;
    for (;;) {
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes chunk, r.next_chunk());
        payload.append(chunk);
        if (chunk.empty()) break;
    }
    MESH_TRY(r.finish());
    return Decoded{r.info(), std::move(payload)};
}

Result<Decoded> decode_value(const Json& envelope, const OpenOptions& options) {
    const Json* v = &envelope;
    std::string path = "$";
    if (envelope.is_object()) {
        MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(envelope, path));
        MESH_ASSIGN_OR_RETURN(v, r.value("DareEnvelope"));
        MESH_TRY(r.finish());
        path = "$.DareEnvelope";
    }
    if (!v->is_array()) return type_error(path, "array", *v);
    const JsonArray& parts = v->as_array();
    if (parts.size() < 2 || parts.size() > 3) {
        return fail(Errc::malformed, path + ": " + std::to_string(parts.size()) + " parts, expected 2 or 3");
    }
    MESH_ASSIGN_OR_RETURN(Header header, header_from_json(parts[0], path + "[0]"));
    if (!parts[1].is_string()) return type_error(path + "[1]", "base64url string", parts[1]);
    auto carried = base64url_decode_lenient(parts[1].as_string());
    if (!carried) return fail(Errc::malformed, path + "[1]: " + carried.error().message);
    MESH_ASSIGN_OR_RETURN(Opening op, start_opening(std::move(header), options));
    if (parts.size() == 3) {
        MESH_ASSIGN_OR_RETURN(op.info.trailer, trailer_from_json(parts[2], path + "[2]"));
    }

    mesh::SecureBytes payload;
    const auto& h = op.info.header;
    if (!h.enc) {
        payload.append(*carried);
    } else {
        const std::size_t full = std::size_t{h.chunk_bytes} + kTagBytes;
        std::span<const std::uint8_t> rest(*carried);
        do {
            const bool last = rest.size() <= full;
            const std::size_t take = last ? rest.size() : full;
            MESH_ASSIGN_OR_RETURN(const mesh::Bytes pt, op.opener->chunk(rest.first(take), last));
            payload.append(pt);
            rest = rest.subspan(take);
        } while (!rest.empty());
    }
    MESH_TRY(check_trailer(op.info, options, mesh::sha512({*carried})));
    return Decoded{std::move(op.info), std::move(payload)};
}

Result<Decoded> decode_json(std::string_view text, const OpenOptions& options) {
    MESH_ASSIGN_OR_RETURN(const Json j, parse_json(text, JsonLimits{std::size_t{64} << 20, 16}));
    return decode_value(j, options);
}


// ---- shared with encrypted containers (frame_crypto.hpp) --------------------------------------

namespace detail {

ContentKey make_content_key(mesh::RandomSource& rng) {
    ContentKey k;
    rng.fill(k.expose_secret_mut());
    return k;
}

std::vector<RecipientEntry> wrap_content_key(const ContentKey& cek, std::span<const PublicKey> recipients,
                                             mesh::RandomSource& rng) {
    std::vector<RecipientEntry> out;
    out.reserve(recipients.size());
    for (const auto& r : recipients) out.push_back(wrap_for(cek, r, rng));
    return out;
}

Result<ContentKey> unwrap_content_key(std::span<const RecipientEntry> entries, KeyAgreement& keys) {
    std::string tried;
    for (const auto& r : entries) {
        auto agreement = keys.agree(r);
        if (!agreement) {
            if (agreement.error().code != Errc::not_found) return std::move(agreement).error();
            tried += (tried.empty() ? "" : ", ") + r.kid;
            continue;
        }
        return unwrap(r, *agreement);
    }
    return fail(Errc::not_found, "dare: no key for any recipient (" + tried + ")");
}

Json recipients_to_json(const std::vector<RecipientEntry>& entries) {
    JsonArray rs;
    for (const auto& r : entries) {
        JsonObject key{{"crv", Json("ristretto255")}, {"Public", Json(mesh::base64url_encode(r.epk.bytes()))}};
        JsonObject entry{{"kid", Json(r.kid)},
                         {"epk", Json(JsonObject{{"PublicKeyECDH", Json(std::move(key))}})},
                         {"wmk", Json(mesh::base64url_encode(r.wmk))}};
        if (!r.conjunction.empty()) {
            JsonArray kids;
            for (const auto& k : r.conjunction) kids.emplace_back(k);
            entry.emplace_back("Conjunction", Json(std::move(kids)));
        }
        if (!r.services.empty()) {
            JsonArray urls;
            for (const auto& u : r.services) urls.emplace_back(u);
            entry.emplace_back("Services", Json(std::move(urls)));
        }
        rs.emplace_back(std::move(entry));
    }
    return Json(std::move(rs));
}

Result<std::vector<RecipientEntry>> recipients_from_json(ObjectReader& r, std::string_view name) {
    std::vector<RecipientEntry> out;
    MESH_ASSIGN_OR_RETURN(const JsonArray* rs, r.optional_array(name, kMaxRecipients));
    for (std::size_t i = 0; i < rs->size(); ++i) {
        const std::string p = r.member_path(name) + "[" + std::to_string(i) + "]";
        MESH_ASSIGN_OR_RETURN(ObjectReader e, ObjectReader::open((*rs)[i], p));
        MESH_ASSIGN_OR_RETURN(std::string kid, e.string("kid", 256));
        MESH_ASSIGN_OR_RETURN(const Json* epk_json, e.value("epk"));
        MESH_ASSIGN_OR_RETURN(PublicKey epk, epk_from_json(*epk_json, p + ".epk"));
        MESH_ASSIGN_OR_RETURN(mesh::Bytes wmk, e.fixed_bytes("wmk", kWrappedBytes));
        MESH_ASSIGN_OR_RETURN(const JsonArray* parts, e.optional_array("Conjunction", 16));
        std::vector<std::string> conjunction;
        for (std::size_t c = 0; c < parts->size(); ++c) {
            const std::string cp = p + ".Conjunction[" + std::to_string(c) + "]";
            if (!(*parts)[c].is_string() || (*parts)[c].as_string().empty() || (*parts)[c].as_string().size() > 256) {
                return type_error(cp, "key fingerprint", (*parts)[c]);
            }
            conjunction.push_back((*parts)[c].as_string());
        }
        if (conjunction.size() == 1) return fail(Errc::malformed, p + ".Conjunction: needs two or more keys");
        MESH_ASSIGN_OR_RETURN(const JsonArray* urls, e.optional_array("Services", 16));
        std::vector<std::string> services;
        for (std::size_t c = 0; c < urls->size(); ++c) {
            const Json& u = (*urls)[c];
            if (!u.is_string() || u.as_string().empty() || u.as_string().size() > 1024) {
                return type_error(p + ".Services[" + std::to_string(c) + "]", "service URL", u);
            }
            services.push_back(u.as_string());
        }
        if (!services.empty() && services.size() != std::max<std::size_t>(1, conjunction.size())) {
            return fail(Errc::malformed, p + ".Services: one URL, or one per Conjunction key");
        }
        MESH_TRY(e.finish());
        out.push_back(RecipientEntry{std::move(kid), epk, std::move(wmk), std::move(conjunction), std::move(services)});
    }
    return out;
}

namespace {
Key frame_key(Aead a, const ContentKey& cek, std::span<const std::uint8_t> salt, FramePart part) {
    const mesh::SecureBytes prk = mesh::hkdf_extract(mesh::HkdfHash::sha512, salt, cek.expose_secret());
    const std::string label = std::string(part == FramePart::payload ? "DARE/frame/payload/" : "DARE/frame/metadata/") +
                              std::string(aead_name(a));
    return expand(prk.expose_secret(), label);
}
}  // namespace

mesh::Bytes seal_frame(Aead a, const ContentKey& cek, std::span<const std::uint8_t> salt, FramePart part,
                       std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext) {
    const Key key = frame_key(a, cek, salt, part);
    mesh::Bytes out(plaintext.size() + kTagBytes);
    seal(a, key, 0, true, aad, plaintext, out.data());
    return out;
}

Result<mesh::SecureBytes> open_frame(Aead a, const ContentKey& cek, std::span<const std::uint8_t> salt, FramePart part,
                                     std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed) {
    if (sealed.size() < kTagBytes) return auth_failed();
    const Key key = frame_key(a, cek, salt, part);
    mesh::SecureBytes out(sealed.size() - kTagBytes);
    MESH_TRY(open(a, key, 0, true, aad, sealed, out.expose_secret_mut().data()));
    return out;
}

Result<Aead> aead_from_name(std::string_view name, const std::string& where) {
    if (name == "XC20P") return Aead::xchacha20_poly1305;
    if (name == "A256GCM") {
        if (!aes256gcm_available()) return fail(Errc::unsupported, where + ": A256GCM needs hardware support this CPU lacks");
        return Aead::aes256_gcm;
    }
    return fail(Errc::unsupported, where + ": encryption algorithm '" + std::string(name.substr(0, 32)) + "' not supported");
}

}  // namespace detail

}  // namespace dare
