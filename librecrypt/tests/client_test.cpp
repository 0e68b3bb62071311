// The client against a small in-process service made of the schema, the request verifier and
// the recryption core: through a loopback transport, and through HttpTransport against a Beast
// server on 127.0.0.1:0.
#include <mesh_test/support.hpp>

#include <atomic>
#include <map>
#include <thread>

#include <cstdlib>
#include <filesystem>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <recrypt/client.hpp>

using mesh::Errc;
using namespace recrypt;

namespace {
constexpr std::int64_t kNow = 1'800'000'000;

std::vector<MemberEntry> just(MemberEntry m) {
    std::vector<MemberEntry> v;
    v.push_back(std::move(m));
    return v;
}

// The service side, as small as it can be and still check what the real one must.
class TestService {
public:
    HttpResponse handle(std::string_view path, std::string_view body, const Headers& headers) {
        const auto reply = [](std::string_view tx, int code, std::string desc, dare::JsonObject f = {}) {
            return HttpResponse{code < 300 ? 200 : code, dare::to_json(response_to_json(tx, Status{code, std::move(desc)}, std::move(f)))};
        };
        auto req = parse_request(body);
        if (!req) return reply("Error", 400, req.error().message);
        const std::string_view tx = transaction_name(*req);
        if (std::holds_alternative<HelloRequest>(*req)) return reply(tx, 201, "hello");
        SignedHeaders sig;
        for (const auto& [k, v] : headers) {
            if (k == "Content-Digest") sig.content_digest = v;
            if (k == "Signature-Input") sig.signature_input = v;
            if (k == "Signature") sig.signature = v;
        }
        const KeyLookup lookup = [&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
            const auto it = auth_keys.find(std::string(kid));
            if (it == auth_keys.end()) return std::nullopt;
            return it->second;
        };
        auto who = verify_request(sig, "POST", path, mesh::as_bytes(body), lookup, VerifyOptions{std::chrono::seconds(300), kNow, &replay});
        if (!who) return reply(tx, who.error().code == Errc::already_exists ? 409 : 401, who.error().message);

        if (auto* r = std::get_if<CreateGroupRequest>(&*req)) {
            if (groups.contains(r->group.group_id)) return reply(tx, 409, "group exists");
            if (!r->group.signed_key) return reply(tx, 400, "SignedKey missing");
            auto rec = verify_key_record(*r->group.signed_key, r->group.group_id);
            if (!rec) return reply(tx, 400, rec.error().message);
            const std::string id = r->group.group_id;
            groups.emplace(id, std::move(r->group));
            admins[id] = who->keyid;
            group_keys.emplace(id, rec->encryption_key);
            return reply(tx, 201, "created");
        }
        if (auto* r = std::get_if<GetGroupRequest>(&*req)) {
            const auto it = groups.find(r->group_id);
            if (it == groups.end()) return reply(tx, 404, "no such group");
            RecryptionGroup g = clone(it->second);
            for (const auto& [udf, info] : members) {
                MemberEntry m;
                m.member_udf = udf;
                m.status = info.status;
                m.authentication_key = auth_keys.at(info.auth_kid);
                g.members.push_back(std::move(m));
            }
            return reply(tx, 201, "ok", {{"RecryptionGroup", to_json(g, false)}});
        }
        if (auto* r = std::get_if<UpdateGroupRequest>(&*req)) {
            const auto it = groups.find(r->group.group_id);
            if (it == groups.end()) return reply(tx, 404, "no such group");
            if (admins[r->group.group_id] != who->keyid) return reply(tx, 403, "not an administrator");
            auto rec = verify_key_record(*r->group.signed_key, r->group.group_id);
            if (!rec) return reply(tx, 400, rec.error().message);
            group_keys.insert_or_assign(r->group.group_id, rec->encryption_key);
            it->second.past_keys = r->group.past_keys;
            it->second.signed_key = r->group.signed_key;
            return reply(tx, 202, "updated");
        }
        if (auto* r = std::get_if<GetKeyRequest>(&*req)) {
            const auto it = groups.find(r->group_id);
            if (it == groups.end()) return reply(tx, 404, "no such group");
            return reply(tx, 201, "ok", {{"SignedKey", *it->second.signed_key}});
        }
        if (auto* r = std::get_if<AddMemberRequest>(&*req)) {
            if (admins[r->group_id] != who->keyid) return reply(tx, 403, "not an administrator");
            for (auto& m : r->members) {
                if (m.authentication_key) auth_keys.emplace(m.authentication_key->kid(), *m.authentication_key);
                members[m.member_udf] = MemberInfo{m.authentication_key ? m.authentication_key->kid() : "", m.status};
                for (auto& e : m.entries) {
                    auto added = core.add_entry(group_keys.at(r->group_id), std::move(e), r->group_id, m.member_udf);
                    if (!added) return reply(tx, 409, added.error().message);
                }
            }
            return reply(tx, 201, "added");
        }
        if (auto* r = std::get_if<UpdateMemberRequest>(&*req)) {
            if (admins[r->group_id] != who->keyid) return reply(tx, 403, "not an administrator");
            for (const auto& m : r->members) members[m.member_udf].status = m.status;
            return reply(tx, 202, "updated");
        }
        if (auto* r = std::get_if<RecryptDataRequest>(&*req)) {
            const auto it = members.find(r->member_udf);
            if (it == members.end() || it->second.auth_kid != who->keyid) return reply(tx, 403, "not this member's key");
            if (it->second.status != MemberStatus::active) return reply(tx, 403, "member is not active");
            const auto index = core.combined(r->group_key_id, r->member_key_udf);  // CombinedToGroup
            if (!index || index->member_udf != r->member_udf) return reply(tx, 404, "no entry for this member");
            const auto t = Point::from_bytes(r->ephemeral_key);
            if (!t) return reply(tx, 400, "EphemeralKey: " + t.error().message);
            auto rep = core.recrypt(r->group_key_id, r->member_key_udf, *t);
            if (!rep) return reply(tx, rep.error().code == Errc::not_found ? 404 : 403, rep.error().message);
            dare::JsonArray dks(rep->decryption_keys.begin(), rep->decryption_keys.end());
            return reply(tx, 201, "ok",
                         {{"Partial", dare::Json(mesh::base64url_encode(rep->partial.expose_secret()))},
                          {"DecryptionKey", dare::Json(std::move(dks))},
                          {"EncryptionKey", dare::Json(mesh::base64url_encode(rep->group_key.bytes()))}});
        }
        return reply(tx, 400, "not supported by the test service");
    }

