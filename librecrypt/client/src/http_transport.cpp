// The one translation unit of the client that includes Boost.Beast and Asio's TLS.
#include <recrypt/client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace recrypt {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

struct HttpTransport::Impl {
    bool tls = false;
    std::string host;
    std::string port;
    std::string base;
    HttpOptions options;
    net::io_context ioc;
    std::unique_ptr<ssl::context> ssl_ctx;
    Result<HttpResponse> send(http::verb verb, std::string_view path, std::string_view body, const Headers& headers);
};

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

Result<std::unique_ptr<HttpTransport>> HttpTransport::create(std::string_view url, HttpOptions options) {
    auto impl = std::make_unique<Impl>();
    std::string_view rest;
    if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else if (url.starts_with("https://")) {
        impl->tls = true;
        rest = url.substr(8);
    } else {
        return fail(Errc::invalid_argument, "service URL '" + std::string(url.substr(0, 100)) + "': use http:// or https://");
    }
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    impl->base = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (!impl->base.empty() && impl->base.back() == '/') impl->base.pop_back();
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return fail(Errc::invalid_argument, "service URL: a host is needed (no user information)");
    }
    std::string_view host = authority;
    std::string port = impl->tls ? "443" : "80";
    if (authority.front() == '[') {  // [::1]:port
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return fail(Errc::invalid_argument, "service URL: unterminated [");
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return fail(Errc::invalid_argument, "service URL: bad port");
            port = std::string(authority.substr(close + 2));
        }
    } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = std::string(authority.substr(colon + 1));
    }
    if (host.empty() || port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) || std::stoi(port) > 65535) {
        return fail(Errc::invalid_argument, "service URL: bad host or port");
    }
    impl->host = std::string(host);
    impl->port = port;
    impl->options = std::move(options);
    if (impl->tls) {
        impl->ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
        impl->ssl_ctx->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                   ssl::context::no_tlsv1_1);
        boost::system::error_code ec;
        if (impl->options.ca_file.empty()) {
            impl->ssl_ctx->set_default_verify_paths(ec);
        } else {
            impl->ssl_ctx->load_verify_file(impl->options.ca_file, ec);
        }
        if (ec) return fail(Errc::io, "TLS trust store: " + ec.message());
        impl->ssl_ctx->set_verify_mode(impl->options.verify_peer ? ssl::verify_peer : ssl::verify_none);
    }
    return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

std::string HttpTransport::service_path() const { return impl_->base + std::string(kServicePath); }

namespace {
template <class Stream>
Result<HttpResponse> exchange(Stream& stream, beast::tcp_stream& tcp, const http::request<http::string_body>& req,
                              const HttpOptions& o) {
    beast::error_code ec;
    tcp.expires_after(o.timeout);
    http::write(stream, req, ec);
    if (ec) return fail(Errc::io, "service: sending the request: " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(o.max_body);
    tcp.expires_after(o.timeout);
    http::read(stream, buffer, parser, ec);
    if (ec) {
        return fail(ec == beast::error::timeout ? Errc::io : Errc::io, "service: reading the response: " + ec.message());
    }
    auto res = parser.release();
    return HttpResponse{static_cast<int>(res.result_int()), std::move(res.body())};
}
}  // namespace

Result<HttpResponse> HttpTransport::post(std::string_view path, std::string_view body, const Headers& headers) {
    return impl_->send(http::verb::post, path, body, headers);
}

Result<HttpResponse> HttpTransport::get(std::string_view path, const Headers& headers) {
    return impl_->send(http::verb::get, path, {}, headers);
}

Result<HttpResponse> HttpTransport::Impl::send(http::verb verb, std::string_view path, std::string_view body, const Headers& headers) {
    Impl& m = *this;
    beast::error_code ec;
    tcp::resolver resolver(m.ioc);
    const auto endpoints = resolver.resolve(m.host, m.port, ec);
    if (ec) return fail(Errc::io, "service " + m.host + ": " + ec.message());

    http::request<http::string_body> req{verb, std::string(path), 11};
    req.set(http::field::host, m.host);
    req.set(http::field::user_agent, "recrypt/0.1");
    if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();

    const auto where = "service " + m.host + ":" + m.port;
    if (!m.tls) {
        beast::tcp_stream stream(m.ioc);
        stream.expires_after(m.options.timeout);
        stream.connect(endpoints, ec);
        if (ec) return fail(Errc::io, where + ": " + ec.message());
        auto r = exchange(stream, stream, req, m.options);
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        return r;
    }
    beast::ssl_stream<beast::tcp_stream> stream(m.ioc, *m.ssl_ctx);
    // SSL_set_tlsext_host_name, without the macro's C-style cast
    if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(m.host.c_str())) != 1) {
        return fail(Errc::io, where + ": cannot set the TLS server name");
    }
    if (m.options.verify_peer) stream.set_verify_callback(ssl::host_name_verification(m.host));
    auto& tcp_layer = beast::get_lowest_layer(stream);
    tcp_layer.expires_after(m.options.timeout);
    tcp_layer.connect(endpoints, ec);
    if (ec) return fail(Errc::io, where + ": " + ec.message());
    tcp_layer.expires_after(m.options.timeout);
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) return fail(Errc::io, where + ": TLS handshake: " + ec.message());
    auto r = exchange(stream, tcp_layer, req, m.options);
    stream.shutdown(ec);  // the peer may just close; not an error for us
    return r;
}

}  // namespace recrypt
