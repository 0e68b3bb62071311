// recrypt/scalar.hpp: secret scalars mod l of ristretto255, and the group operations on points
// that recryption needs (DESIGN §4.1).
//
// A Scalar is canonical (< l) and, unless made by the arithmetic below, not zero. Scalars are
// secrets: move-only, wiped, constant-time equality, bytes only through expose_secret().
// Points are dare::PublicKey: valid, canonical, never the identity.
// Thread-safe (values). Errors: malformed (encodings), invalid_argument (a zero where the math
// forbids it), internal (a libsodium failure).
#pragma once

#include <cstdint>
#include <span>

#include <dare/keys.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace recrypt {

using Point = dare::PublicKey;

class Scalar final {
public:
    /// 64 random bytes reduced mod l (reproducible with a fixed RandomSource); never zero.
    static Scalar random(mesh::RandomSource& rng);
    /// Canonical and not zero.
    static mesh::Result<Scalar> from_bytes(std::span<const std::uint8_t> bytes);
    static Scalar from_private_key(const dare::PrivateKey& key);
    /// The small integer n (n > 0), for Lagrange coefficients and tests.
    static Scalar from_uint(std::uint64_t n);

    [[nodiscard]] Scalar clone() const { return Scalar(s_.clone()); }
    [[nodiscard]] Scalar add(const Scalar& o) const;
    [[nodiscard]] Scalar sub(const Scalar& o) const;
    [[nodiscard]] Scalar mul(const Scalar& o) const;
    /// The inverse; invalid_argument for zero.
    [[nodiscard]] mesh::Result<Scalar> invert() const;
    [[nodiscard]] bool is_zero() const noexcept;

    /// s·G.
    [[nodiscard]] mesh::Result<Point> public_point() const;
    /// s·P; invalid_argument if s is zero.
    [[nodiscard]] mesh::Result<dare::SharedPoint> times(const Point& p) const;
    /// times() on an encoding not yet checked: malformed unless it is a canonical encoding of a
    /// group element other than the identity (libsodium decodes it as part of the product).
    [[nodiscard]] mesh::Result<dare::SharedPoint> times_encoded(std::span<const std::uint8_t, dare::kPointBytes> p) const;
    /// As a DARE private key (not zero).
    [[nodiscard]] mesh::Result<dare::PrivateKey> to_private_key() const;

    [[nodiscard]] std::span<const std::uint8_t, 32> expose_secret() const noexcept { return s_.expose_secret(); }
    friend bool operator==(const Scalar& a, const Scalar& b) noexcept { return a.s_ == b.s_; }

private:
    explicit Scalar(mesh::SecretArray<32> s) : s_(std::move(s)) {}
    mesh::SecretArray<32> s_;
};

/// P + Q of two (secret) shared points; malformed if the sum is the identity.
mesh::Result<dare::SharedPoint> add_points(const dare::SharedPoint& p, const dare::SharedPoint& q);
/// A public point from shared-point bytes (e.g. the service's partial on the wire).
mesh::Result<dare::SharedPoint> shared_from_bytes(std::span<const std::uint8_t> bytes);

}  // namespace recrypt
