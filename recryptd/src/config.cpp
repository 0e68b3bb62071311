#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <thread>

#include <toml++/toml.h>

namespace recryptd {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
// Every setting: its dotted name (TOML section.key) and how it is written.
constexpr std::string_view kKeys[] = {
    "listen", "data_dir", "threads",
    "limits.max_body_bytes", "limits.max_header_bytes", "limits.max_json_depth", "limits.max_connections",
    "limits.header_timeout", "limits.idle_timeout", "limits.write_timeout", "limits.drain_timeout",
    "auth.clock_skew", "auth.group_creation", "auth.creators",
    "log.format", "log.level",
    "proxy.trusted",
    "audit.sign_every", "audit.commit_delay_us",
    "store.min_free_bytes",
};

Result<std::uint64_t> number(std::string_view v, std::uint64_t lo, std::uint64_t hi, const std::string& where) {
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n < lo || n > hi) {
        return fail(Errc::invalid_argument, where + ": expected a whole number from " + std::to_string(lo) + " to " +
                                                std::to_string(hi) + ", got '" + std::string(v.substr(0, 64)) + "'");
    }
    return n;
}

std::vector<std::string> list(std::string_view v) {
    std::vector<std::string> out;
    while (!v.empty()) {
        const auto comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return out;
}

std::string join(const toml::array& a) {
    std::string out;
    for (const auto& e : a) {
        if (!out.empty()) out += ",";
        if (const auto s = e.value<std::string>()) out += *s;
    }
    return out;
}
}  // namespace

