#include <dare/container.hpp>

#include <array>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dare/sequence.hpp>

namespace dare {
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
}  // namespace

std::string_view container_type_name(ContainerType t) noexcept {
    switch (t) {
        case ContainerType::list: return "List";
        case ContainerType::digest: return "Digest";
        case ContainerType::chain: return "Chain";
    }
    return "List";
}

struct Container::State {
    std::string path;
    int fd = -1;
    ContainerType type = ContainerType::list;
    ContainerOptions options;
    std::mutex writer;                                 // one write at a time
    // group commit: frames written but not yet synced, in order (guarded by `writer`)
    struct Pending {
        FrameInfo frame;
        std::optional<std::string> id;
        bool deleted;
    };
    std::vector<Pending> pending;
    std::uint64_t written_seq = 0;                     // guarded by `writer`
    std::uint64_t next_index = 1;                      // guarded by `writer`: the next frame's index
    std::uint64_t end = 0;                             // guarded by `writer`: where it starts
    std::mutex sync_m;                                 // synced_seq, syncing
    std::condition_variable synced_cv;
    std::uint64_t synced_seq = 0;
    bool syncing = false;
    mutable std::shared_mutex m;                       // frames, ids, chain
    std::vector<FrameInfo> frames;                     // frame 0 included
    std::unordered_map<std::string, Container::ObjectState> ids;
    std::optional<mesh::Digest512> chain;              // ChainDigest of the last frame
    ~State() {
        if (fd >= 0) ::close(fd);
    }

    [[nodiscard]] bool digests() const noexcept { return type != ContainerType::list; }

    // The header and trailer of frame n, the frame bytes in `out`.
    Result<mesh::Bytes> frame_bytes(const FrameInfo& f) const {
        mesh::Bytes b(static_cast<std::size_t>(f.end - f.start));
        MESH_TRY(pread_all(fd, f.start, b, path));
        return b;
    }
};

Container::Container(std::unique_ptr<State> s) : s_(std::move(s)) {}
Container::Container(Container&&) noexcept = default;
Container& Container::operator=(Container&&) noexcept = default;
Container::~Container() = default;

ContainerType Container::type() const noexcept { return s_->type; }

std::uint64_t Container::frames() const {
    const std::shared_lock lock(s_->m);
    return s_->frames.size();
}

namespace {
mesh::Bytes frame0(ContainerType type) {
    const Json info(JsonObject{{"SequenceInfo", Json(JsonObject{{"DataEncoding", Json("JSON")},
                                                                {"ContainerType", Json(container_type_name(type))},
                                                                {"Index", Json(0)}})}});
    const std::string header = sequence::reference_json(info);
    const mesh::Bytes empty;
    const std::span<const std::uint8_t> recs[] = {mesh::as_bytes(header), empty, empty};
    return sequence::encode_frame(recs);
}

struct ParsedFrame {
    std::uint64_t index;
    ContentMeta meta;
    std::optional<mesh::Digest512> header_digest;
    std::optional<mesh::Digest512> payload_digest;
    std::optional<mesh::Digest512> chain_digest;
};

Result<mesh::Digest512> digest_member(ObjectReader& r, std::string_view name) {
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes b, r.fixed_bytes(name, mesh::kSha512Bytes));
    mesh::Digest512 d{};
    std::copy(b.begin(), b.end(), d.begin());
    return d;
}

// Frame n's header and trailer, checked against what the container type requires.
Result<Json> frame_json(std::span<const std::uint8_t> text, const std::string& where) {
    auto j = sequence::parse_reference_json(text_of(text));
    if (!j) return fail(j.error().code, where + ": " + j.error().message);
    return j;
}

Result<ParsedFrame> parse_frame(const sequence::FrameView& f, ContainerType type, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(const Json h, frame_json(f.header, where + " header"));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(h, where + ".header"));
    ParsedFrame p{};
    MESH_ASSIGN_OR_RETURN(const auto meta, r.optional_bytes("ContentMetaData", 64 * 1024));
    if (meta) {
        MESH_ASSIGN_OR_RETURN(const Json mj, frame_json(*meta, where + " ContentMetaData"));
        MESH_ASSIGN_OR_RETURN(p.meta, content_meta_from_json(mj, where + ".ContentMetaData"));
    }
    MESH_ASSIGN_OR_RETURN(const Json* info, r.value("SequenceInfo"));
    MESH_TRY(r.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader si, ObjectReader::open(*info, where + ".SequenceInfo"));
    MESH_ASSIGN_OR_RETURN(p.index, si.uint("Index"));
    MESH_TRY(si.finish());
    if (type == ContainerType::list) {
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
    MESH_TRY(tr.finish());
    return p;
}

