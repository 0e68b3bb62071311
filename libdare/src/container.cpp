#include <dare/container.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dare/sequence.hpp>

#include "frame_crypto.hpp"

namespace dare {
using mesh::Digest512;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<void> write_all(int fd, std::span<const std::uint8_t> data, const std::string& path) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(Errc::io, errno_text(path));
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return mesh::ok();
}

Result<void> pread_all(int fd, std::uint64_t at, std::span<std::uint8_t> out, const std::string& path) {
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(at + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(Errc::io, errno_text(path));
        if (n == 0) return fail(Errc::malformed, path + ": ends inside a frame");
        got += static_cast<std::size_t>(n);
    }
    return mesh::ok();
}

Result<void> sync_dir(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return fail(Errc::io, errno_text(dir));
    const int rc = ::fsync(d);
    ::close(d);
    if (rc != 0) return fail(Errc::io, errno_text(dir));
    return mesh::ok();
}

std::string text_of(std::span<const std::uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

struct FrameInfo {
    std::uint64_t start;
    std::uint64_t end;
};

bool digests(ContainerType t) noexcept { return t != ContainerType::list; }
bool has_tree(ContainerType t) noexcept { return t == ContainerType::tree || t == ContainerType::merkle; }
bool signable(ContainerType t) noexcept { return t == ContainerType::chain || t == ContainerType::merkle; }

std::array<std::uint8_t, 8> be64(std::uint64_t v) {
    std::array<std::uint8_t, 8> b{};
    for (int i = 0; i < 8; ++i) b[7 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
}

// ---- LEB128 for the packed tables of index frames ------------------------------------------
void put_varint(mesh::Bytes& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}

Result<std::uint64_t> get_varint(std::span<const std::uint8_t> in, std::size_t& pos, const std::string& where) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (pos >= in.size()) return fail(Errc::malformed, where + ": truncated number");
        const std::uint8_t b = in[pos++];
        v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0) return v;
    }
    return fail(Errc::malformed, where + ": number too long");
}

// ---- integrity state: chain digest and Merkle peaks -----------------------------------------

struct FrameDigests {
    Digest512 header{};
    Digest512 payload{};
    std::optional<Digest512> chain;
    std::optional<Digest512> tree;
};

struct Integrity {
    ContainerType type = ContainerType::list;
    std::optional<Digest512> chain;  // ChainDigest of the last frame
    std::vector<Digest512> peaks;    // Merkle: roots of the perfect subtrees, largest first
    std::uint64_t leaves = 0;        // frames absorbed

    [[nodiscard]] Digest512 root() const {
        Digest512 r = peaks.back();
        for (std::size_t i = peaks.size() - 1; i-- > 0;) r = sequence::combine_digest(peaks[i], r);
        return r;
    }
    [[nodiscard]] std::optional<Digest512> apex() const {
        if (type == ContainerType::chain) return chain;
        if (type == ContainerType::merkle && !peaks.empty()) return root();
        return std::nullopt;
    }
    // Takes in frame leaves+1 and returns its digests.
    FrameDigests advance(std::span<const std::uint8_t> header, std::span<const std::uint8_t> payload) {
        FrameDigests d;
        d.header = mesh::sha512({header});
        d.payload = mesh::sha512({payload});
        ++leaves;
        if (type == ContainerType::chain) {
            chain = sequence::combine_digest(chain, d.payload);
            d.chain = chain;
        }
        if (type == ContainerType::merkle) {
            peaks.push_back(sequence::combine_digest(d.header, d.payload));
            for (int merges = std::countr_zero(leaves); merges > 0; --merges) {
                const Digest512 right = peaks.back();
                peaks.pop_back();
                peaks.back() = sequence::combine_digest(peaks.back(), right);
            }
            d.tree = root();
        }
        return d;
    }
};

// What a signed apex signs: SHA-512("DARE/sequence/apex" || frame number || apex digest).
Digest512 apex_signature_input(std::uint64_t n, const Digest512& apex) {
    static constexpr std::string_view kLabel = "DARE/sequence/apex";
    const auto idx = be64(n);
    return mesh::sha512({mesh::as_bytes(kLabel), idx, apex});
}

// ---- frame headers and trailers --------------------------------------------------------------

struct ParsedFrame {
    std::uint64_t index = 0;
    bool is_meta = false;
    std::optional<std::uint64_t> tree_position;
    std::optional<std::uint64_t> exchange_position;
    std::optional<Aead> enc;
    mesh::Bytes salt;
    std::vector<RecipientEntry> recipients;
    std::optional<mesh::Bytes> meta;  // ContentMetaData as stored (sealed when encrypted)
    std::optional<Digest512> header_digest;
    std::optional<Digest512> payload_digest;
    std::optional<Digest512> chain_digest;
    std::optional<Digest512> tree_digest;
    std::optional<SignatureEntry> signature;
};

Result<Digest512> digest_member(ObjectReader& r, std::string_view name) {
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes b, r.fixed_bytes(name, mesh::kSha512Bytes));
    Digest512 d{};
    std::copy(b.begin(), b.end(), d.begin());
    return d;
}

Result<Json> frame_json(std::span<const std::uint8_t> text, const std::string& where) {
    auto j = sequence::parse_reference_json(text_of(text));
    if (!j) return fail(j.error().code, where + ": " + j.error().message);
    return j;
}

// Syntax of frame n's header and trailer, with what the container type requires of the trailer.
Result<ParsedFrame> parse_frame(const sequence::FrameView& f, ContainerType type, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(const Json h, frame_json(f.header, where + " header"));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(h, where + ".header"));
    ParsedFrame p{};
    MESH_ASSIGN_OR_RETURN(const auto enc, r.optional_string("enc", 64));
    if (enc) {
        MESH_ASSIGN_OR_RETURN(p.enc, detail::aead_from_name(*enc, r.member_path("enc")));
        MESH_ASSIGN_OR_RETURN(p.salt, r.fixed_bytes("Salt", kSaltBytes));
        MESH_ASSIGN_OR_RETURN(p.recipients, detail::recipients_from_json(r, "recipients"));
    }
    MESH_ASSIGN_OR_RETURN(p.meta, r.optional_bytes("ContentMetaData", 64 * 1024));
    MESH_ASSIGN_OR_RETURN(const Json* info, r.value("SequenceInfo"));
    MESH_TRY(r.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader si, ObjectReader::open(*info, where + ".SequenceInfo"));
    MESH_ASSIGN_OR_RETURN(p.index, si.uint("Index"));
    MESH_ASSIGN_OR_RETURN(const auto meta, si.optional_boolean("IsMeta"));
    p.is_meta = meta.value_or(false);
    MESH_ASSIGN_OR_RETURN(p.tree_position, si.optional_uint("TreePosition"));
    MESH_ASSIGN_OR_RETURN(p.exchange_position, si.optional_uint("ExchangePosition"));
    MESH_TRY(si.finish());
    if (!digests(type)) {
        if (f.trailer && !f.trailer->empty()) return fail(Errc::malformed, where + ": a List frame with a trailer");
        return p;
    }
    if (!f.trailer || f.trailer->empty()) return fail(Errc::malformed, where + ": trailer missing");
    MESH_ASSIGN_OR_RETURN(const Json t, frame_json(*f.trailer, where + " trailer"));
    MESH_ASSIGN_OR_RETURN(ObjectReader tr, ObjectReader::open(t, where + ".trailer"));
    MESH_ASSIGN_OR_RETURN(p.header_digest, digest_member(tr, "HeaderDigest"));
    MESH_ASSIGN_OR_RETURN(p.payload_digest, digest_member(tr, "PayloadDigest"));
    if (type == ContainerType::chain) {
        MESH_ASSIGN_OR_RETURN(p.chain_digest, digest_member(tr, "ChainDigest"));
    }
    if (type == ContainerType::merkle) {
        MESH_ASSIGN_OR_RETURN(p.tree_digest, digest_member(tr, "TreeDigest"));
    }
    if (signable(type)) {
        MESH_ASSIGN_OR_RETURN(const Json* sig, tr.optional_value("Signature"));
        if (sig != nullptr) {
            MESH_ASSIGN_OR_RETURN(ObjectReader sr, ObjectReader::open(*sig, where + ".trailer.Signature"));
            MESH_ASSIGN_OR_RETURN(const std::string alg, sr.string("alg", 32));
            if (alg != "Ed25519") return fail(Errc::unsupported, sr.member_path("alg") + ": '" + alg + "' not supported");
            MESH_ASSIGN_OR_RETURN(std::string kid, sr.string("kid", 256));
            MESH_ASSIGN_OR_RETURN(mesh::Bytes value, sr.fixed_bytes("signature", kEd25519SignatureBytes));
            MESH_TRY(sr.finish());
            p.signature = SignatureEntry{alg, std::move(kid), std::move(value)};
        }
    }
    MESH_TRY(tr.finish());
    return p;
}

