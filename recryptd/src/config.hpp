// recryptd configuration: a TOML file (toml++), overridden by RECRYPTD_* environment variables,
// overridden by command-line flags (docs/recryptd.md lists every setting).
// Thread-safety: a value type. Errors: invalid_argument naming the setting and where it came
// from (file:line, variable or flag).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <mesh/result.hpp>

namespace recryptd {

enum class LogFormat : std::uint8_t { text, json };
enum class CreationPolicy : std::uint8_t { open, allowlist, closed };

struct Config {
    std::string listen = "127.0.0.1:8437";  ///< HOST:PORT; port 0 picks a free one
    std::string data_dir;                   ///< default $XDG_STATE_HOME/recryptd or ~/.local/state/recryptd
    unsigned threads = 0;                   ///< 0: one per core

    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_json_depth = 32;
    std::size_t max_connections = 1024;
    std::chrono::seconds header_timeout{10};   ///< to receive a whole request once it starts
    std::chrono::seconds idle_timeout{60};     ///< keep-alive connection with no request
    std::chrono::seconds write_timeout{10};
    std::chrono::seconds drain_timeout{10};    ///< SIGTERM: hard deadline for in-flight requests

    std::chrono::seconds clock_skew{300};
    CreationPolicy group_creation = CreationPolicy::open;
    std::vector<std::string> creators;         ///< allowlist: authentication key UDFs

    LogFormat log_format = LogFormat::text;
    std::string log_level = "info";
    std::vector<std::string> trusted_proxies;  ///< peers whose X-Forwarded-For / X-Request-ID count

    std::uint64_t audit_sign_every = 64;       ///< signed Merkle apex every N audit records
    std::chrono::microseconds audit_commit_delay{8000};  ///< the syncer waits up to this long for more records
    std::uint64_t min_free_bytes = std::uint64_t{64} << 20;  ///< writes stop (503) below this much free disk; 0: never
};

/// Applies a TOML file to `config`.
mesh::Result<void> apply_file(Config& config, const std::string& path);
/// Applies RECRYPTD_* variables from `environ`-style "NAME=value" strings.
mesh::Result<void> apply_environment(Config& config, const std::vector<std::string>& environment);
/// The default data directory ($XDG_STATE_HOME/recryptd, else ~/.local/state/recryptd).
std::string default_data_dir();
/// Checks values and fills defaults (data_dir, threads).
mesh::Result<void> finish(Config& config);

/// Setting values from text (shared by the file, the environment and flags).
mesh::Result<void> set_value(Config& config, std::string_view key, std::string_view value, const std::string& where);

}  // namespace recryptd
