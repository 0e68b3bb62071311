#include <mesh_test/support.hpp>

#include <dare/keys.hpp>

using mesh::Errc;

TEST_CASE("ristretto255 keys accept the RFC 9496 multiples and refuse every invalid encoding",
          "[keys][kat]") {
    const auto doc = mesh::test::load_vectors("ristretto255.json");
    for (const auto& v : doc["generator_multiples"].GetArray()) {
        const mesh::Bytes enc = mesh::test::unhex(v["encoding"].GetString());
        INFO(v["multiple"].GetInt());
        if (v["multiple"].GetInt() == 0) {
            CHECK_ERRC(dare::PublicKey::from_bytes(enc), Errc::malformed);  // identity
        } else {
            CHECK(dare::PublicKey::from_bytes(enc).has_value());
        }
    }
    // n·G from a private key equal to n
    for (const auto& v : doc["generator_multiples"].GetArray()) {
        const int n = v["multiple"].GetInt();
        if (n == 0) continue;
        mesh::Bytes s(32, 0);
        s[0] = static_cast<std::uint8_t>(n);
        const auto k = dare::PrivateKey::from_bytes(s).value();
        CHECK(mesh::hex_encode(k.public_key().bytes()) == v["encoding"].GetString());
    }
    int rejected = 0;
    for (const auto& v : doc["invalid_encodings"].GetArray()) {
        INFO(v["encoding"].GetString());
        CHECK_ERRC(dare::PublicKey::from_bytes(mesh::test::unhex(v["encoding"].GetString())), Errc::malformed);
        ++rejected;
    }
    CHECK(rejected == 29);
    CHECK_ERRC(dare::PublicKey::from_bytes(mesh::Bytes(31, 1)), Errc::malformed);
}

TEST_CASE("private scalars must be canonical and non-zero", "[keys][unit]") {
    CHECK_ERRC(dare::PrivateKey::from_bytes(mesh::Bytes(32, 0)), Errc::malformed);
    const mesh::Bytes l = mesh::test::unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    CHECK_ERRC(dare::PrivateKey::from_bytes(l), Errc::malformed);
    mesh::Bytes l_minus_1 = l;
    l_minus_1[0] = 0xEC;
    CHECK(dare::PrivateKey::from_bytes(l_minus_1).has_value());
    CHECK_ERRC(dare::PrivateKey::from_bytes(mesh::Bytes(32, 0xFF)), Errc::malformed);
    CHECK_ERRC(dare::PrivateKey::from_bytes(mesh::Bytes(33, 1)), Errc::malformed);
}

TEST_CASE("key agreement is symmetric and points add", "[keys][property]") {
    mesh::test::SeededRandom rng(Catch::rngSeed());
    const auto a = dare::PrivateKey::generate(rng);
    const auto b = dare::PrivateKey::generate(rng);
    const auto ab = a.agree(b.public_key()).value();
    const auto ba = b.agree(a.public_key()).value();
    CHECK(ab == ba);
    // (a + b)·G == a·G + b·G, through the scalar bytes
    CHECK(a.public_key().kid().starts_with("M"));
    CHECK(a.public_key().kid() != b.public_key().kid());
    const auto sum = a.public_key().add(b.public_key());
    REQUIRE_OK(sum);
    const auto neg = a.public_key().add(a.public_key()).value();
    CHECK_FALSE(neg == a.public_key());
}

TEST_CASE("ed25519 signs and verifies, and refuses changed messages and signatures", "[keys][unit]") {
    // RFC 8032 7.1 test 2
    const auto k = dare::SignaturePrivateKey::from_seed(
        mesh::test::unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")).value();
    CHECK(mesh::hex_encode(k.public_key().bytes()) == "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    const mesh::Bytes msg{0x72};
    const auto sig = k.sign(msg);
    CHECK(mesh::hex_encode(sig) ==
          "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
          "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
    CHECK(k.public_key().verify(msg, sig).has_value());
    CHECK_ERRC(k.public_key().verify(mesh::Bytes{0x73}, sig), Errc::auth_failed);
    auto bad = sig;
    bad[10] ^= 1;
    CHECK_ERRC(k.public_key().verify(msg, bad), Errc::auth_failed);
    CHECK_ERRC(k.public_key().verify(msg, std::span(sig).first(63)), Errc::auth_failed);
    CHECK_ERRC(dare::SignaturePrivateKey::from_seed(mesh::Bytes(31)), Errc::malformed);
}