// The frame's own digests (header and payload), as any reader checks them.
Result<void> check_own_digests(const ParsedFrame& p, const sequence::FrameView& f, ContainerType type,
                               const std::string& where) {
    if (!digests(type)) return mesh::ok();
    if (!mesh::secure_equal(mesh::sha512({f.header}), *p.header_digest)) {
        return fail(Errc::auth_failed, where + ": header digest mismatch");
    }
    if (!mesh::secure_equal(mesh::sha512({f.payload}), *p.payload_digest)) {
        return fail(Errc::auth_failed, where + ": payload digest mismatch");
    }
    return mesh::ok();
}

// Advances `integrity` over the frame and checks every digest its trailer states.
Result<void> check_integrity(const ParsedFrame& p, const sequence::FrameView& f, Integrity& integrity,
                             const std::string& where) {
    if (!digests(integrity.type)) return mesh::ok();
    Integrity next = integrity;
    const FrameDigests d = next.advance(f.header, f.payload);
    if (!mesh::secure_equal(d.header, *p.header_digest)) return fail(Errc::auth_failed, where + ": header digest mismatch");
    if (!mesh::secure_equal(d.payload, *p.payload_digest)) return fail(Errc::auth_failed, where + ": payload digest mismatch");
    if (d.chain && !mesh::secure_equal(*d.chain, *p.chain_digest)) return fail(Errc::auth_failed, where + ": chain digest mismatch");
    if (d.tree && !mesh::secure_equal(*d.tree, *p.tree_digest)) return fail(Errc::auth_failed, where + ": tree digest mismatch");
    integrity = std::move(next);
    return mesh::ok();
}

std::optional<ContainerType> type_of(std::string_view name) {
    for (const auto t : {ContainerType::list, ContainerType::digest, ContainerType::chain, ContainerType::tree,
                         ContainerType::merkle}) {
        const auto n = container_type_name(t);
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
            return t;
        }
    }
    return std::nullopt;
}
}  // namespace

std::string_view container_type_name(ContainerType t) noexcept {
    switch (t) {
        case ContainerType::list: return "List";
        case ContainerType::digest: return "Digest";
        case ContainerType::chain: return "Chain";
        case ContainerType::tree: return "Tree";
        case ContainerType::merkle: return "Merkle";
    }
    return "List";
}

Result<ContainerType> container_type_from_name(std::string_view name) {
    const auto t = type_of(name);
    if (!t) {
        return fail(Errc::invalid_argument,
                    "container type '" + std::string(name.substr(0, 32)) + "': expected list, digest, chain, tree or merkle");
    }
    return *t;
}

using ContentKeyPtr = std::shared_ptr<const detail::ContentKey>;

struct Container::State {
    std::string path;
    int fd = -1;
    ContainerType type = ContainerType::list;
    std::optional<Aead> aead;  // encrypted container
    ContainerOptions options;
    mesh::RandomSource* rng = nullptr;

    std::mutex writer;  // one write at a time; guards the writer-side members below
    struct Pending {
        FrameInfo frame;
        std::optional<std::string> id;
        bool deleted;
    };
    std::vector<Pending> pending;   // group commit: written, not yet synced, in order
    std::uint64_t written_seq = 0;
    std::uint64_t next_index = 1;   // the next frame's number
    std::uint64_t end = 0;          // where it starts
    Integrity integrity;            // chain and Merkle state after the last frame written
    std::vector<std::uint64_t> starts;  // Tree/Merkle: every frame's start, for TreePosition
    std::optional<std::uint64_t> write_exchange;  // the exchange frame new frames point to
    ContentKeyPtr write_key;
    std::uint64_t last_index_frame = 0;
    bool index_running = false;

    std::mutex sync_m;  // synced_seq, syncing
    std::condition_variable synced_cv;
    std::uint64_t synced_seq = 0;
    bool syncing = false;

    mutable std::shared_mutex m;  // guards the published state below
    std::vector<FrameInfo> frames;  // frame 0 included
    std::unordered_map<std::string, Container::ObjectState> ids;
    std::map<std::uint64_t, ContentKeyPtr> exchanges;  // exchange frame start -> key (null: none held)

    ~State() {
        if (fd >= 0) ::close(fd);
    }

    Result<mesh::Bytes> frame_bytes(const FrameInfo& f) const {
        mesh::Bytes b(static_cast<std::size_t>(f.end - f.start));
        MESH_TRY(pread_all(fd, f.start, b, path));
        return b;
    }

    // Encryption and TreePosition rules for frame n at `start`; `start_of(i)` gives frame i's
    // start for i < n, `exchange_known(pos)` whether an exchange frame starts at pos.
    template <class StartOf, class ExchangeKnown>
    Result<void> check_structure(const ParsedFrame& p, std::uint64_t n, std::uint64_t start, StartOf start_of,
                                 ExchangeKnown exchange_known, const std::string& where) const {
        if (p.index != n) return fail(Errc::malformed, where + ": says it is frame " + std::to_string(p.index));
        if (has_tree(type)) {
            if (!p.tree_position) return fail(Errc::malformed, where + ": TreePosition missing");
            if (*p.tree_position != start_of(sequence::previous_frame(n))) {
                return fail(Errc::auth_failed, where + ": TreePosition " + std::to_string(*p.tree_position) +
                                                   " does not point to frame " + std::to_string(sequence::previous_frame(n)));
            }
        } else if (p.tree_position) {
            return fail(Errc::malformed, where + ": TreePosition in a " + std::string(container_type_name(type)) + " container");
        }
        if (!aead) {
            if (p.enc || p.exchange_position) return fail(Errc::malformed, where + ": encrypted frame in a plaintext container");
            return mesh::ok();
        }
        if (p.enc != aead) return fail(Errc::malformed, where + ": not encrypted as the container's policy says");
        if (p.recipients.empty() == !p.exchange_position) {
            return fail(Errc::malformed, where + ": needs either recipients or an ExchangePosition");
        }
        if (p.exchange_position && (*p.exchange_position >= start || !exchange_known(*p.exchange_position))) {
            return fail(Errc::malformed, where + ": ExchangePosition " + std::to_string(*p.exchange_position) +
                                             " is not an earlier key exchange");
        }
        return mesh::ok();
    }

    // The content key for a frame (exchanges in hand); null if this container holds none.
    Result<ContentKeyPtr> unwrap_exchange(const ParsedFrame& p) const {
        if (options.keys == nullptr) return ContentKeyPtr{};
        auto k = detail::unwrap_content_key(p.recipients, *options.keys);
        if (!k) {
            if (k.error().code == Errc::not_found) return ContentKeyPtr{};
            return std::move(k).error();
        }
        return ContentKeyPtr(std::make_shared<const detail::ContentKey>(std::move(k).value()));
    }

    // ContentMeta of a parsed frame (opening it with `key` when encrypted).
    Result<std::optional<ContentMeta>> meta_of(const ParsedFrame& p, const ContentKeyPtr& key, const std::string& where) const {
        if (!p.meta) return std::optional<ContentMeta>{};
        mesh::SecureBytes text;
        std::span<const std::uint8_t> plain = *p.meta;
        if (aead) {
            if (!key) return fail(Errc::not_found, where + ": encrypted, and no key for it is held");
            auto opened = detail::open_frame(*aead, *key, p.salt, detail::FramePart::metadata, be64(p.index), *p.meta);
            if (!opened) return fail(Errc::auth_failed, where + ": ContentMetaData does not authenticate");
            text = std::move(opened).value();
            plain = text.expose_secret();
        }
        MESH_ASSIGN_OR_RETURN(const Json mj, frame_json(plain, where + " ContentMetaData"));
        MESH_ASSIGN_OR_RETURN(ContentMeta cm, content_meta_from_json(mj, where + ".ContentMetaData"));
        return std::optional<ContentMeta>(std::move(cm));
    }
};

