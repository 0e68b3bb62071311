// The only translation unit of recryptd with Boost.Beast and Asio.
#include "http_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <mesh/bytes.hpp>
#include <mesh/random.hpp>

#include "log.hpp"

namespace recryptd {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// A connection's executor is its strand, by its concrete type (not a type-erased executor).
// Timeouts are deadlines kept by the connection and enforced by one timer for the whole server
// (Impl::sweep): Beast's tcp_stream arms, cancels and completes a timer around every read and
// write, which cost more scheduler work per request than the reads and writes themselves.
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<tcp, Strand>;
using Clock = std::chrono::steady_clock;
using mesh::Errc;
using mesh::fail;

namespace {
// Request ids only correlate log lines, so they need to be unique, not secret: a random start,
// then a counter through SplitMix64's finalizer (a bijection, so no two ids repeat before 2^64),
// without a system call per request.
std::string new_request_id() {
    static const std::uint64_t seed = [] {
        std::array<std::uint8_t, 8> b{};
        mesh::system_random().fill(b);
        std::uint64_t v = 0;
        for (const auto x : b) v = (v << 8) | x;
        return v;
    }();
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t z = seed + counter.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    std::array<std::uint8_t, 8> b{};
    for (int i = 7; i >= 0; --i, z >>= 8) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(z);
    return mesh::hex_encode(b);
}

bool valid_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
}

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

class Session;
}  // namespace

struct HttpServer::Impl {
    const Config& config;
    RequestHandler handler;
    Metrics& metrics;
    // Before ioc: handlers still queued when ioc is destroyed hold sessions, whose destructors
    // use these.
    std::atomic<bool> draining{false};
    std::atomic<std::int64_t> open{0};
    std::mutex sessions_m;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions;
    std::uint64_t next_session = 0;
    asio::io_context ioc;
    tcp::acceptor acceptor;
    asio::steady_timer drain_timer;
    asio::steady_timer sweep_timer;

    Impl(const Config& c, RequestHandler h, Metrics& m)
        : config(c), handler(std::move(h)), metrics(m), ioc(static_cast<int>(c.threads)), acceptor(asio::make_strand(ioc)),
          drain_timer(ioc), sweep_timer(ioc) {}

    void accept();
    void begin_drain();
    void sweep();
    // How often deadlines are checked: a quarter of the shortest timeout, 10 ms to 250 ms.
    [[nodiscard]] Clock::duration sweep_interval() const {
        const auto shortest = std::min({config.idle_timeout, config.header_timeout, config.write_timeout});
        return std::clamp<Clock::duration>(std::chrono::duration_cast<Clock::duration>(shortest) / 4, std::chrono::milliseconds(10),
                                           std::chrono::milliseconds(250));
    }
    void forget(std::uint64_t id) {
        const std::lock_guard lock(sessions_m);
        sessions.erase(id);
        if (draining && sessions.empty()) ioc.stop();
    }
    [[nodiscard]] bool trusted(const std::string& peer) const {
        return std::find(config.trusted_proxies.begin(), config.trusted_proxies.end(), peer) != config.trusted_proxies.end();
    }
};

namespace {
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Socket socket, HttpServer::Impl& server, std::uint64_t id)
        : stream_(std::move(socket)), server_(server), id_(id) {
        beast::error_code ec;
        const auto ep = stream_.remote_endpoint(ec);
        peer_ = ec ? "?" : ep.address().to_string();
    }
    ~Session() {
        server_.metrics.connections(--server_.open);
        server_.forget(id_);
    }

    void start() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::wait_request, shared_from_this())); }

    // Drain: an idle connection closes now; a busy one after its response.
    void close_if_idle() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->idle_) self->close();
        });
    }

    // From the sweep (any thread): if this connection's deadline has passed, close it on its
    // strand; its pending read or write then ends with operation_aborted, seen as a timeout.
    void check_deadline(Clock::time_point now) {
        if (deadline_.load(std::memory_order_relaxed) > now.time_since_epoch().count()) return;
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->deadline_.load(std::memory_order_relaxed) > Clock::now().time_since_epoch().count()) return;  // moved meanwhile
            self->timed_out_ = true;
            self->no_deadline();
            self->close();
        });
    }

    // Over the connection limit: a short 503 and close.
    void refuse() {
        auto res = std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
        res->set(http::field::content_type, "application/json");
        res->set(http::field::connection, "close");
        res->body() = R"({"ErrorResponse":{"Status":503,"StatusDescription":"too many connections"}})";
        res->prepare_payload();
        set_deadline(server_.config.write_timeout);
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) { self->close(); });
    }