    struct MemberInfo {
        std::string auth_kid;
        MemberStatus status = MemberStatus::active;
    };
    std::map<std::string, dare::SignaturePublicKey> auth_keys;
    std::map<std::string, RecryptionGroup> groups;
    std::map<std::string, Point> group_keys;
    std::map<std::string, std::string> admins;
    std::map<std::string, MemberInfo> members;
    RecryptionService core;
    ReplayCache replay;
};

class Loopback final : public Transport {
public:
    explicit Loopback(TestService& s) : s_(s) {}
    mesh::Result<HttpResponse> post(std::string_view path, std::string_view body, const Headers& headers) override {
        return s_.handle(path, body, headers);
    }

private:
    TestService& s_;
};

struct Person {
    explicit Person(mesh::RandomSource& rng)
        : auth(dare::SignaturePrivateKey::generate(rng)), device(dare::PrivateKey::generate(rng)),
          profile_udf(auth.public_key().kid()) {}
    dare::SignaturePrivateKey auth;
    dare::PrivateKey device;
    std::string profile_udf;
};

// The administrator's side: make the group, its signed key record, and entries for members.
struct Admin {
    Admin(mesh::RandomSource& rng) : signature(dare::SignaturePrivateKey::generate(rng)), key(GroupKey::generate(rng)) {}
    RecryptionGroup group(mesh::RandomSource& rng) const {
        RecryptionGroup g;
        g.group_id = signature.public_key().kid();
        g.group_name = "accounting@example.com";
        g.signature_key = signature.public_key();
        g.signed_key = sign_key_record(KeyRecord{g.group_id, signature.public_key(), key.public_key(), ""}, signature, rng).value();
        return g;
    }
    MemberEntry member(const Person& p, mesh::RandomSource& rng) const {
        MemberEntry m;
        m.member_udf = p.profile_udf;
        m.account_name = "someone@example.com";
        m.privileges = {Privilege::recrypt};
        m.authentication_key = p.auth.public_key();
        m.entries.push_back(make_member_entry(key, p.device.public_key(), rng).value());
        return m;
    }
    dare::SignaturePrivateKey signature;
    GroupKey key;
};
}  // namespace

