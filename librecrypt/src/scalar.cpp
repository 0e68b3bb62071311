#include <recrypt/scalar.hpp>

#include <sodium.h>

#include <mesh/crypto_init.hpp>

namespace recrypt {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

Scalar Scalar::random(mesh::RandomSource& rng) {
    mesh::crypto_init();
    for (;;) {
        mesh::SecretArray<64> wide;
        rng.fill(wide.expose_secret_mut());
        mesh::SecretArray<32> s;
        crypto_core_ristretto255_scalar_reduce(s.expose_secret_mut().data(), wide.expose_secret().data());
        Scalar out(std::move(s));
        if (!out.is_zero()) return out;
    }
}

Result<Scalar> Scalar::from_bytes(std::span<const std::uint8_t> bytes) {
    // dare::PrivateKey holds the same rule (canonical, non-zero) and its constant-time check.
    MESH_ASSIGN_OR_RETURN(const dare::PrivateKey k, dare::PrivateKey::from_bytes(bytes));
    return from_private_key(k);
}

Scalar Scalar::from_private_key(const dare::PrivateKey& key) {
    return Scalar(mesh::SecretArray<32>(key.expose_secret()));
}

Scalar Scalar::from_uint(std::uint64_t n) {
    MESH_ASSERT(n > 0);
    mesh::SecretArray<32> s;
    for (int i = 0; i < 8; ++i) s.expose_secret_mut()[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
    return Scalar(std::move(s));
}

Scalar Scalar::add(const Scalar& o) const {
    mesh::SecretArray<32> r;
    crypto_core_ristretto255_scalar_add(r.expose_secret_mut().data(), s_.expose_secret().data(), o.s_.expose_secret().data());
    return Scalar(std::move(r));
}

Scalar Scalar::sub(const Scalar& o) const {
    mesh::SecretArray<32> r;
    crypto_core_ristretto255_scalar_sub(r.expose_secret_mut().data(), s_.expose_secret().data(), o.s_.expose_secret().data());
    return Scalar(std::move(r));
}

Scalar Scalar::mul(const Scalar& o) const {
    mesh::SecretArray<32> r;
    crypto_core_ristretto255_scalar_mul(r.expose_secret_mut().data(), s_.expose_secret().data(), o.s_.expose_secret().data());
    return Scalar(std::move(r));
}

Result<Scalar> Scalar::invert() const {
    mesh::SecretArray<32> r;
    if (crypto_core_ristretto255_scalar_invert(r.expose_secret_mut().data(), s_.expose_secret().data()) != 0) {
        return fail(Errc::invalid_argument, "scalar: zero has no inverse");
    }
    return Scalar(std::move(r));
}

bool Scalar::is_zero() const noexcept { return sodium_is_zero(s_.expose_secret().data(), 32) == 1; }

Result<Point> Scalar::public_point() const {
    MESH_ASSIGN_OR_RETURN(const dare::PrivateKey k, to_private_key());
    return k.public_key();
}

Result<dare::SharedPoint> Scalar::times_encoded(std::span<const std::uint8_t, dare::kPointBytes> p) const {
    if (is_zero()) return fail(Errc::invalid_argument, "scalar: zero");
    dare::SharedPoint out;
    // fails on a non-canonical encoding, on a point not in the group, and when the product is the
    // identity (T the identity: r is never zero)
    if (crypto_scalarmult_ristretto255(out.expose_secret_mut().data(), s_.expose_secret().data(), p.data()) != 0) {
        return fail(Errc::malformed, "ristretto255: not the canonical encoding of a group element other than the identity");
    }
    return out;
}

Result<dare::SharedPoint> Scalar::times(const Point& p) const {
    if (is_zero()) return fail(Errc::invalid_argument, "scalar: zero");
    dare::SharedPoint out;
    if (crypto_scalarmult_ristretto255(out.expose_secret_mut().data(), s_.expose_secret().data(), p.bytes().data()) != 0) {
        return fail(Errc::internal, "ristretto255: scalar multiplication failed");
    }
    return out;
}

Result<dare::PrivateKey> Scalar::to_private_key() const { return dare::PrivateKey::from_bytes(s_.expose_secret()); }

Result<dare::SharedPoint> add_points(const dare::SharedPoint& p, const dare::SharedPoint& q) {
    dare::SharedPoint out;
    if (crypto_core_ristretto255_add(out.expose_secret_mut().data(), p.expose_secret().data(), q.expose_secret().data()) != 0) {
        return fail(Errc::malformed, "ristretto255: point addition of invalid points");
    }
    if (sodium_is_zero(out.expose_secret().data(), 32) == 1) return fail(Errc::malformed, "ristretto255: the sum is the identity");
    return out;
}

Result<dare::SharedPoint> shared_from_bytes(std::span<const std::uint8_t> bytes) {
    MESH_ASSIGN_OR_RETURN(const Point p, Point::from_bytes(bytes));  // canonical, not the identity
    return dare::SharedPoint(p.bytes());
}

}  // namespace recrypt