private:
    // Waits for the first byte of the next request, within the idle timeout.
    void wait_request() {
        idle_ = true;
        if (server_.draining) return close();
        if (buffer_.size() > 0) return read_request();
        set_deadline(server_.config.idle_timeout);
        stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            if (ec) return self->close();
            self->buffer_.commit(n);
            self->read_request();
        });
    }

    // The whole request within the header timeout: a slow client is cut off.
    void read_request() {
        idle_ = false;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.config.max_header_bytes));
        parser_->body_limit(server_.config.max_body_bytes);
        set_deadline(server_.config.header_timeout);
        started_ = std::chrono::steady_clock::now();
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            self->on_read(ec, n);
        });
    }

    void on_read(beast::error_code ec, std::size_t bytes) {
        no_deadline();  // the request is in: no timeout while it is answered
        if (ec == http::error::end_of_stream || ec == asio::error::eof) return close();
        if (timed_out_) {
            log::event(log::Level::info, "slow client cut off: " + peer_);
            return close();
        }
        if (ec == http::error::body_limit) return error_reply(413, "body larger than " + std::to_string(server_.config.max_body_bytes) + " bytes");
        if (ec == http::error::header_limit) return error_reply(431, "request header larger than " + std::to_string(server_.config.max_header_bytes) + " bytes");
        if (ec) return error_reply(400, "malformed HTTP request");
        auto& req = parser_->get();
        responded_ = false;
        HttpRequestInfo info;
        info.method = sv(req.method_string());
        info.target = sv(req.target());
        info.content_type = sv(req[http::field::content_type]);
        info.signature.content_digest = std::string(sv(req["Content-Digest"]));
        info.signature.signature_input = std::string(sv(req["Signature-Input"]));
        info.signature.signature = std::string(sv(req["Signature"]));
        info.if_none_match = sv(req[http::field::if_none_match]);
        info.client = peer_;
        const bool from_proxy = server_.trusted(peer_);
        if (from_proxy) {
            const std::string_view xff = sv(req["X-Forwarded-For"]);
            if (!xff.empty()) {
                std::string_view last = xff.substr(xff.rfind(',') == std::string_view::npos ? 0 : xff.rfind(',') + 1);
                while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
                if (!last.empty() && last.size() <= 64) info.client = std::string(last);
            }
            const std::string_view rid = sv(req["X-Request-ID"]);
            if (valid_request_id(rid)) info.request_id = std::string(rid);
        }
        if (info.request_id.empty()) info.request_id = new_request_id();
        info_ = std::move(info);
        bytes_in_ = bytes;
        // The response may come later from another thread (RecryptData waits for its audit
        // record's sync): it is carried back to this connection's strand.
        Respond respond = [self = shared_from_this()](HttpReply r) {
            asio::defer(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->respond(std::move(r)); });
        };
        try {
            server_.handler(info_, req.body(), std::move(respond));
        } catch (const std::exception& e) {
            // a bug, not the client's fault: answer 500 and keep serving the others
            log::event(log::Level::error, std::string("internal error: ") + e.what(), info_.request_id);
            HttpReply r;
            r.status = 500;
            r.body = R"({"ErrorResponse":{"Status":500,"StatusDescription":"internal error"}})";
            r.transaction = "error";
            respond_once(std::move(r));
        }
    }

    void respond(HttpReply r) { respond_once(std::move(r)); }

    void respond_once(HttpReply r) {
        if (responded_) return;
        responded_ = true;
        auto& req = parser_->get();
        const auto latency = std::chrono::steady_clock::now() - started_;
        const std::string_view target = info_.target;
        log::request(log::RequestLine{info_.request_id, info_.client, info_.method, target.substr(0, target.find('?')), r.status,
                                      r.transaction, r.requester, std::chrono::duration_cast<std::chrono::nanoseconds>(latency),
                                      bytes_in_, r.body.size()});
        server_.metrics.request(r.transaction.empty() ? "other" : r.transaction, r.status,
                                std::chrono::duration_cast<std::chrono::nanoseconds>(latency));
        send(std::move(r), req.version(), req.keep_alive() && !server_.draining, info_.request_id, info_.method == "HEAD");
    }

    void error_reply(int code, std::string text) {
        HttpReply r;
        r.status = code;
        r.body = R"({"ErrorResponse":{"Status":)" + std::to_string(code) + R"(,"StatusDescription":")" + text + R"("}})";
        send(std::move(r), 11, false, new_request_id(), false);
    }

    void send(HttpReply r, unsigned version, bool keep_alive, const std::string& request_id, bool head) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
        res->set(http::field::server, "recryptd");
        res->set(http::field::content_type, r.content_type);
        res->set("X-Request-ID", request_id);
        for (const auto& [k, v] : r.headers) res->set(k, v);
        res->keep_alive(keep_alive);
        res->body() = std::move(r.body);
        res->prepare_payload();
        if (head || r.status == 304) res->body().clear();
        set_deadline(server_.config.write_timeout);
        http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
            if (ec || !keep_alive) return self->close();
            self->wait_request();
        });
    }

    void close() {
        beast::error_code ec;
        stream_.shutdown(Socket::shutdown_both, ec);
        stream_.close(ec);
    }

    template <class Duration>
    void set_deadline(Duration d) {
        deadline_.store((Clock::now() + d).time_since_epoch().count(), std::memory_order_relaxed);
    }
    void no_deadline() { deadline_.store(Clock::time_point::max().time_since_epoch().count(), std::memory_order_relaxed); }

    Socket stream_;
    std::atomic<Clock::rep> deadline_{Clock::time_point::max().time_since_epoch().count()};
    bool timed_out_ = false;
    HttpServer::Impl& server_;
    std::uint64_t id_;
    std::string peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::chrono::steady_clock::time_point started_;
    HttpRequestInfo info_;  // views into parser_'s request, valid until the next read
    std::size_t bytes_in_ = 0;
    bool responded_ = true;
    bool idle_ = true;
};
}  // namespace