TEST_CASE("the client manages a group and members open envelopes through the service", "[client][integration]") {
    mesh::test::SeededRandom rng(1);
    TestService service;
    Loopback transport(service);
    const Person alice(rng);  // the administrator's login
    const Person bob(rng);
    const Admin admin(rng);
    service.auth_keys.emplace(alice.auth.public_key().kid(), alice.auth.public_key());  // the operator lets Alice create groups
    const auto clock = [] { return kNow; };
    Client alice_client(transport, alice.auth, alice.profile_udf, clock);
    REQUIRE_OK(alice_client.hello());
    const RecryptionGroup group = admin.group(rng);
    REQUIRE_OK(alice_client.create_group(clone(group)));
    CHECK_ERRC(alice_client.create_group(clone(group)), Errc::already_exists);

    // anyone can fetch and verify the group key, then encrypt to it
    const KeyRecord rec = alice_client.get_key(group.group_id).value();
    CHECK(rec.encryption_key == admin.key.public_key());
    dare::EncodeOptions o;
    o.recipients = {rec.encryption_key};
    const dare::Json env = dare::encode_value(o, rng, mesh::as_bytes("quarterly figures")).value();

    Client bob_client(transport, bob.auth, bob.profile_udf, clock);
    CHECK_ERRC(bob_client.open(env, {&bob.device}), Errc::auth_failed);  // not a member yet: his key is unknown (401)
    REQUIRE_OK(alice_client.add_member(group.group_id, just(admin.member(bob, rng))));
    const auto opened = bob_client.open(env, {&bob.device});
    REQUIRE_OK(opened);
    CHECK(std::string(reinterpret_cast<const char*>(opened->payload.expose_secret().data()), opened->payload.size()) ==
          "quarterly figures");

    // Bob cannot administer; suspension stops him
    CHECK_ERRC(bob_client.add_member(group.group_id, just(admin.member(alice, rng))), Errc::permission_denied);
    MemberEntry suspend;
    suspend.member_udf = bob.profile_udf;
    suspend.status = MemberStatus::suspended;
    REQUIRE_OK(alice_client.update_member(group.group_id, just(std::move(suspend))));
    CHECK_ERRC(bob_client.open(env, {&bob.device}), Errc::permission_denied);

    CHECK_ERRC(alice_client.get_key("MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"), Errc::not_found);

    // GetGroup lists Bob, suspended, and no secrets
    const RecryptionGroup seen = alice_client.get_group(group.group_id).value();
    REQUIRE(seen.members.size() == 1);
    CHECK(seen.members[0].member_udf == bob.profile_udf);
    CHECK(seen.members[0].status == MemberStatus::suspended);
    CHECK(seen.members[0].entries.empty());

    // rollover through UpdateGroup: a new key record; the old one kept for old data
    const GroupKey next = GroupKey::generate(rng);
    RecryptionGroup rolled = clone(group);
    rolled.past_keys.push_back(*group.signed_key);
    rolled.signed_key = sign_key_record(KeyRecord{group.group_id, admin.signature.public_key(), next.public_key(), ""},
                                        admin.signature, rng).value();
    CHECK_ERRC(bob_client.update_group(clone(rolled)), Errc::permission_denied);
    REQUIRE_OK(alice_client.update_group(std::move(rolled)));
    CHECK(alice_client.get_key(group.group_id).value().encryption_key == next.public_key());
}

