// recrypt audit verify|list: check and read a recryptd audit log (DATA/audit.dare), a Merkle
// DARE container whose apex the service signs (docs/recryptd.md).
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include <dare/container.hpp>
#include <dare/json.hpp>
#include <mesh/bytes.hpp>

#include "cli.hpp"
#include "cli_io.hpp"
#include "key_store.hpp"

namespace recrypt_cli {
namespace {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

// The service's signing key from its service.pub.json.
Result<dare::SignaturePublicKey> service_key(const std::string& path) {
    MESH_ASSIGN_OR_RETURN(const std::string text, read_small_file(path, 65536));
    auto j = dare::parse_json(text);
    if (!j) return fail(Errc::malformed, path + ": " + j.error().message);
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader outer, dare::ObjectReader::open(*j, path));
    MESH_ASSIGN_OR_RETURN(const dare::Json* inner, outer.value("RecryptdServicePublicKeys"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(*inner, path + ".RecryptdServicePublicKeys"));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes key, r.fixed_bytes("SigningKey", dare::kEd25519PublicBytes));
    auto k = dare::SignaturePublicKey::from_bytes(key);
    if (!k) return fail(Errc::malformed, path + ": SigningKey: " + k.error().message);
    return k;
}

std::string default_key_path(const std::string& audit_file) {
    const auto slash = audit_file.rfind('/');
    return (slash == std::string::npos ? std::string(".") : audit_file.substr(0, slash)) + "/service.pub.json";
}

Result<dare::Container> open_log(const std::string& file) {
    MESH_ASSIGN_OR_RETURN(dare::Container c, dare::Container::open(file));
    if (c.type() != dare::ContainerType::merkle) return fail(Errc::malformed, file + ": not an audit log (a Merkle container)");
    return c;
}
}  // namespace

// Every record, in order. recryptd writes the records of one sync as one frame, one JSON object
// a line (application/mmm-recrypt-audit+jsonl); older logs hold one record per frame.
Result<void> for_each_record(const dare::Container& log, const std::function<Result<void>(std::string_view)>& fn) {
    for (std::uint64_t i = 1; i < log.frames(); ++i) {
        MESH_ASSIGN_OR_RETURN(const dare::ContainerFrame f, log.read(i));
        if (f.is_meta) continue;
        std::string_view rest(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            if (const std::string_view line = rest.substr(0, nl); !line.empty()) MESH_TRY(fn(line));
            if (nl == std::string_view::npos) break;
            rest.remove_prefix(nl + 1);
        }
    }
    return mesh::ok();
}

void add_audit_commands(CLI::App& app, Context& ctx) {
    auto* audit = app.add_subcommand("audit", "Check and read a recryptd audit log");
    audit->require_subcommand(1);
    {
        auto file = std::make_shared<std::string>();
        auto key = std::make_shared<std::string>();
        auto* c = audit->add_subcommand("verify", "Check every record, the Merkle tree and the service's signatures");
        c->add_option("FILE", *file, "audit log (DATA/audit.dare)")->required();
        c->add_option("--service-key", *key, "the service's public keys (default: service.pub.json beside FILE)");
        c->footer("Example:\n  recrypt audit verify /var/lib/recryptd/audit.dare");
        c->callback(ctx.bind("audit verify", [file, key]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::SignaturePublicKey signer, service_key(key->empty() ? default_key_path(*file) : *key));
            MESH_ASSIGN_OR_RETURN(const dare::Container log, open_log(*file));
            MESH_ASSIGN_OR_RETURN(const dare::VerifyReport r, log.verify([&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
                if (kid == signer.kid()) return signer;
                return std::nullopt;
            }));
            std::uint64_t records = 0;
            MESH_TRY(for_each_record(log, [&](std::string_view) {
                ++records;
                return mesh::ok();
            }));
            std::string line = std::to_string(records) + " records verified in " + std::to_string(r.frames - 1) + " frames; " +
                               std::to_string(r.signatures) + " signed by the service, the last at frame " + std::to_string(r.signed_upto);
            if (r.signed_upto + 1 < r.frames) {
                line += "; frames " + std::to_string(r.signed_upto + 1) + "-" + std::to_string(r.frames - 1) +
                        " are not signed yet (covered by the digests only)";
            }
            return print_line(line);
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto* c = audit->add_subcommand("list", "Print the records, one JSON object a line");
        c->footer("Example:\n  recrypt audit list ~/.local/state/recryptd/audit.dare");
        c->add_option("FILE", *file, "audit log")->required();
        c->callback(ctx.bind("audit list", [file]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const dare::Container log, open_log(*file));
            return for_each_record(log, [](std::string_view record) { return print_line(std::string(record)); });
        }));
    }
}

}  // namespace recrypt_cli