// Checks a parsed frame's digests against its header, payload and the previous chain value.
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
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes end9, bytes_at(size - std::min<std::uint64_t>(size - pos, 9), static_cast<std::size_t>(std::min<std::uint64_t>(size - pos, 9))));
    const std::uint8_t tag = end9.back();
    // the leading tag and length at pos
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes lead9, bytes_at(pos, static_cast<std::size_t>(std::min<std::uint64_t>(size - pos, 9))));
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

Result<void> check_frame(const ParsedFrame& p, const sequence::FrameView& f, ContainerType type,
                         std::optional<mesh::Digest512>& chain, const std::string& where) {
    if (type == ContainerType::list) return mesh::ok();
    if (!mesh::secure_equal(mesh::sha512({f.header}), *p.header_digest)) {
        return fail(Errc::auth_failed, where + ": header digest mismatch");
    }
    const mesh::Digest512 pd = mesh::sha512({f.payload});
    if (!mesh::secure_equal(pd, *p.payload_digest)) return fail(Errc::auth_failed, where + ": payload digest mismatch");
    if (type == ContainerType::chain) {
        const mesh::Digest512 cd = sequence::combine_digest(chain, pd);
        if (!mesh::secure_equal(cd, *p.chain_digest)) return fail(Errc::auth_failed, where + ": chain digest mismatch");
        chain = cd;
    }
    return mesh::ok();
}
}  // namespace

Result<Container> Container::create(const std::string& path, ContainerType type, ContainerOptions options) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return fail(errno == EEXIST ? Errc::already_exists : Errc::io, errno_text(path));
    auto s = std::make_unique<State>();
    s->path = path;
    s->fd = fd;
    s->type = type;
    s->options = options;
    const mesh::Bytes f0 = frame0(type);
    MESH_TRY(write_all(fd, f0, path));
    if (::fsync(fd) != 0) return fail(Errc::io, errno_text(path));
    MESH_TRY(sync_dir(path));
    s->frames.push_back(FrameInfo{0, f0.size()});
    s->next_index = 1;
    s->end = f0.size();
    return Container(std::move(s));
}

Result<Container> Container::open(const std::string& path, ContainerOptions options, OpenReport* report) {
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_text(path));
    auto s = std::make_unique<State>();
    s->path = path;
    s->fd = fd;
    s->options = options;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(Errc::io, errno_text(path));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    // Frames are read one at a time into a reused buffer: memory stays at one frame.
    mesh::Bytes buf;
    const std::uint64_t max_frame = s->options.max_frame_bytes + 64 * 1024 + 32;
    const auto next_frame = [&](std::uint64_t pos) -> Result<sequence::FrameView> {
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
    };

    // frame 0
    if (size == 0) return fail(Errc::malformed, path + ": not a DARE container (empty)");
    auto f0 = next_frame(0);
    if (!f0) return fail(Errc::malformed, path + ": not a DARE container (" + f0.error().message + ")");
    {
        // Frame 0 has no digest: it is read strictly, so any change to it is noticed.
        const std::string where = path + ": frame 0";
        MESH_ASSIGN_OR_RETURN(const Json h, frame_json(f0->header, where));
        MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(h, where));
        MESH_ASSIGN_OR_RETURN(const Json* info, r.value("SequenceInfo"));
        MESH_TRY(r.finish());
        MESH_ASSIGN_OR_RETURN(ObjectReader si, ObjectReader::open(*info, where + ".SequenceInfo"));
        MESH_ASSIGN_OR_RETURN(const std::string encoding, si.string("DataEncoding", 16));
        MESH_ASSIGN_OR_RETURN(const std::string type, si.string("ContainerType", 32));
        MESH_ASSIGN_OR_RETURN(const std::uint64_t index, si.uint("Index"));
        MESH_TRY(si.finish());
        if (encoding != "JSON" || index != 0) return fail(Errc::malformed, where + ": not JSON frame 0");
        if (!f0->payload.empty() || (f0->trailer && !f0->trailer->empty())) {
            return fail(Errc::malformed, where + ": unexpected payload or trailer");
        }
        if (type == "List") {
            s->type = ContainerType::list;
        } else if (type == "Digest") {
            s->type = ContainerType::digest;
        } else if (type == "Chain") {
            s->type = ContainerType::chain;
        } else {
            return fail(Errc::unsupported, where + ": container type '" + type + "' not supported");
        }
    }
    s->frames.push_back(FrameInfo{0, f0->end});
    std::uint64_t pos = f0->end;
    while (pos < size) {
        auto f = next_frame(pos);
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
        const std::uint64_t n = s->frames.size();
        const std::string where = path + ": frame " + std::to_string(n);
        MESH_ASSIGN_OR_RETURN(const ParsedFrame p, parse_frame(*f, s->type, where));
        if (p.index != n) return fail(Errc::malformed, where + ": says it is frame " + std::to_string(p.index));
        MESH_TRY(check_frame(p, *f, s->type, s->chain, where));
        if (p.meta.unique_id) s->ids[*p.meta.unique_id] = ObjectState{n, p.meta.event == "Delete"};
        s->frames.push_back(FrameInfo{f->start, f->end});
        pos = f->end;
    }
    s->next_index = s->frames.size();
    s->end = s->frames.back().end;
    if (report != nullptr) report->frames = s->frames.size();
    return Container(std::move(s));
}

