#include <udf/keys.hpp>

#include <algorithm>
#include <cctype>
#include <array>

#include <openssl/evp.h>
#include <sodium.h>

#include <mesh/crypto_init.hpp>
#include <mesh/hash.hpp>
#include <udf/digest.hpp>
#include <udf/udf.hpp>

#include "bignum.hpp"

namespace udf {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

// ---- key fingerprints ------------------------------------------------------------------------

namespace {
constexpr std::string_view kPkixKey = "PKIXKey";
constexpr std::string_view kUdfEncryption = "UDFEncryption";

// The DER of AlgorithmIdentifier { OID, NULL }.
mesh::Bytes algorithm_identifier(KeyAlgorithm alg) {
    if (alg == KeyAlgorithm::ristretto255) {
        // OID 2.25.125095293822354663191539848335135284282: 0x69 (2*40+25), then the UUID in base 128
        return {0x30, 0x18, 0x06, 0x14, 0x69, 0x81, 0xBC, 0x9C, 0xBD, 0x8A, 0xF2, 0xBD, 0xA2, 0xBC,
                0xBD, 0x8A, 0xB6, 0x8B, 0xAF, 0xB9, 0xF2, 0xBC, 0xB8, 0x3A, 0x05, 0x00};
    }
    std::uint8_t arc = 0;
    switch (alg) {
        case KeyAlgorithm::x25519: arc = 110; break;
        case KeyAlgorithm::x448: arc = 111; break;
        case KeyAlgorithm::ed25519: arc = 112; break;
        default: arc = 113; break;
    }
    return {0x30, 0x07, 0x06, 0x03, 0x2B, 0x65, arc, 0x05, 0x00};  // 1.3.101.arc
}
}  // namespace

std::string_view key_algorithm_name(KeyAlgorithm alg) noexcept {
    switch (alg) {
        case KeyAlgorithm::x25519: return "x25519";
        case KeyAlgorithm::x448: return "x448";
        case KeyAlgorithm::ed25519: return "ed25519";
        case KeyAlgorithm::ed448: return "ed448";
        case KeyAlgorithm::ristretto255: return "ristretto255";
    }
    return "unknown";
}

Result<KeyAlgorithm> parse_key_algorithm(std::string_view name) {
    for (const auto alg : {KeyAlgorithm::x25519, KeyAlgorithm::x448, KeyAlgorithm::ed25519,
                           KeyAlgorithm::ed448, KeyAlgorithm::ristretto255}) {
        std::string lower(name);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower == key_algorithm_name(alg)) return alg;
    }
    return fail(Errc::unsupported, "key algorithm '" + std::string(name) +
                                       "' (x25519, x448, ed25519, ed448, ristretto255)");
}

std::size_t public_key_bytes(KeyAlgorithm alg) noexcept {
    switch (alg) {
        case KeyAlgorithm::x25519: return 33;
        case KeyAlgorithm::x448: return 57;
        case KeyAlgorithm::ed25519: return 32;
        case KeyAlgorithm::ed448: return 57;
        case KeyAlgorithm::ristretto255: return 32;
    }
    return 0;
}

Result<mesh::Bytes> spki_der(KeyAlgorithm alg, std::span<const std::uint8_t> public_key) {
    const std::size_t n = public_key_bytes(alg);
    if (public_key.size() != n) {
        return fail(Errc::invalid_argument,
                    std::string(key_algorithm_name(alg)) + " public key: " +
                        std::to_string(public_key.size()) + " bytes, expected " +
                        std::to_string(n));
    }
    // SEQUENCE { AlgorithmIdentifier, BIT STRING { 00, OCTET STRING { key } } }; all short lengths
    const mesh::Bytes ai = algorithm_identifier(alg);
    mesh::Bytes der = {0x30, static_cast<std::uint8_t>(ai.size() + 2 + 3 + n)};
    der.insert(der.end(), ai.begin(), ai.end());
    const mesh::Bytes bits = {0x03, static_cast<std::uint8_t>(3 + n), 0x00, 0x04,
                              static_cast<std::uint8_t>(n)};
    der.insert(der.end(), bits.begin(), bits.end());
    der.insert(der.end(), public_key.begin(), public_key.end());
    return der;
}