void HttpServer::Impl::accept() {
    acceptor.async_accept(asio::make_strand(ioc.get_executor()), [this](beast::error_code ec, Socket socket) {
        if (ec) {
            if (ec == asio::error::operation_aborted || draining) return;
            log::event(log::Level::warn, "accept failed: " + ec.message());
            return accept();  // e.g. out of descriptors: keep serving the others
        }
        socket.set_option(tcp::no_delay(true), ec);
        const bool over = static_cast<std::size_t>(open.load()) >= config.max_connections;
        metrics.connections(++open);
        std::shared_ptr<Session> s;
        {
            const std::lock_guard lock(sessions_m);
            const std::uint64_t id = next_session++;
            s = std::make_shared<Session>(std::move(socket), *this, id);
            sessions.emplace(id, s);
        }
        if (over) {
            s->refuse();
        } else {
            s->start();
        }
        accept();
    });
}

void HttpServer::Impl::sweep() {
    sweep_timer.expires_after(sweep_interval());
    sweep_timer.async_wait([this](beast::error_code ec) {
        if (ec) return;
        const auto now = Clock::now();
        std::vector<std::shared_ptr<Session>> live;
        {
            const std::lock_guard lock(sessions_m);
            live.reserve(sessions.size());
            for (auto& [id, w] : sessions) {
                if (auto s = w.lock()) live.push_back(std::move(s));
            }
        }
        for (auto& s : live) s->check_deadline(now);
        sweep();
    });
}

void HttpServer::Impl::begin_drain() {
    if (draining.exchange(true)) return;
    log::event(log::Level::info, "draining: no new connections; finishing requests in flight");
    asio::post(acceptor.get_executor(), [this] {
        beast::error_code ec;
        acceptor.close(ec);
    });
    std::vector<std::shared_ptr<Session>> live;
    {
        const std::lock_guard lock(sessions_m);
        for (auto& [id, w] : sessions) {
            if (auto s = w.lock()) live.push_back(std::move(s));
        }
        if (sessions.empty()) ioc.stop();
    }
    for (auto& s : live) s->close_if_idle();
    drain_timer.expires_after(config.drain_timeout);
    drain_timer.async_wait([this](beast::error_code ec) {
        if (ec) return;
        log::event(log::Level::warn, "drain deadline reached: stopping with requests in flight");
        ioc.stop();
    });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

mesh::Result<std::unique_ptr<HttpServer>> HttpServer::bind(const Config& config, RequestHandler handler, Metrics& metrics) {
    auto impl = std::make_unique<Impl>(config, std::move(handler), metrics);
    const auto colon = config.listen.rfind(':');
    std::string host = config.listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = config.listen.substr(colon + 1);
    beast::error_code ec;
    tcp::resolver resolver(impl->ioc);
    const auto results = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) return fail(Errc::invalid_argument, "listen " + config.listen + ": " + ec.message());
    const tcp::endpoint ep = results.begin()->endpoint();
    impl->acceptor.open(ep.protocol(), ec);
    if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(ep, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(Errc::io, "listen " + config.listen + ": " + ec.message());
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::string HttpServer::address() const {
    beast::error_code ec;
    const auto ep = impl_->acceptor.local_endpoint(ec);
    if (ec) return "?";
    const std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    return host + ":" + std::to_string(ep.port());
}

void HttpServer::run() {
    Impl& s = *impl_;
    asio::signal_set signals(s.ioc, SIGTERM, SIGINT);
    signals.async_wait([&s](beast::error_code ec, int) {
        if (!ec) s.begin_drain();
    });
    s.accept();
    s.sweep();
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < s.config.threads; ++i) workers.emplace_back([&s] { s.ioc.run(); });
    s.ioc.run();
    for (auto& w : workers) w.join();
}

void HttpServer::drain() { impl_->begin_drain(); }
bool HttpServer::draining() const { return impl_->draining; }
void HttpServer::post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

}  // namespace recryptd
