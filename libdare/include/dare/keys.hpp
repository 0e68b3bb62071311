// dare/keys.hpp: the keys DARE encrypts and signs with.
//
// PublicKey/PrivateKey: ristretto255 (prime order, canonical encodings). A PublicKey is always a
// valid, non-identity point; a PrivateKey a canonical, non-zero scalar (drawn as 64 random bytes
// reduced mod l, so known-answer tests can fix them). agree() returns the shared point x·P.
// SignaturePublicKey/SignaturePrivateKey: Ed25519 (RFC 8032, libsodium).
// Every key's kid is its fingerprint UDF (udf/keys.hpp rule, 140 bits).
// Private keys are move-only and wiped; their bytes leave only through named exports.
// Thread-safe (immutable after construction).
// Errors: malformed (wrong length, non-canonical, identity, not on the group), auth_failed
// (signature check).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include <mesh/bytes.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace dare {

inline constexpr std::size_t kPointBytes = 32;
inline constexpr std::size_t kScalarBytes = 32;
inline constexpr std::size_t kEd25519PublicBytes = 32;
inline constexpr std::size_t kEd25519SeedBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;

/// A ristretto255 group element that is valid and not the identity.
class PublicKey final {
public:
    static mesh::Result<PublicKey> from_bytes(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::span<const std::uint8_t, kPointBytes> bytes() const noexcept { return p_; }
    /// The fingerprint UDF (kid).
    [[nodiscard]] std::string kid() const;
    /// Point addition (conjunction of keys, co-generation). Fails if the sum is the identity.
    [[nodiscard]] mesh::Result<PublicKey> add(const PublicKey& other) const;
    friend bool operator==(const PublicKey&, const PublicKey&) = default;

private:
    explicit PublicKey(std::span<const std::uint8_t, kPointBytes> p) { std::copy(p.begin(), p.end(), p_.begin()); }
    std::array<std::uint8_t, kPointBytes> p_{};
};

/// A shared point (secret): the input of the key-encryption-key derivation.
using SharedPoint = mesh::SecretArray<kPointBytes>;

/// A ristretto255 scalar that is canonical (< l) and not zero.
class PrivateKey final {
public:
    static PrivateKey generate(mesh::RandomSource& rng);
    static mesh::Result<PrivateKey> from_bytes(std::span<const std::uint8_t> bytes);
    [[nodiscard]] PrivateKey clone() const { return PrivateKey(s_.clone()); }

    [[nodiscard]] PublicKey public_key() const;
    /// x·P, never the identity (P has prime order and x is not zero).
    [[nodiscard]] mesh::Result<SharedPoint> agree(const PublicKey& peer) const;
    /// The scalar bytes, for storage (0600 files) and for librecrypt's arithmetic.
    [[nodiscard]] std::span<const std::uint8_t, kScalarBytes> expose_secret() const noexcept {
        return s_.expose_secret();
    }

private:
    explicit PrivateKey(mesh::SecretArray<kScalarBytes> s) : s_(std::move(s)) {}
    mesh::SecretArray<kScalarBytes> s_;
};

class SignaturePublicKey final {
public:
    static mesh::Result<SignaturePublicKey> from_bytes(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::span<const std::uint8_t, kEd25519PublicBytes> bytes() const noexcept { return k_; }
    [[nodiscard]] std::string kid() const;
    /// auth_failed ("signature: authentication failed") unless `sig` signs `message`.
    [[nodiscard]] mesh::Result<void> verify(std::span<const std::uint8_t> message,
                                            std::span<const std::uint8_t> sig) const;
    friend bool operator==(const SignaturePublicKey&, const SignaturePublicKey&) = default;

private:
    friend class SignaturePrivateKey;
    explicit SignaturePublicKey(std::span<const std::uint8_t, kEd25519PublicBytes> k) {
        std::copy(k.begin(), k.end(), k_.begin());
    }
    std::array<std::uint8_t, kEd25519PublicBytes> k_{};
};

class SignaturePrivateKey final {
public:
    static SignaturePrivateKey generate(mesh::RandomSource& rng);
    /// From an RFC 8032 32-byte seed.
    static mesh::Result<SignaturePrivateKey> from_seed(std::span<const std::uint8_t> seed);
    [[nodiscard]] SignaturePrivateKey clone() const;
    [[nodiscard]] const SignaturePublicKey& public_key() const noexcept { return pk_; }
    [[nodiscard]] std::array<std::uint8_t, kEd25519SignatureBytes> sign(std::span<const std::uint8_t> message) const;
    /// The 32-byte seed, for storage.
    [[nodiscard]] std::span<const std::uint8_t, kEd25519SeedBytes> expose_seed() const noexcept {
        return std::span<const std::uint8_t, kEd25519SeedBytes>(sk_.expose_secret().first<kEd25519SeedBytes>());
    }

private:
    SignaturePrivateKey(mesh::SecretArray<64> sk, SignaturePublicKey pk) : sk_(std::move(sk)), pk_(pk) {}
    mesh::SecretArray<64> sk_;  // libsodium's seed || public key
    SignaturePublicKey pk_;
};

}  // namespace dare