Result<std::string> key_fingerprint(KeyAlgorithm alg, std::span<const std::uint8_t> public_key,
                                    unsigned bits) {
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes der, spki_der(alg, public_key));
    return content_digest(DigestAlg::sha2_512, kPkixKey, der, bits);
}

Result<std::string> oid_udf(KeyAlgorithm alg, std::span<const std::uint8_t> public_key) {
    MESH_ASSIGN_OR_RETURN(mesh::Bytes der, spki_der(alg, public_key));
    der.insert(der.begin(), static_cast<std::uint8_t>(Type::oid));
    return present_full(der);
}

Result<mesh::Bytes> public_from_seed(KeyAlgorithm alg, std::span<const std::uint8_t> seed) {
    mesh::crypto_init();
    if (alg == KeyAlgorithm::ed25519) {
        if (seed.size() != crypto_sign_SEEDBYTES) {
            return fail(Errc::invalid_argument, "ed25519 seed: " + std::to_string(seed.size()) +
                                                    " bytes, expected 32");
        }
        mesh::Bytes pk(crypto_sign_PUBLICKEYBYTES);
        mesh::SecretArray<crypto_sign_SECRETKEYBYTES> sk;
        if (crypto_sign_seed_keypair(pk.data(), sk.expose_secret_mut().data(), seed.data()) != 0) {
            return fail(Errc::internal, "ed25519: key derivation failed");
        }
        return pk;
    }
    if (alg == KeyAlgorithm::ed448) {
        if (seed.size() != 57) {
            return fail(Errc::invalid_argument, "ed448 seed: " + std::to_string(seed.size()) +
                                                    " bytes, expected 57");
        }
        EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED448, nullptr, seed.data(), seed.size());
        if (key == nullptr) return fail(Errc::internal, "ed448: key derivation failed");
        mesh::Bytes pk(57);
        std::size_t len = pk.size();
        const int rc = EVP_PKEY_get_raw_public_key(key, pk.data(), &len);
        EVP_PKEY_free(key);
        if (rc != 1 || len != 57) return fail(Errc::internal, "ed448: key derivation failed");
        return pk;
    }
    return fail(Errc::unsupported, std::string(key_algorithm_name(alg)) +
                                       ": public key from seed needs the sign of v; give --public");
}

// ---- random UDFs -----------------------------------------------------------------------------

namespace {
Result<void> check_random_bits(std::string_view what, unsigned bits) {
    if (bits < 128 || bits > 512 || bits % 8 != 0) {
        return fail(Errc::invalid_argument, std::string(what) + ": " + std::to_string(bits) +
                                                " bits (a multiple of 8 from 128 to 512)");
    }
    return mesh::ok();
}
}  // namespace

Result<std::string> make_nonce(mesh::RandomSource& rng, unsigned bits) {
    MESH_TRY(check_random_bits("nonce", bits));
    mesh::Bytes b(1 + bits / 8);
    b[0] = static_cast<std::uint8_t>(Type::nonce);
    rng.fill(std::span(b).subspan(1));
    return present_full(b);
}

Result<mesh::SecureBytes> make_encryption_key(mesh::RandomSource& rng, unsigned bits) {
    MESH_TRY(check_random_bits("encryption key", bits));
    mesh::SecureBytes b(1 + bits / 8);
    b.expose_secret_mut()[0] = static_cast<std::uint8_t>(Type::encryption_key);
    rng.fill(b.expose_secret_mut().subspan(1));
    return b;
}

// ---- EARL ------------------------------------------------------------------------------------

