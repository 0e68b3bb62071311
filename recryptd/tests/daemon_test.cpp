// Integration tests: the real recryptd binary on 127.0.0.1:0, every transaction through its
// success and failure paths, hostile requests, restart after SIGKILL, drain.
#include <mesh_test/support.hpp>

#include <recrypt/client.hpp>

#include <dare/container.hpp>
#include <dare/json.hpp>

#include "audit.hpp"

#include "daemon_harness.hpp"

using mesh::Errc;
using namespace recryptd_test;
using recrypt::MemberEntry;
using recrypt::MemberStatus;
using recrypt::Privilege;

namespace {
std::string text_of(const mesh::SecureBytes& b) {
    return {reinterpret_cast<const char*>(b.expose_secret().data()), b.size()};
}

dare::Json envelope_to(const recrypt::Point& key, std::string_view text, mesh::RandomSource& rng) {
    dare::EncodeOptions o;
    o.recipients = {key};
    return dare::encode_value(o, rng, mesh::as_bytes(text)).value();
}
}  // namespace

TEST_CASE("recryptd serves every transaction, with the rules of each", "[recryptd][integration]") {
    TempDir tmp;
    Daemon d(tmp.sub("data"));
    mesh::RandomSource& rng = mesh::system_random();
    auto transport = recrypt::HttpTransport::create(d.url()).value();
    const Person alice(rng);  // creates the group: SUPER
    const Person bob(rng);    // RECRYPT
    const Person carol(rng);  // ADMIN, with a quota
    const Person dave(rng);   // nobody
    const GroupAdmin admin(rng);
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    recrypt::Client as_bob(*transport, bob.auth, bob.udf);
    recrypt::Client as_carol(*transport, carol.auth, carol.udf);
    recrypt::Client as_dave(*transport, dave.auth, dave.udf);

    REQUIRE_OK(as_alice.hello());
    const auto group = admin.group(alice, rng);
    const std::string gid = group.group_id;
    REQUIRE_OK(as_alice.create_group(recrypt::clone(group)));
    CHECK_ERRC(as_alice.create_group(recrypt::clone(group)), Errc::already_exists);  // duplicate group
    {
        // alice signs, but the group names bob as its administrator
        GroupAdmin other(rng);
        CHECK_ERRC(as_alice.create_group(other.group(bob, rng)), Errc::permission_denied);
    }

    // GetKey: the key record verifies against the GroupID
    CHECK(as_alice.get_key(gid).value().encryption_key == admin.key.public_key());
    CHECK_ERRC(as_alice.get_key("MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"), Errc::not_found);  // unknown group
    const dare::Json env = envelope_to(admin.key.public_key(), "quarterly figures", rng);

    // a stranger: unknown key
    CHECK_ERRC(as_dave.get_key(gid), Errc::auth_failed);
    CHECK_ERRC(as_bob.open(env, {&bob.device}), Errc::auth_failed);  // not a member yet

    // AddMember by the SUPER; an ADMIN may add only RECRYPT members
    REQUIRE_OK(as_alice.add_member(gid, just(admin.member(bob, {Privilege::recrypt}, rng))));
    auto carol_entry = admin.member(carol, {Privilege::admin, Privilege::recrypt}, rng);
    carol_entry.quota = recrypt::Quota{2, 3600};
    REQUIRE_OK(as_alice.add_member(gid, just(std::move(carol_entry))));
    CHECK_ERRC(as_alice.add_member(gid, just(admin.member(bob, {Privilege::recrypt}, rng))), Errc::already_exists);
    CHECK_ERRC(as_carol.add_member(gid, just(admin.member(dave, {Privilege::admin}, rng))), Errc::permission_denied);
    CHECK_ERRC(as_bob.add_member(gid, just(admin.member(dave, {Privilege::recrypt}, rng))), Errc::permission_denied);
    CHECK_ERRC(as_alice.add_member("MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", just(admin.member(dave, {Privilege::recrypt}, rng))),
               Errc::not_found);

    // RecryptData: members open; the service alone cannot
    const auto opened = as_bob.open(env, {&bob.device});
    REQUIRE_OK(opened);
    CHECK(text_of(opened->payload) == "quarterly figures");

    // GetGroup: administrators only; members listed without secrets
    const auto seen = as_carol.get_group(gid).value();
    CHECK(seen.members.size() == 3);
    for (const auto& m : seen.members) CHECK(m.entries.empty());
    CHECK_ERRC(as_bob.get_group(gid), Errc::permission_denied);

    // quota: two recryptions per hour for carol
    REQUIRE_OK(as_carol.open(env, {&carol.device}));
    REQUIRE_OK(as_carol.open(env, {&carol.device}));
    CHECK_ERRC(as_carol.open(env, {&carol.device}), Errc::limit_exceeded);

    // suspension takes effect at once, and can be lifted
    MemberEntry suspend;
    for (const auto& m : seen.members) {
        if (m.member_udf == bob.udf) suspend = recrypt::clone(m);
    }
    REQUIRE(suspend.member_udf == bob.udf);
    suspend.status = MemberStatus::suspended;
    REQUIRE_OK(as_carol.update_member(gid, just(recrypt::clone(suspend))));
    CHECK_ERRC(as_bob.open(env, {&bob.device}), Errc::permission_denied);
    suspend.status = MemberStatus::active;
    REQUIRE_OK(as_carol.update_member(gid, just(recrypt::clone(suspend))));
    REQUIRE_OK(as_bob.open(env, {&bob.device}));
    // revocation is final
    suspend.status = MemberStatus::revoked;
    REQUIRE_OK(as_alice.update_member(gid, just(recrypt::clone(suspend))));
    CHECK_ERRC(as_bob.open(env, {&bob.device}), Errc::permission_denied);
    suspend.status = MemberStatus::active;
    CHECK_ERRC(as_alice.update_member(gid, just(recrypt::clone(suspend))), Errc::already_exists);

    // UpdateGroup: key rollover; old data stays readable for members with old entries
    const GroupAdmin next(rng);
    auto rolled = recrypt::clone(group);
    rolled.members.clear();
    rolled.signed_key = recrypt::sign_key_record(recrypt::KeyRecord{gid, admin.signature.public_key(), next.key.public_key(), ""},
                                                 admin.signature, rng).value();
    CHECK_ERRC(as_bob.update_group(recrypt::clone(rolled)), Errc::permission_denied);
    REQUIRE_OK(as_alice.update_group(recrypt::clone(rolled)));
    const auto rolled_key = as_alice.get_key(gid);
    REQUIRE_OK(rolled_key);
    CHECK(rolled_key->encryption_key == next.key.public_key());
    REQUIRE_OK(as_alice.open(env, {&alice.device}));  // the old key's entry still works
    // a key record signed by another key is refused
    auto forged = recrypt::clone(rolled);
    forged.signed_key = recrypt::sign_key_record(recrypt::KeyRecord{next.signature.public_key().kid(), next.signature.public_key(),
                                                                    next.key.public_key(), ""},
                                                 next.signature, rng).value();  // a record for another group
    CHECK_ERRC(as_alice.update_group(std::move(forged)), Errc::malformed);
}

