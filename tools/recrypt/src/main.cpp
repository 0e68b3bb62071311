// recrypt: the command-line tool of Mesh/Recrypt. The only place that prints and exits.
// Exit codes: 0 success, 1 usage error, 2 the operation failed.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include <mesh/crypto_init.hpp>

#include "cli.hpp"

namespace {
constexpr int kExitUsage = 1;
constexpr int kExitFailed = 2;
}  // namespace

int main(int argc, char** argv) {
    mesh::crypto_init();
    CLI::App app{"recrypt: end-to-end encryption for groups whose membership changes"};
    app.name("recrypt");
    app.require_subcommand(1);
    app.footer("Exit codes: 0 success, 1 usage error, 2 operation failed.");
    recrypt_cli::Context ctx;
    app.add_option("--home", ctx.home, "key store directory (default $RECRYPT_HOME, else $XDG_DATA_HOME/recrypt)");
    app.add_flag("--json", ctx.json, "machine-readable output (JSON) where a command prints results");
    app.fallthrough();  // --home and --json may follow the subcommand
    recrypt_cli::add_udf_commands(app, ctx);
    recrypt_cli::add_key_commands(app, ctx);
    recrypt_cli::add_dare_commands(app, ctx);
    recrypt_cli::add_profile_commands(app, ctx);
    recrypt_cli::add_group_commands(app, ctx);
    recrypt_cli::add_crypt_commands(app, ctx);
    recrypt_cli::add_audit_commands(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "recrypt: %s (see --help)\n", e.what());
        return kExitUsage;
    }

    if (!ctx.action) {
        std::fputs("recrypt: no command given (see --help)\n", stderr);
        return kExitUsage;
    }
    try {
        const auto result = ctx.action();
        if (!result) {
            std::fprintf(stderr, "recrypt: %s: %s\n", ctx.command.c_str(), result.error().message.c_str());
            return kExitFailed;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "recrypt: %s: internal error: %s\n", ctx.command.c_str(), e.what());
        return kExitFailed;
    }
    return 0;
}
