#include <mesh/hash.hpp>

#include <cstring>

#include <openssl/evp.h>
#include <sodium.h>

#include <mesh/crypto_init.hpp>

namespace mesh {

static_assert(kSha512Bytes == crypto_hash_sha512_BYTES);
static_assert(kSha256Bytes == crypto_hash_sha256_BYTES);

struct Hasher::Ctx {
    EVP_MD_CTX* md = nullptr;
    const EVP_MD* type = nullptr;
    ~Ctx() { EVP_MD_CTX_free(md); }
};

Hasher::Hasher(HashAlg alg) : ctx_(std::make_unique<Ctx>()) {
    ctx_->type = alg == HashAlg::sha2_512 ? EVP_sha512() : EVP_sha3_512();
    ctx_->md = EVP_MD_CTX_new();
    MESH_ASSERT(ctx_->md != nullptr);
    MESH_ASSERT(EVP_DigestInit_ex(ctx_->md, ctx_->type, nullptr) == 1);
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::uint8_t> data) {
    if (!data.empty()) MESH_ASSERT(EVP_DigestUpdate(ctx_->md, data.data(), data.size()) == 1);
}

Digest512 Hasher::finish() {
    Digest512 out{};
    unsigned int len = 0;
    MESH_ASSERT(EVP_DigestFinal_ex(ctx_->md, out.data(), &len) == 1 && len == out.size());
    MESH_ASSERT(EVP_DigestInit_ex(ctx_->md, ctx_->type, nullptr) == 1);
    return out;
}

Digest512 sha512(ByteParts parts) noexcept {
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    for (const auto& p : parts) {
        if (!p.empty()) crypto_hash_sha512_update(&st, p.data(), p.size());
    }
    Digest512 out{};
    crypto_hash_sha512_final(&st, out.data());
    return out;
}

Digest512 sha3_512(ByteParts parts) {
    Hasher h(HashAlg::sha3_512);
    for (const auto& p : parts) h.update(p);
    return h.finish();
}

namespace {
// libsodium declares its key pointers nonnull even for an empty key (RFC 5869's absent salt).
const unsigned char* key_ptr(std::span<const std::uint8_t> key) noexcept {
    static constexpr unsigned char kNoKey[1] = {0};
    return key.empty() ? kNoKey : key.data();
}
}  // namespace

Digest512 hmac_sha512(std::span<const std::uint8_t> key, ByteParts parts) noexcept {
    crypto_auth_hmacsha512_state st;
    WipeOnExit wipe(&st, sizeof st);
    crypto_auth_hmacsha512_init(&st, key_ptr(key), key.size());
    for (const auto& p : parts) {
        if (!p.empty()) crypto_auth_hmacsha512_update(&st, p.data(), p.size());
    }
    Digest512 out{};
    crypto_auth_hmacsha512_final(&st, out.data());
    return out;
}

Digest256 hmac_sha256(std::span<const std::uint8_t> key, ByteParts parts) noexcept {
    crypto_auth_hmacsha256_state st;
    WipeOnExit wipe(&st, sizeof st);
    crypto_auth_hmacsha256_init(&st, key_ptr(key), key.size());
    for (const auto& p : parts) {
        if (!p.empty()) crypto_auth_hmacsha256_update(&st, p.data(), p.size());
    }
    Digest256 out{};
    crypto_auth_hmacsha256_final(&st, out.data());
    return out;
}

namespace {
std::size_t hash_len(HkdfHash hash) noexcept {
    return hash == HkdfHash::sha512 ? kSha512Bytes : kSha256Bytes;
}

// One HMAC over parts, written into `out` (which has hash_len bytes).
void hmac_into(HkdfHash hash, std::span<const std::uint8_t> key, ByteParts parts,
               std::span<std::uint8_t> out) noexcept {
    if (hash == HkdfHash::sha512) {
        Digest512 d = hmac_sha512(key, parts);
        std::memcpy(out.data(), d.data(), d.size());
        secure_wipe(d.data(), d.size());
    } else {
        Digest256 d = hmac_sha256(key, parts);
        std::memcpy(out.data(), d.data(), d.size());
        secure_wipe(d.data(), d.size());
    }
}
}  // namespace

SecureBytes hkdf_extract(HkdfHash hash, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> ikm) {
    crypto_init();
    SecureBytes prk(hash_len(hash));
    // An empty key is equivalent to HashLen zero bytes: HMAC pads keys with zeros.
    hmac_into(hash, salt, {ikm}, prk.expose_secret_mut());
    return prk;
}

Result<SecureBytes> hkdf_expand(HkdfHash hash, std::span<const std::uint8_t> prk,
                                std::span<const std::uint8_t> info, std::size_t length) {
    crypto_init();
    const std::size_t n = hash_len(hash);
    if (length == 0 || length > 255 * n) {
        return fail(Errc::invalid_argument,
                    "hkdf: output length " + std::to_string(length) + " outside 1.." +
                        std::to_string(255 * n));
    }
    SecureBytes okm(length);
    SecureBytes t(n);
    std::size_t done = 0;
    for (std::uint8_t counter = 1; done < length; ++counter) {
        const std::uint8_t c[1] = {counter};
        const std::span<const std::uint8_t> previous =
            counter == 1 ? std::span<const std::uint8_t>() : t.expose_secret();
        SecureBytes next(n);
        hmac_into(hash, prk, {previous, info, c}, next.expose_secret_mut());
        t = std::move(next);
        const std::size_t take = std::min(n, length - done);
        std::memcpy(okm.expose_secret_mut().data() + done, t.expose_secret().data(), take);
        done += take;
    }
    return okm;
}

Result<SecureBytes> hkdf(HkdfHash hash, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> info,
                         std::size_t length) {
    const SecureBytes prk = hkdf_extract(hash, salt, ikm);
    return hkdf_expand(hash, prk.expose_secret(), info, length);
}

}  // namespace mesh
