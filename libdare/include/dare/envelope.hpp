// dare/envelope.hpp: DARE envelopes [Header, Payload, Trailer?] (docs/envelope.md).
//
// Plaintext, signed, encrypted and signed-and-encrypted envelopes with any number of
// recipients (ristretto255 ECDH, the payload key wrapped under an HKDF-SHA-512 KEK) and signers
// (Ed25519 over a digest that covers the payload digest and the header's algorithm, salt,
// annotations and metadata). The payload is sealed in chunks (XChaCha20-Poly1305 by default,
// AES-256-GCM selectable) with the chunk index and a final-chunk flag in the nonce, so
// reordering, truncation and extension are detected. Annotations (EDS) and ContentMetaData are
// sealed separately from the payload.
//
// Two forms: JSON {"DareEnvelope":[...]} (in memory) and the binary file form (streaming,
// constant memory): the prefix 89 'DARE' 0D 0A 1A, the header as JSON-B, the payload as JSON-B
// binary chunks, the trailer as JSON-B.
//
// Decryption takes a KeyAgreement: a private key, or anything that can produce the shared
// point for a recipient entry (librecrypt combines partial results there).
// Readers never release plaintext of a chunk whose tag did not verify. A signed plaintext
// envelope's data is streamed before its trailer's signature is checked: callers that must not
// act on unverified data keep the output until finish() (the tool writes a temporary file).
//
// Thread-safety: writers and readers are single-threaded objects; functions are thread-safe.
// Errors: malformed (syntax, lengths, bad keys, truncation, data after the end), unsupported
// (unknown or "none" algorithm, wrong prefix version), not_found (no key for any recipient, an
// unknown signer), auth_failed (any tag, unwrap or signature failure: "authentication failed"),
// limit_exceeded (header size, chunk size, counts), io (the source or sink failed).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <dare/json.hpp>
#include <dare/keys.hpp>
#include <mesh/bytes.hpp>
#include <mesh/hash.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace dare {

enum class Aead : std::uint8_t { xchacha20_poly1305, aes256_gcm };

/// "XC20P" or "A256GCM", the header's `enc`.
std::string_view aead_name(Aead a) noexcept;
/// True if this CPU runs AES-256-GCM in hardware (libsodium's requirement for it).
bool aes256gcm_available() noexcept;

inline constexpr std::uint32_t kDefaultChunkBytes = 64 * 1024;
inline constexpr std::uint32_t kMinChunkBytes = 1024;
inline constexpr std::uint32_t kMaxChunkBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kMaxHeaderBytes = 1 << 20;
inline constexpr std::size_t kMaxRecipients = 1024;
inline constexpr std::size_t kMaxSigners = 64;
inline constexpr std::size_t kMaxAnnotations = 256;
inline constexpr std::array<std::uint8_t, 8> kFilePrefix = {0x89, 'D', 'A', 'R', 'E', 0x0D, 0x0A, 0x1A};

/// ContentMeta (FORMATS.md §2.1): what the payload is; sealed like an annotation when encrypted.
struct ContentMeta {
    std::optional<std::string> content_type;  ///< "cty"
    std::optional<std::string> filename;      ///< "Filename"
    std::optional<std::string> created;       ///< "Created", RFC 3339
    std::optional<std::string> modified;      ///< "Modified", RFC 3339
    std::optional<std::string> unique_id;     ///< "UniqueId"
    std::optional<std::string> message_type;  ///< "MessageType"
    std::optional<std::string> event;         ///< "Event": New, Update or Delete (catalogs)
    friend bool operator==(const ContentMeta&, const ContentMeta&) = default;

    /// A ContentMeta with only the content type set.
    static ContentMeta of_type(std::string cty) {
        ContentMeta m;
        m.content_type = std::move(cty);
        return m;
    }
};
Json to_json(const ContentMeta& m);
mesh::Result<ContentMeta> content_meta_from_json(const Json& j, const std::string& path);

struct RecipientEntry {
    std::string kid;      ///< the recipient key's fingerprint UDF
    PublicKey epk;        ///< the ephemeral key T
    mesh::Bytes wmk;      ///< the payload key wrapped under the KEK (48 bytes)
    /// "Conjunction": for a key that is the sum of group keys (label conjunction, DESIGN §4.1),
    /// the kids of those keys; empty for an ordinary key.
    std::vector<std::string> conjunction;
    /// "Services" (ours): where the recipient key's recryption service is, a hint for readers
    /// (one URL, or one per conjunction key). Not authenticated before decryption: a reader may
    /// override it, and a wrong one only makes decryption fail.
    std::vector<std::string> services;
};