namespace {
Result<std::string> check_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > 253) {
        return fail(Errc::invalid_argument, "earl: domain must have 1 to 253 characters");
    }
    std::string out;
    std::size_t label = 0;
    for (std::size_t i = 0; i < domain.size(); ++i) {
        char c = domain[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (label == 0 || out.back() == '-') {
                return fail(Errc::invalid_argument,
                            "earl: bad domain label at offset " + std::to_string(i));
            }
            label = 0;
        } else if (alnum || (c == '-' && label > 0)) {
            if (++label > 63) {
                return fail(Errc::invalid_argument, "earl: domain label longer than 63");
            }
        } else {
            return fail(Errc::invalid_argument,
                        "earl: invalid domain character at offset " + std::to_string(i));
        }
        out.push_back(c);
    }
    if (label == 0 || out.back() == '-') {
        return fail(Errc::invalid_argument, "earl: domain ends with an empty or bad label");
    }
    return out;
}

Result<std::string> check_key(std::string_view key) {
    MESH_ASSIGN_OR_RETURN(const mesh::SecureBytes bin, decode(key));
    const std::uint8_t type = bin.expose_secret()[0];
    if (type == static_cast<std::uint8_t>(Type::shamir_share)) {
        return fail(Errc::unsupported, "earl: the key is a share; recover the secret first");
    }
    if (type != static_cast<std::uint8_t>(Type::encryption_key) &&
        type != static_cast<std::uint8_t>(Type::encryption_signature_key)) {
        return fail(Errc::unsupported, "earl: key UDF of type " + std::to_string(type) + " (" +
                                           type_name(type) + "), expected an encryption key");
    }
    if (bin.size() < 1 + 16 - 1) {
        return fail(Errc::malformed, "earl: key shorter than 120 bits");
    }
    MESH_ASSIGN_OR_RETURN(const std::string canon, canonical(key));
    return add_dashes(canon);
}
}  // namespace

Result<Earl> make_earl(std::string_view domain, std::string_view key_udf) {
    MESH_ASSIGN_OR_RETURN(std::string d, check_domain(domain));
    MESH_ASSIGN_OR_RETURN(std::string k, check_key(key_udf));
    return Earl{std::move(d), std::move(k)};
}