TEST_CASE("a key record not signed by the group is refused", "[client][unit]") {
    mesh::test::SeededRandom rng(2);
    const Admin admin(rng);
    const Admin other(rng);
    const RecryptionGroup g = admin.group(rng);
    REQUIRE_OK(verify_key_record(*g.signed_key, g.group_id));
    // the other group's record presented for this group
    const RecryptionGroup h = other.group(rng);
    CHECK_ERRC(verify_key_record(*h.signed_key, g.group_id), Errc::auth_failed);
    // a record claiming this GroupID but signed by another key cannot even be made
    CHECK_ERRC(sign_key_record(KeyRecord{g.group_id, admin.signature.public_key(), admin.key.public_key(), ""}, other.signature, rng),
               Errc::invalid_argument);
    // a changed encryption key inside a signed record breaks the signature
    dare::Json forged = *g.signed_key;
    auto& payload = forged.as_array()[1];
    const auto bytes = mesh::base64url_decode(payload.as_string()).value();
    std::string text(bytes.begin(), bytes.end());
    const std::string real = mesh::base64url_encode(admin.key.public_key().bytes());
    text.replace(text.find(real), real.size(), mesh::base64url_encode(other.key.public_key().bytes()));
    payload = dare::Json(mesh::base64url_encode(mesh::as_bytes(text)));
    CHECK_ERRC(verify_key_record(forged, g.group_id), Errc::auth_failed);
}

TEST_CASE("requests parse in both tag forms and refuse what is not the schema", "[client][unit]") {
    mesh::test::SeededRandom rng(3);
    const auto t = dare::PrivateKey::generate(rng).public_key();
    const Request r = RecryptDataRequest{"MDOP-4VJV-7FH6-I2JU", "MB52-E5WV-SOW6-EFT4", "MD4Y-DTMJ-6NL4-4Q2E", to_array(t)};
    const std::string text = dare::to_json(to_json(r));
    CHECK(text.starts_with("{\"RecryptData\":{"));
    const auto back = parse_request(text).value();
    CHECK(std::get<RecryptDataRequest>(back).member_key_udf == "MB52-E5WV-SOW6-EFT4");
    std::string message_form = text;
    message_form.replace(1, 13, "\"RecryptDataRequest\"");
    CHECK(std::holds_alternative<RecryptDataRequest>(parse_request(message_form).value()));
    CHECK(std::holds_alternative<HelloRequest>(parse_request(R"({"HelloRequest":{}})").value()));
    CHECK_ERRC(parse_request(R"({"Frobnicate":{}})"), Errc::unsupported);
    CHECK_ERRC(parse_request(R"({"Hello":{},"GetKey":{}})"), Errc::malformed);
    CHECK_ERRC(parse_request(R"({"Hello":{"Extra":1}})"), Errc::malformed);
    CHECK_ERRC(parse_request(R"({"GetKey":{}})"), Errc::malformed);
    CHECK_ERRC(parse_request(R"({"GetKey":{"GroupID":"not a udf!"}})"), Errc::malformed);
    CHECK_ERRC(parse_request(R"({"GetKey":{"GroupID":7}})"), Errc::malformed);
    CHECK_ERRC(parse_request(R"({"AddMember":{"GroupID":"MDOP-4VJV","Members":[]}})"), Errc::malformed);
    CHECK_ERRC(parse_request(R"({"AddMember":{"GroupID":"MDOP-4VJV","Members":[{"MemberUDF":"MDOP","Privileges":["ROOT"]}]}})"),
               Errc::malformed);
    CHECK_ERRC(parse_request(R"({"AddMember":{"GroupID":"MDOP-4VJV","Members":[{"MemberUDF":"MDOP","Status":"GONE"}]}})"),
               Errc::malformed);
    std::string identity = text;
    const std::string tb = mesh::base64url_encode(t.bytes());
    identity.replace(identity.find(tb), tb.size(), std::string(43, 'A'));
    // the identity as the ephemeral key: of the right length, so it parses; the service's
    // multiplication refuses it (below), as it refuses a non-canonical encoding
    const auto parsed_identity = parse_request(identity);
    REQUIRE_OK(parsed_identity);
    std::string short_key = text;
    short_key.replace(short_key.find(tb), tb.size(), std::string(42, 'A'));
    CHECK_ERRC(parse_request(short_key), Errc::malformed);

    // a member round trips with everything set
    const Admin admin(rng);
    const Person p(rng);
    MemberEntry m = admin.member(p, rng);
    m.privileges = {Privilege::recrypt, Privilege::admin};
    m.quota = Quota{100, 3600};
    const auto j = to_json(m, true);
    const MemberEntry m2 = member_from_json(j, "$").value();
    CHECK(m2.quota == m.quota);
    CHECK(m2.privileges == m.privileges);
    CHECK(m2.entries.size() == 1);
    CHECK(m2.entries[0].recryption_key == m.entries[0].recryption_key);
    CHECK(to_json(m, false).find("Entries") == nullptr);  // secrets are not written unless asked
}