TEST_CASE("a personal group nested as a member: its devices recrypt through it, until removed", "[recryptd][integration]") {
    TempDir tmp;
    Daemon d(tmp.sub("data"));
    mesh::RandomSource& rng = mesh::system_random();
    auto transport = recrypt::HttpTransport::create(d.url()).value();
    const Person alice(rng);
    const Person laptop(rng);  // bob's devices
    const Person phone(rng);
    const Person eve(rng);     // a member of neither
    const GroupAdmin team(rng);      // alice's group
    const GroupAdmin personal(rng);  // bob's personal group: its GroupID is bob's member UDF
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    recrypt::Client as_laptop(*transport, laptop.auth, laptop.udf);
    recrypt::Client as_phone(*transport, phone.auth, phone.udf);
    recrypt::Client as_eve(*transport, eve.auth, eve.udf);

    REQUIRE_OK(as_alice.create_group(team.group(alice, rng)));
    REQUIRE_OK(as_laptop.create_group(personal.group(laptop, rng)));
    const std::string bob = personal.signature.public_key().kid();
    REQUIRE_OK(as_laptop.add_member(bob, just(personal.member(phone, {Privilege::recrypt}, rng))));
    REQUIRE_OK(as_laptop.add_member(bob, just(personal.member(eve, {Privilege::admin}, rng))));  // no RECRYPT
    // alice adds bob's personal group: its key is the member key
    MemberEntry group_member;
    group_member.member_udf = bob;
    group_member.privileges = {Privilege::recrypt};
    group_member.authentication_key = personal.signature.public_key();
    group_member.entries.push_back(recrypt::make_member_entry(team.key, personal.key.public_key(), rng).value());
    REQUIRE_OK(as_alice.add_member(team.signature.public_key().kid(), just(std::move(group_member))));

    const dare::Json env = envelope_to(team.key.public_key(), "for the team", rng);
    const std::vector<std::string> via{personal.key.public_key().kid()};
    CHECK(text_of(as_laptop.open(env, {&laptop.device}, via).value().payload) == "for the team");
    CHECK(text_of(as_phone.open(env, {&phone.device}, via).value().payload) == "for the team");
    CHECK_ERRC(as_eve.open(env, {&eve.device}, via), Errc::permission_denied);  // in bob's group, without RECRYPT
    // the request must be signed by the device it names
    recrypt::Client impostor(*transport, eve.auth, phone.udf);
    CHECK_ERRC(impostor.open(env, {&phone.device}, via), Errc::permission_denied);

    // bob removes his lost phone: refused at both levels at once
    auto lost = as_laptop.get_group(bob).value();
    for (auto& m : lost.members) {
        if (m.member_udf != phone.udf) continue;
        m.status = MemberStatus::revoked;
        REQUIRE_OK(as_laptop.update_member(bob, just(recrypt::clone(m))));
    }
    CHECK_ERRC(as_phone.open(env, {&phone.device}, via), Errc::permission_denied);
    CHECK(text_of(as_laptop.open(env, {&laptop.device}, via).value().payload) == "for the team");
}