namespace {
// Frame `pos`..: tag, length, the whole frame into `buf` (reused), checked by the frame layer.
Result<sequence::FrameView> frame_at(int fd, const std::string& path, std::uint64_t pos, std::uint64_t size,
                                     std::uint64_t max_frame, mesh::Bytes& buf) {
    std::array<std::uint8_t, 9> head{};
    const std::size_t h = static_cast<std::size_t>(std::min<std::uint64_t>(9, size - pos));
    MESH_TRY(pread_all(fd, pos, std::span(head).first(h), path));
    if ((head[0] & 0xFC) != 0xF4) return fail(Errc::malformed, "sequence: expected a frame tag at offset " + std::to_string(pos));
    const std::size_t n = std::size_t{1} << (head[0] & 3U);
    if (h < 1 + n) return fail(Errc::malformed, "sequence: truncated frame length at offset " + std::to_string(pos));
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | head[1 + i];
    const std::uint64_t total = 2 + 2 * n + len;
    if (len > max_frame || total > size - pos) {
        return fail(Errc::malformed, "sequence: frame runs past the end at offset " + std::to_string(pos));
    }
    buf.resize(static_cast<std::size_t>(total));
    MESH_TRY(pread_all(fd, pos, buf, path));
    MESH_ASSIGN_OR_RETURN(sequence::FrameView f, sequence::read_frame(buf, 0));
    f.start += pos;
    f.end += pos;
    return f;
}

mesh::Bytes frame0(ContainerType type, std::optional<Aead> aead) {
    JsonObject top;
    if (aead) top.emplace_back("Policy", Json(JsonObject{{"enc", Json(aead_name(*aead))}}));
    top.emplace_back("SequenceInfo", Json(JsonObject{{"DataEncoding", Json("JSON")},
                                                     {"ContainerType", Json(container_type_name(type))},
                                                     {"Index", Json(0)}}));
    const std::string header = sequence::reference_json(Json(std::move(top)));
    const mesh::Bytes empty;
    const std::span<const std::uint8_t> recs[] = {mesh::as_bytes(header), empty, empty};
    return sequence::encode_frame(recs);
}

// See open(): is the unreadable frame at `pos` damaged rather than torn? Reads only the few
// bytes it needs (and the last frame when testing whether whole frames follow).
Result<bool> tail_is_damage(int fd, std::uint64_t size, std::uint64_t pos, const std::string& path) {
    const auto bytes_at = [&](std::uint64_t off, std::size_t len) -> Result<mesh::Bytes> {
        mesh::Bytes b(len);
        MESH_TRY(pread_all(fd, off, b, path));
        return b;
    };
    if (size - pos < 2) return false;
    // trailing tag and reversed length at the end of the file
    const auto tail_len = static_cast<std::size_t>(std::min<std::uint64_t>(size - pos, 9));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes end9, bytes_at(size - tail_len, tail_len));
    const std::uint8_t tag = end9.back();
    // the leading tag and length at pos
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes lead9, bytes_at(pos, tail_len));
    if (const std::uint8_t lead = lead9[0]; (lead & 0xFC) == 0xF4) {
        const std::size_t m = std::size_t{1} << (lead & 3U);
        if (lead9.size() >= 1 + m) {
            std::uint64_t declared = 0;
            for (std::size_t i = 0; i < m; ++i) declared = (declared << 8) | lead9[1 + i];
            if (declared <= size && size - pos == 2 + 2 * m + declared) return true;  // complete to the end
        }
    }
    if ((tag & 0xFC) != 0xF4) return false;
    const std::size_t n = std::size_t{1} << (tag & 3U);
    if (end9.size() < n + 1) return false;
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | end9[end9.size() - 2 - i];
    if (len > size - 2 * n - 2) return false;
    const std::uint64_t q = size - 2 * n - 2 - len;
    if (q < pos) return false;
    if (q == pos) {
        bool length_matches = lead9.size() > n;
        for (std::size_t i = 0; length_matches && i < n; ++i) length_matches = lead9[1 + i] == end9[end9.size() - 2 - i];
        return lead9[0] == tag || length_matches;
    }
    // whole frames after the damage: the last one parses completely
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes last, bytes_at(q, static_cast<std::size_t>(size - q)));
    return sequence::read_frame(last, 0).has_value();
}

// The start of the frame that ends at `end`, from its trailing length and tag; nullopt if the
// bytes there are not a frame end at or after `first`.
Result<std::optional<std::uint64_t>> frame_start_before(int fd, const std::string& path, std::uint64_t first,
                                                        std::uint64_t end) {
    if (end < first + 4) return std::optional<std::uint64_t>{};
    std::array<std::uint8_t, 9> tail{};
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(9, end - first));
    MESH_TRY(pread_all(fd, end - k, std::span(tail).first(k), path));
    const std::uint8_t tag = tail[k - 1];
    if ((tag & 0xFC) != 0xF4) return std::optional<std::uint64_t>{};
    const std::size_t n = std::size_t{1} << (tag & 3U);
    if (k < n + 1) return std::optional<std::uint64_t>{};
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | tail[k - 2 - i];
    if (len > end - first || end - first - len < 2 + 2 * n) return std::optional<std::uint64_t>{};
    return std::optional<std::uint64_t>(end - 2 - 2 * n - len);
}

// Is the header of the frame at `start` that of an index frame (SequenceInfo.IsMeta)? Reads the
// header record only.
Result<bool> is_index_frame(int fd, const std::string& path, std::uint64_t start, std::uint64_t end) {
    std::array<std::uint8_t, 18> head{};
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(head.size(), end - start));
    MESH_TRY(pread_all(fd, start, std::span(head).first(k), path));
    const std::size_t n = std::size_t{1} << (head[0] & 3U);
    std::size_t pos = 1 + n;
    if (pos >= k || (head[pos] & 0xFC) != 0xF0) return false;
    const std::size_t m = std::size_t{1} << (head[pos] & 3U);
    if (pos + 1 + m > k) return false;
    std::uint64_t hlen = 0;
    for (std::size_t i = 0; i < m; ++i) hlen = (hlen << 8) | head[pos + 1 + i];
    pos += 1 + m;
    if (hlen > kMaxHeaderBytes || start + pos + hlen > end) return false;
    mesh::Bytes header(static_cast<std::size_t>(hlen));
    MESH_TRY(pread_all(fd, start + pos, header, path));
    auto j = sequence::parse_reference_json(text_of(header));
    if (!j) return false;
    auto r = ObjectReader::open(*j, "header");
    if (!r) return false;
    auto info = r->value("SequenceInfo");
    if (!info) return false;
    auto si = ObjectReader::open(**info, "SequenceInfo");
    if (!si) return false;
    auto meta = si->optional_boolean("IsMeta");
    return meta && meta->value_or(false);
}

// ---- index frames ----------------------------------------------------------------------------
// Payload (JSON): {"Full": true, "Count": k, "Lengths": packed, "Objects": packed,
//                  "Exchanges": [frame...], "ChainDigest": d?, "Peaks": [d...]?}
// Count is the index frame's own number; Lengths the LEB128 lengths of frames 1..k-1; Objects,
// for each object: LEB128 frame, a byte (1: deleted), LEB128 id length, id; ChainDigest and
// Peaks the chain and Merkle state before the index frame.
struct IndexData {
    std::uint64_t count = 0;
    std::vector<std::uint64_t> lengths;
    std::vector<std::pair<std::string, Container::ObjectState>> objects;
    std::vector<std::uint64_t> exchanges;
    std::optional<Digest512> chain;
    std::vector<Digest512> peaks;
};