namespace {
// A one-thread HTTP server on 127.0.0.1:0 that answers with the test service.
class HttpServer {
public:
    explicit HttpServer(TestService& s, bool silent = false) : service_(s), acceptor_(ioc_), silent_(silent) {
        namespace net = boost::asio;
        const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        thread_ = std::thread([this] { run(); });
    }
    ~HttpServer() {
        stop_ = true;
        // a blocking accept is woken by a connection, not by closing from another thread
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket wake(ioc);
        boost::system::error_code ec;
        wake.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
        thread_.join();
    }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/base/"; }
    std::atomic<int> requests{0};

private:
    void run() {
        namespace beast = boost::beast;
        namespace http = beast::http;
        while (!stop_) {
            boost::system::error_code ec;
            boost::asio::ip::tcp::socket sock(ioc_);
            acceptor_.accept(sock, ec);
            if (ec || stop_) return;
            beast::flat_buffer buf;
            http::request<http::string_body> req;
            http::read(sock, buf, req, ec);
            if (ec) continue;
            ++requests;
            if (silent_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(600));
                continue;
            }
            Headers headers;
            for (const auto& f : req) headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            const std::string target(req.target());
            HttpResponse r = target == "/base/.well-known/recrypt" ? service_.handle(target, req.body(), headers)
                                                                       : HttpResponse{404, "not here"};
            http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
            res.set(http::field::content_type, "application/json");
            res.body() = r.body;
            res.prepare_payload();
            http::write(sock, res, ec);
        }
    }
    TestService& service_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    bool silent_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};
}  // namespace

TEST_CASE("HttpTransport carries the protocol over real HTTP on loopback", "[client][integration]") {
    mesh::test::SeededRandom rng(4);
    TestService service;
    HttpServer server(service);
    const Person alice(rng);
    const Admin admin(rng);
    service.auth_keys.emplace(alice.auth.public_key().kid(), alice.auth.public_key());
    auto transport = HttpTransport::create(server.url()).value();
    CHECK(transport->service_path() == "/base/.well-known/recrypt");
    Client client(*transport, alice.auth, alice.profile_udf, [] { return kNow; });
    REQUIRE_OK(client.hello());
    const RecryptionGroup g = admin.group(rng);
    REQUIRE_OK(client.create_group(clone(g)));
    CHECK(client.get_key(g.group_id).value().encryption_key == admin.key.public_key());
    CHECK(server.requests >= 3);
}

