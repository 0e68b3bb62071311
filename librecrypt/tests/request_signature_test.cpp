#include <mesh_test/support.hpp>

#include <recrypt/request_signature.hpp>

using mesh::Errc;

namespace {
constexpr std::int64_t kNow = 1'800'000'000;
const std::string kPath = "/.well-known/recrypt";

struct Setup {
    mesh::test::SeededRandom rng{42};
    dare::SignaturePrivateKey alice = dare::SignaturePrivateKey::generate(rng);
    dare::SignaturePrivateKey mallory = dare::SignaturePrivateKey::generate(rng);
    recrypt::KeyLookup lookup = [this](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        if (kid == alice.public_key().kid()) return alice.public_key();
        return std::nullopt;
    };
    std::string body = R"({"RecryptDataRequest":{"GroupID":"MB2G-..."}})";
};
}  // namespace

TEST_CASE("signed requests verify once, and replays, edits and strangers fail", "[signature][unit]") {
    Setup s;
    recrypt::ReplayCache cache;
    const recrypt::VerifyOptions opts{std::chrono::seconds(300), kNow, &cache};
    const auto h = recrypt::sign_request(s.alice, "POST", kPath, mesh::as_bytes(s.body), kNow - 5, s.rng);
    CHECK(h.content_digest.starts_with("sha-512=:"));
    CHECK(h.signature_input.starts_with(R"(sig1=("@method" "@path" "content-digest");created=)"));
    const auto ok = recrypt::verify_request(h, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts);
    REQUIRE_OK(ok);
    CHECK(ok->keyid == s.alice.public_key().kid());
    CHECK_ERRC(recrypt::verify_request(h, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts), Errc::already_exists);

    const recrypt::VerifyOptions fresh{std::chrono::seconds(300), kNow, nullptr};
    std::string other_body = s.body;
    other_body[5] = 'X';
    CHECK_ERRC(recrypt::verify_request(h, "POST", kPath, mesh::as_bytes(other_body), s.lookup, fresh), Errc::auth_failed);
    CHECK_ERRC(recrypt::verify_request(h, "GET", kPath, mesh::as_bytes(s.body), s.lookup, fresh), Errc::auth_failed);
    CHECK_ERRC(recrypt::verify_request(h, "POST", "/v1/groups", mesh::as_bytes(s.body), s.lookup, fresh), Errc::auth_failed);
    // a digest that matches a changed body but a signature made over the old one
    recrypt::SignedHeaders moved = h;
    moved.content_digest = recrypt::content_digest(mesh::as_bytes(other_body));
    CHECK_ERRC(recrypt::verify_request(moved, "POST", kPath, mesh::as_bytes(other_body), s.lookup, fresh), Errc::auth_failed);
    // Mallory signs as herself: unknown key; claiming Alice's keyid: bad signature
    const auto m = recrypt::sign_request(s.mallory, "POST", kPath, mesh::as_bytes(s.body), kNow, s.rng);
    CHECK_ERRC(recrypt::verify_request(m, "POST", kPath, mesh::as_bytes(s.body), s.lookup, fresh), Errc::not_found);
    recrypt::SignedHeaders forged = m;
    const std::string mk = s.mallory.public_key().kid();
    forged.signature_input.replace(forged.signature_input.find(mk), mk.size(), s.alice.public_key().kid());
    CHECK_ERRC(recrypt::verify_request(forged, "POST", kPath, mesh::as_bytes(s.body), s.lookup, fresh), Errc::auth_failed);
    // a forged request does not use up the nonce cache
    CHECK(cache.size() == 1);
}

TEST_CASE("created must be within the window of the server's clock", "[signature][unit]") {
    Setup s;
    const recrypt::VerifyOptions opts{std::chrono::seconds(300), kNow, nullptr};
    for (const std::int64_t created : {kNow - 301, kNow + 301, std::int64_t{0}}) {
        const auto h = recrypt::sign_request(s.alice, "POST", kPath, mesh::as_bytes(s.body), created, s.rng);
        CHECK_ERRC(recrypt::verify_request(h, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts), Errc::permission_denied);
    }
    for (const std::int64_t created : {kNow - 300, kNow + 300}) {
        const auto h = recrypt::sign_request(s.alice, "POST", kPath, mesh::as_bytes(s.body), created, s.rng);
        CHECK(recrypt::verify_request(h, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts).has_value());
    }
}