Result<IndexData> parse_index(std::span<const std::uint8_t> payload, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(const Json j, parse_json(text_of(payload), JsonLimits{payload.size() + 1, 8}));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, where));
    IndexData d;
    MESH_ASSIGN_OR_RETURN(const bool full, r.boolean("Full"));
    if (!full) return fail(Errc::unsupported, where + ": partial index");
    MESH_ASSIGN_OR_RETURN(d.count, r.uint("Count"));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes lengths, r.bytes("Lengths", std::size_t{1} << 30));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes objects, r.bytes("Objects", std::size_t{1} << 30));
    MESH_ASSIGN_OR_RETURN(const JsonArray* xs, r.optional_array("Exchanges", std::size_t{1} << 20));
    if (r.has("ChainDigest")) {
        MESH_ASSIGN_OR_RETURN(d.chain, digest_member(r, "ChainDigest"));
    }
    MESH_ASSIGN_OR_RETURN(const JsonArray* peaks, r.optional_array("Peaks", 64));
    MESH_TRY(r.finish());
    std::size_t pos = 0;
    while (pos < lengths.size()) {
        MESH_ASSIGN_OR_RETURN(const std::uint64_t len, get_varint(lengths, pos, where + ".Lengths"));
        d.lengths.push_back(len);
    }
    if (d.count == 0 || d.lengths.size() != d.count - 1) return fail(Errc::malformed, where + ": Lengths does not match Count");
    pos = 0;
    while (pos < objects.size()) {
        MESH_ASSIGN_OR_RETURN(const std::uint64_t frame, get_varint(objects, pos, where + ".Objects"));
        if (pos >= objects.size() || objects[pos] > 1) return fail(Errc::malformed, where + ".Objects: bad flag");
        const bool deleted = objects[pos++] == 1;
        MESH_ASSIGN_OR_RETURN(const std::uint64_t len, get_varint(objects, pos, where + ".Objects"));
        if (len == 0 || len > objects.size() - pos || frame == 0 || frame >= d.count) {
            return fail(Errc::malformed, where + ".Objects: bad entry");
        }
        d.objects.emplace_back(std::string(reinterpret_cast<const char*>(objects.data() + pos), static_cast<std::size_t>(len)),
                               Container::ObjectState{frame, deleted});
        pos += static_cast<std::size_t>(len);
    }
    for (std::size_t i = 0; i < xs->size(); ++i) {
        const Json& x = (*xs)[i];
        const auto v = x.as_uint64();
        if (!v || *v == 0 || *v >= d.count) {
            return fail(Errc::malformed, where + ".Exchanges[" + std::to_string(i) + "]: not an earlier frame");
        }
        d.exchanges.push_back(*v);
    }
    for (std::size_t i = 0; i < peaks->size(); ++i) {
        const Json& x = (*peaks)[i];
        const std::string p = where + ".Peaks[" + std::to_string(i) + "]";
        if (!x.is_string()) return type_error(p, "base64url digest", x);
        auto b = base64url_decode_lenient(x.as_string());
        if (!b || b->size() != mesh::kSha512Bytes) return fail(Errc::malformed, p + ": not a SHA-512 digest");
        Digest512 dg{};
        std::copy(b->begin(), b->end(), dg.begin());
        d.peaks.push_back(dg);
    }
    return d;
}
}  // namespace

Container::Container(std::unique_ptr<State> s) : s_(std::move(s)) {}
Container::Container(Container&&) noexcept = default;
Container& Container::operator=(Container&&) noexcept = default;
Container::~Container() = default;

ContainerType Container::type() const noexcept { return s_->type; }
bool Container::encrypted() const noexcept { return s_->aead.has_value(); }

std::uint64_t Container::frames() const {
    const std::shared_lock lock(s_->m);
    return s_->frames.size();
}

std::optional<Digest512> Container::apex() const {
    const std::lock_guard lock(s_->writer);
    return s_->integrity.apex();
}

namespace {
Result<void> check_signing(const ContainerOptions& options, ContainerType type) {
    if (options.signer != nullptr && options.sign_interval > 0 && !signable(type)) {
        return fail(Errc::invalid_argument, "container: only Chain and Merkle containers carry signatures");
    }
    return mesh::ok();
}
}  // namespace

Result<Container> Container::create(const std::string& path, ContainerType type, ContainerOptions options) {
    std::optional<Aead> aead;
    if (!options.recipients.empty()) {
        if (options.aead == Aead::aes256_gcm && !aes256gcm_available()) {
            return fail(Errc::unsupported, "container: AES-256-GCM needs hardware support this CPU lacks");
        }
        aead = options.aead;
    }
    MESH_TRY(check_signing(options, type));
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return fail(errno == EEXIST ? Errc::already_exists : Errc::io, errno_text(path));
    auto s = std::make_unique<State>();
    s->path = path;
    s->fd = fd;
    s->type = type;
    s->aead = aead;
    s->options = std::move(options);
    s->rng = s->options.rng != nullptr ? s->options.rng : &mesh::system_random();
    s->integrity.type = type;
    const mesh::Bytes f0 = frame0(type, aead);
    MESH_TRY(write_all(fd, f0, path));
    if (::fsync(fd) != 0) return fail(Errc::io, errno_text(path));
    MESH_TRY(sync_dir(path));
    s->frames.push_back(FrameInfo{0, f0.size()});
    if (has_tree(type)) s->starts.push_back(0);
    s->next_index = 1;
    s->end = f0.size();
    return Container(std::move(s));
}

namespace {
// Frame 0: the container's type and policy. It has no digest, so it is read strictly.
Result<void> read_frame0(Container::State& s, const sequence::FrameView& f0) {
    const std::string where = s.path + ": frame 0";
    MESH_ASSIGN_OR_RETURN(const Json h, frame_json(f0.header, where));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(h, where));
    MESH_ASSIGN_OR_RETURN(const Json* policy, r.optional_value("Policy"));
    MESH_ASSIGN_OR_RETURN(const Json* info, r.value("SequenceInfo"));
    MESH_TRY(r.finish());
    if (policy != nullptr) {
        MESH_ASSIGN_OR_RETURN(ObjectReader pr, ObjectReader::open(*policy, where + ".Policy"));
        MESH_ASSIGN_OR_RETURN(const std::string enc, pr.string("enc", 32));
        MESH_TRY(pr.finish());
        MESH_ASSIGN_OR_RETURN(s.aead, detail::aead_from_name(enc, where + ".Policy.enc"));
    }
    MESH_ASSIGN_OR_RETURN(ObjectReader si, ObjectReader::open(*info, where + ".SequenceInfo"));
    MESH_ASSIGN_OR_RETURN(const std::string encoding, si.string("DataEncoding", 16));
    MESH_ASSIGN_OR_RETURN(const std::string type, si.string("ContainerType", 32));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t index, si.uint("Index"));
    MESH_TRY(si.finish());
    if (encoding != "JSON" || index != 0) return fail(Errc::malformed, where + ": not JSON frame 0");
    if (!f0.payload.empty() || (f0.trailer && !f0.trailer->empty())) {
        return fail(Errc::malformed, where + ": unexpected payload or trailer");
    }
    const auto t = type_of(type);
    if (!t || container_type_name(*t) != type) {
        return fail(Errc::unsupported, where + ": container type '" + type.substr(0, 32) + "' not supported");
    }
    s.type = *t;
    s.integrity.type = *t;
    return mesh::ok();
}

// Takes in frame n = s.frames.size() at open: structure, integrity, key exchange, object state.
Result<void> absorb_frame(Container::State& s, const sequence::FrameView& f) {
    const std::uint64_t n = s.frames.size();
    const std::string where = s.path + ": frame " + std::to_string(n);
    MESH_ASSIGN_OR_RETURN(const ParsedFrame p, parse_frame(f, s.type, where));
    MESH_TRY(s.check_structure(
        p, n, f.start, [&](std::uint64_t i) { return s.frames[i].start; },
        [&](std::uint64_t pos) { return s.exchanges.count(pos) > 0; }, where));
    MESH_TRY(check_integrity(p, f, s.integrity, where));
    ContentKeyPtr key;
    if (s.aead) {
        if (!p.recipients.empty()) {
            MESH_ASSIGN_OR_RETURN(key, s.unwrap_exchange(p));
            s.exchanges[f.start] = key;
        } else {
            key = s.exchanges[*p.exchange_position];
        }
    }
    if (p.meta && (!s.aead || key)) {
        MESH_ASSIGN_OR_RETURN(const auto meta, s.meta_of(p, key, where));
        if (meta && meta->unique_id) s.ids[*meta->unique_id] = Container::ObjectState{n, meta->event == "Delete"};
    }
    s.frames.push_back(FrameInfo{f.start, f.end});
    if (has_tree(s.type)) s.starts.push_back(f.start);
    if (p.is_meta) s.last_index_frame = n;
    return mesh::ok();
}

