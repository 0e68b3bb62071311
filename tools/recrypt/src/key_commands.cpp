// recrypt key ...: the minimal local key store (generate, export, import, list).
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "cli_io.hpp"
#include "key_store.hpp"

namespace recrypt_cli {
namespace {
using mesh::Errc;
using mesh::Result;
}  // namespace

void add_key_commands(CLI::App& app, Context& ctx) {
    auto* key = app.add_subcommand("key", "Keys in the local store: an encryption and a signature key per name");
    key->require_subcommand(1);
    {
        auto name = std::make_shared<std::string>();
        auto* c = key->add_subcommand("generate", "Make a new key pair set; prints its encryption key's UDF");
        c->add_option("--name", *name, "name to store it under")->required();
        c->footer("Example:\n  recrypt key generate --name alice");
        c->callback(ctx.bind("key generate", [name, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const StoredKey k, store.generate(*name));
            return print_line(k.encryption.kid());
        }));
    }
    {
        auto name = std::make_shared<std::string>();
        auto out = std::make_shared<std::string>("-");
        auto* c = key->add_subcommand("export", "Write the public key file of a key (to give to others)");
        c->add_option("NAME", *name, "key name or fingerprint")->required();
        c->add_option("-o,--output", *out, "file to write (default standard output)");
        c->footer("Example:\n  recrypt key export alice -o alice.pub.json");
        c->callback(ctx.bind("key export", [name, out, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const StoredKey k, store.resolve(*name));
            std::string text = dare::to_json_pretty(key_to_json(k, false));
            if (*out == "-") return print_line(text);
            text.push_back('\n');
            return write_file_atomic(*out, text, 0644);
        }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto* c = key->add_subcommand("import", "Add someone's public key file to the store");
        c->add_option("FILE", *file, "public key file (from recrypt key export)")->required();
        c->footer("Example:\n  recrypt key import bob.pub.json");
        c->callback(ctx.bind("key import", [file, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(std::string text, read_small_file(*file));
            auto j = dare::parse_json(text);
            if (!j) return mesh::fail(j.error().code, *file + ": " + j.error().message);
            auto k = key_from_json(*j, "$");
            if (!k) return mesh::fail(k.error().code, *file + ": " + k.error().message);
            if (k->encryption_private) {
                return mesh::fail(Errc::invalid_argument, *file + ": holds private keys; import public key files only");
            }
            MESH_TRY(store.import(*k));
            return print_line(k->encryption.kid());
        }));
    }
    {
        auto* c = key->add_subcommand("list", "List the keys: name, encryption UDF, signature UDF, kind");
        c->footer("Example:\n  recrypt key list --json");
        c->callback(ctx.bind("key list", [&ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const auto keys, store.list());
            dare::JsonArray all;
            for (const auto& k : keys) {
                if (ctx.json) {
                    all.push_back(dare::Json(dare::JsonObject{{"Name", dare::Json(k.name)},
                                                              {"EncryptionKey", dare::Json(k.encryption.kid())},
                                                              {"SignatureKey", dare::Json(k.signature.kid())},
                                                              {"Private", dare::Json(k.encryption_private.has_value())}}));
                    continue;
                }
                MESH_TRY(print_line(k.name + "  " + k.encryption.kid() + "  " + k.signature.kid() + "  " +
                                    (k.encryption_private ? "private" : "public")));
            }
            return ctx.json ? print_line(dare::to_json_pretty(dare::Json(std::move(all)))) : mesh::ok();
        }));
    }
}

}  // namespace recrypt_cli
