// recrypt dare ...: encode, decode and inspect DARE envelopes.
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <dare/envelope.hpp>

#include "cli.hpp"
#include "cli_io.hpp"
#include "key_store.hpp"
#include "progress.hpp"

namespace recrypt_cli {
namespace {
namespace fs = std::filesystem;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

constexpr std::size_t kIoBlock = std::size_t{256} << 10;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

/// An output file that appears only when commit() succeeds: data goes to a temporary file in
/// the same directory, which is renamed into place. "-" is standard output (streamed).
class Output final {
public:
    static Result<std::unique_ptr<Output>> create(const std::string& path, bool force, unsigned mode) {
        auto out = std::unique_ptr<Output>(new Output());
        out->path_ = path;
        if (path == "-") {
            out->fd_ = STDOUT_FILENO;
            return out;
        }
        if (!force && ::access(path.c_str(), F_OK) == 0) {
            return fail(Errc::already_exists, path + ": exists (use --force to replace it)");
        }
        out->tmp_ = path + ".part" + std::to_string(::getpid());
        out->fd_ = ::open(out->tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (out->fd_ < 0) return fail(Errc::io, errno_text(path));
        return out;
    }
    ~Output() {
        if (!tmp_.empty() && !committed_) {
            ::close(fd_);
            ::unlink(tmp_.c_str());
        }
    }
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    Result<void> write(std::span<const std::uint8_t> data) {
        if (buffer_.empty() && data.size() >= kIoBlock / 4) return write_now(data);  // large: no copy
        buffer_.insert(buffer_.end(), data.begin(), data.end());
        if (buffer_.size() >= kIoBlock) return flush();
        return mesh::ok();
    }
    Result<void> flush() {
        auto r = write_now(buffer_);
        buffer_.clear();
        return r;
    }
    /// Flushes and renames the file into place. No fsync: the rename makes the file appear
    /// whole or not at all; durability is the file system's (as for cp, age, gpg).
    Result<void> commit() {
        MESH_TRY(flush());
        if (tmp_.empty()) return mesh::ok();
        if (::close(fd_) != 0) return fail(Errc::io, errno_text(path_));
        if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
            ::unlink(tmp_.c_str());
            committed_ = true;
            return fail(Errc::io, errno_text(path_));
        }
        committed_ = true;
        return mesh::ok();
    }

private:
    Output() = default;
    Result<void> write_now(std::span<const std::uint8_t> data) {
        dare::FdSink sink(fd_);
        auto r = sink.write(data);
        if (!r) return fail(Errc::io, (path_ == "-" ? std::string("standard output") : path_) + ": " + r.error().message);
        return mesh::ok();
    }
    std::string path_;
    std::string tmp_;
    int fd_ = -1;
    bool committed_ = false;
    mesh::Bytes buffer_;
};

class OutputSink final : public dare::Sink {
public:
    explicit OutputSink(Output& out) : out_(out) {}
    Result<void> write(std::span<const std::uint8_t> data) override { return out_.write(data); }

private:
    Output& out_;
};

/// A read-only private mapping of a regular file; release_before() drops pages already used.
class MappedInput final {
public:
    static std::unique_ptr<MappedInput> map(int fd, std::uint64_t size) {
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) return nullptr;
        ::madvise(p, size, MADV_SEQUENTIAL);
        return std::unique_ptr<MappedInput>(new MappedInput(static_cast<std::uint8_t*>(p), size));
    }
    ~MappedInput() { ::munmap(base_, size_); }
    MappedInput(const MappedInput&) = delete;
    MappedInput& operator=(const MappedInput&) = delete;
    [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return {base_, size_}; }
    /// Every 8 MiB, drops the pages before `offset` from this process (the data is written).
    void release_before(std::uint64_t offset) {
        constexpr std::uint64_t kStep = std::uint64_t{8} << 20;
        const std::uint64_t upto = offset / kStep * kStep;
        if (upto > released_) {
            ::madvise(base_ + released_, upto - released_, MADV_DONTNEED);
            released_ = upto;
        }
    }

private:
    MappedInput(std::uint8_t* base, std::uint64_t size) : base_(base), size_(size) {}
    std::uint8_t* base_;
    std::uint64_t size_;
    std::uint64_t released_ = 0;
};

std::string rfc3339(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Result<void> refuse_terminal(const std::string& out) {
    if (out == "-" && ::isatty(STDOUT_FILENO) == 1) {
        return fail(Errc::invalid_argument, "refusing to write binary data to a terminal; use -o FILE");
    }
    return mesh::ok();
}

struct EncodeArgs {
    std::string file;
    std::string output;
    std::vector<std::string> to;
    std::string sign;
    bool sign_set = false;
    std::string content_type = "application/octet-stream";
    std::string aead = "xchacha20-poly1305";
    bool force = false;
    /// Read errors name the input; the rest speak for themselves.
    [[nodiscard]] std::string error_prefix(Errc code) const { return code == Errc::io ? file + ": " : ""; }
};

Result<void> run_encode(const EncodeArgs& a, const std::string& home) {
    MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(home));
    dare::EncodeOptions o;
    for (const auto& spec : a.to) {
        auto k = store.resolve(spec);
        if (!k) return fail(k.error().code, "--to " + spec + ": " + k.error().message);
        o.recipients.push_back(k->encryption);
    }
    std::optional<StoredKey> signer;
    if (a.sign_set) {
        if (a.sign.empty()) {
            MESH_ASSIGN_OR_RETURN(auto keys, store.list());
            std::vector<StoredKey> mine;
            for (auto& k : keys) {
                if (k.signature_private) mine.push_back(std::move(k));
            }
            if (mine.size() != 1) {
                return fail(Errc::invalid_argument, std::to_string(mine.size()) +
                                                        " private keys in the store; name one with --sign NAME");
            }
            signer.emplace(std::move(mine[0]));
        } else {
            auto k = store.resolve(a.sign);
            if (!k) return fail(k.error().code, "--sign " + a.sign + ": " + k.error().message);
            if (!k->signature_private) return fail(Errc::invalid_argument, "--sign " + a.sign + ": only its public key is here");
            signer.emplace(std::move(k).value());
        }
        o.signers.push_back(&*signer->signature_private);
    }
    if (a.aead == "aes256-gcm") o.aead = dare::Aead::aes256_gcm;
    return encode_file(std::move(o), a.file, a.output, a.force, a.content_type);
}
}  // namespace