// Loads the state up to and including the index frame at `at` (found walking back from the
// end). false: it cannot be used (encrypted and no key held); errors are damage.
Result<bool> load_index(Container::State& s, FrameInfo at, std::uint64_t size) {
    mesh::Bytes buf;
    const std::uint64_t max_frame = s.options.max_frame_bytes + kMaxHeaderBytes;
    MESH_ASSIGN_OR_RETURN(const sequence::FrameView f, frame_at(s.fd, s.path, at.start, size, max_frame, buf));
    MESH_ASSIGN_OR_RETURN(ParsedFrame p, parse_frame(f, s.type, s.path + ": index frame"));
    const std::uint64_t k = p.index;
    const std::string where = s.path + ": frame " + std::to_string(k) + " (index)";
    if (!p.is_meta || k == 0) return fail(Errc::malformed, where + ": not an index frame");
    MESH_TRY(check_own_digests(p, f, s.type, where));
    // the key for the index frame itself
    ContentKeyPtr key;
    mesh::SecureBytes plain;
    std::span<const std::uint8_t> payload = f.payload;
    if (s.aead) {
        if (!p.recipients.empty()) {
            MESH_ASSIGN_OR_RETURN(key, s.unwrap_exchange(p));
        } else if (p.exchange_position && *p.exchange_position < at.start) {
            mesh::Bytes xbuf;
            MESH_ASSIGN_OR_RETURN(const sequence::FrameView xf, frame_at(s.fd, s.path, *p.exchange_position, at.start, max_frame, xbuf));
            MESH_ASSIGN_OR_RETURN(const ParsedFrame xp, parse_frame(xf, s.type, where + " exchange"));
            if (xp.recipients.empty()) return fail(Errc::malformed, where + ": ExchangePosition is not a key exchange");
            MESH_ASSIGN_OR_RETURN(key, s.unwrap_exchange(xp));
        }
        if (!key) return false;
        auto opened = detail::open_frame(*s.aead, *key, p.salt, detail::FramePart::payload, f.header, f.payload);
        if (!opened) return fail(Errc::auth_failed, where + ": payload does not authenticate");
        plain = std::move(opened).value();
        payload = plain.expose_secret();
    }
    MESH_ASSIGN_OR_RETURN(IndexData d, parse_index(payload, where));
    if (d.count != k) return fail(Errc::malformed, where + ": Count says " + std::to_string(d.count));
    // frame positions
    std::vector<FrameInfo> frames = {s.frames.front()};
    frames.reserve(static_cast<std::size_t>(k + 1));
    std::uint64_t pos = frames.front().end;
    for (const std::uint64_t len : d.lengths) {
        if (len > at.start - pos) return fail(Errc::malformed, where + ": Lengths run past the index frame");
        frames.push_back(FrameInfo{pos, pos + len});
        pos += len;
    }
    if (pos != at.start) return fail(Errc::malformed, where + ": Lengths do not end at the index frame");
    // integrity state before the index frame, then the index frame itself
    Integrity integrity;
    integrity.type = s.type;
    integrity.leaves = k - 1;
    integrity.chain = d.chain;
    integrity.peaks = std::move(d.peaks);
    if (s.type == ContainerType::chain && (k > 1) != d.chain.has_value()) return fail(Errc::malformed, where + ": ChainDigest");
    if (s.type == ContainerType::merkle && integrity.peaks.size() != static_cast<std::size_t>(std::popcount(k - 1))) {
        return fail(Errc::malformed, where + ": Peaks does not match Count");
    }
    std::map<std::uint64_t, ContentKeyPtr> exchanges;
    for (const std::uint64_t x : d.exchanges) {
        mesh::Bytes xbuf;
        MESH_ASSIGN_OR_RETURN(const sequence::FrameView xf, frame_at(s.fd, s.path, frames[x].start, at.start, max_frame, xbuf));
        MESH_ASSIGN_OR_RETURN(const ParsedFrame xp, parse_frame(xf, s.type, where + " exchange"));
        if (xp.recipients.empty()) return fail(Errc::malformed, where + ": Exchanges names a frame without recipients");
        MESH_ASSIGN_OR_RETURN(exchanges[frames[x].start], s.unwrap_exchange(xp));
    }
    MESH_TRY(s.check_structure(
        p, k, at.start, [&](std::uint64_t i) { return frames[i].start; },
        [&](std::uint64_t x) { return exchanges.count(x) > 0; }, where));
    MESH_TRY(check_integrity(p, f, integrity, where));
    if (s.aead && !p.recipients.empty()) exchanges[at.start] = key;
    for (auto& [id, st] : d.objects) s.ids[std::move(id)] = st;
    frames.push_back(at);
    if (has_tree(s.type)) {
        s.starts.clear();
        for (const auto& fi : frames) s.starts.push_back(fi.start);
    }
    s.frames = std::move(frames);
    s.integrity = std::move(integrity);
    s.exchanges = std::move(exchanges);
    s.last_index_frame = k;
    return true;
}

// The last index frame, walking back from the end over at most `limit` frames; nullopt if
// there is none or the end does not walk back cleanly (then open() scans forwards).
Result<std::optional<FrameInfo>> find_index(const Container::State& s, std::uint64_t first, std::uint64_t size) {
    constexpr std::uint64_t kLimit = 65536;
    std::uint64_t end = size;
    for (std::uint64_t steps = 0; steps < kLimit && end > first; ++steps) {
        MESH_ASSIGN_OR_RETURN(const auto start, frame_start_before(s.fd, s.path, first, end));
        if (!start) return std::optional<FrameInfo>{};
        MESH_ASSIGN_OR_RETURN(const bool index, is_index_frame(s.fd, s.path, *start, end));
        if (index) return std::optional<FrameInfo>(FrameInfo{*start, end});
        end = *start;
    }
    return std::optional<FrameInfo>{};
}
}  // namespace

Result<Container> Container::open(const std::string& path, ContainerOptions options, OpenReport* report) {
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_text(path));
    if (report != nullptr) *report = OpenReport{};
    auto s = std::make_unique<State>();
    s->path = path;
    s->fd = fd;
    s->options = std::move(options);
    s->rng = s->options.rng != nullptr ? s->options.rng : &mesh::system_random();
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(Errc::io, errno_text(path));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    // Frames are read one at a time into a reused buffer: memory stays at one frame.
    mesh::Bytes buf;
    const std::uint64_t max_frame = s->options.max_frame_bytes + kMaxHeaderBytes;

    if (size == 0) return fail(Errc::malformed, path + ": not a DARE container (empty)");
    auto f0 = frame_at(fd, path, 0, size, max_frame, buf);
    if (!f0) return fail(Errc::malformed, path + ": not a DARE container (" + f0.error().message + ")");
    MESH_TRY(read_frame0(*s, *f0));
    MESH_TRY(check_signing(s->options, s->type));
    s->frames.push_back(FrameInfo{0, f0->end});
    if (has_tree(s->type)) s->starts.push_back(0);
    std::uint64_t pos = f0->end;

    MESH_ASSIGN_OR_RETURN(const auto index, find_index(*s, pos, size));
    if (index) {
        MESH_ASSIGN_OR_RETURN(const bool loaded, load_index(*s, *index, size));
        if (loaded) {
            pos = index->end;
            if (report != nullptr) report->index_frame = s->frames.size() - 1;
        }
    }
    while (pos < size) {
        auto f = frame_at(fd, path, pos, size, max_frame, buf);
        if (!f) {
            // A torn write leaves a prefix of the last frame. Damage is anything else: whole
            // frames after this one, or this frame complete to the end of the file (its
            // trailing length and tag point back here) with its leading tag or length changed.
            MESH_ASSIGN_OR_RETURN(const bool damage, tail_is_damage(fd, size, pos, path));
            if (damage) {
                return fail(Errc::malformed, path + ": frame " + std::to_string(s->frames.size()) + " at offset " +
                                                 std::to_string(pos) + " is damaged");
            }
            if (::ftruncate(fd, static_cast<off_t>(pos)) != 0 || ::fsync(fd) != 0) return fail(Errc::io, errno_text(path));
            if (report != nullptr) report->truncated_bytes = size - pos;
            break;
        }
        MESH_TRY(absorb_frame(*s, *f));
        pos = f->end;
    }
    s->next_index = s->frames.size();
    s->end = s->frames.back().end;
    // A writer reuses the latest key exchange whose key it holds.
    for (auto it = s->exchanges.rbegin(); it != s->exchanges.rend(); ++it) {
        if (it->second) {
            s->write_exchange = it->first;
            s->write_key = it->second;
            break;
        }
    }
    if (report != nullptr) report->frames = s->frames.size();
    return Container(std::move(s));
}

