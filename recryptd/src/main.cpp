// recryptd: the recryption daemon (docs/recryptd.md).
//
//   recryptd [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--threads N]
//            [--log-format text|json] [--log-level LEVEL] [--set KEY=VALUE ...]
//
// Settings come from the TOML file (--config, or $RECRYPTD_CONFIG), then RECRYPTD_* variables,
// then flags. On first start the data directory is created with the service's keys. The bound
// address is logged and printed on standard output ("recryptd: listening on http://HOST:PORT").
// SIGTERM/SIGINT drain and exit 0; a start-up error prints one line and exits 1.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <mesh/crypto_init.hpp>

#include "audit.hpp"
#include "config.hpp"
#include "data_dir.hpp"
#include "http_server.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "service.hpp"
#include "store.hpp"

extern char** environ;

namespace {
using recryptd::HttpReply;
using recryptd::HttpRequestInfo;

HttpReply plain(int status, std::string body, std::string transaction, std::string content_type = "application/json") {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    r.transaction = std::move(transaction);
    r.content_type = std::move(content_type);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

int fail_start(const std::string& message) {
    std::fprintf(stderr, "recryptd: %s\n", message.c_str());
    return 1;
}
}  // namespace

int main(int argc, char** argv) {
    // No core dumps: a dump would hold the service's keys and members' recryption keys.
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    mesh::crypto_init();  // aborts if libsodium cannot start

    CLI::App app("recryptd: the Mesh/Recrypt recryption service", "recryptd");
    std::string config_file;
    std::string listen;
    std::string data_dir;
    std::string threads;
    std::string log_format;
    std::string log_level;
    std::vector<std::string> sets;
    app.add_option("--config", config_file, "TOML configuration file (default $RECRYPTD_CONFIG)");
    app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)");
    app.add_option("--data-dir", data_dir, "data directory (default $XDG_STATE_HOME/recryptd)");
    app.add_option("--threads", threads, "server threads (default: one per core)");
    app.add_option("--log-format", log_format, "text or json");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
    app.add_option("--set", sets, "any setting, as section.key=value (repeatable), e.g. --set limits.max_body_bytes=65536");
    app.footer("Example:\n  recryptd --data-dir /var/lib/recryptd --listen 127.0.0.1:8437");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    }

    recryptd::Config config;
    if (config_file.empty()) {
        if (const char* c = std::getenv("RECRYPTD_CONFIG"); c != nullptr) config_file = c;
    }
    if (!config_file.empty()) {
        if (auto r = recryptd::apply_file(config, config_file); !r) return fail_start(r.error().message);
    }
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    if (auto r = recryptd::apply_environment(config, env); !r) return fail_start(r.error().message);
    const std::pair<const char*, std::string*> flags[] = {{"listen", &listen},       {"data_dir", &data_dir},
                                                          {"threads", &threads},     {"log.format", &log_format},
                                                          {"log.level", &log_level}};
    for (const auto& [key, value] : flags) {
        if (value->empty()) continue;
        if (auto r = recryptd::set_value(config, key, *value, std::string("--") + key); !r) return fail_start(r.error().message);
    }
    for (const auto& s : sets) {
        const auto eq = s.find('=');
        if (eq == std::string::npos) return fail_start("--set " + s + ": expected KEY=VALUE");
        if (auto r = recryptd::set_value(config, s.substr(0, eq), s.substr(eq + 1), "--set " + s.substr(0, eq)); !r) {
            return fail_start(r.error().message);
        }
    }
    if (auto r = recryptd::finish(config); !r) return fail_start(r.error().message);
    recryptd::log::configure(config.log_format, config.log_level);

    auto dir = recryptd::open_data_dir(config.data_dir);
    if (!dir) return fail_start(dir.error().message);
    if (dir->created) recryptd::log::event(recryptd::log::Level::info, "initialised a new data directory " + config.data_dir);

    recryptd::Metrics metrics;
    const auto reserve = std::make_unique<recryptd::SpaceReserve>(config.data_dir, config.min_free_bytes);
    // Destroyed in reverse: the core, the audit log (its syncer may still answer requests, which
    // posts to the server's io_context), the store, then the server.
    std::unique_ptr<recryptd::HttpServer> server;
    std::unique_ptr<recryptd::Store> store;
    std::unique_ptr<recryptd::AuditLog> audit;
    std::unique_ptr<recryptd::ServiceCore> core;
    std::atomic<bool> ready{false};
    std::atomic<bool> failed{false};

    const recryptd::RequestHandler handler = [&](const HttpRequestInfo& req, std::string_view body, recryptd::Respond respond) {
        const std::string_view path = req.target.substr(0, req.target.find('?'));
        if (path == "/healthz") return respond(plain(200, R"({"Status":"ok"})", "GET /healthz"));
        if (path == "/readyz") {
            if (!ready) return respond(plain(503, R"({"Status":"starting"})", "GET /readyz"));
            if (server->draining()) return respond(plain(503, R"({"Status":"draining"})", "GET /readyz"));
            if (!store->healthy() || !audit->healthy()) return respond(plain(503, R"({"Status":"store unhealthy"})", "GET /readyz"));
            if (!reserve->check()) return respond(plain(503, R"({"Status":"disk full"})", "GET /readyz"));
            return respond(plain(200, R"({"Status":"ready"})", "GET /readyz"));
        }
        if (path == "/metrics") {
            if (ready) metrics.audit(audit->frames(), audit->records_written());
            return respond(plain(200, metrics.serialize(), "GET /metrics", "text/plain; version=0.0.4"));
        }
        if (!ready) {
            HttpReply r = plain(503, R"({"ErrorResponse":{"Status":503,"StatusDescription":"starting"}})", "starting");
            r.headers.emplace_back("Retry-After", "1");
            return respond(std::move(r));
        }
        core->handle(req, body, std::move(respond));
    };
    auto bound = recryptd::HttpServer::bind(config, handler, metrics);
    if (!bound) return fail_start(bound.error().message);
    server = std::move(bound).value();

    // Load the store while already answering /healthz and /readyz (503 until ready).
    std::thread loader([&] {
        auto s = recryptd::open_container_store(config.data_dir + "/groups.dare", dir->storage_key);
        if (!s) {
            recryptd::log::event(recryptd::log::Level::error, "store: " + s.error().message);
            failed = true;
            server->drain();
            return;
        }
        store = std::move(s).value();
        auto a = recryptd::AuditLog::open(config.data_dir + "/audit.dare", dir->signing_key, config.audit_sign_every,
                                          config.audit_commit_delay);
        if (!a) {
            recryptd::log::event(recryptd::log::Level::error, "audit log: " + a.error().message);
            failed = true;
            server->drain();
            return;
        }
        audit = std::move(a).value();
        audit->set_completer([&server](std::function<void()> fn) { server->post(std::move(fn)); });
        core = std::make_unique<recryptd::ServiceCore>(config, *store, *audit, metrics);
        core->set_reserve(*reserve);
        if (auto l = core->load(); !l) {
            recryptd::log::event(recryptd::log::Level::error, "store: " + l.error().message);
            failed = true;
            server->drain();
            return;
        }
        recryptd::log::event(recryptd::log::Level::info,
                             "ready: " + std::to_string(core->groups()) + " groups, " + std::to_string(audit->frames()) + " audit frames");
        ready = true;
    });
    const std::string url = "http://" + server->address();
    recryptd::log::event(recryptd::log::Level::info, "listening on " + url + " (data in " + config.data_dir + ")");
    std::printf("recryptd: listening on %s\n", url.c_str());
    std::fflush(stdout);
    server->run();
    loader.join();
    recryptd::log::event(recryptd::log::Level::info, "stopped");
    return failed ? 1 : 0;
}