Result<Earl> parse_earl(std::string_view uri) {
    constexpr std::string_view kScheme = "udf://";
    if (uri.size() < kScheme.size() ||
        !std::equal(kScheme.begin(), kScheme.end(), uri.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
        return fail(Errc::malformed, "earl: does not start with udf://");
    }
    const std::string_view rest = uri.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return fail(Errc::malformed, "earl: no key after the domain");
    const std::string_view authority = rest.substr(0, slash);
    if (authority.find('@') != std::string_view::npos) {
        return fail(Errc::malformed, "earl: user information is not allowed");
    }
    if (authority.find(':') != std::string_view::npos) {
        return fail(Errc::malformed, "earl: a port is not allowed");
    }
    const std::string_view key = rest.substr(slash + 1);
    if (key.empty() || key.find_first_of("/?#") != std::string_view::npos) {
        return fail(Errc::malformed, "earl: the path must be exactly one key UDF");
    }
    return make_earl(authority, key);
}

std::string to_string(const Earl& earl) { return "udf://" + earl.domain + "/" + earl.key; }

std::string earl_content_identifier(const Earl& earl) {
    auto id = content_digest(DigestAlg::sha2_512, kUdfEncryption, mesh::as_bytes(earl.key),
                             kEarlIdentifierBits);
    MESH_ASSERT(id.has_value());  // 280 bits is within range for a 512-bit digest
    return std::move(id).value();
}

std::string earl_locator(const Earl& earl) {
    return "https://" + earl.domain + "/.well-known/mmm-udf/" + earl_content_identifier(earl);
}

// ---- key-derivation seeds --------------------------------------------------------------------

namespace {
std::size_t okm_bytes(SeedAlgorithm alg) noexcept {
    switch (alg) {
        case SeedAlgorithm::x25519: return 32;
        case SeedAlgorithm::x448: return 56;
        case SeedAlgorithm::ed25519: return 32;
        case SeedAlgorithm::ed448: return 56;  // the reference's L = 448 bits, as published
        case SeedAlgorithm::p256: return 40;
        case SeedAlgorithm::p384: return 56;
        case SeedAlgorithm::p521: return 74;
        case SeedAlgorithm::any: return 0;
    }
    return 0;
}

const BIGNUM* nist_prime(SeedAlgorithm alg) noexcept {
    switch (alg) {
        case SeedAlgorithm::p256: return BN_get0_nist_prime_256();
        case SeedAlgorithm::p384: return BN_get0_nist_prime_384();
        case SeedAlgorithm::p521: return BN_get0_nist_prime_521();
        default: return nullptr;
    }
}
}  // namespace

Result<mesh::SecureBytes> make_seed(mesh::RandomSource& rng, KeyUse use, SeedAlgorithm alg,
                                    unsigned bits) {
    if (bits < 128 || bits > 512 || bits % 8 != 0) {
        return fail(Errc::invalid_argument, "seed: " + std::to_string(bits) +
                                                " bits (a multiple of 8 from 128 to 512)");
    }
    const auto spec = static_cast<std::uint16_t>((static_cast<unsigned>(use) << 14) |
                                                 static_cast<unsigned>(alg));
    mesh::SecureBytes b(3 + bits / 8);
    auto s = b.expose_secret_mut();
    s[0] = static_cast<std::uint8_t>(Type::derived_key);
    s[1] = static_cast<std::uint8_t>(spec >> 8);
    s[2] = static_cast<std::uint8_t>(spec & 0xFF);
    rng.fill(s.subspan(3));
    return b;
}

Result<mesh::SecureBytes> derive_private_key(std::span<const std::uint8_t> seed_binary,
                                             SeedAlgorithm alg, std::span<const std::uint8_t> info) {
    if (seed_binary.size() < 3 + 16 || seed_binary[0] != static_cast<std::uint8_t>(Type::derived_key)) {
        return fail(Errc::unsupported, "seed: not a key-derivation seed of at least 128 bits");
    }
    const unsigned seed_alg = ((seed_binary[1] & 0x3FU) << 8) | seed_binary[2];
    if (alg == SeedAlgorithm::any || okm_bytes(alg) == 0) {
        return fail(Errc::unsupported, "seed: a concrete algorithm is needed to derive a key");
    }
    if (seed_alg != 0 && seed_alg != static_cast<unsigned>(alg)) {
        return fail(Errc::invalid_argument, "seed: made for algorithm " + std::to_string(seed_alg) +
                                                ", asked for " +
                                                std::to_string(static_cast<unsigned>(alg)));
    }
    const std::array<std::uint8_t, 2> salt = {static_cast<std::uint8_t>(static_cast<unsigned>(alg) >> 8),
                                              static_cast<std::uint8_t>(static_cast<unsigned>(alg) & 0xFF)};
    MESH_ASSIGN_OR_RETURN(mesh::SecureBytes okm,
                          mesh::hkdf(mesh::HkdfHash::sha512, salt, seed_binary.subspan(1), info,
                                     okm_bytes(alg)));
    const BIGNUM* p = nist_prime(alg);
    if (p == nullptr) return okm;

    // d = (OKM mod (p - 1)) + 1, written in the field's byte length.
    auto ctx = detail::bn_ctx();
    const detail::Bn v = detail::bn_from(okm.expose_secret());
    detail::Bn pm1 = detail::bn_new();
    MESH_ASSERT(BN_copy(pm1.get(), p) != nullptr);
    MESH_ASSERT(BN_sub_word(pm1.get(), 1) == 1);
    detail::Bn d = detail::bn_new();
    MESH_ASSERT(BN_mod(d.get(), v.get(), pm1.get(), ctx.get()) == 1);
    MESH_ASSERT(BN_add_word(d.get(), 1) == 1);
    mesh::SecureBytes out(static_cast<std::size_t>(BN_num_bytes(p)));
    MESH_ASSERT(detail::bn_to(d.get(), out.expose_secret_mut()));
    return out;
}

}  // namespace udf