Result<std::uint64_t> Container::append(std::span<const std::uint8_t> payload, const ContentMeta& meta) {
    State& s = *s_;
    if (payload.size() > s.options.max_frame_bytes) {
        return fail(Errc::limit_exceeded, "container: payload of " + std::to_string(payload.size()) + " bytes exceeds the limit");
    }
    std::unique_lock writer(s.writer);
    // Only appends change frames, ids and chain, and they hold `writer`: reading them here
    // needs no lock; readers are locked out only while a new frame is published.
    const std::uint64_t n = s.next_index;
    const std::string meta_json = to_json(to_json(meta));
    const Json header(JsonObject{{"ContentMetaData", Json(mesh::base64url_encode(mesh::as_bytes(meta_json)))},
                                 {"SequenceInfo", Json(JsonObject{{"Index", Json(n)}})}});
    const std::string h = sequence::reference_json(header, {"ContentMetaData"});
    std::string trailer;
    std::optional<mesh::Digest512> chain = s.chain;
    if (s.digests()) {
        const mesh::Digest512 pd = mesh::sha512({payload});
        JsonObject t{{"HeaderDigest", Json(mesh::base64url_encode(mesh::sha512({mesh::as_bytes(h)})))},
                     {"PayloadDigest", Json(mesh::base64url_encode(pd))}};
        if (s.type == ContainerType::chain) {
            chain = sequence::combine_digest(s.chain, pd);
            t.emplace_back("ChainDigest", Json(mesh::base64url_encode(*chain)));
        }
        trailer = sequence::reference_json(Json(std::move(t)), {"HeaderDigest", "PayloadDigest", "ChainDigest"});
    }
    std::vector<std::span<const std::uint8_t>> recs = {mesh::as_bytes(h), payload};
    if (!trailer.empty()) recs.push_back(mesh::as_bytes(trailer));
    const mesh::Bytes frame = sequence::encode_frame(recs);
    const std::uint64_t start = s.end;
    auto w = write_all(s.fd, frame, s.path);
    if (!w) {
        // A partial frame must not stay in front of the next append.
        if (::ftruncate(s.fd, static_cast<off_t>(start)) != 0) {
            return fail(Errc::io, s.path + ": append failed and the partial frame could not be removed");
        }
        return std::move(w).error();
    }
    s.chain = chain;
    s.next_index = n + 1;
    s.end = start + frame.size();
    if (s.options.sync != SyncPolicy::group) {
        if (s.options.sync == SyncPolicy::every_append && ::fdatasync(s.fd) != 0) return fail(Errc::io, errno_text(s.path));
        const std::unique_lock publish(s.m);
        s.frames.push_back(FrameInfo{start, start + frame.size()});
        if (meta.unique_id) s.ids[*meta.unique_id] = ObjectState{n, meta.event == "Delete"};
        return n;
    }
    // Group commit: queue the frame, then wait for (or lead) a sync that covers it.
    s.pending.push_back(State::Pending{FrameInfo{start, start + frame.size()}, meta.unique_id, meta.event == "Delete"});
    const std::uint64_t mine = ++s.written_seq;
    writer.unlock();
    std::unique_lock sync(s.sync_m);
    while (s.synced_seq < mine) {
        if (s.syncing) {
            s.synced_cv.wait(sync);
            continue;
        }
        s.syncing = true;
        sync.unlock();
        std::vector<State::Pending> batch;
        {
            const std::lock_guard take(s.writer);  // everything written so far goes in this sync
            batch.swap(s.pending);
        }
        const std::uint64_t covered = s.synced_seq + batch.size();
        const bool synced = ::fdatasync(s.fd) == 0;
        {
            const std::unique_lock publish(s.m);
            for (auto& p : batch) {
                if (p.id) s.ids[*p.id] = ObjectState{s.frames.size(), p.deleted};
                s.frames.push_back(p.frame);
            }
        }
        sync.lock();
        s.syncing = false;
        s.synced_seq = covered;
        s.synced_cv.notify_all();
        if (!synced) return fail(Errc::io, errno_text(s.path));
    }
    return n;
}

