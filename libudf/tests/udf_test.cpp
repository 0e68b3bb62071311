#include <mesh_test/support.hpp>

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

#include <mesh/hash.hpp>
#include <udf/digest.hpp>
#include <udf/udf.hpp>

using mesh::Errc;
using mesh::as_bytes;
using udf::DigestAlg;

namespace {
DigestAlg alg_of(const std::string& name) {
    return name == "SHA-3-512" ? DigestAlg::sha3_512 : DigestAlg::sha2_512;
}

void check_expected(const rapidjson::Value& expected, DigestAlg alg, const std::string& cty,
                    const std::string& data) {
    for (const auto& m : expected.GetObject()) {
        const auto bits = static_cast<unsigned>(std::stoul(m.name.GetString()));
        INFO("bits " << bits);
        CHECK(udf::content_digest(alg, cty, as_bytes(data), bits).value() == m.value.GetString());
    }
}
}  // namespace

TEST_CASE("content digest UDFs match every published vector", "[udf][kat]") {
    const auto doc = mesh::test::load_vectors("udf.json");
    for (const auto& v : doc["content_digest"].GetArray()) {
        INFO(v["id"].GetString());
        const std::string data = v["data_utf8"].GetString();
        const std::string cty = v["content_type"].GetString();
        if (v.HasMember("expected")) {
            const DigestAlg alg = alg_of(v["alg"].GetString());
            check_expected(v["expected"], alg, cty, data);
            const mesh::Bytes bin = udf::content_digest_binary(alg, cty, as_bytes(data));
            CHECK(bin[0] == v["type_byte"].GetUint());
            if (v.HasMember("H_typed")) {
                CHECK(mesh::hex_encode_upper(std::span(bin).subspan(1)) == v["H_typed"].GetString());
            }
            if (v.HasMember("H_data")) {
                const auto hd = alg == DigestAlg::sha2_512 ? mesh::sha512({as_bytes(data)})
                                                           : mesh::sha3_512({as_bytes(data)});
                CHECK(mesh::hex_encode_upper(hd) == v["H_data"].GetString());
            }
        }
        if (v.HasMember("expected_sha2")) check_expected(v["expected_sha2"], DigestAlg::sha2_512, cty, data);
        if (v.HasMember("expected_sha3")) check_expected(v["expected_sha3"], DigestAlg::sha3_512, cty, data);
    }
}

TEST_CASE("authenticator UDFs match the published vectors and intermediate values",
          "[udf][kat]") {
    const auto doc = mesh::test::load_vectors("udf.json");
    for (const auto& v : doc["authenticator"].GetArray()) {
        INFO(v["id"].GetString());
        const std::string data = v["data_utf8"].GetString();
        const mesh::Digest512 d = mesh::sha512({as_bytes(data)});
        const mesh::Bytes bin =
            udf::authenticator_binary(v["key_string"].GetString(), v["content_type"].GetString(), d);
        CHECK(bin[0] == 0);
        CHECK(udf::present(bin, 140).value() == v["expected"]["140"].GetString());
        if (v.HasMember("MAC")) {
            CHECK(mesh::hex_encode_upper(std::span(bin).subspan(1)) == v["MAC"].GetString());
            const auto prk = mesh::hkdf_extract(mesh::HkdfHash::sha512, as_bytes("KeyedUDFMaster"),
                                                as_bytes(v["key_string"].GetString()));
            CHECK(mesh::hex_encode_upper(prk.expose_secret()) == v["PRK"].GetString());
            const auto okm = mesh::hkdf_expand(mesh::HkdfHash::sha512, prk.expose_secret(),
                                               as_bytes("KeyedUDFExpand"), 64);
            CHECK(mesh::hex_encode_upper(okm->expose_secret()) == v["OKM"].GetString());
        }
    }
}

TEST_CASE("compression counts trailing zero bits only", "[udf][unit]") {
    std::array<std::uint8_t, 64> v{};
    v.fill(0xFF);
    CHECK(udf::compression_level(v) == 0);
    v[63] = 0;
    v[62] = 0;
    v[61] = 0xF0;  // 8 + 8 + 4 = 20 trailing zeros
    CHECK(udf::compression_level(v) == 1);
    v[61] = 0xE0;  // 21
    CHECK(udf::compression_level(v) == 1);
    v[61] = 0;
    v[60] = 0xC0;  // 30
    CHECK(udf::compression_level(v) == 2);
    v[60] = 0;
    v[59] = 0;     // 40
    v[58] = 0x01;
    CHECK(udf::compression_level(v) == 3);
    v[58] = 0;
    v[57] = 0x04;  // 48 + 2 = 50
    CHECK(udf::compression_level(v) == 4);
    v.fill(0xFF);
    v[0] = 0;  // leading zeros do not count
    CHECK(udf::compression_level(v) == 0);
}

TEST_CASE("the streaming digester and file reader agree with the one-shot digest",
          "[udf][property]") {
    mesh::Bytes data(3 * 1000 * 1000 + 17);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i % 251);
    for (const auto alg : {DigestAlg::sha2_512, DigestAlg::sha3_512}) {
        const mesh::Bytes whole = udf::content_digest_binary(alg, "text/plain", data);
        udf::ContentDigester d(alg);
        for (std::size_t off = 0; off < data.size(); off += 4099) {
            d.update(std::span(data).subspan(off, std::min<std::size_t>(4099, data.size() - off)));
        }
        CHECK(d.finish("text/plain") == whole);

        char path[] = "/tmp/udf_test_XXXXXX";
        const int fd = mkstemp(path);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
        REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
        udf::ContentDigester f(alg);
        REQUIRE_OK(udf::digest_fd(fd, f));
        CHECK(f.finish("text/plain") == whole);
        close(fd);
        unlink(path);
    }
    udf::ContentDigester bad(DigestAlg::sha2_512);
    CHECK_ERRC(udf::digest_fd(-1, bad), Errc::io);
}