namespace {
// Where the writer stood, to put it back when a write fails.
struct WriterMark {
    Integrity integrity;
    std::uint64_t next_index;
    std::uint64_t end;
    std::size_t starts;
    std::optional<std::uint64_t> write_exchange;
    ContentKeyPtr write_key;
};

WriterMark mark(const Container::State& s) {
    return WriterMark{s.integrity, s.next_index, s.end, s.starts.size(), s.write_exchange, s.write_key};
}

// After a failed write: the file is cut back to where the writer stood and so is its state.
Result<void> roll_back(Container::State& s, WriterMark m) {
    if (::ftruncate(s.fd, static_cast<off_t>(m.end)) != 0) {
        return fail(Errc::io, s.path + ": append failed and the partial frame could not be removed");
    }
    {
        const std::unique_lock publish(s.m);
        s.exchanges.erase(s.exchanges.lower_bound(m.end), s.exchanges.end());
    }
    s.integrity = std::move(m.integrity);
    s.next_index = m.next_index;
    s.end = m.end;
    s.starts.resize(m.starts);
    s.write_exchange = m.write_exchange;
    s.write_key = std::move(m.write_key);
    return mesh::ok();
}

// Encodes frame s.next_index as starting at s.end and moves the writer state past it (the caller
// holds s.writer, writes the bytes at s.end's old value, and rolls back if that fails).
Result<mesh::Bytes> encode_next_frame(Container::State& s, std::span<const std::uint8_t> payload, const ContentMeta* meta,
                                      bool is_meta) {
    const std::uint64_t n = s.next_index;
    ContentKeyPtr key = s.write_key;
    ContentKeyPtr fresh;
    mesh::Bytes salt;
    JsonObject h;
    if (s.aead) {
        if (!key) {
            if (s.options.recipients.empty()) {
                return fail(Errc::not_found, s.path + ": encrypted container opened without its key or recipients: cannot append");
            }
            fresh = std::make_shared<const detail::ContentKey>(detail::make_content_key(*s.rng));
            key = fresh;
        }
        salt.resize(kSaltBytes);
        s.rng->fill(salt);
        h.emplace_back("enc", Json(aead_name(*s.aead)));
        h.emplace_back("Salt", Json(mesh::base64url_encode(salt)));
        if (fresh) h.emplace_back("recipients", detail::recipients_to_json(detail::wrap_content_key(*fresh, s.options.recipients, *s.rng)));
    }
    if (meta != nullptr) {
        const std::string text = to_json(to_json(*meta));
        const mesh::Bytes stored = s.aead ? detail::seal_frame(*s.aead, *key, salt, detail::FramePart::metadata, be64(n), mesh::as_bytes(text))
                                          : mesh::Bytes(text.begin(), text.end());
        h.emplace_back("ContentMetaData", Json(mesh::base64url_encode(stored)));
    }
    JsonObject info{{"Index", Json(n)}};
    if (is_meta) info.emplace_back("IsMeta", Json(true));
    if (has_tree(s.type)) info.emplace_back("TreePosition", Json(s.starts[sequence::previous_frame(n)]));
    if (s.aead && !fresh) info.emplace_back("ExchangePosition", Json(*s.write_exchange));
    h.emplace_back("SequenceInfo", Json(std::move(info)));
    const std::string header = sequence::reference_json(Json(std::move(h)), {"ContentMetaData"});
    mesh::Bytes sealed;
    std::span<const std::uint8_t> body = payload;
    if (s.aead) {
        sealed = detail::seal_frame(*s.aead, *key, salt, detail::FramePart::payload, mesh::as_bytes(header), payload);
        body = sealed;
    }
    std::string trailer;
    Integrity next = s.integrity;
    if (digests(s.type)) {
        const FrameDigests d = next.advance(mesh::as_bytes(header), body);
        JsonObject t{{"HeaderDigest", Json(mesh::base64url_encode(d.header))},
                     {"PayloadDigest", Json(mesh::base64url_encode(d.payload))}};
        if (d.chain) t.emplace_back("ChainDigest", Json(mesh::base64url_encode(*d.chain)));
        if (d.tree) t.emplace_back("TreeDigest", Json(mesh::base64url_encode(*d.tree)));
        if (s.options.signer != nullptr && s.options.sign_interval > 0 && signable(s.type) && n % s.options.sign_interval == 0) {
            const auto sig = s.options.signer->sign(apex_signature_input(n, *next.apex()));
            t.emplace_back("Signature", Json(JsonObject{{"alg", Json("Ed25519")},
                                                       {"kid", Json(s.options.signer->public_key().kid())},
                                                       {"signature", Json(mesh::base64url_encode(sig))}}));
        }
        trailer = sequence::reference_json(Json(std::move(t)), {"HeaderDigest", "PayloadDigest", "ChainDigest", "TreeDigest", "signature"});
    }
    std::vector<std::span<const std::uint8_t>> recs = {mesh::as_bytes(header), body};
    if (!trailer.empty()) recs.push_back(mesh::as_bytes(trailer));
    const mesh::Bytes frame = sequence::encode_frame(recs);
    const std::uint64_t start = s.end;
    s.integrity = std::move(next);
    s.next_index = n + 1;
    s.end = start + frame.size();
    if (has_tree(s.type)) s.starts.push_back(start);
    if (fresh) {
        s.write_key = fresh;
        s.write_exchange = start;
        const std::unique_lock publish(s.m);
        s.exchanges[start] = fresh;
    }
    return frame;
}

// Writes frame s.next_index (the caller holds s.writer); readers see it once published.
Result<FrameInfo> write_frame(Container::State& s, std::span<const std::uint8_t> payload, const ContentMeta* meta,
                              bool is_meta) {
    WriterMark before = mark(s);
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes frame, encode_next_frame(s, payload, meta, is_meta));
    if (auto w = write_all(s.fd, frame, s.path); !w) {
        MESH_TRY(roll_back(s, std::move(before)));  // a partial frame must not stay in front of the next append
        return std::move(w).error();
    }
    return FrameInfo{before.end, s.end};
}
}  // namespace

namespace {
void publish(Container::State& s, const FrameInfo& f, const std::optional<std::string>& id, bool deleted) {
    const std::unique_lock lock(s.m);
    if (id) s.ids[*id] = Container::ObjectState{s.frames.size(), deleted};
    s.frames.push_back(f);
}

// Group commit: waits for (or leads) an fdatasync covering write number `mine`.
Result<void> await_sync(Container::State& s, std::uint64_t mine) {
    std::unique_lock sync(s.sync_m);
    while (s.synced_seq < mine) {
        if (s.syncing) {
            s.synced_cv.wait(sync);
            continue;
        }
        s.syncing = true;
        sync.unlock();
        std::vector<Container::State::Pending> batch;
        {
            const std::lock_guard take(s.writer);  // everything written so far goes in this sync
            batch.swap(s.pending);
        }
        const std::uint64_t covered = s.synced_seq + batch.size();
        const bool synced = ::fdatasync(s.fd) == 0;
        for (const auto& p : batch) publish(s, p.frame, p.id, p.deleted);
        sync.lock();
        s.syncing = false;
        s.synced_seq = covered;
        s.synced_cv.notify_all();
        if (!synced) return fail(Errc::io, errno_text(s.path));
    }
    return mesh::ok();
}

// Holding s.writer: waits until group commit has published every frame written.
void drain_pending(Container::State& s, std::unique_lock<std::mutex>& writer) {
    while (!s.pending.empty()) {
        writer.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        writer.lock();
    }
}
}  // namespace

Result<std::uint64_t> Container::append(std::span<const std::uint8_t> payload, const ContentMeta& meta) {
    State& s = *s_;
    if (payload.size() > s.options.max_frame_bytes) {
        return fail(Errc::limit_exceeded, "container: payload of " + std::to_string(payload.size()) + " bytes exceeds the limit");
    }
    std::unique_lock writer(s.writer);
    const std::uint64_t n = s.next_index;
    MESH_ASSIGN_OR_RETURN(const FrameInfo f, write_frame(s, payload, &meta, false));
    const bool index_due = s.options.index_interval > 0 && !s.index_running &&
                           n - s.last_index_frame >= s.options.index_interval;
    if (index_due) s.index_running = true;
    if (s.options.sync != SyncPolicy::group) {
        if (s.options.sync == SyncPolicy::every_append && ::fdatasync(s.fd) != 0) return fail(Errc::io, errno_text(s.path));
        publish(s, f, meta.unique_id, meta.event == "Delete");
    } else {
        s.pending.push_back(State::Pending{f, meta.unique_id, meta.event == "Delete"});
        const std::uint64_t mine = ++s.written_seq;
        writer.unlock();
        MESH_TRY(await_sync(s, mine));
    }
    if (writer.owns_lock()) writer.unlock();
    if (index_due) MESH_TRY(write_index());
    return n;
}

Result<std::uint64_t> Container::append_all(std::span<const std::span<const std::uint8_t>> payloads, const ContentMeta& meta) {
    std::vector<NewFrame> frames;
    frames.reserve(payloads.size());
    for (const auto& p : payloads) frames.push_back(NewFrame{p, &meta});
    return append_all(frames);
}

