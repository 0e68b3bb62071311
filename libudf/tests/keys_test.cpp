#include <mesh_test/support.hpp>

#include <udf/digest.hpp>
#include <udf/keys.hpp>
#include <udf/udf.hpp>

using mesh::Errc;
using mesh::test::unhex;

TEST_CASE("ed25519 oid udfs and fingerprints match the drafts and examples", "[keys][kat]") {
    const auto doc = mesh::test::load_vectors("udf.json");
    for (const auto& v : doc["oid_and_key_fingerprint"].GetArray()) {
        INFO(v["id"].GetString());
        const mesh::Bytes pk = unhex(v["ed25519_public"].GetString());
        CHECK(mesh::hex_encode_upper(udf::spki_der(udf::KeyAlgorithm::ed25519, pk).value()) ==
              v["der"].GetString());
        CHECK(udf::oid_udf(udf::KeyAlgorithm::ed25519, pk).value() == v["expected_oid_udf"].GetString());
        CHECK(udf::key_fingerprint(udf::KeyAlgorithm::ed25519, pk).value() ==
              v["expected_key_fingerprint"].GetString());
    }
}

TEST_CASE("key fingerprints of mesh-keys.json: ed25519 public and seed, ed448, x448",
          "[keys][kat]") {
    const auto doc = mesh::test::load_vectors("mesh-keys.json");
    int checked = 0;
    for (const auto& v : doc["fingerprints"].GetArray()) {
        const auto alg = udf::parse_key_algorithm(v["crv"].GetString()).value();
        INFO(v["crv"].GetString() << " " << v["udf"].GetString());
        mesh::Bytes pk;
        if (v.HasMember("public")) {
            pk = unhex(v["public"].GetString());
        } else if (v.HasMember("public_b64url")) {
            pk = mesh::base64url_decode(v["public_b64url"].GetString()).value();
        } else {
            const auto seed = mesh::base64url_decode(v["private_seed_b64url"].GetString()).value();
            pk = udf::public_from_seed(alg, seed).value();
        }
        CHECK(udf::key_fingerprint(alg, pk).value() == v["udf"].GetString());
        ++checked;
    }
    CHECK(checked == 5);
}

TEST_CASE("ristretto255 keys have a 2.25 uuid oid and fingerprints of the PKIXKey rule",
          "[keys][unit]") {
    const mesh::Bytes pk(32, 0x11);
    const auto der = udf::spki_der(udf::KeyAlgorithm::ristretto255, pk).value();
    CHECK(der.size() == 2 + 26 + 5 + 32);
    CHECK(mesh::hex_encode_upper(std::span(der).first(8)) == "303F301806146981");
    // the same rule as every other key: digest of the DER with content type PKIXKey
    CHECK(udf::key_fingerprint(udf::KeyAlgorithm::ristretto255, pk).value() ==
          udf::content_digest(udf::DigestAlg::sha2_512, "PKIXKey", der).value());
    CHECK(udf::parse_key_algorithm("ristretto255").value() == udf::KeyAlgorithm::ristretto255);
}