struct SignatureEntry {
    std::string alg;      ///< "Ed25519"
    std::string kid;      ///< the signer's fingerprint UDF
    mesh::Bytes value;    ///< 64 bytes
};

struct Header {
    std::optional<std::string> envelope_id;   ///< "EnvelopeId"
    std::optional<Aead> enc;                  ///< "enc"; absent: plaintext
    std::uint32_t chunk_bytes = 0;            ///< "ChunkSize" (encrypted envelopes)
    bool digest = false;                      ///< "dig": "S512", the trailer has PayloadDigest
    mesh::Bytes salt;                         ///< "Salt", 16 bytes (encrypted envelopes)
    std::vector<RecipientEntry> recipients;   ///< "recipients"
    std::vector<mesh::Bytes> annotations;     ///< "annotations" (EDS), sealed when encrypted
    std::optional<mesh::Bytes> content_meta;  ///< "ContentMetaData", sealed when encrypted
};

struct Trailer {
    std::optional<mesh::Digest512> payload_digest;  ///< "PayloadDigest"
    std::vector<SignatureEntry> signatures;         ///< "signatures"
};

Json to_json(const Header& h);
mesh::Result<Header> header_from_json(const Json& j, const std::string& path);
Json to_json(const Trailer& t);
mesh::Result<Trailer> trailer_from_json(const Json& j, const std::string& path);

/// Where an opener gets the shared point of a recipient entry.
struct Agreement {
    SharedPoint shared;   ///< S = x·T for the recipient key X = x·G
    PublicKey recipient;  ///< X, bound into the KEK
};
class KeyAgreement {
public:
    virtual ~KeyAgreement() = default;
    /// not_found if this agent holds no key for the entry's kid; any other error stops the
    /// opening.
    virtual mesh::Result<Agreement> agree(const RecipientEntry& recipient) = 0;
};

/// Key agreement with private keys in hand (matched by kid).
class PrivateKeyAgreement final : public KeyAgreement {
public:
    void add(const PrivateKey& key);
    mesh::Result<Agreement> agree(const RecipientEntry& recipient) override;
    /// The private key for `kid`, if held.
    [[nodiscard]] const PrivateKey* find(std::string_view kid) const noexcept;

private:
    struct Entry {
        std::string kid;
        PrivateKey key;
        PublicKey pub;
    };
    std::vector<Entry> keys_;
};

/// Finds a signer's public key by kid; nullopt if unknown.
using SignerLookup = std::function<std::optional<SignaturePublicKey>(std::string_view kid)>;

struct EncodeOptions {
    std::vector<PublicKey> recipients;                 ///< empty: not encrypted
    /// For recipient i (when present and not empty): the kids of the group keys it is the sum
    /// of, written as the entry's "Conjunction".
    std::vector<std::vector<std::string>> conjunctions;
    /// For recipient i (when present and not empty): its "Services" hint.
    std::vector<std::vector<std::string>> services;
    std::vector<const SignaturePrivateKey*> signers;   ///< empty: not signed
    Aead aead = Aead::xchacha20_poly1305;
    std::uint32_t chunk_bytes = kDefaultChunkBytes;
    std::optional<ContentMeta> meta;
    std::vector<mesh::Bytes> annotations;
    std::optional<std::string> envelope_id;
    bool digest = false;  ///< PayloadDigest without signing
};

class Sink {
public:
    virtual ~Sink() = default;
    virtual mesh::Result<void> write(std::span<const std::uint8_t> data) = 0;
};
class Source {
public:
    virtual ~Source() = default;
    /// Up to out.size() bytes; 0 only at the end.
    virtual mesh::Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
    /// Zero-copy reading, for sources already in memory: consumes and returns a view of the
    /// next `n` bytes (fewer at the end, empty at the end), valid as long as the source lives.
    /// nullopt if this source cannot (then read() is used).
    virtual std::optional<std::span<const std::uint8_t>> read_view(std::size_t n) {
        (void)n;
        return std::nullopt;
    }
};

/// Appends to a byte vector.
class BytesSink final : public Sink {
public:
    mesh::Result<void> write(std::span<const std::uint8_t> data) override;
    mesh::Bytes bytes;
};
/// Reads from memory.
class SpanSource final : public Source {
public:
    explicit SpanSource(std::span<const std::uint8_t> data) : data_(data) {}
    mesh::Result<std::size_t> read(std::span<std::uint8_t> out) override;
    std::optional<std::span<const std::uint8_t>> read_view(std::size_t n) override;

private:
    std::span<const std::uint8_t> data_;
};
/// A file descriptor (not closed), retrying on EINTR.
class FdSink final : public Sink {
public:
    explicit FdSink(int fd) : fd_(fd) {}
    mesh::Result<void> write(std::span<const std::uint8_t> data) override;

private:
    int fd_;
};
class FdSource final : public Source {
public:
    explicit FdSource(int fd) : fd_(fd) {}
    mesh::Result<std::size_t> read(std::span<std::uint8_t> out) override;

private:
    int fd_;
};

