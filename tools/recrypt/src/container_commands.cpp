// recrypt dare container ...: create, append to, list, read, verify and compact containers.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <unistd.h>
#include <string>

#include <CLI/CLI.hpp>

#include <dare/container.hpp>
#include <dare/json.hpp>

#include "cli.hpp"
#include "cli_io.hpp"
#include "key_store.hpp"

namespace recrypt_cli {
namespace {
using mesh::Errc;
using mesh::fail;
using mesh::Result;


Result<mesh::Bytes> read_input(const std::string& path) {
    MESH_ASSIGN_OR_RETURN(const Input in, Input::open(path));
    mesh::Bytes out;
    std::uint8_t buf[65536];
    for (;;) {
        const ssize_t n = ::read(in.fd(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(Errc::io, path + ": " + std::strerror(errno));
        if (n == 0) return out;
        out.insert(out.end(), buf, buf + n);
        if (out.size() > (std::size_t{64} << 20)) return fail(Errc::limit_exceeded, path + ": larger than 64 MiB");
    }
}

// What opening a container takes from the command line: the store's private keys (for
// encrypted containers), recipients (--to) and a signer (--sign).
struct Access {
    std::unique_ptr<StoreKeys> keys;
    std::optional<dare::SignaturePrivateKey> signer;
    dare::ContainerOptions options;
};

Result<std::unique_ptr<Access>> access(const std::string& home, const std::vector<std::string>& to, const std::string& sign) {
    auto a = std::make_unique<Access>();
    // Plaintext containers need no keys: a store that does not exist is not created.
    const auto dir = KeyStore::directory(home);
    if (!to.empty() || !sign.empty() || (dir && ::access(dir->c_str(), F_OK) == 0)) {
        MESH_ASSIGN_OR_RETURN(a->keys, load_store_keys(home));
    } else {
        a->keys = std::make_unique<StoreKeys>();
    }
    a->options.keys = &a->keys->agreement;
    if (!to.empty() || !sign.empty()) {
        MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(home));
        for (const auto& spec : to) {
            auto k = store.resolve(spec);
            if (!k) return fail(k.error().code, "--to " + spec + ": " + k.error().message);
            a->options.recipients.push_back(k->encryption);
        }
        if (!sign.empty()) {
            auto k = store.resolve(sign);
            if (!k) return fail(k.error().code, "--sign " + sign + ": " + k.error().message);
            if (!k->signature_private) return fail(Errc::invalid_argument, "--sign " + sign + ": a public key cannot sign");
            a->signer = std::move(k->signature_private);
            a->options.signer = &*a->signer;
            a->options.sign_interval = 1;
        }
    }
    return a;
}

Result<dare::Container> open_reporting(const std::string& file, const dare::ContainerOptions& options) {
    dare::OpenReport report;
    MESH_ASSIGN_OR_RETURN(dare::Container c, dare::Container::open(file, options, &report));
    if (report.truncated_bytes > 0) {
        std::fprintf(stderr, "recrypt: note: %s: cut a torn tail of %llu bytes after frame %llu\n", file.c_str(),
                     static_cast<unsigned long long>(report.truncated_bytes),
                     static_cast<unsigned long long>(report.frames - 1));
    }
    return c;
}

struct AppendArgs {
    std::string file;
    std::vector<std::string> to;
    std::string sign;
    std::string data = "-";
    std::string id;
    std::string event = "New";
    std::string content_type = "application/octet-stream";
};

struct GetArgs {
    std::string file;
    std::uint64_t index = 0;
    std::string id;
    std::string output = "-";
};
}  // namespace

void add_container_commands(CLI::App& dare_cmd, Context& ctx) {
    auto* cont = dare_cmd.add_subcommand("container", "DARE containers: append-only, tamper-evident stores");
    cont->require_subcommand(1);
    {
        auto file = std::make_shared<std::string>();
        auto type = std::make_shared<std::string>("chain");
        auto to = std::make_shared<std::vector<std::string>>();
        auto* c = cont->add_subcommand("create", "Create an empty container");
        c->add_option("FILE", *file, "container file to create")->required();
        c->add_option("--type", *type, "list, digest, chain, tree or merkle")
            ->check(CLI::IsMember({"list", "digest", "chain", "tree", "merkle"}))
            ->capture_default_str();
        c->add_option("--to", *to, "encrypt every frame to this key (name, key file or UDF; repeatable)");
        c->footer("Examples:\n  recrypt dare container create audit.dare --type merkle\n"
                  "  recrypt dare container create groups.dare --to service");
        c->callback(ctx.bind("dare container create", [file, type, to, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::ContainerType t, dare::container_type_from_name(*type));
            MESH_ASSIGN_OR_RETURN(const auto a, access(ctx.home, *to, ""));
            MESH_TRY(dare::Container::create(*file, t, a->options));
            return mesh::ok();
        }));
    }
    {
        auto a = std::make_shared<AppendArgs>();
        auto* c = cont->add_subcommand("append", "Append a frame; prints its index");
        c->add_option("FILE", a->file, "container")->required();
        c->add_option("DATA", a->data, "file with the payload, - for standard input")->capture_default_str();
        c->add_option("--id", a->id, "object id (UniqueId)");
        c->add_option("--event", a->event, "New, Update or Delete")->check(CLI::IsMember({"New", "Update", "Delete"}))->capture_default_str();
        c->add_option("--content-type", a->content_type, "content type")->capture_default_str();
        c->add_option("--to", a->to, "encrypted container without its key here: encrypt to this key (repeatable)");
        c->add_option("--sign", a->sign, "sign the container's apex (Chain, Merkle) with this key");
        c->footer("Example:\n  echo '{\"Status\":\"ACTIVE\"}' | recrypt dare container append groups.dare - --id alice");
        c->callback(ctx.bind("dare container append", [a, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const mesh::Bytes data, read_input(a->data));
            MESH_ASSIGN_OR_RETURN(const auto acc, access(ctx.home, a->to, a->sign));
            MESH_ASSIGN_OR_RETURN(dare::Container box, open_reporting(a->file, acc->options));
            dare::ContentMeta m = dare::ContentMeta::of_type(a->content_type);
            if (!a->id.empty()) m.unique_id = a->id;
            m.event = a->event;
            MESH_ASSIGN_OR_RETURN(const std::uint64_t n, box.append(data, m));
            return print_line(std::to_string(n));
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto json = std::make_shared<bool>(false);
        auto* c = cont->add_subcommand("list", "List the frames: index, event, object id, size");
        c->footer("Example:\n  recrypt dare container list catalog.dare --json");
        c->add_option("FILE", *file, "container")->required();
        c->add_flag("--json", *json, "one JSON object a line");
        c->callback(ctx.bind("dare container list", [file, json, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const auto acc, access(ctx.home, {}, ""));
            MESH_ASSIGN_OR_RETURN(const dare::Container box, open_reporting(*file, acc->options));
            for (std::uint64_t i = 1; i < box.frames(); ++i) {
                MESH_ASSIGN_OR_RETURN(const dare::ContainerFrame f, box.read(i));
                const std::string event = f.is_meta ? "(index)" : f.meta.event.value_or("-");
                if (*json || ctx.json) {
                    dare::JsonObject o{{"Index", dare::Json(i)}, {"Size", dare::Json(static_cast<std::uint64_t>(f.payload.size()))}};
                    if (f.is_meta) o.emplace_back("IsMeta", dare::Json(true));
                    if (f.meta.event) o.emplace_back("Event", dare::Json(*f.meta.event));
                    if (f.meta.unique_id) o.emplace_back("UniqueId", dare::Json(*f.meta.unique_id));
                    MESH_TRY(print_line(dare::to_json(dare::Json(std::move(o)))));
                } else {
                    MESH_TRY(print_line(std::to_string(i) + "  " + event + "  " + f.meta.unique_id.value_or("-") + "  " +
                                        std::to_string(f.payload.size())));
                }
            }
            return mesh::ok();
        }));
    }
    {
        auto a = std::make_shared<GetArgs>();
        auto* c = cont->add_subcommand("get", "Write a frame's payload (by index, or the latest of an object id)");
        c->footer("Example:\n  recrypt dare container get catalog.dare --id alice -o alice.json");
        c->add_option("FILE", a->file, "container")->required();
        auto* idx = c->add_option("INDEX", a->index, "frame number");
        auto* id = c->add_option("--id", a->id, "object id: its latest frame");
        idx->excludes(id);
        c->add_option("-o,--output", a->output, "output file (default standard output)");
        c->callback(ctx.bind("dare container get", [a, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const auto acc, access(ctx.home, {}, ""));
            MESH_ASSIGN_OR_RETURN(const dare::Container box, open_reporting(a->file, acc->options));
            std::uint64_t n = a->index;
            if (!a->id.empty()) {
                const auto st = box.state(a->id);
                if (!st || st->deleted) return fail(Errc::not_found, "no object " + a->id);
                n = st->frame;
            } else if (n == 0) {
                return fail(Errc::invalid_argument, "give a frame INDEX (1 or more) or --id");
            }
            MESH_ASSIGN_OR_RETURN(const dare::ContainerFrame f, box.read(n));
            if (a->output == "-") {
                if (std::fwrite(f.payload.data(), 1, f.payload.size(), stdout) != f.payload.size() || std::fflush(stdout) != 0) {
                    return fail(Errc::io, "standard output: write failed");
                }
                return mesh::ok();
            }
            const std::string text(f.payload.begin(), f.payload.end());
            return write_file_atomic(a->output, text, 0644);
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto signed_by = std::make_shared<bool>(false);
        auto* c = cont->add_subcommand("verify", "Check every frame, digest, chain link and tree; prints the frame count");
        c->footer("Example:\n  recrypt dare container verify log.dare --signatures");
        c->add_option("FILE", *file, "container")->required();
        c->add_flag("--signatures", *signed_by, "check every signed apex against the store's keys (unknown signer: error)");
        c->callback(ctx.bind("dare container verify", [file, signed_by, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const auto acc, access(ctx.home, {}, ""));
            MESH_ASSIGN_OR_RETURN(const dare::Container box, open_reporting(*file, acc->options));
            MESH_ASSIGN_OR_RETURN(const dare::VerifyReport r, box.verify(*signed_by ? acc->keys->lookup() : dare::SignerLookup{}));
            std::string line = std::to_string(r.frames - 1) + " frames verified";
            if (*signed_by) {
                line += "; " + std::to_string(r.signatures) + " signed apexes, the last at frame " + std::to_string(r.signed_upto);
            }
            if (r.apex) line += "; apex " + mesh::base64url_encode(*r.apex).substr(0, 16);
            return print_line(line);
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto* c = cont->add_subcommand("index", "Append an index frame so that opening reads only what follows it");
        c->footer("Example:\n  recrypt dare container index catalog.dare");
        c->add_option("FILE", *file, "container")->required();
        c->callback(ctx.bind("dare container index", [file, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const auto acc, access(ctx.home, {}, ""));
            MESH_ASSIGN_OR_RETURN(dare::Container box, open_reporting(*file, acc->options));
            MESH_ASSIGN_OR_RETURN(const std::uint64_t n, box.write_index());
            return print_line(std::to_string(n));
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto to = std::make_shared<std::vector<std::string>>();
        auto* c = cont->add_subcommand("compact", "Keep only the latest state of each live object");
        c->footer("Example:\n  recrypt dare container compact catalog.dare");
        c->add_option("FILE", *file, "container")->required();
        c->add_option("--to", *to, "encrypted container: the keys to encrypt the compacted file to (repeatable)");
        c->callback(ctx.bind("dare container compact", [file, to, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const auto acc, access(ctx.home, *to, ""));
            MESH_ASSIGN_OR_RETURN(dare::Container box, open_reporting(*file, acc->options));
            const std::uint64_t before = box.frames() - 1;
            MESH_TRY(box.compact());
            std::size_t live = 0;
            for (const auto& [id, st] : box.objects()) live += st.deleted ? 0 : 1;
            return print_line(std::to_string(before) + " frames compacted to " + std::to_string(live) + " objects and an index");
        }));
    }
}

}  // namespace recrypt_cli