Result<void> encode_file(dare::EncodeOptions o, const std::string& file, const std::string& output, bool force,
                         const std::string& content_type) {
    MESH_ASSIGN_OR_RETURN(const Input input, Input::open(file));
    const int in = input.fd();
    struct stat st {};
    std::uint64_t total = 0;
    dare::ContentMeta meta;
    meta.content_type = content_type;
    if (file != "-" && ::fstat(in, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return fail(Errc::invalid_argument, file + ": is a directory");
        total = static_cast<std::uint64_t>(st.st_size);
        meta.filename = fs::path(file).filename().string();
        meta.modified = rfc3339(st.st_mtime);
    }
    o.meta = meta;

    const std::string out_path = !output.empty() ? output : file == "-" ? "-" : file + ".dare";
    MESH_TRY(refuse_terminal(out_path));
    MESH_ASSIGN_OR_RETURN(auto out, Output::create(out_path, force, 0644));
    OutputSink sink(*out);
    MESH_ASSIGN_OR_RETURN(dare::EnvelopeWriter w, dare::EnvelopeWriter::begin(o, mesh::system_random(), sink));
    Progress progress("encode", total);
    // A regular file is mapped and sealed in place (no copy through the kernel); pages already
    // written are released as we go, so memory stays bounded. Anything else is read.
    std::unique_ptr<MappedInput> mapped;
    if (total > 0) mapped = MappedInput::map(in, total);
    dare::FdSource fd_src(in);
    std::optional<dare::SpanSource> span_src;
    if (mapped) span_src.emplace(mapped->bytes());
    dare::Source& src = span_src ? static_cast<dare::Source&>(*span_src) : fd_src;
    std::uint64_t written = 0;
    auto all = w.write_all(src, 2, [&](std::size_t n) {
        written += n;
        progress.advance(n);
        if (mapped) mapped->release_before(written);
    });
    if (!all) return fail(all.error().code, (all.error().code == Errc::io ? file + ": " : std::string()) + all.error().message);
    MESH_TRY(w.finish());
    progress.done();
    return out->commit();
}

namespace {
std::string describe_signers(const dare::Opened& info) {
    std::string note;
    for (const auto& kid : info.unknown_signers) note += "note: signature by unknown key " + kid + " not verified\n";
    return note;
}

// A DARE file in the JSON form starts with '{' or '['; the binary form with its prefix.
Result<bool> is_json_form(int fd, std::vector<std::uint8_t>& head) {
    head.resize(1);
    dare::FdSource src(fd);
    MESH_ASSIGN_OR_RETURN(const std::size_t n, src.read(head));
    head.resize(n);
    return n == 1 && (head[0] == '{' || head[0] == '[');
}

// A Source that first replays bytes already read.
class PrefixedSource final : public dare::Source {
public:
    PrefixedSource(std::vector<std::uint8_t> head, int fd) : head_(std::move(head)), fd_(fd) {}
    Result<std::size_t> read(std::span<std::uint8_t> out) override {
        if (pos_ < head_.size()) {
            const std::size_t n = std::min(out.size(), head_.size() - pos_);
            std::copy_n(head_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
            pos_ += n;
            return n;
        }
        return fd_.read(out);
    }

private:
    std::vector<std::uint8_t> head_;
    std::size_t pos_ = 0;
    dare::FdSource fd_;
};

Result<std::string> read_rest(dare::Source& src, std::size_t limit) {
    std::string text;
    std::vector<std::uint8_t> buf(65536);
    for (;;) {
        MESH_ASSIGN_OR_RETURN(const std::size_t n, src.read(buf));
        if (n == 0) return text;
        text.append(reinterpret_cast<const char*>(buf.data()), n);
        if (text.size() > limit) return fail(Errc::limit_exceeded, "JSON envelope larger than 64 MiB");
    }
}

struct DecodeArgs {
    std::string file;
    std::string output;
    bool force = false;
};

Result<void> run_decode(const DecodeArgs& a, const std::string& home) {
    MESH_ASSIGN_OR_RETURN(auto keys, load_store_keys(home));
    const dare::OpenOptions options{&keys->agreement, keys->lookup(), false};
    std::string out_path = a.output;
    if (out_path.empty()) {
        if (a.file == "-") {
            out_path = "-";
        } else if (a.file.size() > 5 && a.file.ends_with(".dare")) {
            out_path = a.file.substr(0, a.file.size() - 5);
        } else {
            return fail(Errc::invalid_argument, a.file + ": does not end in .dare; name the output with -o");
        }
    }
    return decode_file(options, a.file, out_path, a.force);
}
}  // namespace

Result<void> decode_file(const dare::OpenOptions& options, const std::string& file, const std::string& out_path, bool force) {
    MESH_ASSIGN_OR_RETURN(const Input input, Input::open(file));
    const int in = input.fd();
    struct stat st {};
    const std::uint64_t total = (file != "-" && ::fstat(in, &st) == 0) ? static_cast<std::uint64_t>(st.st_size) : 0;
    std::vector<std::uint8_t> head;
    MESH_ASSIGN_OR_RETURN(const bool json, is_json_form(in, head));
    PrefixedSource src(std::move(head), in);
    MESH_ASSIGN_OR_RETURN(auto out, Output::create(out_path, force, 0600));

    if (json) {
        MESH_ASSIGN_OR_RETURN(const std::string text, read_rest(src, std::size_t{64} << 20));
        MESH_ASSIGN_OR_RETURN(const dare::Decoded d, dare::decode_json(text, options));
        MESH_TRY(out->write(d.payload.expose_secret()));
        MESH_TRY(out->commit());
        const std::string note = describe_signers(d.info);
        if (!note.empty()) std::fputs(note.c_str(), stderr);
        return mesh::ok();
    }
    MESH_ASSIGN_OR_RETURN(dare::EnvelopeReader r, dare::EnvelopeReader::open(src, options));
    Progress progress("decode", total);
    OutputSink sink(*out);
    MESH_TRY(r.read_all(sink, 2, [&](std::size_t n) { progress.advance(n); }));
    MESH_TRY(r.finish());
    progress.done();
    MESH_TRY(out->commit());
    const std::string note = describe_signers(r.info());
    if (!note.empty()) std::fputs(note.c_str(), stderr);
    return mesh::ok();
}

namespace {
Result<void> run_info(const std::string& file) {
    MESH_ASSIGN_OR_RETURN(const Input input, Input::open(file));
    const int in = input.fd();
    std::vector<std::uint8_t> head;
    MESH_ASSIGN_OR_RETURN(const bool json, is_json_form(in, head));
    PrefixedSource src(std::move(head), in);
    dare::Header header;
    if (json) {
        MESH_ASSIGN_OR_RETURN(const std::string text, read_rest(src, std::size_t{64} << 20));
        MESH_ASSIGN_OR_RETURN(const dare::Json j, dare::parse_json(text, dare::JsonLimits{std::size_t{64} << 20, 16}));
        const dare::Json* parts = j.is_object() ? j.find("DareEnvelope") : &j;
        if (parts == nullptr || !parts->is_array() || parts->as_array().empty()) {
            return fail(Errc::malformed, "not a DARE envelope");
        }
        MESH_ASSIGN_OR_RETURN(header, dare::header_from_json(parts->as_array()[0], "$.DareEnvelope[0]"));
    } else {
        MESH_ASSIGN_OR_RETURN(header, dare::read_header(src));
    }
    dare::JsonObject info{{"Form", dare::Json(json ? "json" : "binary")}, {"Header", dare::to_json(header)}};
    return print_line(dare::to_json_pretty(dare::Json(std::move(info))));
}
}  // namespace

void add_dare_commands(CLI::App& app, Context& ctx) {
    auto* dare_cmd = app.add_subcommand("dare", "DARE envelopes and containers");
    dare_cmd->require_subcommand(1);
    add_container_commands(*dare_cmd, ctx);
    {
        auto a = std::make_shared<EncodeArgs>();
        auto* c = dare_cmd->add_subcommand("encode", "Make an envelope of a file: encrypted with --to, signed with --sign");
        c->add_option("FILE", a->file, "file to enclose, - for standard input")->required();
        c->add_option("-o,--output", a->output, "output file (default FILE.dare; - for standard output)");
        c->add_option("--to", a->to, "recipient: a key name, a key file or a key UDF (repeatable)");
        auto* sign = c->add_option("--sign", a->sign, "sign with this key (default: the only private key)")->expected(0, 1);
        c->add_option("--content-type", a->content_type, "content type recorded in the envelope")->capture_default_str();
        c->add_option("--aead", a->aead, "xchacha20-poly1305 or aes256-gcm")
            ->check(CLI::IsMember({"xchacha20-poly1305", "aes256-gcm"}))->capture_default_str();
        c->add_flag("--force", a->force, "replace an existing output file");
        c->footer("Examples:\n  recrypt dare encode report.pdf --to bob --sign\n"
                  "  tar c dir | recrypt dare encode - --to bob.pub.json -o dir.tar.dare");
        c->callback(ctx.bind("dare encode", [a, sign, &ctx] {
            a->sign_set = sign->count() > 0;
            return run_encode(*a, ctx.home);
        }));
    }
    {
        auto a = std::make_shared<DecodeArgs>();
        auto* c = dare_cmd->add_subcommand("decode", "Open an envelope with a key from the store; checks signatures");
        c->add_option("FILE", a->file, "envelope, - for standard input")->required();
        c->add_option("-o,--output", a->output, "output file (default FILE without .dare; - for standard output)");
        c->add_flag("--force", a->force, "replace an existing output file");
        c->footer("The output file appears only once the whole envelope has verified.\n"
                  "Example:\n  recrypt dare decode report.pdf.dare");
        c->callback(ctx.bind("dare decode", [a, &ctx] { return run_decode(*a, ctx.home); }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto* c = dare_cmd->add_subcommand("info", "Show an envelope's header as JSON (no keys needed, no secrets shown)");
        c->add_option("FILE", *file, "envelope, - for standard input")->required();
        c->footer("Example:\n  recrypt dare info report.pdf.dare");
        c->callback(ctx.bind("dare info", [file] { return run_info(*file); }));
    }
}

}  // namespace recrypt_cli
