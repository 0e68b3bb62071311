#include <dare/keys.hpp>

#include <sodium.h>

#include <mesh/crypto_init.hpp>
#include <udf/keys.hpp>

namespace dare {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

static_assert(kPointBytes == crypto_core_ristretto255_BYTES);
static_assert(kScalarBytes == crypto_core_ristretto255_SCALARBYTES);
static_assert(kEd25519PublicBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(kEd25519SeedBytes == crypto_sign_SEEDBYTES);
static_assert(kEd25519SignatureBytes == crypto_sign_BYTES);

namespace {
// l = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr std::array<std::uint8_t, 32> kOrder = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// Constant time: s < l (little-endian compare from the top byte, no early exit).
bool scalar_is_canonical(std::span<const std::uint8_t, 32> s) noexcept {
    unsigned c = 0;  // borrow of s - l
    for (std::size_t i = 0; i < 32; ++i) {
        c = (static_cast<unsigned>(s[i]) - kOrder[i] - c) >> 8 & 1U;
    }
    return c == 1;
}

std::string fingerprint(udf::KeyAlgorithm alg, std::span<const std::uint8_t> key) {
    auto kid = udf::key_fingerprint(alg, key);
    MESH_ASSERT(kid.has_value());  // lengths are fixed by the types
    return std::move(kid).value();
}
}  // namespace

Result<PublicKey> PublicKey::from_bytes(std::span<const std::uint8_t> bytes) {
    mesh::crypto_init();
    if (bytes.size() != kPointBytes) {
        return fail(Errc::malformed, "ristretto255 key: " + std::to_string(bytes.size()) + " bytes, expected 32");
    }
    if (sodium_is_zero(bytes.data(), bytes.size()) == 1) {
        return fail(Errc::malformed, "ristretto255 key: the identity point");
    }
    if (crypto_core_ristretto255_is_valid_point(bytes.data()) != 1) {
        return fail(Errc::malformed, "ristretto255 key: not a canonical group element");
    }
    return PublicKey(bytes.first<kPointBytes>());
}

std::string PublicKey::kid() const { return fingerprint(udf::KeyAlgorithm::ristretto255, p_); }

Result<PublicKey> PublicKey::add(const PublicKey& other) const {
    std::array<std::uint8_t, kPointBytes> sum{};
    if (crypto_core_ristretto255_add(sum.data(), p_.data(), other.p_.data()) != 0) {
        return fail(Errc::internal, "ristretto255: point addition failed");
    }
    return from_bytes(sum);
}

PrivateKey PrivateKey::generate(mesh::RandomSource& rng) {
    mesh::crypto_init();
    for (;;) {
        mesh::SecretArray<64> wide;
        rng.fill(wide.expose_secret_mut());
        mesh::SecretArray<kScalarBytes> s;
        crypto_core_ristretto255_scalar_reduce(s.expose_secret_mut().data(), wide.expose_secret().data());
        if (sodium_is_zero(s.expose_secret().data(), kScalarBytes) == 0) return PrivateKey(std::move(s));
    }
}

Result<PrivateKey> PrivateKey::from_bytes(std::span<const std::uint8_t> bytes) {
    mesh::crypto_init();
    if (bytes.size() != kScalarBytes) {
        return fail(Errc::malformed, "ristretto255 private key: " + std::to_string(bytes.size()) +
                                         " bytes, expected 32");
    }
    const auto s = bytes.first<kScalarBytes>();
    if (!scalar_is_canonical(s)) return fail(Errc::malformed, "ristretto255 private key: not reduced mod l");
    if (sodium_is_zero(s.data(), s.size()) == 1) return fail(Errc::malformed, "ristretto255 private key: zero");
    return PrivateKey(mesh::SecretArray<kScalarBytes>(s));
}

PublicKey PrivateKey::public_key() const {
    std::array<std::uint8_t, kPointBytes> p{};
    MESH_ASSERT(crypto_scalarmult_ristretto255_base(p.data(), s_.expose_secret().data()) == 0);
    auto pk = PublicKey::from_bytes(p);
    MESH_ASSERT(pk.has_value());
    return std::move(pk).value();
}

Result<SharedPoint> PrivateKey::agree(const PublicKey& peer) const {
    SharedPoint out;
    if (crypto_scalarmult_ristretto255(out.expose_secret_mut().data(), s_.expose_secret().data(),
                                       peer.bytes().data()) != 0) {
        return fail(Errc::auth_failed, "key agreement: authentication failed");
    }
    return out;
}

Result<SignaturePublicKey> SignaturePublicKey::from_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != kEd25519PublicBytes) {
        return fail(Errc::malformed, "ed25519 key: " + std::to_string(bytes.size()) + " bytes, expected 32");
    }
    return SignaturePublicKey(bytes.first<kEd25519PublicBytes>());
}

std::string SignaturePublicKey::kid() const { return fingerprint(udf::KeyAlgorithm::ed25519, k_); }

Result<void> SignaturePublicKey::verify(std::span<const std::uint8_t> message,
                                        std::span<const std::uint8_t> sig) const {
    mesh::crypto_init();
    if (sig.size() != kEd25519SignatureBytes ||
        crypto_sign_verify_detached(sig.data(), message.data(), message.size(), k_.data()) != 0) {
        return fail(Errc::auth_failed, "signature: authentication failed");
    }
    return mesh::ok();
}

SignaturePrivateKey SignaturePrivateKey::generate(mesh::RandomSource& rng) {
    mesh::SecretArray<kEd25519SeedBytes> seed;
    rng.fill(seed.expose_secret_mut());
    auto k = from_seed(seed.expose_secret());
    MESH_ASSERT(k.has_value());
    return std::move(k).value();
}

Result<SignaturePrivateKey> SignaturePrivateKey::from_seed(std::span<const std::uint8_t> seed) {
    mesh::crypto_init();
    if (seed.size() != kEd25519SeedBytes) {
        return fail(Errc::malformed, "ed25519 seed: " + std::to_string(seed.size()) + " bytes, expected 32");
    }
    mesh::SecretArray<64> sk;
    std::array<std::uint8_t, kEd25519PublicBytes> pk{};
    if (crypto_sign_seed_keypair(pk.data(), sk.expose_secret_mut().data(), seed.data()) != 0) {
        return fail(Errc::internal, "ed25519: key generation failed");
    }
    return SignaturePrivateKey(std::move(sk), SignaturePublicKey(pk));
}

SignaturePrivateKey SignaturePrivateKey::clone() const { return SignaturePrivateKey(sk_.clone(), pk_); }

std::array<std::uint8_t, kEd25519SignatureBytes> SignaturePrivateKey::sign(
    std::span<const std::uint8_t> message) const {
    std::array<std::uint8_t, kEd25519SignatureBytes> sig{};
    MESH_ASSERT(crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                                     sk_.expose_secret().data()) == 0);
    return sig;
}

}  // namespace dare