Result<ContainerFrame> Container::read(std::uint64_t index) const {
    const State& s = *s_;
    FrameInfo fi{};
    std::optional<mesh::Digest512> prev_chain;
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
    // the chain link is checked by open() and verify(); here the frame's own digests
    MESH_TRY(check_frame(p, f, s.type == ContainerType::chain ? ContainerType::digest : s.type, prev_chain, where));
    return ContainerFrame{index, p.meta, mesh::Bytes(f.payload.begin(), f.payload.end())};
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
    const std::string tmp = s.path + ".compact";
    ::unlink(tmp.c_str());  // a leftover of an interrupted compaction holds nothing we need
    auto fresh = Container::create(tmp, s.type, ContainerOptions{SyncPolicy::none, s.options.max_frame_bytes});
    if (!fresh) return std::move(fresh).error();
    struct Cleanup {
        const std::string& path;
        bool armed = true;
        ~Cleanup() {
            if (armed) ::unlink(path.c_str());
        }
    } cleanup{tmp};

    // 1. the live objects as of now, in the order they were last written
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
    }
    // 2. stop appends, copy what arrived meanwhile, and switch files
    std::unique_lock writer(s.writer);
    while (!s.pending.empty()) {  // group commit: let queued frames be synced and published
        writer.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        writer.lock();
    }
    const std::uint64_t total = frames();
    for (std::uint64_t i = copied_upto; i < total; ++i) {
        MESH_ASSIGN_OR_RETURN(const ContainerFrame f, read(i));
        MESH_TRY(fresh->append(f.payload, f.meta));
    }
    State& n = *fresh->s_;
    if (::fsync(n.fd) != 0) return fail(Errc::io, errno_text(tmp));
    if (::rename(tmp.c_str(), s.path.c_str()) != 0) return fail(Errc::io, errno_text(s.path));
    cleanup.armed = false;
    MESH_TRY(sync_dir(s.path));
    {
        const std::unique_lock publish(s.m);
        ::close(s.fd);
        s.fd = n.fd;
        n.fd = -1;
        s.frames = std::move(n.frames);
        s.ids = std::move(n.ids);
        s.chain = n.chain;
        s.next_index = n.next_index;
        s.end = n.end;
    }
    return mesh::ok();
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

Result<void> Container::verify() const {
    const State& s = *s_;
    std::vector<FrameInfo> frames;
    {
        const std::shared_lock lock(s.m);
        frames = s.frames;
    }
    std::optional<mesh::Digest512> chain;
    for (std::uint64_t n = 1; n < frames.size(); ++n) {
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes bytes, s.frame_bytes(frames[n]));
        const std::string where = s.path + ": frame " + std::to_string(n);
        MESH_ASSIGN_OR_RETURN(const sequence::FrameView f, sequence::read_frame(bytes, 0));
        MESH_ASSIGN_OR_RETURN(const ParsedFrame p, parse_frame(f, s.type, where));
        if (p.index != n) return fail(Errc::malformed, where + ": says it is frame " + std::to_string(p.index));
        MESH_TRY(check_frame(p, f, s.type, chain, where));
    }
    return mesh::ok();
}

}  // namespace dare