TEST_CASE("presentation precision is bounded by the range and the value", "[udf][unit]") {
    const mesh::Bytes bin = udf::content_digest_binary(DigestAlg::sha2_512, "text/plain", as_bytes("x"));
    CHECK(udf::present(bin, 100).value().size() == 24);  // 20 chars + 4 dashes
    CHECK(udf::present(bin, 121).value() == udf::present(bin, 125).value());  // 25 chars
    CHECK(udf::present(bin, 440).value().size() == 88 + 21);
    CHECK_ERRC(udf::present(bin, 99), Errc::invalid_argument);
    CHECK_ERRC(udf::present(bin, 441), Errc::invalid_argument);
    CHECK_ERRC(udf::present(std::span(bin).first(12), 140), Errc::invalid_argument);
}

TEST_CASE("udf parsing is case-insensitive, skips dashes and rejects everything else",
          "[udf][unit]") {
    const std::string ref = "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF";
    CHECK(udf::canonical("mddk7n6a-727a-JZNO-strx-xks7-djaf").value() ==
          "MDDK7N6A727AJZNOSTRXXKS7DJAF");
    const auto bin = udf::decode(ref).value();
    CHECK(bin.size() == 17);  // 28 chars = 140 bits -> 17 whole bytes
    CHECK(bin.expose_secret()[0] == 96);
    // 28 characters leave 4 bits over: a truncated value, refused where exactness matters
    CHECK_ERRC(udf::decode_exact(ref), Errc::malformed);
    CHECK(udf::decode_exact("MDDK-7N6A").value().size() == 5);  // 40 bits, nothing over
    for (const char* bad : {"", "-", "M", "MDDK 7N6A", "MDDK_7N6A", "MDDK07N6A", "MDDK=", "MDDK\n",
                            "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJA\xC3\xA9"}) {
        INFO(bad);
        CHECK_ERRC(udf::decode(bad), Errc::malformed);
    }
}

TEST_CASE("prefix matching needs a shared prefix of at least 100 bits", "[udf][unit]") {
    const std::string full = "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-XI6O-ZSLU-2VOA";
    CHECK(udf::matches(full, "MDDK-7N6A-727A-JZNO-STRX").value());
    CHECK(udf::matches("mddk7n6a727ajznostrxxks7", full).value());
    CHECK_FALSE(udf::matches(full, "MDDK-7N6A-727A-JZNO-STR").value());  // 95 bits: under the floor
    CHECK_FALSE(udf::matches(full, "MDDK-7N6A-727A-JZNO-STRY").value());
    CHECK(udf::matches(full, "MDDK-7N6A-727A-JZNO", 80).value());
    CHECK_ERRC(udf::matches(full, "MDDK!"), Errc::malformed);

    const auto a = udf::Fingerprint::parse(full).value();
    const auto b = udf::Fingerprint::parse("mddk-7n6a-727a-jzno-strx-xks7").value();
    CHECK(a.matches(b));
    CHECK(b.to_string() == "MDDK-7N6A-727A-JZNO-STRX-XKS7");
    CHECK(b.bits() == 120);
    CHECK_FALSE(a == b);
}

TEST_CASE("fingerprints accept digest and oid types only, at 100 bits or more", "[udf][unit]") {
    CHECK(udf::Fingerprint::parse("KCFI-NCQG-DRKG-47R7-OVPT-TCHZ-7UXY").value().type_byte() == 80);
    CHECK(udf::Fingerprint::parse("MGHB-JWIZ-J3LA-EEWD-GCT3-WX6H-C5W2").value().type_byte() == 97);
    CHECK_ERRC(udf::Fingerprint::parse("NDZZ-KNXV-IWNN-ZPN3-CIZY-YJUF-XMBA"), Errc::unsupported);
    CHECK_ERRC(udf::Fingerprint::parse("ABGM-G76T-7GPF-FTYH-SB2F-HBDF-SW6B"), Errc::unsupported);
    CHECK_ERRC(udf::Fingerprint::parse("MDDK-7N6A-727A-JZNO"), Errc::malformed);
    CHECK_ERRC(udf::Fingerprint::parse(std::string(110, 'M')), Errc::malformed);
}

TEST_CASE("type names cover the table and flag unknown bytes", "[udf][unit]") {
    CHECK(udf::type_name(96) == "sha2-512 digest");
    CHECK(udf::type_name(97) == "sha2-512 digest (20 bits compressed)");
    CHECK(udf::type_name(84) == "sha3-512 digest (50 bits compressed)");
    CHECK(udf::type_name(144) == "shamir share");
    CHECK(udf::type_name(7) == "unknown");
    CHECK(udf::is_known_type(200));
    CHECK_FALSE(udf::is_known_type(255));
}

TEST_CASE("strong internet names carry at most 240 bits of the udf", "[udf][unit]") {
    const auto fp = udf::Fingerprint::parse(
        "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-XI6O-ZSLU-2VOA-TZQ6-JMHP-TSXP").value();
    const std::string sin = udf::strong_internet_name("alice@example.com", fp).value();
    CHECK(sin == "alice@example.com.mm--mddk-7n6a-727a-jzno-strx-xks7-djaf-xi6o-zslu-2voa-tzq6-jmhp");
    CHECK(sin.substr(sin.find("mm--")).size() <= 63);
    CHECK_ERRC(udf::strong_internet_name("", fp), Errc::invalid_argument);
}