TEST_CASE("key fingerprint inputs are checked", "[keys][unit]") {
    CHECK_ERRC(udf::key_fingerprint(udf::KeyAlgorithm::ed25519, mesh::Bytes(31)), Errc::invalid_argument);
    CHECK_ERRC(udf::key_fingerprint(udf::KeyAlgorithm::x25519, mesh::Bytes(32)), Errc::invalid_argument);
    CHECK(udf::key_fingerprint(udf::KeyAlgorithm::x25519, mesh::Bytes(33, 9)).has_value());
    CHECK_ERRC(udf::key_fingerprint(udf::KeyAlgorithm::ed448, mesh::Bytes(56)), Errc::invalid_argument);
    CHECK_ERRC(udf::public_from_seed(udf::KeyAlgorithm::ed25519, mesh::Bytes(33)), Errc::invalid_argument);
    CHECK_ERRC(udf::public_from_seed(udf::KeyAlgorithm::x25519, mesh::Bytes(32)), Errc::unsupported);
    CHECK_ERRC(udf::parse_key_algorithm("rsa"), Errc::unsupported);
    CHECK(udf::parse_key_algorithm("Ed25519").value() == udf::KeyAlgorithm::ed25519);
    // RFC 8032 test 1: the seed 9d61b1... has the public key d75a98...
    const auto pk = udf::public_from_seed(
        udf::KeyAlgorithm::ed25519,
        unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).value();
    CHECK(mesh::hex_encode(pk) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
}

TEST_CASE("earl content identifiers and locators match the published examples", "[keys][kat]") {
    const auto doc = mesh::test::load_vectors("udf.json");
    for (const auto& v : doc["earl"].GetArray()) {
        INFO(v["id"].GetString());
        const auto earl = udf::parse_earl(v["uri"].GetString()).value();
        CHECK(earl.domain == v["domain"].GetString());
        CHECK(earl.key == v["key_udf"].GetString());
        CHECK(udf::to_string(earl) == v["uri"].GetString());
        CHECK(udf::earl_content_identifier(earl) == v["expected_content_identifier"].GetString());
        CHECK(udf::earl_locator(earl) == v["expected_get_uri"].GetString());
        // A key written in lower case without dashes names the same content.
        std::string loose = v["key_udf"].GetString();
        std::erase(loose, '-');
        for (char& c : loose) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto same = udf::make_earl("EXAMPLE.com", loose).value();
        CHECK(udf::earl_content_identifier(same) == v["expected_content_identifier"].GetString());
    }
}

TEST_CASE("earl parsing rejects what is not exactly udf://domain/KEY", "[keys][unit]") {
    const std::string key = "EAYD-XWZT-KLWY-LAM5-65GD-II6N-MPZS-TP";
    CHECK_ERRC(udf::parse_earl("https://example.com/" + key), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://example.com"), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://example.com/"), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://bob@example.com/" + key), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://example.com:443/" + key), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://example.com/" + key + "/x"), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://example.com/" + key + "?q"), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://exa_mple.com/" + key), Errc::invalid_argument);
    CHECK_ERRC(udf::parse_earl("udf://-example.com/" + key), Errc::invalid_argument);
    CHECK_ERRC(udf::parse_earl("udf://example..com/" + key), Errc::invalid_argument);
    CHECK_ERRC(udf::parse_earl("udf://example.com/MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF"), Errc::unsupported);
    CHECK_ERRC(udf::parse_earl("udf://example.com/SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O"), Errc::unsupported);
    CHECK_ERRC(udf::parse_earl("udf://example.com/EAYD-XW"), Errc::malformed);
    CHECK_ERRC(udf::parse_earl("udf://example.com/EAYD!XWZT"), Errc::malformed);
}

TEST_CASE("nonces and keys have their type, length and randomness", "[keys][unit]") {
    mesh::test::FixedRandom rng(mesh::Bytes(16, 0xAB));
    const std::string nonce = udf::make_nonce(rng).value();
    CHECK(nonce.size() == 28 + 6);
    const auto bin = udf::decode(nonce).value();
    CHECK(bin.expose_secret()[0] == 104);
    CHECK(bin.expose_secret()[16] == 0xAB);
    CHECK(rng.remaining() == 0);
    CHECK(udf::decode(udf::make_nonce(mesh::system_random(), 256).value()).value().size() == 33);
    CHECK_ERRC(udf::make_nonce(mesh::system_random(), 120), Errc::invalid_argument);
    CHECK_ERRC(udf::make_nonce(mesh::system_random(), 130), Errc::invalid_argument);
    const auto key = udf::make_encryption_key(mesh::system_random()).value();
    CHECK(key.size() == 17);
    CHECK(key.expose_secret()[0] == 32);
    CHECK(udf::make_encryption_key(mesh::system_random()).value() != key);
    CHECK_ERRC(udf::make_encryption_key(mesh::system_random(), 1024), Errc::invalid_argument);
    // The published nonce decodes to its type and bytes.
    CHECK(mesh::hex_encode(udf::decode("NDZZ-KNXV-IWNN-ZPN3-CIZY-YJUF-XMBA").value().expose_secret()) ==
          "68f39536f5459adcbdbb12338c2685bb02");
}

TEST_CASE("derived keys from seeds match the published derivations", "[keys][kat]") {
    const auto doc = mesh::test::load_vectors("udf.json");
    const auto& seeds = doc["derived_key_seed"];
    // X25519 (verified): the OKM is the private key.
    const auto x = udf::decode(seeds[0]["seed_udf"].GetString()).value();
    CHECK(mesh::hex_encode_upper(x.expose_secret().subspan(1)) == seeds[0]["IKM"].GetString());
    CHECK(mesh::hex_encode_upper(
              udf::derive_private_key(x.expose_secret(), udf::SeedAlgorithm::x25519).value().expose_secret()) ==
          seeds[0]["key"].GetString());
    // P-256 (verified): d = (OKM mod (p-1)) + 1 with the field prime.
    const auto p = udf::decode(seeds[1]["seed_udf"].GetString()).value();
    const auto d = udf::derive_private_key(p.expose_secret(), udf::SeedAlgorithm::p256).value();
    CHECK(d.size() == 32);
    // key_decimal 8235...5099 in hex:
    CHECK(mesh::hex_encode_upper(d.expose_secret()) ==
          "B611A39A000AE784EF3226DF429FFB083AB30004CBFA0F5E1DD354916243B25B");
    // Ed25519, X448 and Ed448 (published, not independently verified).
    const auto& more = seeds[3]["values"];
    const std::pair<const char*, udf::SeedAlgorithm> cases[] = {
        {"Ed25519", udf::SeedAlgorithm::ed25519},
        {"X448", udf::SeedAlgorithm::x448},
        {"Ed448", udf::SeedAlgorithm::ed448}};
    for (const auto& [name, alg] : cases) {
        INFO(name);
        const auto s = udf::decode(more[name]["seed"].GetString()).value();
        CHECK(mesh::hex_encode_upper(udf::derive_private_key(s.expose_secret(), alg).value().expose_secret()) ==
              more[name]["key"].GetString());
    }
}

TEST_CASE("seeds carry their specifier and refuse the wrong algorithm", "[keys][unit]") {
    const auto seed = udf::make_seed(mesh::system_random(), udf::KeyUse::signature,
                                     udf::SeedAlgorithm::ed25519).value();
    CHECK(seed.size() == 19);
    CHECK(seed.expose_secret()[0] == 200);
    CHECK(seed.expose_secret()[1] == 0x80);
    CHECK(seed.expose_secret()[2] == 3);
    CHECK(udf::derive_private_key(seed.expose_secret(), udf::SeedAlgorithm::ed25519).value().size() == 32);
    CHECK_ERRC(udf::derive_private_key(seed.expose_secret(), udf::SeedAlgorithm::x25519), Errc::invalid_argument);
    CHECK_ERRC(udf::derive_private_key(seed.expose_secret(), udf::SeedAlgorithm::any), Errc::unsupported);
    CHECK_ERRC(udf::derive_private_key(mesh::Bytes(10, 200), udf::SeedAlgorithm::x25519), Errc::unsupported);
    CHECK_ERRC(udf::make_seed(mesh::system_random(), udf::KeyUse::any, udf::SeedAlgorithm::any, 64),
               Errc::invalid_argument);
}
