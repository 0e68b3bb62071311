#include <mesh_test/support.hpp>

#include <mesh/hash.hpp>

using mesh::Errc;
using mesh::test::unhex;

TEST_CASE("hmac-sha-512 and -256 match RFC 4231 and Wycheproof", "[hash][kat]") {
    const auto doc = mesh::test::load_vectors("hmac.json");
    for (const auto& v : doc.GetArray()) {
        INFO(v["name"].GetString());
        const mesh::Bytes key = unhex(v["key"].GetString());
        const mesh::Bytes data = unhex(v["data"].GetString());
        const bool valid = std::string(v["result"].GetString()) == "valid";
        const std::string expect512 = v["hmac_sha512"].GetString();
        const mesh::Digest512 mac = mesh::hmac_sha512(key, {data});
        const std::string got = mesh::hex_encode(mac).substr(0, expect512.size());
        CHECK((got == expect512) == valid);
        if (v.HasMember("hmac_sha256")) {
            const std::string expect256 = v["hmac_sha256"].GetString();
            const std::string got256 =
                mesh::hex_encode(mesh::hmac_sha256(key, {data})).substr(0, expect256.size());
            CHECK(got256 == expect256);
        }
    }
}

TEST_CASE("hkdf matches RFC 5869 and Wycheproof, and refuses impossible lengths", "[hash][kat]") {
    const auto doc = mesh::test::load_vectors("hkdf.json");
    for (const auto& v : doc.GetArray()) {
        INFO(v["name"].GetString());
        const auto hash = std::string(v["hash"].GetString()) == "SHA-512" ? mesh::HkdfHash::sha512
                                                                          : mesh::HkdfHash::sha256;
        const mesh::Bytes ikm = unhex(v["ikm"].GetString());
        const mesh::Bytes salt = unhex(v["salt"].GetString());
        const mesh::Bytes info = unhex(v["info"].GetString());
        const auto length = static_cast<std::size_t>(v["length"].GetUint());
        const auto okm = mesh::hkdf(hash, salt, ikm, info, length);
        if (std::string(v["result"].GetString()) == "valid") {
            REQUIRE_OK(okm);
            CHECK(mesh::hex_encode(okm->expose_secret()) == v["okm"].GetString());
            const auto prk = mesh::hkdf_extract(hash, salt, ikm);
            CHECK(mesh::hex_encode(prk.expose_secret()) == v["prk"].GetString());
        } else {
            CHECK_ERRC(okm, Errc::invalid_argument);
        }
    }
    CHECK_ERRC(mesh::hkdf_expand(mesh::HkdfHash::sha256, mesh::Bytes(32), {}, 0),
               Errc::invalid_argument);
    CHECK_ERRC(mesh::hkdf_expand(mesh::HkdfHash::sha256, mesh::Bytes(32), {}, 255 * 32 + 1),
               Errc::invalid_argument);
}

TEST_CASE("streaming digests equal one-shot digests for every split point", "[hash][property]") {
    mesh::Bytes data(300);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    const auto whole2 = mesh::sha512({data});
    const auto whole3 = mesh::sha3_512({data});
    const auto cut = static_cast<std::size_t>(GENERATE(range(0, 300, 13)));
    mesh::Hasher s2(mesh::HashAlg::sha2_512);
    mesh::Hasher s3(mesh::HashAlg::sha3_512);
    s2.update(std::span(data).first(cut));
    s2.update(std::span(data).subspan(cut));
    s3.update(std::span(data).first(cut));
    s3.update(std::span(data).subspan(cut));
    CHECK(s2.finish() == whole2);
    CHECK(s3.finish() == whole3);
}

TEST_CASE("sha-512 and sha3-512 of the empty string", "[hash][kat]") {
    CHECK(mesh::hex_encode(mesh::sha512({})).starts_with("cf83e1357eefb8bdf1542850d66d8007"));
    CHECK(mesh::hex_encode(mesh::sha3_512({})).starts_with("a69f73cca23a9ac5c8b567dc185a756e"));
}
