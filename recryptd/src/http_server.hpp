// recryptd's HTTP/1.1 server (Boost.Beast/Asio, all of it in http_server.cpp).
//
// A thread per core runs one io_context; each connection has a strand. Keep-alive; limits on the
// header (8 KiB default), the body, and the number of connections (above it a new connection
// gets 503 and is closed); timeouts on waiting for a request (idle), on receiving it once it has
// started (slow clients are cut off), and on writing the response. drain() (SIGTERM/SIGINT)
// stops accepting, closes idle connections, lets requests in flight finish and stops at a hard
// deadline.
// Thread-safety: run() blocks on the calling thread (and its workers); drain() and the
// accessors may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <mesh/result.hpp>

#include "config.hpp"
#include "metrics.hpp"
#include "service.hpp"

namespace recryptd {

/// Answers one request (body complete): calls `respond` once, now or later from any thread;
/// `request` and `body` stay valid until then. Runs on a server thread.
using Respond = std::function<void(HttpReply)>;
using RequestHandler = std::function<void(const HttpRequestInfo& request, std::string_view body, Respond respond)>;

class HttpServer {
public:
    /// Binds the listening socket (port 0: any free port).
    static mesh::Result<std::unique_ptr<HttpServer>> bind(const Config& config, RequestHandler handler, Metrics& metrics);
    ~HttpServer();
    /// "HOST:PORT" actually bound.
    [[nodiscard]] std::string address() const;
    /// Serves until drained; SIGTERM and SIGINT start the drain.
    void run();
    /// Stops accepting and finishes: idle connections close now, busy ones after their
    /// response, everything at the drain deadline.
    void drain();
    [[nodiscard]] bool draining() const;
    /// Runs `fn` on one of the server's threads (work handed back from another thread).
    void post(std::function<void()> fn);

    struct Impl;

private:
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace recryptd