TEST_CASE("malformed signature headers are refused, each with its reason", "[signature][unit]") {
    Setup s;
    const recrypt::VerifyOptions opts{std::chrono::seconds(300), kNow, nullptr};
    const auto h = recrypt::sign_request(s.alice, "POST", kPath, mesh::as_bytes(s.body), kNow, s.rng);
    const std::string kid = s.alice.public_key().kid();
    const auto input = [&](std::string v) {
        recrypt::SignedHeaders x = h;
        x.signature_input = std::move(v);
        return recrypt::verify_request(x, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts);
    };
    const std::string comps = R"(("@method" "@path" "content-digest"))";
    const std::string tail = ";nonce=\"AAAAAAAAAAAAAAAAAAAAAA\";keyid=\"" + kid + "\";alg=\"ed25519\"";
    for (const std::string& bad : std::vector<std::string>{
             "", "sig2=" + comps + ";created=1" + tail, "sig1=(\"@method\" \"@path\");created=1" + tail,
             "sig1=" + comps + tail, "sig1=" + comps + ";created=1;created=2" + tail,
             "sig1=" + comps + ";created=x" + tail, "sig1=" + comps + ";created=1;nonce=\"short\";keyid=\"" + kid + "\";alg=\"ed25519\"",
             "sig1=" + comps + ";created=1;nonce=\"AAAAAAAAAAAAAAAAAAAAAA\";keyid=\"" + kid + "\";alg=\"rsa-pss-sha512\"",
             "sig1=" + comps + ";created=1;nonce=\"AAAAAAAAAAAAAAAAAAAAAA\";keyid=\"not a udf!\";alg=\"ed25519\"",
             "sig1=" + comps + ";created=1" + tail + ";expires=5", "sig1=" + comps + ";created=1" + tail + " ",
             "sig1=" + comps + ";created=1;nonce=\"AAAA\\\"AAAAAAAAAAAAAAAAAA\";keyid=\"" + kid + "\";alg=\"ed25519\"",
             std::string(2000, 'a')}) {
        INFO(bad);
        CHECK_ERRC(input(bad), Errc::malformed);
    }
    recrypt::SignedHeaders x = h;
    x.content_digest = "sha-256=:" + h.content_digest.substr(9);
    CHECK_ERRC(recrypt::verify_request(x, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts), Errc::malformed);
    x = h;
    x.signature = "sig1=:AAAA:";
    CHECK_ERRC(recrypt::verify_request(x, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts), Errc::malformed);
    x = h;
    x.signature = "sig1=:@@@:";
    CHECK_ERRC(recrypt::verify_request(x, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts), Errc::malformed);
    x = h;
    x.signature.clear();
    CHECK_ERRC(recrypt::verify_request(x, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts), Errc::malformed);
    // no single-character change of Signature-Input or Signature verifies
    for (std::size_t i = 0; i < h.signature_input.size(); ++i) {
        recrypt::SignedHeaders y = h;
        y.signature_input[i] = y.signature_input[i] == 'A' ? 'B' : 'A';
        CHECK_FALSE(recrypt::verify_request(y, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts).has_value());
    }
    for (std::size_t i = 6; i + 1 < h.signature.size(); ++i) {
        recrypt::SignedHeaders y = h;
        y.signature[i] = y.signature[i] == 'A' ? 'B' : 'A';
        CHECK_FALSE(recrypt::verify_request(y, "POST", kPath, mesh::as_bytes(s.body), s.lookup, opts).has_value());
    }
}

TEST_CASE("the replay cache forgets a nonce once its request is outside the window, and has a bound", "[signature][unit]") {
    recrypt::ReplayCache cache(std::chrono::seconds(10), 3);
    REQUIRE_OK(cache.check_and_remember("K", "n1", 100, 100));
    CHECK_ERRC(cache.check_and_remember("K", "n1", 100, 105), Errc::already_exists);
    CHECK_ERRC(cache.check_and_remember("K", "n1", 100, 110), Errc::already_exists);  // still acceptable at 110: kept
    REQUIRE_OK(cache.check_and_remember("K2", "n1", 105, 105));  // per key
    REQUIRE_OK(cache.check_and_remember("K", "n2", 115, 106));   // created ahead of the clock: kept until 125
    CHECK_ERRC(cache.check_and_remember("K", "n3", 106, 107), Errc::limit_exceeded);
    REQUIRE_OK(cache.check_and_remember("K", "n3", 111, 111));  // n1 (created 100) forgotten after 110
    CHECK(cache.size() == 3);
    REQUIRE_OK(cache.check_and_remember("K", "n4", 120, 120));  // K2/n1 (105) forgotten after 115
    CHECK_ERRC(cache.check_and_remember("K", "n2", 115, 124), Errc::already_exists);
    REQUIRE_OK(cache.check_and_remember("K", "n5", 126, 126));  // n2 (115) forgotten after 125, n3 (111) after 121
    CHECK(cache.size() == 2);
    // a key id and nonce that run together differently are different entries
    REQUIRE_OK(cache.check_and_remember("AB", "C", 126, 126));
    CHECK_ERRC(cache.check_and_remember("A", "BC", 126, 126), Errc::limit_exceeded);  // full, not a replay
}
