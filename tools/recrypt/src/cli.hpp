// The recrypt command line: shared pieces of the subcommands.
#pragma once

#include <functional>
#include <string>

#include <mesh/result.hpp>

namespace CLI {
class App;
}

namespace recrypt_cli {

/// What the parsed command line asks for. Subcommands set `action`; main runs it once parsing
/// succeeded and maps its error to one line on stderr and exit code 2.
struct Context {
    std::function<mesh::Result<void>()> action;
    std::string command;  ///< "udf digest", for error messages
    std::string home;     ///< --home: the key store (default $RECRYPT_HOME, $XDG_DATA_HOME/recrypt)
    bool json = false;    ///< --json: machine-readable output

    /// A CLI11 callback that makes `f` the action of the command named `name`.
    std::function<void()> bind(std::string name, std::function<mesh::Result<void>()> f) {
        return [this, name = std::move(name), f = std::move(f)] {
            command = name;
            action = f;
        };
    }
};

void add_udf_commands(CLI::App& app, Context& ctx);
void add_key_commands(CLI::App& app, Context& ctx);
void add_dare_commands(CLI::App& app, Context& ctx);
void add_container_commands(CLI::App& dare_cmd, Context& ctx);
void add_audit_commands(CLI::App& app, Context& ctx);
void add_group_commands(CLI::App& app, Context& ctx);
void add_crypt_commands(CLI::App& app, Context& ctx);
void add_profile_commands(CLI::App& app, Context& ctx);

}  // namespace recrypt_cli
