// udf/keys.hpp: UDFs that name or hold keys (FORMATS.md §1.5-1.7).
//
// - Key fingerprints: the SHA-2-512 content digest (content type "PKIXKey") of the Mesh SPKI DER
//   SEQUENCE{SEQUENCE{OID 1.3.101.x, NULL}, BIT STRING{OCTET STRING{public key}}}, and the OID
//   UDF (type 112) of that DER.
// - Random nonces (type 104) and encryption keys (type 32).
// - EARLs, udf://domain/KEY, and their content identifiers.
// - Key-derivation seeds (type 200) and the keys derived from them.
// Thread-safe (pure functions; randomness is injected).
// Errors: invalid_argument (wrong key length, bad bits, bad domain), malformed (bad UDF text or
// EARL syntax), unsupported (wrong UDF type for the use, algorithm not derivable).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <mesh/bytes.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace udf {

// ---- key fingerprints ------------------------------------------------------------------------

/// ristretto255 has no registered OID: we use 2.25.125095293822354663191539848335135284282
/// (the UUID 5e1c7a2b-93d4-4f1e-8a6c-2d7b9e4f1c3a under ITU-T X.667's arc), with the 32-byte
/// canonical encoding as the key bytes (docs/decisions.md).
enum class KeyAlgorithm : std::uint8_t { x25519, x448, ed25519, ed448, ristretto255 };

/// "x25519", "x448", "ed25519", "ed448", "ristretto255".
std::string_view key_algorithm_name(KeyAlgorithm alg) noexcept;
mesh::Result<KeyAlgorithm> parse_key_algorithm(std::string_view name);
/// Public key length of the Mesh encoding: 33 (X25519: u and a sign byte, FORMATS.md §1.6 notes
/// this is presumed), 57 (X448: u and a sign byte), 32 (Ed25519), 57 (Ed448), 32 (ristretto255).
std::size_t public_key_bytes(KeyAlgorithm alg) noexcept;

/// The Mesh SPKI DER of a public key.
mesh::Result<mesh::Bytes> spki_der(KeyAlgorithm alg, std::span<const std::uint8_t> public_key);
/// The key's fingerprint: content digest of its SPKI DER with content type "PKIXKey".
mesh::Result<std::string> key_fingerprint(KeyAlgorithm alg, std::span<const std::uint8_t> public_key,
                                          unsigned bits = 140);
/// The OID UDF (type 112) of the SPKI DER, shown whole.
mesh::Result<std::string> oid_udf(KeyAlgorithm alg, std::span<const std::uint8_t> public_key);
/// The public key of an RFC 8032 private key seed (32 bytes Ed25519, 57 bytes Ed448).
mesh::Result<mesh::Bytes> public_from_seed(KeyAlgorithm alg, std::span<const std::uint8_t> seed);

// ---- random UDFs -----------------------------------------------------------------------------

/// A nonce UDF (type 104) with `bits` of randomness (a multiple of 8, 128..512; default 128).
mesh::Result<std::string> make_nonce(mesh::RandomSource& rng, unsigned bits = 128);
/// An encryption-key UDF binary (type 32) with `bits` of key (a multiple of 8, 128..512).
mesh::Result<mesh::SecureBytes> make_encryption_key(mesh::RandomSource& rng, unsigned bits = 128);

// ---- EARL ------------------------------------------------------------------------------------

inline constexpr unsigned kEarlIdentifierBits = 280;

struct Earl {
    std::string domain;  ///< lower case
    std::string key;     ///< the key UDF, upper case with dashes
};

/// Parses udf://domain/KEY: no userinfo, no port, no path beyond the key, a DNS domain, and a
/// key UDF of type 32 or 33. A share (type 144) must be recombined first: unsupported.
mesh::Result<Earl> parse_earl(std::string_view uri);
/// Builds an EARL from a domain and key text (validated as in parse_earl).
mesh::Result<Earl> make_earl(std::string_view domain, std::string_view key_udf);
std::string to_string(const Earl& earl);
/// SHA-2-512 content digest of the key's canonical text (upper case, dashes), content type
/// "UDFEncryption", at kEarlIdentifierBits.
std::string earl_content_identifier(const Earl& earl);
/// https://domain/.well-known/mmm-udf/<content identifier>
std::string earl_locator(const Earl& earl);

// ---- key-derivation seeds (type 200) -------------------------------------------------------------

enum class KeyUse : std::uint8_t { any = 0, encryption = 1, signature = 2, authentication = 3 };
enum class SeedAlgorithm : std::uint16_t {
    any = 0, x25519 = 1, x448 = 2, ed25519 = 3, ed448 = 4, p256 = 5, p384 = 6, p521 = 7,
};

/// A seed UDF binary: 0xC8, the 2-byte specifier (use in bits 14-15, algorithm below), and
/// `bits` of randomness (a multiple of 8, at least 128).
mesh::Result<mesh::SecureBytes> make_seed(mesh::RandomSource& rng, KeyUse use, SeedAlgorithm alg,
                                          unsigned bits = 128);
/// The private key derived from a seed binary for `alg` (which must match the seed's algorithm
/// unless that is "any"): IKM = specifier || seed, salt = specifier of `alg`, HKDF-SHA512 with
/// `info`. X25519/X448/Ed25519/Ed448: the OKM itself (32/56/32/56 bytes: the reference
/// derives 448 bits for Ed448, one byte short of an RFC 8032 Ed448 seed; its vectors agree). P-256/384/521:
/// d = (OKM mod (p-1)) + 1 as the reference computes it, big-endian in the field's size.
mesh::Result<mesh::SecureBytes> derive_private_key(std::span<const std::uint8_t> seed_binary,
                                                   SeedAlgorithm alg,
                                                   std::span<const std::uint8_t> info = {});

}  // namespace udf