Result<std::uint64_t> Container::append_all(std::span<const NewFrame> batch) {
    State& s = *s_;
    if (batch.empty()) return fail(Errc::invalid_argument, "container: nothing to append");
    for (const auto& f : batch) {
        if (f.payload.size() > s.options.max_frame_bytes) {
            return fail(Errc::limit_exceeded, "container: payload of " + std::to_string(f.payload.size()) + " bytes exceeds the limit");
        }
    }
    std::unique_lock writer(s.writer);
    const std::uint64_t first = s.next_index;
    WriterMark before = mark(s);
    mesh::Bytes all;
    std::vector<FrameInfo> frames;
    frames.reserve(batch.size());
    for (const auto& f : batch) {
        const std::uint64_t start = s.end;
        auto frame = encode_next_frame(s, f.payload, f.meta, false);
        if (!frame) {
            MESH_TRY(roll_back(s, std::move(before)));
            return std::move(frame).error();
        }
        all.insert(all.end(), frame->begin(), frame->end());
        frames.push_back(FrameInfo{start, s.end});
    }
    if (auto w = write_all(s.fd, all, s.path); !w) {
        MESH_TRY(roll_back(s, std::move(before)));  // none of them, not a part
        return std::move(w).error();
    }
    const bool index_due = s.options.index_interval > 0 && !s.index_running &&
                           s.next_index - 1 - s.last_index_frame >= s.options.index_interval;
    if (index_due) s.index_running = true;
    if (s.options.sync != SyncPolicy::group) {
        if (s.options.sync == SyncPolicy::every_append && ::fdatasync(s.fd) != 0) return fail(Errc::io, errno_text(s.path));
        for (std::size_t i = 0; i < frames.size(); ++i) {
            publish(s, frames[i], batch[i].meta->unique_id, batch[i].meta->event == "Delete");
        }
        writer.unlock();
    } else {
        for (std::size_t i = 0; i < frames.size(); ++i) {
            s.pending.push_back(State::Pending{frames[i], batch[i].meta->unique_id, batch[i].meta->event == "Delete"});
        }
        s.written_seq += frames.size();
        const std::uint64_t mine = s.written_seq;
        writer.unlock();
        MESH_TRY(await_sync(s, mine));
    }
    if (index_due) MESH_TRY(write_index());
    return first;
}

Result<void> Container::sync() {
    if (::fdatasync(s_->fd) != 0) return fail(Errc::io, errno_text(s_->path));
    return mesh::ok();
}

Result<std::uint64_t> Container::write_index() {
    State& s = *s_;
    std::unique_lock writer(s.writer);
    drain_pending(s, writer);
    const std::uint64_t k = s.next_index;
    JsonObject o{{"Full", Json(true)}, {"Count", Json(k)}};
    {
        const std::shared_lock lock(s.m);
        mesh::Bytes lengths;
        lengths.reserve(s.frames.size() * 3);
        for (std::size_t i = 1; i < s.frames.size(); ++i) put_varint(lengths, s.frames[i].end - s.frames[i].start);
        std::vector<std::pair<std::uint64_t, const std::string*>> order;
        order.reserve(s.ids.size());
        for (const auto& [id, st] : s.ids) order.emplace_back(st.frame, &id);
        std::sort(order.begin(), order.end());
        mesh::Bytes objects;
        for (const auto& [frame, id] : order) {
            put_varint(objects, frame);
            objects.push_back(s.ids.at(*id).deleted ? 1 : 0);
            put_varint(objects, id->size());
            objects.insert(objects.end(), id->begin(), id->end());
        }
        JsonArray xs;
        for (const auto& [pos, key] : s.exchanges) {
            const auto it = std::lower_bound(s.frames.begin(), s.frames.end(), pos,
                                             [](const FrameInfo& f, std::uint64_t p) { return f.start < p; });
            xs.emplace_back(static_cast<std::uint64_t>(it - s.frames.begin()));
        }
        o.emplace_back("Lengths", Json(mesh::base64url_encode(lengths)));
        o.emplace_back("Objects", Json(mesh::base64url_encode(objects)));
        if (!xs.empty()) o.emplace_back("Exchanges", Json(std::move(xs)));
    }
    if (s.integrity.type == ContainerType::chain && s.integrity.chain) {
        o.emplace_back("ChainDigest", Json(mesh::base64url_encode(*s.integrity.chain)));
    }
    if (s.integrity.type == ContainerType::merkle) {
        JsonArray peaks;
        for (const auto& p : s.integrity.peaks) peaks.emplace_back(mesh::base64url_encode(p));
        o.emplace_back("Peaks", Json(std::move(peaks)));
    }
    const std::string payload = to_json(Json(std::move(o)));
    s.index_running = false;
    if (payload.size() > s.options.max_frame_bytes) {
        return fail(Errc::limit_exceeded, s.path + ": the index (" + std::to_string(payload.size()) + " bytes) exceeds the frame limit");
    }
    MESH_ASSIGN_OR_RETURN(const FrameInfo f, write_frame(s, mesh::as_bytes(payload), nullptr, true));
    if (s.options.sync != SyncPolicy::none && ::fdatasync(s.fd) != 0) return fail(Errc::io, errno_text(s.path));
    publish(s, f, std::nullopt, false);
    s.last_index_frame = k;
    return k;
}

Result<ContainerFrame> Container::read(std::uint64_t index) const {
    const State& s = *s_;
    FrameInfo fi{};
    {
        const std::shared_lock lock(s.m);
        if (index == 0 || index >= s.frames.size()) {
            return fail(Errc::not_found, "container: no frame " + std::to_string(index));
        }
        fi = s.frames[index];
    }
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes bytes, s.frame_bytes(fi));
    const std::string where = s.path + ": frame " + std::to_string(index);
    MESH_ASSIGN_OR_RETURN(const sequence::FrameView f, sequence::read_frame(bytes, 0));
    MESH_ASSIGN_OR_RETURN(const ParsedFrame p, parse_frame(f, s.type, where));
    if (p.index != index) return fail(Errc::malformed, where + ": says it is frame " + std::to_string(p.index));
    // chain, tree and structure are checked by open() and verify(); here the frame's own digests
    MESH_TRY(check_own_digests(p, f, s.type, where));
    ContainerFrame out{index, ContentMeta{}, {}, p.is_meta};
    if (!s.aead) {
        if (p.enc) return fail(Errc::malformed, where + ": encrypted frame in a plaintext container");
        MESH_ASSIGN_OR_RETURN(const auto meta, s.meta_of(p, {}, where));
        if (meta) out.meta = *meta;
        out.payload.assign(f.payload.begin(), f.payload.end());
        return out;
    }
    if (p.enc != s.aead) return fail(Errc::malformed, where + ": not encrypted as the container's policy says");
    ContentKeyPtr key;
    {
        const std::shared_lock lock(s.m);
        const auto it = s.exchanges.find(p.exchange_position.value_or(fi.start));
        if (it != s.exchanges.end()) key = it->second;
    }
    if (!key) return fail(Errc::not_found, where + ": encrypted, and no key for it is held");
    MESH_ASSIGN_OR_RETURN(const auto meta, s.meta_of(p, key, where));
    if (meta) out.meta = *meta;
    auto plain = detail::open_frame(*s.aead, *key, p.salt, detail::FramePart::payload, f.header, f.payload);
    if (!plain) return fail(Errc::auth_failed, where + ": payload does not authenticate");
    out.payload.assign(plain->expose_secret().begin(), plain->expose_secret().end());
    return out;
}

Result<std::uint64_t> Container::find(std::string_view unique_id) const {
    const std::shared_lock lock(s_->m);
    const auto it = s_->ids.find(std::string(unique_id));
    if (it == s_->ids.end()) return fail(Errc::not_found, "container: no object " + std::string(unique_id.substr(0, 64)));
    return it->second.frame;
}

std::optional<Container::ObjectState> Container::state(std::string_view unique_id) const {
    const std::shared_lock lock(s_->m);
    const auto it = s_->ids.find(std::string(unique_id));
    if (it == s_->ids.end()) return std::nullopt;
    return it->second;
}

std::vector<std::pair<std::string, Container::ObjectState>> Container::objects() const {
    const std::shared_lock lock(s_->m);
    return {s_->ids.begin(), s_->ids.end()};
}

