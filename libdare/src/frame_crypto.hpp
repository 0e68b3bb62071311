// frame_crypto.hpp (private to libdare): the envelope key schedule, reused by encrypted
// container frames (FORMATS.md §3.2 ExchangePosition).
//
// A container's key exchange wraps one content key for its recipients exactly as an envelope
// does (ristretto255 ECDH, HKDF-SHA-512 KEK, XChaCha20-Poly1305 wrap). Each frame then has its
// own 16-byte salt, and its keys are HKDF-SHA-512(salt, content key) expanded with
// "DARE/frame/metadata/<enc>" and "DARE/frame/payload/<enc>": keys are unique per frame, so the
// AEAD nonce is fixed (0, final).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include <dare/envelope.hpp>
#include <dare/json.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace dare::detail {

using ContentKey = mesh::SecretArray<32>;

ContentKey make_content_key(mesh::RandomSource& rng);
/// One recipient entry per key, each wrapping `cek`.
std::vector<RecipientEntry> wrap_content_key(const ContentKey& cek, std::span<const PublicKey> recipients,
                                             mesh::RandomSource& rng);
/// The content key from the first entry `keys` can agree on; not_found if none.
mesh::Result<ContentKey> unwrap_content_key(std::span<const RecipientEntry> entries, KeyAgreement& keys);

/// The "recipients" JSON array, and its reader (as in envelope headers).
Json recipients_to_json(const std::vector<RecipientEntry>& entries);
mesh::Result<std::vector<RecipientEntry>> recipients_from_json(ObjectReader& r, std::string_view name);

enum class FramePart : std::uint8_t { metadata, payload };
/// AEAD(plaintext) || tag under the frame key of `part`, with `aad` authenticated.
mesh::Bytes seal_frame(Aead a, const ContentKey& cek, std::span<const std::uint8_t> salt, FramePart part,
                       std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext);
/// The plaintext; auth_failed on any mismatch.
mesh::Result<mesh::SecureBytes> open_frame(Aead a, const ContentKey& cek, std::span<const std::uint8_t> salt,
                                           FramePart part, std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> sealed);

/// "XC20P"/"A256GCM" to the algorithm (unsupported otherwise, or without AES hardware).
mesh::Result<Aead> aead_from_name(std::string_view name, const std::string& where);

}  // namespace dare::detail
