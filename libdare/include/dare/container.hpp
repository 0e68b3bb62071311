// dare/container.hpp: DARE containers as an append-only, tamper-evident store (FORMATS.md §3,
// docs/container.md).
//
// A container file is a sequence of frames (dare/sequence.hpp). Frame 0 says what it is
// ({"SequenceInfo": {"DataEncoding": "JSON", "ContainerType": ..., "Index": 0}}, and for an
// encrypted container {"Policy": {"enc": ...}}); frame n > 0 carries
// {"ContentMetaData": ..., "SequenceInfo": {"Index": n, ...}}, the payload, and a trailer:
// - List: none. Digest: HeaderDigest (SHA-512 of the header record: our addition, so a damaged
//   header is caught too) and PayloadDigest.
// - Chain: + ChainDigest_n = SHA-512(ChainDigest_(n-1) || PayloadDigest_n) (the intended rule;
//   the reference's published chain combines zeros every time).
// - Tree: Digest + the header's TreePosition (the byte offset of frame previous_frame(n)).
// - Merkle: Tree + TreeDigest_n, the root of the Merkle tree whose leaves are
//   SHA-512(HeaderDigest_i || PayloadDigest_i) for frames 1..n (RFC 6962 shape; see
//   docs/container.md for how it differs from the reference's published values).
// Chain and Merkle frames may carry a signed apex: an Ed25519 signature over the frame's
// ChainDigest/TreeDigest (every `sign_interval` frames), so a verifier holding the signer's
// public key detects any change to any frame up to the last signed one.
//
// Encrypted containers (created with recipients): each frame's ContentMetaData and payload are
// sealed under keys derived from a content key and the frame's own Salt. The content key is
// wrapped for the recipients once, in the header of the first frame a writer appends
// ("recipients"); later frames point to it with SequenceInfo.ExchangePosition. The sealed
// payload authenticates the whole header record. Digests cover the ciphertext, so verify()
// needs no key; reading and the object index need `keys`.
//
// Index frames (SequenceInfo.IsMeta, written by write_index(), compact() and every
// `index_interval` frames) record every frame's length and every object's latest state; open()
// finds the last one walking backwards from the end and reads only the frames after it.
//
// Durability: append writes a whole frame with one write(2) and, with SyncPolicy::every_append
// or ::group, returns only after an fdatasync that covers it, so an acknowledged frame survives
// a crash; with ::group, concurrent appends share syncs, and a frame becomes visible to readers
// once it is durable. open() walks the file: a torn or garbage tail (the end does not parse back
// to a whole frame) is cut back to the last whole frame and reported; damage in the middle
// (later frames still parse) or any digest, chain, tree or AEAD mismatch is an error naming the
// frame: nothing damaged is returned as data. open() trusts an index frame for the frames before
// it (each is still checked when read); verify() checks every frame.
// Random access by frame number and by object id (ContentMeta.UniqueId, the latest frame).
// Thread-safety: one writer; reads may run concurrently with each other and with appends.
// Errors: already_exists (create over a file), not_found (no file, no frame, no object, no key
// for an encrypted container), malformed (frame or header syntax, damage in the middle),
// auth_failed (a digest, chain, tree, signature or AEAD mismatch), unsupported (container
// type), limit_exceeded (payload size), io (the OS).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <dare/envelope.hpp>
#include <mesh/bytes.hpp>
#include <mesh/result.hpp>

namespace dare {

enum class ContainerType : std::uint8_t { list, digest, chain, tree, merkle };
/// "List", "Digest", "Chain", "Tree", "Merkle".
std::string_view container_type_name(ContainerType t) noexcept;
/// The type named (case-insensitive); invalid_argument otherwise.
mesh::Result<ContainerType> container_type_from_name(std::string_view name);

enum class SyncPolicy : std::uint8_t {
    none,          ///< leave it to the OS (tests, bulk loads)
    every_append,  ///< fdatasync each append before it returns
    group,         ///< appends arriving together share one fdatasync; each returns after it
};

struct ContainerOptions {
    SyncPolicy sync = SyncPolicy::every_append;
    std::size_t max_frame_bytes = std::size_t{64} << 20;
    /// create(): encrypt every frame to these keys. Also used for a new key exchange when the
    /// writer cannot reuse the last one (opened without `keys`) and by compact().
    std::vector<PublicKey> recipients;
    Aead aead = Aead::xchacha20_poly1305;
    /// Opens the key exchanges of an encrypted container (reading, the object index, and
    /// reusing the last exchange when appending). Not owned; must outlive the container.
    KeyAgreement* keys = nullptr;
    /// Chain and Merkle: sign the apex of every `sign_interval`-th frame (0: never). Not owned.
    const SignaturePrivateKey* signer = nullptr;
    std::uint64_t sign_interval = 0;
    /// Append an index frame after every `index_interval` frames (0: only write_index() and
    /// compact()).
    std::uint64_t index_interval = 0;
    /// Salts and content keys; nullptr: the system's.
    mesh::RandomSource* rng = nullptr;
};

struct OpenReport {
    std::uint64_t frames = 0;           ///< whole frames, frame 0 included
    std::uint64_t truncated_bytes = 0;  ///< a torn tail cut off
    std::uint64_t index_frame = 0;      ///< the index frame open() started from (0: none)
};

struct ContainerFrame {
    std::uint64_t index = 0;
    ContentMeta meta;
    mesh::Bytes payload;
    bool is_meta = false;  ///< an index frame, not data
};

struct VerifyReport {
    std::uint64_t frames = 0;       ///< frames checked, frame 0 included
    std::uint64_t signatures = 0;   ///< signed apexes verified
    std::uint64_t signed_upto = 0;  ///< the last frame a verified signature covers (0: none)
    std::optional<mesh::Digest512> apex;  ///< ChainDigest or TreeDigest of the last frame
};

class Container final {
public:
    static mesh::Result<Container> create(const std::string& path, ContainerType type, ContainerOptions options = {});
    static mesh::Result<Container> open(const std::string& path, ContainerOptions options = {},
                                        OpenReport* report = nullptr);
    Container(Container&&) noexcept;
    Container& operator=(Container&&) noexcept;
    ~Container();