class PayloadSealer;
class PayloadOpener;

/// Streams the binary form of an envelope into a sink.
class EnvelopeWriter final {
public:
    /// Validates the options and writes the prefix and header.
    static mesh::Result<EnvelopeWriter> begin(const EncodeOptions& options, mesh::RandomSource& rng,
                                              Sink& sink);
    EnvelopeWriter(EnvelopeWriter&&) noexcept;
    EnvelopeWriter& operator=(EnvelopeWriter&&) noexcept;
    ~EnvelopeWriter();

    mesh::Result<void> write(std::span<const std::uint8_t> data);
    /// The whole payload from `source`, read and sealed on `threads` threads (the caller's
    /// and threads-1 more): each reads a block of chunks, seals it while it is in cache, and
    /// the blocks are written in order. Memory: two blocks a thread. Not after write().
    /// `progress` (optional) is told the plaintext bytes of each block as it is written.
    mesh::Result<void> write_all(Source& source, unsigned threads = 2,
                                 const std::function<void(std::size_t)>& progress = {});
    /// Seals the final chunk and writes the trailer. Nothing may be written after.
    mesh::Result<void> finish();

    struct State;  // private to envelope.cpp

private:
    explicit EnvelopeWriter(std::unique_ptr<State> s);
    mesh::Result<void> emit_chunk(bool last);
    std::unique_ptr<State> s_;
};

/// What an opened envelope says besides its payload.
struct Opened {
    Header header;
    Trailer trailer;
    std::optional<ContentMeta> meta;         ///< decrypted when sealed
    std::vector<mesh::Bytes> annotations;    ///< decrypted when sealed
    std::vector<std::string> verified_signers;  ///< kids whose signatures verified
    std::vector<std::string> unknown_signers;   ///< kids the lookup did not know
};

struct OpenOptions {
    KeyAgreement* keys = nullptr;  ///< needed for encrypted envelopes
    SignerLookup signers;          ///< signature keys; unknown signers are listed, not errors
    bool require_signature = false;  ///< at least one verified signature, else not_found
};

/// Streams the plaintext out of the binary form.
class EnvelopeReader final {
public:
    /// Reads the prefix and header, finds a key and opens the metadata and annotations.
    static mesh::Result<EnvelopeReader> open(Source& source, const OpenOptions& options);
    EnvelopeReader(EnvelopeReader&&) noexcept;
    EnvelopeReader& operator=(EnvelopeReader&&) noexcept;
    ~EnvelopeReader();

    [[nodiscard]] const Opened& info() const noexcept;
    /// Authenticated plaintext; an empty result means the payload ended.
    mesh::Result<mesh::Bytes> next_chunk();
    /// The rest of the payload into `sink`, opened on `threads` threads; blocks are written in
    /// order and only after every chunk in them verified. Then call finish().
    mesh::Result<void> read_all(Sink& sink, unsigned threads = 2,
                                const std::function<void(std::size_t)>& progress = {});
    /// After the last chunk: reads the trailer, checks the payload digest and signatures and
    /// that nothing follows.
    mesh::Result<void> finish();

private:
    struct State;
    explicit EnvelopeReader(std::unique_ptr<State> s);
    std::unique_ptr<State> s_;
};

/// Reads only the prefix and header of the binary form (no keys needed).
mesh::Result<Header> read_header(Source& source);

/// The whole binary form in memory.
mesh::Result<mesh::Bytes> encode_binary(const EncodeOptions& options, mesh::RandomSource& rng,
                                        std::span<const std::uint8_t> payload);
/// The JSON form {"DareEnvelope":[header, payload, trailer]}.
mesh::Result<std::string> encode_json(const EncodeOptions& options, mesh::RandomSource& rng,
                                      std::span<const std::uint8_t> payload);
/// The envelope as a JSON value [header, payload, trailer] (inside protocol messages).
mesh::Result<Json> encode_value(const EncodeOptions& options, mesh::RandomSource& rng,
                                std::span<const std::uint8_t> payload);

struct Decoded {
    Opened info;
    mesh::SecureBytes payload;
};
mesh::Result<Decoded> decode_binary(std::span<const std::uint8_t> file, const OpenOptions& options);
mesh::Result<Decoded> decode_json(std::string_view text, const OpenOptions& options);
/// A bare [header, payload, trailer?] value, or {"DareEnvelope": [...]}.
mesh::Result<Decoded> decode_value(const Json& envelope, const OpenOptions& options);

}  // namespace dare