TEST_CASE("recryptd refuses hostile and malformed requests with a clear status", "[recryptd][integration]") {
    TempDir tmp;
    Daemon d(tmp.sub("data"), {"--set", "limits.max_body_bytes=4096", "--set", "limits.header_timeout=1"});
    mesh::RandomSource& rng = mesh::system_random();
    const Person alice(rng);
    const Person mallory(rng);
    const GroupAdmin admin(rng);
    auto transport = recrypt::HttpTransport::create(d.url()).value();
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    REQUIRE_OK(as_alice.create_group(admin.group(alice, rng)));
    const std::string gid = admin.signature.public_key().kid();
    const std::string get_key = R"({"GetKey":{"GroupID":")" + gid + R"("}})";
    const int port = d.port();

    // a properly signed request works (the baseline for the cases below)
    CHECK(raw_request(port, signed_post(alice.auth, get_key, now_seconds())).status == 201);
    // unauthenticated
    auto r = raw_request(port, http_request("POST", "/.well-known/recrypt", {"Content-Type: application/json"}, get_key));
    CHECK(r.status == 401);
    CHECK(r.body.find("signed request") != std::string::npos);
    // wrong signature: signed over another body
    {
        const auto sig = recrypt::sign_request(alice.auth, "POST", "/.well-known/recrypt", mesh::as_bytes(std::string("{}")), now_seconds(), rng);
        r = raw_request(port, http_request("POST", "/.well-known/recrypt",
                                           {"Content-Type: application/json", "Content-Digest: " + recrypt::content_digest(mesh::as_bytes(get_key)),
                                            "Signature-Input: " + sig.signature_input, "Signature: " + sig.signature},
                                           get_key));
        CHECK(r.status == 401);
        CHECK(r.body.find("authentication failed") != std::string::npos);
    }
    // a key nobody registered
    CHECK(raw_request(port, signed_post(mallory.auth, get_key, now_seconds())).status == 401);
    // replay: the same signed request twice
    {
        const std::string req = signed_post(alice.auth, get_key, now_seconds());
        CHECK(raw_request(port, req).status == 201);
        r = raw_request(port, req);
        CHECK(r.status == 409);
        CHECK(r.body.find("replayed") != std::string::npos);
    }
    // stale clock
    r = raw_request(port, signed_post(alice.auth, get_key, now_seconds() - 3600));
    CHECK(r.status == 401);
    CHECK(r.body.find("clock") != std::string::npos);
    // malformed JSON, unknown transaction, wrong content type
    CHECK(raw_request(port, signed_post(alice.auth, "{\"GetKey\":", now_seconds())).status == 400);
    CHECK(raw_request(port, signed_post(alice.auth, "{\"Launch\":{}}", now_seconds())).status == 400);
    r = raw_request(port, signed_post(alice.auth, get_key, now_seconds(), "text/plain"));
    CHECK(r.status == 415);
    // oversized body
    r = raw_request(port, signed_post(alice.auth, std::string(10000, ' ') + get_key, now_seconds()));
    CHECK(r.status == 413);
    // oversized header
    r = raw_request(port, http_request("GET", "/healthz", {"X-Junk: " + std::string(9000, 'j')}, ""));
    CHECK(r.status == 431);
    // not HTTP at all
    r = raw_request(port, "\x16\x03\x01 definitely not http\r\n\r\n");
    CHECK(r.status == 400);
    // unknown resource, wrong method
    CHECK(raw_request(port, http_request("GET", "/nowhere", {}, "")).status == 404);
    CHECK(raw_request(port, http_request("GET", "/.well-known/recrypt", {}, "")).status == 405);
    // slow client: half a request, then silence: cut off after the header timeout (1 s)
    {
        const int fd = connect_to(port);
        REQUIRE(fd >= 0);
        REQUIRE(send_all(fd, "POST /.well-known/recrypt HTTP/1.1\r\nHost: x\r\nContent-Len"));
        const auto t0 = std::chrono::steady_clock::now();
        CHECK(closed_within(fd, 5000));
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));
        ::close(fd);
    }
    // the public key route: cacheable, with an ETag
    r = raw_request(port, http_request("GET", "/.well-known/recrypt/groups/" + gid + "/key", {}, ""));
    CHECK(r.status == 200);
    CHECK(r.headers.find("Cache-Control: public") != std::string::npos);
    const auto etag_at = r.headers.find("ETag: ");
    REQUIRE(etag_at != std::string::npos);
    const std::string etag = r.headers.substr(etag_at + 6, r.headers.find("\r\n", etag_at) - etag_at - 6);
    CHECK(raw_request(port, http_request("GET", "/.well-known/recrypt/groups/" + gid + "/key", {"If-None-Match: " + etag}, "")).status == 304);
    CHECK(raw_request(port, http_request("GET", "/.well-known/recrypt/groups/MAAA/key", {}, "")).status == 404);
    // GET of the group needs a signature
    CHECK(raw_request(port, http_request("GET", "/.well-known/recrypt/groups/" + gid, {}, "")).status == 401);
    {
        const std::string path = "/.well-known/recrypt/groups/" + gid;
        const auto sig = recrypt::sign_request(alice.auth, "GET", path, {}, now_seconds(), rng);
        r = raw_request(port, http_request("GET", path, {"Content-Digest: " + sig.content_digest, "Signature-Input: " + sig.signature_input,
                                                         "Signature: " + sig.signature}, ""));
        CHECK(r.status == 200);
        CHECK(r.body.find(alice.udf) != std::string::npos);
    }
    // an untrusted peer's X-Request-ID is not believed
    r = raw_request(port, http_request("GET", "/healthz", {"X-Request-ID: chosen-by-client"}, ""));
    CHECK(r.status == 200);
    CHECK(r.headers.find("X-Request-ID: chosen-by-client") == std::string::npos);
    // no core dumps: they would hold the keys
    {
        std::ifstream limits("/proc/" + std::to_string(d.pid()) + "/limits");
        const std::string text((std::istreambuf_iterator<char>(limits)), {});
        const auto at = text.find("Max core file size");
        REQUIRE(at != std::string::npos);
        CHECK(text.substr(at, text.find('\n', at) - at).find(" 0 ") != std::string::npos);
    }
    // after all that the service still answers, and counted it
    REQUIRE_OK(as_alice.hello());
    r = raw_request(port, http_request("GET", "/metrics", {}, ""));
    CHECK(r.status == 200);
    CHECK(r.body.find("recryptd_requests_total{status=\"409\",transaction=\"GetKey\"}") != std::string::npos);
    CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("group creation policy, keep-alive, trusted proxies and the connection limit", "[recryptd][integration]") {
    TempDir tmp;
    mesh::RandomSource& rng = mesh::system_random();
    const Person alice(rng);
    const Person bob(rng);
    const GroupAdmin admin(rng);
    Daemon d(tmp.sub("data"), {"--set", "auth.group_creation=allowlist", "--set", "auth.creators=" + alice.udf, "--set",
                               "proxy.trusted=127.0.0.1", "--set", "limits.max_connections=4"});
    auto transport = recrypt::HttpTransport::create(d.url()).value();
    recrypt::Client as_bob(*transport, bob.auth, bob.udf);
    CHECK_ERRC(as_bob.create_group(admin.group(bob, rng)), Errc::permission_denied);
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    REQUIRE_OK(as_alice.create_group(admin.group(alice, rng)));
    // several requests on one connection
    const int fd = connect_to(d.port());
    for (int i = 0; i < 3; ++i) {
        REQUIRE(send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        CHECK(read_response(fd).status == 200);
    }
    // a trusted proxy's request id is kept
    REQUIRE(send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: from-proxy-42\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n"));
    CHECK(read_response(fd).headers.find("X-Request-ID: from-proxy-42") != std::string::npos);
    // the connection limit: the fifth open connection gets 503 and is closed
    std::vector<int> held = {fd};
    for (int i = 0; i < 3; ++i) held.push_back(connect_to(d.port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int extra = connect_to(d.port());
    REQUIRE(send_all(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(read_response(extra).status == 503);
    ::close(extra);
    for (const int h : held) ::close(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(raw_request(d.port(), http_request("GET", "/healthz", {}, "")).status == 200);  // room again
    CHECK(d.log_text().find("203.0.113.9") != std::string::npos);  // the forwarded client address
}

TEST_CASE("state and audit log survive SIGKILL, with every acknowledged write there", "[recryptd][integration]") {
    TempDir tmp;
    mesh::RandomSource& rng = mesh::system_random();
    const Person alice(rng);
    const Person bob(rng);
    const GroupAdmin admin(rng);
    const std::string data = tmp.sub("data");
    const dare::Json env = envelope_to(admin.key.public_key(), "kept", rng);
    int acknowledged = 0;
    {
        Daemon d(data);
        auto transport = recrypt::HttpTransport::create(d.url()).value();
        recrypt::Client as_alice(*transport, alice.auth, alice.udf);
        recrypt::Client as_bob(*transport, bob.auth, bob.udf);
        REQUIRE_OK(as_alice.create_group(admin.group(alice, rng)));
        ++acknowledged;
        REQUIRE_OK(as_alice.add_member(admin.signature.public_key().kid(), just(admin.member(bob, {Privilege::recrypt}, rng))));
        ++acknowledged;
        for (int i = 0; i < 5; ++i) {
            REQUIRE_OK(as_bob.open(env, {&bob.device}));
            ++acknowledged;
        }
        CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
    }
    Daemon again(data);
    auto transport = recrypt::HttpTransport::create(again.url()).value();
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    recrypt::Client as_bob(*transport, bob.auth, bob.udf);
    const auto g = as_alice.get_group(admin.signature.public_key().kid()).value();
    CHECK(g.members.size() == 2);
    const auto opened = as_bob.open(env, {&bob.device});
    REQUIRE_OK(opened);
    CHECK(text_of(opened->payload) == "kept");
    CHECK(again.stop(SIGTERM) == 0);

    // the audit log: every acknowledged change and recryption, the Merkle tree and signed apexes intact
    const std::string pub_text = [&] {
        std::ifstream in(data + "/service.pub.json");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    const auto pub_json = dare::parse_json(pub_text).value();
    const auto& keys = pub_json.as_object()[0].second;
    std::string signing_b64;
    for (const auto& [k, v] : keys.as_object()) {
        if (k == "SigningKey") signing_b64 = v.as_string();
    }
    const auto signing = dare::SignaturePublicKey::from_bytes(mesh::base64url_decode(signing_b64).value()).value();
    auto audit = dare::Container::open(data + "/audit.dare").value();
    CHECK(audit.type() == dare::ContainerType::merkle);
    const auto report = audit.verify([&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        if (kid == signing.kid()) return signing;
        return std::nullopt;
    });
    REQUIRE_OK(report);
    std::size_t recryptions = 0;
    std::size_t records = 0;
    for (std::uint64_t i = 1; i < audit.frames(); ++i) {
        const auto f = audit.read(i).value();
        if (f.is_meta) continue;
        CHECK(f.meta.content_type == recryptd::AuditLog::kRecordsType);
        const std::string text(f.payload.begin(), f.payload.end());
        for (const std::string_view record : recryptd::AuditLog::records_of(text)) {
            ++records;
            REQUIRE_OK(dare::parse_json(record));  // each line one JSON object
            if (record.find("\"RecryptData\"") != std::string_view::npos) ++recryptions;
            CHECK(record.find("RecryptionKey") == std::string_view::npos);
        }
    }
    CHECK(recryptions >= 6);  // five before the kill, one after
    // and the tool agrees; a changed record is caught
    const auto run = [](const std::string& cmd) {
        std::string out;
        FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
        char buf[512];
        while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
        const int rc = p != nullptr ? ::pclose(p) : -1;
        return std::pair(rc, out);
    };
    const auto [rc, out] = run(std::string(RECRYPT_BINARY) + " audit verify " + data + "/audit.dare");
    CHECK(rc == 0);
    CHECK(out.find("records verified") != std::string::npos);
    {
        std::fstream f(data + "/audit.dare", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(400);
        f.put('#');
    }
    const auto [rc2, out2] = run(std::string(RECRYPT_BINARY) + " audit verify " + data + "/audit.dare");
    CHECK(rc2 != 0);
    CHECK(out2.find("recrypt: ") == 0);
    CHECK(records >= static_cast<std::size_t>(acknowledged) + 1);  // every acknowledged write, and the RecryptData after the restart
}