    [[nodiscard]] ContainerType type() const noexcept;
    /// Frames in the file, frame 0 included.
    [[nodiscard]] std::uint64_t frames() const;
    /// Appends a frame; returns its index once it is written (and synced, by the policy).
    mesh::Result<std::uint64_t> append(std::span<const std::uint8_t> payload, const ContentMeta& meta);
    /// A frame for append_all: its payload and metadata (both outlive the call).
    struct NewFrame {
        std::span<const std::uint8_t> payload;
        const ContentMeta* meta;
    };
    /// Appends the frames in one write(2): all of them or, on an error, none (the file is cut
    /// back). Returns the first one's index; synced by the policy.
    mesh::Result<std::uint64_t> append_all(std::span<const NewFrame> frames);
    /// append_all() with one frame per payload, all with `meta`.
    mesh::Result<std::uint64_t> append_all(std::span<const std::span<const std::uint8_t>> payloads, const ContentMeta& meta);
    /// Frame `index` (1 .. frames()-1), its digest checked again.
    mesh::Result<ContainerFrame> read(std::uint64_t index) const;
    /// The latest frame whose ContentMeta.UniqueId is `id`.
    mesh::Result<std::uint64_t> find(std::string_view unique_id) const;

    struct ObjectState {
        std::uint64_t frame;  ///< the latest frame of the object
        bool deleted;         ///< its Event is Delete
    };
    /// The latest state of one object, if it was ever stored.
    [[nodiscard]] std::optional<ObjectState> state(std::string_view unique_id) const;
    /// Every object id with its latest state (a snapshot).
    [[nodiscard]] std::vector<std::pair<std::string, ObjectState>> objects() const;
    /// Reads and checks every frame again: digests, chain, tree positions and digests, and
    /// (with `signers`) every signed apex; a signature by a key `signers` does not know is an
    /// error (not_found). Without `signers`, signatures are not checked.
    mesh::Result<VerifyReport> verify(const SignerLookup& signers = {}) const;
    /// The ChainDigest (Chain) or TreeDigest (Merkle) of the last frame; nullopt for the other
    /// types or an empty container.
    [[nodiscard]] std::optional<mesh::Digest512> apex() const;
    [[nodiscard]] bool encrypted() const noexcept;

    /// fdatasync now: with SyncPolicy::none, makes everything appended so far durable (a store
    /// that writes several frames for one operation syncs once at its end).
    mesh::Result<void> sync();

    /// Appends an index frame (every frame's length, every object's latest state) so that the
    /// next open() reads only the frames after it. Returns its frame number.
    mesh::Result<std::uint64_t> write_index();

    /// Rewrites the file with only the latest state of each live object (catalog semantics),
    /// then with everything appended meanwhile: write a new file beside it, fsync, rename over
    /// the old one, fsync the directory. Appends may continue during compaction; they wait only
    /// for the final copy and the switch. Frame numbers change; object ids do not. The new file
    /// ends its compacted part with an index frame; an encrypted container gets a fresh content
    /// key (which needs `recipients` in the options).
    mesh::Result<void> compact();

    struct State;  // private to container.cpp

private:
    explicit Container(std::unique_ptr<State> s);
    std::unique_ptr<State> s_;
};

}  // namespace dare

namespace dare {

/// The latest state of each object (FORMATS.md §2.1 Event New/Update/Delete), over a container.
/// Thread-safety: as Container (one writer).
class Catalog final {
public:
    explicit Catalog(Container& c) : c_(c) {}
    /// Stores `data` as the object's new state (Event New the first time, then Update).
    mesh::Result<std::uint64_t> put(std::string_view id, std::span<const std::uint8_t> data,
                                    std::string_view content_type = "application/json");
    struct Put {
        std::string_view id;
        std::span<const std::uint8_t> data;
        std::string_view content_type = "application/json";
    };
    /// put() for several objects in one write: all of them are stored or, on an error, none.
    /// Returns the first frame's index.
    mesh::Result<std::uint64_t> put_all(std::span<const Put> objects);
    /// Marks the object deleted (Event Delete); not_found if it is not there.
    mesh::Result<std::uint64_t> remove(std::string_view id);
    /// The object's latest state; not_found if never stored or deleted.
    mesh::Result<mesh::Bytes> get(std::string_view id) const;
    /// The ids of the live objects, sorted.
    [[nodiscard]] std::vector<std::string> ids() const;

private:
    Container& c_;
};

/// Messages in the order they arrived, each with its latest status (seed 003 spools).
/// A message is a frame with Event New; a status change is a frame with Event Update whose
/// payload is the status text. Thread-safety: as Container.
class Spool final {
public:
    explicit Spool(Container& c) : c_(c) {}
    mesh::Result<std::uint64_t> post(std::string_view id, std::span<const std::uint8_t> message,
                                     std::string_view content_type = "application/json");
    /// Records a status ("Read", "Deleted", ...) for a posted message; not_found otherwise.
    mesh::Result<std::uint64_t> mark(std::string_view id, std::string_view status);
    struct Message {
        std::string id;
        std::uint64_t frame;  ///< where the message itself is
        std::string status;   ///< "Unread" until marked
    };
    /// Every message in arrival order with its latest status.
    mesh::Result<std::vector<Message>> messages() const;

private:
    Container& c_;
};

}  // namespace dare