Result<void> Container::compact() {
    State& s = *s_;
    if (s.aead && s.options.recipients.empty()) {
        return fail(Errc::invalid_argument, s.path + ": compacting an encrypted container needs its recipients");
    }
    const std::string tmp = s.path + ".compact";
    ::unlink(tmp.c_str());  // a leftover of an interrupted compaction holds nothing we need
    ContainerOptions fresh_options = s.options;
    fresh_options.sync = SyncPolicy::none;
    fresh_options.keys = nullptr;  // the new file gets a new content key of its own
    fresh_options.index_interval = 0;
    if (s.aead) fresh_options.aead = *s.aead;
    auto fresh = Container::create(tmp, s.type, fresh_options);
    if (!fresh) return std::move(fresh).error();
    struct Cleanup {
        const std::string& path;
        bool armed = true;
        ~Cleanup() {
            if (armed) ::unlink(path.c_str());
        }
    } cleanup{tmp};

    // 1. the live objects as of now, in the order they were last written, then an index
    std::uint64_t copied_upto = 0;
    {
        std::vector<std::pair<std::uint64_t, std::string>> live;
        {
            const std::shared_lock lock(s.m);
            copied_upto = s.frames.size();
            for (const auto& [id, st] : s.ids) {
                if (!st.deleted) live.emplace_back(st.frame, id);
            }
        }
        std::sort(live.begin(), live.end());
        for (const auto& [frame, id] : live) {
            MESH_ASSIGN_OR_RETURN(ContainerFrame f, read(frame));
            f.meta.event = "New";
            MESH_TRY(fresh->append(f.payload, f.meta));
        }
        auto indexed = fresh->write_index();
        if (!indexed && indexed.error().code != Errc::limit_exceeded) return std::move(indexed).error();
    }
    // 2. stop appends, copy what arrived meanwhile, and switch files
    std::unique_lock writer(s.writer);
    drain_pending(s, writer);
    const std::uint64_t total = frames();
    for (std::uint64_t i = copied_upto; i < total; ++i) {
        MESH_ASSIGN_OR_RETURN(const ContainerFrame f, read(i));
        if (f.is_meta) continue;
        MESH_TRY(fresh->append(f.payload, f.meta));
    }
    State& n = *fresh->s_;
    if (::fsync(n.fd) != 0) return fail(Errc::io, errno_text(tmp));
    if (::rename(tmp.c_str(), s.path.c_str()) != 0) return fail(Errc::io, errno_text(s.path));
    cleanup.armed = false;
    MESH_TRY(sync_dir(s.path));
    {
        const std::unique_lock publish_lock(s.m);
        ::close(s.fd);
        s.fd = n.fd;
        n.fd = -1;
        s.frames = std::move(n.frames);
        s.ids = std::move(n.ids);
        s.exchanges = std::move(n.exchanges);
    }
    s.integrity = std::move(n.integrity);
    s.starts = std::move(n.starts);
    s.next_index = n.next_index;
    s.end = n.end;
    s.write_exchange = n.write_exchange;
    s.write_key = std::move(n.write_key);
    s.last_index_frame = n.last_index_frame;
    return mesh::ok();
}

Result<VerifyReport> Container::verify(const SignerLookup& signers) const {
    const State& s = *s_;
    std::vector<FrameInfo> frames;
    std::map<std::uint64_t, ContentKeyPtr> held;
    {
        const std::shared_lock lock(s.m);
        frames = s.frames;
        held = s.exchanges;
    }
    VerifyReport report;
    Integrity integrity;
    integrity.type = s.type;
    std::map<std::uint64_t, ContentKeyPtr> exchanges;  // those seen so far
    for (std::uint64_t n = 1; n < frames.size(); ++n) {
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes bytes, s.frame_bytes(frames[n]));
        const std::string where = s.path + ": frame " + std::to_string(n);
        MESH_ASSIGN_OR_RETURN(const sequence::FrameView f, sequence::read_frame(bytes, 0));
        MESH_ASSIGN_OR_RETURN(const ParsedFrame p, parse_frame(f, s.type, where));
        MESH_TRY(s.check_structure(
            p, n, frames[n].start, [&](std::uint64_t i) { return frames[i].start; },
            [&](std::uint64_t pos) { return exchanges.count(pos) > 0; }, where));
        MESH_TRY(check_integrity(p, f, integrity, where));
        if (s.aead) {
            if (!p.recipients.empty()) {
                const auto it = held.find(frames[n].start);
                exchanges[frames[n].start] = it == held.end() ? nullptr : it->second;
            }
            // with the key in hand, the AEAD tags are checked too
            if (const ContentKeyPtr key = exchanges[p.exchange_position.value_or(frames[n].start)]) {
                MESH_TRY(s.meta_of(p, key, where));
                if (!detail::open_frame(*s.aead, *key, p.salt, detail::FramePart::payload, f.header, f.payload)) {
                    return fail(Errc::auth_failed, where + ": payload does not authenticate");
                }
            }
        }
        if (p.signature && signers) {
            const auto key = signers(p.signature->kid);
            if (!key) return fail(Errc::not_found, where + ": signed by an unknown key " + p.signature->kid.substr(0, 64));
            const Digest512 apex = s.type == ContainerType::chain ? *p.chain_digest : *p.tree_digest;
            if (!key->verify(apex_signature_input(n, apex), p.signature->value)) {
                return fail(Errc::auth_failed, where + ": apex signature does not verify");
            }
            ++report.signatures;
            report.signed_upto = n;
        }
    }
    report.frames = frames.size();
    report.apex = integrity.apex();
    return report;
}

// ---- catalog and spool -----------------------------------------------------------------------

namespace {
ContentMeta object_meta(std::string_view id, std::string_view event, std::string_view content_type) {
    ContentMeta m = ContentMeta::of_type(std::string(content_type));
    m.unique_id = std::string(id);
    m.event = std::string(event);
    return m;
}

Result<void> check_id(std::string_view id) {
    if (id.empty() || id.size() > 256) return fail(Errc::invalid_argument, "container: object id of 1 to 256 bytes");
    return mesh::ok();
}
}  // namespace

Result<std::uint64_t> Catalog::put(std::string_view id, std::span<const std::uint8_t> data, std::string_view content_type) {
    MESH_TRY(check_id(id));
    const auto st = c_.state(id);
    return c_.append(data, object_meta(id, !st || st->deleted ? "New" : "Update", content_type));
}

Result<std::uint64_t> Catalog::put_all(std::span<const Put> objects) {
    std::vector<ContentMeta> metas;
    metas.reserve(objects.size());
    std::unordered_set<std::string_view> earlier;  // an id put twice is New at most once
    for (const auto& o : objects) {
        MESH_TRY(check_id(o.id));
        const auto st = c_.state(o.id);
        const bool first_here = earlier.insert(o.id).second;
        metas.push_back(object_meta(o.id, (!st || st->deleted) && first_here ? "New" : "Update", o.content_type));
    }
    std::vector<Container::NewFrame> frames;
    frames.reserve(objects.size());
    for (std::size_t i = 0; i < objects.size(); ++i) frames.push_back(Container::NewFrame{objects[i].data, &metas[i]});
    return c_.append_all(frames);
}

Result<std::uint64_t> Catalog::remove(std::string_view id) {
    MESH_TRY(check_id(id));
    const auto st = c_.state(id);
    if (!st || st->deleted) return fail(Errc::not_found, "catalog: no object " + std::string(id.substr(0, 64)));
    return c_.append({}, object_meta(id, "Delete", "application/json"));
}

Result<mesh::Bytes> Catalog::get(std::string_view id) const {
    const auto st = c_.state(id);
    if (!st || st->deleted) return fail(Errc::not_found, "catalog: no object " + std::string(id.substr(0, 64)));
    MESH_ASSIGN_OR_RETURN(ContainerFrame f, c_.read(st->frame));
    return std::move(f.payload);
}

std::vector<std::string> Catalog::ids() const {
    std::vector<std::string> out;
    for (const auto& [k, st] : c_.objects()) {
        if (!st.deleted) out.push_back(k);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<std::uint64_t> Spool::post(std::string_view id, std::span<const std::uint8_t> message, std::string_view content_type) {
    MESH_TRY(check_id(id));
    if (c_.find(id)) return fail(Errc::already_exists, "spool: message " + std::string(id.substr(0, 64)) + " exists");
    return c_.append(message, object_meta(id, "New", content_type));
}

Result<std::uint64_t> Spool::mark(std::string_view id, std::string_view status) {
    MESH_TRY(check_id(id));
    if (status.empty() || status.size() > 64) return fail(Errc::invalid_argument, "spool: status of 1 to 64 bytes");
    if (!c_.find(id)) return fail(Errc::not_found, "spool: no message " + std::string(id.substr(0, 64)));
    return c_.append(mesh::as_bytes(status), object_meta(id, "Update", "text/plain"));
}

Result<std::vector<Spool::Message>> Spool::messages() const {
    std::vector<Message> out;
    std::unordered_map<std::string, std::size_t> at;
    const std::uint64_t n = c_.frames();
    for (std::uint64_t i = 1; i < n; ++i) {
        MESH_ASSIGN_OR_RETURN(const ContainerFrame f, c_.read(i));
        if (!f.meta.unique_id) continue;
        if (f.meta.event == "New") {
            at[*f.meta.unique_id] = out.size();
            out.push_back(Message{*f.meta.unique_id, i, "Unread"});
        } else if (const auto it = at.find(*f.meta.unique_id); it != at.end()) {
            out[it->second].status.assign(f.payload.begin(), f.payload.end());
        }
    }
    return out;
}

}  // namespace dare