TEST_CASE("HttpTransport fails cleanly: bad URLs, nobody listening, silent servers", "[client][unit]") {
    for (const char* bad : {"ftp://example.com", "example.com", "http://", "http://user@host/", "http://host:99999/",
                            "http://host:port/", "https://[::1"}) {
        INFO(bad);
        CHECK_ERRC(HttpTransport::create(bad), Errc::invalid_argument);
    }
    CHECK(HttpTransport::create("https://[::1]:8443/x").has_value());
    mesh::test::SeededRandom rng(5);
    const Person alice(rng);
    {
        // a port nobody listens on
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
        const auto port = a.local_endpoint().port();
        a.close();
        auto t = HttpTransport::create("http://127.0.0.1:" + std::to_string(port)).value();
        Client c(*t, alice.auth, alice.profile_udf);
        CHECK_ERRC(c.hello(), Errc::io);
    }
    {
        TestService service;
        HttpServer silent(service, true);
        HttpOptions o;
        o.timeout = std::chrono::milliseconds(200);
        auto t = HttpTransport::create(silent.url(), o).value();
        Client c(*t, alice.auth, alice.profile_udf);
        const auto start = std::chrono::steady_clock::now();
        CHECK_ERRC(c.hello(), Errc::io);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
    }
    {
        // https to a plain HTTP server: the handshake fails, with a clear error
        TestService service;
        HttpServer plain(service);
        std::string url = plain.url();
        url.replace(0, 4, "https");
        HttpOptions o;
        o.timeout = std::chrono::milliseconds(1000);
        auto t = HttpTransport::create(url, o).value();
        Client c(*t, alice.auth, alice.profile_udf);
        const auto r = c.hello();
        CHECK_ERRC(r, Errc::io);
        if (!r) CHECK(r.error().message.find("TLS handshake") != std::string::npos);
    }
}

namespace {
// A one-request TLS server with a certificate made for 127.0.0.1 by the openssl command.
class TlsServer {
public:
    explicit TlsServer(const std::string& dir) : ctx_(boost::asio::ssl::context::tls_server), acceptor_(ioc_) {
        ctx_.use_certificate_chain_file(dir + "/cert.pem");
        ctx_.use_private_key_file(dir + "/key.pem", boost::asio::ssl::context::pem);
        const boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        thread_ = std::thread([this] { serve_one(); });
    }
    ~TlsServer() { thread_.join(); }
    [[nodiscard]] std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

private:
    void serve_one() {
        namespace beast = boost::beast;
        namespace http = beast::http;
        boost::system::error_code ec;
        boost::asio::ip::tcp::socket sock(ioc_);
        acceptor_.accept(sock, ec);
        if (ec) return;
        beast::ssl_stream<boost::asio::ip::tcp::socket&> tls(sock, ctx_);
        tls.handshake(boost::asio::ssl::stream_base::server, ec);
        if (ec) return;  // the client refused our certificate
        beast::flat_buffer buf;
        http::request<http::string_body> req;
        http::read(tls, buf, req, ec);
        if (ec) return;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = dare::to_json(response_to_json("Hello", Status{201, "hello over TLS"}));
        res.prepare_payload();
        http::write(tls, res, ec);
        tls.shutdown(ec);
    }
    boost::asio::io_context ioc_;
    boost::asio::ssl::context ctx_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::thread thread_;
};

bool make_certificate(const std::string& dir) {
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 "
                            "-addext subjectAltName=IP:127.0.0.1 -keyout " + dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
}
}  // namespace

TEST_CASE("HttpTransport speaks HTTPS and checks the server's certificate", "[client][integration]") {
    const std::string dir = std::filesystem::temp_directory_path() / ("recrypt_tls_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    REQUIRE(make_certificate(dir));
    mesh::test::SeededRandom rng(6);
    const Person alice(rng);
    {
        TlsServer server(dir);
        HttpOptions o;
        o.ca_file = dir + "/cert.pem";
        o.timeout = std::chrono::milliseconds(3000);
        auto t = HttpTransport::create(server.url(), o).value();
        Client c(*t, alice.auth, alice.profile_udf);
        REQUIRE_OK(c.hello());
    }
    {
        TlsServer server(dir);  // the system's trust store does not know this certificate
        HttpOptions o;
        o.timeout = std::chrono::milliseconds(3000);
        auto t = HttpTransport::create(server.url(), o).value();
        Client c(*t, alice.auth, alice.profile_udf);
        const auto r = c.hello();
        CHECK_ERRC(r, Errc::io);
        if (!r) CHECK(r.error().message.find("TLS handshake") != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}