Result<void> set_value(Config& c, std::string_view key, std::string_view v, const std::string& where) {
    const auto seconds = [&](std::chrono::seconds& out, std::uint64_t lo, std::uint64_t hi) -> Result<void> {
        MESH_ASSIGN_OR_RETURN(const std::uint64_t n, number(v, lo, hi, where));
        out = std::chrono::seconds(static_cast<std::int64_t>(n));
        return mesh::ok();
    };
    const auto size = [&](std::size_t& out, std::uint64_t lo, std::uint64_t hi) -> Result<void> {
        MESH_ASSIGN_OR_RETURN(const std::uint64_t n, number(v, lo, hi, where));
        out = static_cast<std::size_t>(n);
        return mesh::ok();
    };
    if (key == "listen") {
        if (v.empty() || v.find(':') == std::string_view::npos) return fail(Errc::invalid_argument, where + ": expected HOST:PORT");
        c.listen = v;
    } else if (key == "data_dir") {
        if (v.empty()) return fail(Errc::invalid_argument, where + ": empty directory");
        c.data_dir = v;
    } else if (key == "threads") {
        MESH_ASSIGN_OR_RETURN(const std::uint64_t n, number(v, 0, 256, where));
        c.threads = static_cast<unsigned>(n);
    } else if (key == "limits.max_body_bytes") {
        MESH_TRY(size(c.max_body_bytes, 1024, std::uint64_t{64} << 20));
    } else if (key == "limits.max_header_bytes") {
        MESH_TRY(size(c.max_header_bytes, 1024, 64 * 1024));
    } else if (key == "limits.max_json_depth") {
        MESH_TRY(size(c.max_json_depth, 4, 256));
    } else if (key == "limits.max_connections") {
        MESH_TRY(size(c.max_connections, 1, 1'000'000));
    } else if (key == "limits.header_timeout") {
        MESH_TRY(seconds(c.header_timeout, 1, 3600));
    } else if (key == "limits.idle_timeout") {
        MESH_TRY(seconds(c.idle_timeout, 1, 86400));
    } else if (key == "limits.write_timeout") {
        MESH_TRY(seconds(c.write_timeout, 1, 3600));
    } else if (key == "limits.drain_timeout") {
        MESH_TRY(seconds(c.drain_timeout, 0, 3600));
    } else if (key == "auth.clock_skew") {
        MESH_TRY(seconds(c.clock_skew, 1, 86400));
    } else if (key == "auth.group_creation") {
        if (v == "open") {
            c.group_creation = CreationPolicy::open;
        } else if (v == "allowlist") {
            c.group_creation = CreationPolicy::allowlist;
        } else if (v == "closed") {
            c.group_creation = CreationPolicy::closed;
        } else {
            return fail(Errc::invalid_argument, where + ": expected open, allowlist or closed");
        }
    } else if (key == "auth.creators") {
        c.creators = list(v);
    } else if (key == "log.format") {
        if (v == "text") {
            c.log_format = LogFormat::text;
        } else if (v == "json") {
            c.log_format = LogFormat::json;
        } else {
            return fail(Errc::invalid_argument, where + ": expected text or json");
        }
    } else if (key == "log.level") {
        static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
        if (std::find(std::begin(levels), std::end(levels), v) == std::end(levels)) {
            return fail(Errc::invalid_argument, where + ": expected trace, debug, info, warn, error, critical or off");
        }
        c.log_level = v;
    } else if (key == "proxy.trusted") {
        c.trusted_proxies = list(v);
    } else if (key == "audit.sign_every") {
        MESH_ASSIGN_OR_RETURN(c.audit_sign_every, number(v, 1, 1'000'000, where));
    } else if (key == "audit.commit_delay_us") {
        MESH_ASSIGN_OR_RETURN(const std::uint64_t us, number(v, 0, 100'000, where));
        c.audit_commit_delay = std::chrono::microseconds(static_cast<std::int64_t>(us));
    } else if (key == "store.min_free_bytes") {
        MESH_ASSIGN_OR_RETURN(c.min_free_bytes, number(v, 0, std::uint64_t{1} << 40, where));
    } else {
        return fail(Errc::invalid_argument, where + ": unknown setting '" + std::string(key.substr(0, 64)) + "'");
    }
    return mesh::ok();
}

Result<void> apply_file(Config& config, const std::string& path) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return fail(Errc::invalid_argument, path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                                                ": " + std::string(e.description()));
    }
    Result<void> status = mesh::ok();
    const auto visit = [&](const toml::table& t, const std::string& prefix, auto& self) -> void {
        for (const auto& [k, node] : t) {
            if (!status) return;
            const std::string key = prefix + std::string(k.str());
            const std::string where = path + ":" + std::to_string(node.source().begin.line) + ": " + key;
            if (const auto* sub = node.as_table()) {
                if (!prefix.empty()) {
                    status = fail(Errc::invalid_argument, where + ": unexpected table");
                    return;
                }
                self(*sub, key + ".", self);
            } else if (const auto* arr = node.as_array()) {
                status = set_value(config, key, join(*arr), where);
            } else if (const auto s = node.template value<std::string>()) {
                status = set_value(config, key, *s, where);
            } else if (const auto i = node.template value<std::int64_t>()) {
                status = *i < 0 ? fail(Errc::invalid_argument, where + ": negative") : set_value(config, key, std::to_string(*i), where);
            } else {
                status = fail(Errc::invalid_argument, where + ": expected a string, a whole number or an array of strings");
            }
        }
    };
    visit(table, "", visit);
    return status;
}

Result<void> apply_environment(Config& config, const std::vector<std::string>& environment) {
    for (const auto& entry : environment) {
        if (!entry.starts_with("RECRYPTD_")) continue;
        const auto eq = entry.find('=');
        if (eq == std::string::npos) continue;
        std::string name = entry.substr(9, eq - 9);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        std::string_view key;
        for (const auto k : kKeys) {
            std::string flat(k);
            std::replace(flat.begin(), flat.end(), '.', '_');
            if (flat == name) key = k;
        }
        if (key.empty()) continue;  // RECRYPTD_CONFIG and others are not settings
        MESH_TRY(set_value(config, key, std::string_view(entry).substr(eq + 1), entry.substr(0, eq)));
    }
    return mesh::ok();
}

std::string default_data_dir() {
    if (const char* s = std::getenv("XDG_STATE_HOME"); s != nullptr && *s == '/') return std::string(s) + "/recryptd";
    if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') return std::string(h) + "/.local/state/recryptd";
    return "/var/lib/recryptd";
}

Result<void> finish(Config& config) {
    if (config.data_dir.empty()) config.data_dir = default_data_dir();
    if (config.threads == 0) config.threads = std::max(1U, std::thread::hardware_concurrency());
    if (config.group_creation == CreationPolicy::allowlist && config.creators.empty()) {
        return fail(Errc::invalid_argument, "auth.group_creation = \"allowlist\" needs auth.creators");
    }
    return mesh::ok();
}

}  // namespace recryptd
