// ../shared/BAD_INPUTS.md, row by row, against the real recryptd (issue #9): each hostile input
// gets the right status and a message that says what was wrong, the daemon stays up, and its
// store is unchanged (the groups file is byte for byte the same and the group reads the same).
// Rows that do not apply to our design are listed in docs/security.md with the reason.
#include <mesh_test/support.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <recrypt/client.hpp>

#include "daemon_harness.hpp"

using mesh::Errc;
using namespace recryptd_test;
using recrypt::Privilege;

namespace {
std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
}

struct Row {
    std::string section;  ///< BAD_INPUTS.md section
    std::string input;
    std::string request;  ///< raw bytes sent on a fresh connection
    int status;
    std::string says;     ///< a substring of the answer's body ("" for none)
};
}  // namespace

TEST_CASE("BAD_INPUTS rows: the right status, a clear message, the daemon up and the store unchanged", "[recryptd][integration]") {
    TempDir tmp;
    Daemon d(tmp.sub("data"), {"--set", "limits.max_body_bytes=65536"});
    mesh::RandomSource& rng = mesh::system_random();
    const Person alice(rng);
    const Person bob(rng);
    const Person stranger(rng);
    const GroupAdmin admin(rng);
    auto transport = recrypt::HttpTransport::create(d.url()).value();
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    REQUIRE_OK(as_alice.create_group(admin.group(alice, rng)));
    const std::string gid = admin.signature.public_key().kid();
    REQUIRE_OK(as_alice.add_member(gid, just(admin.member(bob, {Privilege::recrypt}, rng))));
    const int port = d.port();
    const auto post = [&](const std::string& body) { return signed_post(alice.auth, body, now_seconds()); };
    const auto post_as = [&](const Person& p, const std::string& body) { return signed_post(p.auth, body, now_seconds()); };

    // a well-formed AddMember for a new member, to spoil field by field
    const Person carol(rng);
    std::vector<recrypt::MemberEntry> carol_entry;
    carol_entry.push_back(admin.member(carol, {Privilege::recrypt}, rng));
    const std::string add = dare::to_json(recrypt::to_json(recrypt::Request(recrypt::AddMemberRequest{gid, std::move(carol_entry)})));
    const std::string carol_auth = mesh::base64url_encode(carol.auth.public_key().bytes());
    const std::string get_key = R"({"GetKey":{"GroupID":")" + gid + R"("}})";
    std::string deep;
    for (int i = 0; i < 30000; ++i) deep += '[';
    const std::string recrypt_zero_t = R"({"RecryptData":{"MemberUDF":")" + bob.udf + R"(","MemberKeyUDF":")" + bob.device.public_key().kid() +
                                       R"(","GroupKeyID":")" + admin.key.kid() + R"(","EphemeralKey":")" + mesh::base64url_encode(mesh::Bytes(32, 0)) +
                                       R"("}})";

    const std::string store = tmp.sub("data") + "/groups.dare";
    const std::string before = file_text(store);
    REQUIRE(!before.empty());
    const auto members_before = as_alice.get_group(gid).value().members.size();

    const std::vector<Row> rows = {
        // 4.1 transport
        {"4.1", "Content-Length 10^9 with few bytes",
         "POST /.well-known/recrypt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{}", 413, ""},
        {"4.1", "chunked body growing past the limit",
         "POST /.well-known/recrypt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
             [] { std::string c; for (int i = 0; i < 40; ++i) c += "800\r\n" + std::string(2048, ' ') + "\r\n"; return c; }(),
         413, ""},
        {"4.1", "header section over 8 KiB (one header)", http_request("GET", "/healthz", {"Cookie: " + std::string(9 * 1024, 'c')}, ""), 431, ""},
        {"4.1", "header section over 8 KiB (many small headers)",
         http_request("GET", "/healthz", [] { std::vector<std::string> h; for (int i = 0; i < 2000; ++i) h.push_back("X-" + std::to_string(i) + ": y"); return h; }(), ""),
         431, ""},
        {"4.1", "Content-Length and Transfer-Encoding together (smuggling)",
         "POST /.well-known/recrypt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400, ""},
        {"4.1", "two conflicting Content-Length",
         "POST /.well-known/recrypt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}", 400, ""},
        {"4.1", "a chunk size that is not hex",
         "POST /.well-known/recrypt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, ""},
        {"4.1", "wrong Content-Type", signed_post(alice.auth, get_key, now_seconds(), "text/plain"), 415, "application/json"},
        {"4.1", "unknown method on a known path", http_request("DELETE", "/.well-known/recrypt", {}, ""), 405, ""},
        {"4.1", "control character in the target", "GET /heal\x01thz HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
        // 4.2 JSON (signed by a member, so the parser is reached)
        {"4.2", "truncated JSON", post(add.substr(0, add.size() / 2)), 400, ""},
        {"4.2", "trailing garbage after the value", post(add + "x"), 400, ""},
        {"4.2", "nesting 30,000 deep (inside the body limit)", post(deep), 400, "deep"},
        {"4.2", "duplicate member", post(replace_once(add, R"("GroupID":)", R"("GroupID":"x","GroupID":)")), 400, "GroupID"},
        {"4.2", "wrong type (number for a string)", post(replace_once(add, R"("GroupID":")" + gid + "\"", R"("GroupID":7)")), 400, "GroupID"},
        {"4.2", "wrong type (object for an array)", post(replace_once(add, R"("Members":[)", R"("Members":{"a":[)") + "}"), 400, "Members"},
        {"4.2", "null for an object", post(R"({"AddMember":null})"), 400, "AddMember"},
        {"4.2", "unknown top-level member", post(replace_once(add, R"({"AddMember":{)", R"({"AddMember":{"Extra":1,)")), 400, "Extra"},
        {"4.2", "huge number", post(replace_once(add, R"("GroupID":")" + gid + "\"", R"("GroupID":1e400)")), 400, ""},
        {"4.2", "ID longer than its limit", post(replace_once(add, gid, std::string(300, 'M'))), 400, "GroupID"},
        {"4.2", "empty ID", post(replace_once(add, R"("GroupID":")" + gid + "\"", R"("GroupID":"")")), 400, "GroupID"},
        // 4.3 encodings
        {"4.3", "base64url with padding", post(replace_once(add, carol_auth, carol_auth.substr(0, 42) + "==")), 400, "AuthenticationKey"},
        {"4.3", "base64 '+' and '/'", post(replace_once(add, carol_auth, "+/" + carol_auth.substr(2))), 400, "AuthenticationKey"},
        {"4.3", "a key of the wrong length", post(replace_once(add, carol_auth, carol_auth.substr(0, 40))), 400, "AuthenticationKey"},
        // 4.4 group elements
        {"4.4", "identity point as the ephemeral key", post_as(bob, recrypt_zero_t), 400, "EphemeralKey"},
        {"4.4", "non-canonical point (all ff) as the ephemeral key",
         post_as(bob, replace_once(recrypt_zero_t, mesh::base64url_encode(mesh::Bytes(32, 0)), mesh::base64url_encode(mesh::Bytes(32, 0xff)))), 400,
         "EphemeralKey"},
        // 4.6 authentication and authorisation
        {"4.6", "a key the service does not know", post_as(stranger, get_key), 401, "unknown authentication key"},
        {"4.6", "signature over another body",
         [&] {
             const auto sig = recrypt::sign_request(alice.auth, "POST", "/.well-known/recrypt", mesh::as_bytes(std::string("{}")), now_seconds(), rng);
             return http_request("POST", "/.well-known/recrypt",
                                 {"Content-Type: application/json", "Content-Digest: " + recrypt::content_digest(mesh::as_bytes(add)),
                                  "Signature-Input: " + sig.signature_input, "Signature: " + sig.signature},
                                 add);
         }(),
         401, "authentication failed"},
        {"4.6", "created an hour ago", signed_post(alice.auth, add, now_seconds() - 3600), 401, "clock"},
        {"4.6", "created an hour ahead", signed_post(alice.auth, add, now_seconds() + 3600), 401, "clock"},
        {"4.6", "a member without ADMIN adds someone", post_as(bob, add), 403, ""},
        {"4.6", "unknown group", post(replace_once(add, gid, "MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")), 404, "group"},
    };

    for (const auto& row : rows) {
        INFO(row.section << " " << row.input);
        const RawResponse r = raw_request(port, row.request);
        CHECK(r.status == row.status);
        if (!row.says.empty()) CHECK(r.body.find(row.says) != std::string::npos);
        if (r.status != row.status || (!row.says.empty() && r.body.find(row.says) == std::string::npos)) {
            UNSCOPED_INFO("answer: " << r.status << " " << r.body.substr(0, 300));
        }
        CHECK(raw_request(port, http_request("GET", "/healthz", {}, "")).status == 200);  // still up
        CHECK(file_text(store) == before);                                                 // nothing written
    }

    // 4.1 pipelining: 100 requests on one connection, answered in order, the daemon unharmed
    {
        const int fd = connect_to(port);
        REQUIRE(fd >= 0);
        std::string many;
        for (int i = 0; i < 100; ++i) many += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        REQUIRE(send_all(fd, many));
        std::string in;  // every answer, read until all 100 are there or 5 s pass
        int answered = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (answered < 100 && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) continue;
            char buf[65536];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            in.append(buf, static_cast<std::size_t>(n));
            answered = 0;
            for (auto at = in.find("HTTP/1.1 200 OK"); at != std::string::npos; at = in.find("HTTP/1.1 200 OK", at + 1)) ++answered;
        }
        ::close(fd);
        CHECK(answered == 100);
    }
    // 4.1 control characters in X-Request-ID: the parser refuses the request (400), nothing echoed;
    // a well-formed id from an untrusted peer is replaced by our own
    {
        RawResponse r = raw_request(port, http_request("GET", "/healthz", {"X-Request-ID: evil\x01id"}, ""));
        CHECK(r.status == 400);
        CHECK(r.headers.find("evil") == std::string::npos);
        r = raw_request(port, http_request("GET", "/healthz", {"X-Request-ID: chosen-by-client"}, ""));
        CHECK(r.status == 200);
        CHECK(r.headers.find("chosen-by-client") == std::string::npos);
    }
    // the replayed request: the second copy is refused, nothing applied twice
    {
        const std::string once = post(replace_once(add, R"("AddMember")", R"("AddMember")"));
        CHECK(raw_request(port, once).status == 201);
        const RawResponse again = raw_request(port, once);
        CHECK(again.status == 409);
        CHECK(again.body.find("replayed") != std::string::npos);
    }
    CHECK(as_alice.get_group(gid).value().members.size() == members_before + 1);  // carol, once
    CHECK(raw_request(port, http_request("GET", "/readyz", {}, "")).status == 200);

    // 4.6 a replay across a restart: the replay cache starts empty, so requests made before the
    // start are refused
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the daemon has been up two seconds
    const std::string earlier = signed_post(alice.auth, get_key, now_seconds() - 1);
    CHECK(raw_request(port, earlier).status == 201);
    d.stop(SIGTERM);
    d.restart();
    const RawResponse replayed = raw_request(d.port(), earlier);
    CHECK(replayed.status == 401);
    CHECK(replayed.body.find("before the service started") != std::string::npos);
    CHECK(raw_request(d.port(), signed_post(alice.auth, get_key, now_seconds())).status == 201);
}
