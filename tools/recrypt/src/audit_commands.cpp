// recrypt audit verify|list: check and read a recryptd audit log (DATA/audit.dare), a Merkle
// DARE container whose apex the service signs (docs/recryptd.md).
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
            std::string line = std::to_string(r.frames - 1) + " records verified; " + std::to_string(r.signatures) +
                               " signed by the service, the last at record " + std::to_string(r.signed_upto);
            if (r.signed_upto + 1 < r.frames) {
                line += "; records " + std::to_string(r.signed_upto + 1) + "-" + std::to_string(r.frames - 1) +
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
            for (std::uint64_t i = 1; i < log.frames(); ++i) {
                MESH_ASSIGN_OR_RETURN(const dare::ContainerFrame f, log.read(i));
                if (f.is_meta) continue;
                MESH_TRY(print_line(std::string(f.payload.begin(), f.payload.end())));
            }
            return mesh::ok();
        }));
    }
}

}  // namespace recrypt_cli
