// recrypt dare container ...: create, append to, list, read, verify and compact containers.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

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

Result<dare::ContainerType> parse_type(const std::string& t) {
    if (t == "list") return dare::ContainerType::list;
    if (t == "digest") return dare::ContainerType::digest;
    if (t == "chain") return dare::ContainerType::chain;
    return fail(Errc::invalid_argument, "container type '" + t + "' (list, digest, chain)");
}

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

Result<dare::Container> open_reporting(const std::string& file) {
    dare::OpenReport report;
    MESH_ASSIGN_OR_RETURN(dare::Container c, dare::Container::open(file, {}, &report));
    if (report.truncated_bytes > 0) {
        std::fprintf(stderr, "recrypt: note: %s: cut a torn tail of %llu bytes after frame %llu\n", file.c_str(),
                     static_cast<unsigned long long>(report.truncated_bytes),
                     static_cast<unsigned long long>(report.frames - 1));
    }
    return c;
}

struct AppendArgs {
    std::string file;
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
        auto* c = cont->add_subcommand("create", "Create an empty container");
        c->add_option("FILE", *file, "container file to create")->required();
        c->add_option("--type", *type, "list, digest or chain")->check(CLI::IsMember({"list", "digest", "chain"}))->capture_default_str();
        c->footer("Example:\n  recrypt dare container create audit.dare --type chain");
        c->callback(ctx.bind("dare container create", [file, type]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::ContainerType t, parse_type(*type));
            MESH_TRY(dare::Container::create(*file, t));
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
        c->footer("Example:\n  echo '{\"Status\":\"ACTIVE\"}' | recrypt dare container append groups.dare - --id alice");
        c->callback(ctx.bind("dare container append", [a]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const mesh::Bytes data, read_input(a->data));
            MESH_ASSIGN_OR_RETURN(dare::Container box, open_reporting(a->file));
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
        c->add_option("FILE", *file, "container")->required();
        c->add_flag("--json", *json, "one JSON object a line");
        c->callback(ctx.bind("dare container list", [file, json]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::Container box, open_reporting(*file));
            for (std::uint64_t i = 1; i < box.frames(); ++i) {
                MESH_ASSIGN_OR_RETURN(const dare::ContainerFrame f, box.read(i));
                if (*json) {
                    dare::JsonObject o{{"Index", dare::Json(i)}, {"Size", dare::Json(static_cast<std::uint64_t>(f.payload.size()))}};
                    if (f.meta.event) o.emplace_back("Event", dare::Json(*f.meta.event));
                    if (f.meta.unique_id) o.emplace_back("UniqueId", dare::Json(*f.meta.unique_id));
                    MESH_TRY(print_line(dare::to_json(dare::Json(std::move(o)))));
                } else {
                    MESH_TRY(print_line(std::to_string(i) + "  " + f.meta.event.value_or("-") + "  " +
                                        f.meta.unique_id.value_or("-") + "  " + std::to_string(f.payload.size())));
                }
            }
            return mesh::ok();
        }));
    }
    {
        auto a = std::make_shared<GetArgs>();
        auto* c = cont->add_subcommand("get", "Write a frame's payload (by index, or the latest of an object id)");
        c->add_option("FILE", a->file, "container")->required();
        auto* idx = c->add_option("INDEX", a->index, "frame number");
        auto* id = c->add_option("--id", a->id, "object id: its latest frame");
        idx->excludes(id);
        c->add_option("-o,--output", a->output, "output file (default standard output)");
        c->callback(ctx.bind("dare container get", [a]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::Container box, open_reporting(a->file));
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
        auto* c = cont->add_subcommand("verify", "Check every frame, digest and chain link; prints the frame count");
        c->add_option("FILE", *file, "container")->required();
        c->callback(ctx.bind("dare container verify", [file]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::Container box, open_reporting(*file));
            MESH_TRY(box.verify());
            return print_line(std::to_string(box.frames() - 1) + " frames verified");
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto* c = cont->add_subcommand("compact", "Keep only the latest state of each live object");
        c->add_option("FILE", *file, "container")->required();
        c->callback(ctx.bind("dare container compact", [file]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(dare::Container box, open_reporting(*file));
            const std::uint64_t before = box.frames() - 1;
            MESH_TRY(box.compact());
            return print_line(std::to_string(before) + " frames compacted to " + std::to_string(box.frames() - 1));
        }));
    }
}

}  // namespace recrypt_cli
