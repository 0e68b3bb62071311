#include <mesh_test/support.hpp>

#include <mesh/bytes.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

using mesh::Errc;

namespace {
mesh::Result<int> parse_positive(int v) {
    if (v <= 0) return mesh::fail(Errc::invalid_argument, "value: not positive");
    return v;
}
mesh::Result<int> doubled(int v) {
    MESH_ASSIGN_OR_RETURN(const int x, parse_positive(v));
    return 2 * x;
}
mesh::Result<void> checked(int v) {
    MESH_TRY(parse_positive(v));
    return mesh::ok();
}
}  // namespace

TEST_CASE("result carries a value or an error and the macros propagate errors", "[core][unit]") {
    CHECK(doubled(21).value() == 42);
    CHECK_ERRC(doubled(-1), Errc::invalid_argument);
    CHECK(checked(1).has_value());
    CHECK_ERRC(checked(0), Errc::invalid_argument);
    CHECK(doubled(-1).error().message == "value: not positive");
}

TEST_CASE("errc names round trip", "[core][unit]") {
    for (int i = 0; i <= static_cast<int>(Errc::internal); ++i) {
        const auto code = static_cast<Errc>(i);
        Errc back{};
        REQUIRE(mesh::errc_from_name(mesh::errc_name(code), back));
        CHECK(back == code);
    }
    Errc unused{};
    CHECK_FALSE(mesh::errc_from_name("no_such_code", unused));
}

TEST_CASE("hex decodes either case and rejects odd lengths and bad digits", "[core][unit]") {
    CHECK(mesh::hex_decode("00ffA5").value() == mesh::Bytes{0x00, 0xFF, 0xA5});
    CHECK(mesh::hex_encode(mesh::Bytes{0x00, 0xFF, 0xA5}) == "00ffa5");
    CHECK(mesh::hex_encode_upper(mesh::Bytes{0x00, 0xFF, 0xA5}) == "00FFA5");
    CHECK(mesh::hex_decode("").value().empty());
    CHECK_ERRC(mesh::hex_decode("abc"), Errc::malformed);
    CHECK_ERRC(mesh::hex_decode("zz"), Errc::malformed);
    CHECK_ERRC(mesh::hex_decode("0 "), Errc::malformed);
    CHECK_ERRC(mesh::hex_decode("0x00"), Errc::malformed);
}

TEST_CASE("base64url matches RFC 4648 vectors", "[core][kat]") {
    const auto doc = mesh::test::load_vectors("base32.json");
    for (const auto& v : doc.GetArray()) {
        const mesh::Bytes input = mesh::test::unhex(v["input_hex"].GetString());
        const std::string expect = v["base64url_unpadded"].GetString();
        CHECK(mesh::base64url_encode(input) == expect);
        CHECK(mesh::base64url_decode(expect).value() == input);
    }
}

TEST_CASE("base64url rejects padding, other alphabets, whitespace and loose bits", "[core][unit]") {
    for (const char* bad : {"Zg==", "Zm9v+g", "Zm9v/g", "Zm9 v", "Zm9v\n", "Z", "Zm9vY", "Zm9vYh",
                            "Zh", "Zm9vYmF"}) {
        INFO(bad);
        CHECK_ERRC(mesh::base64url_decode(bad), Errc::malformed);
    }
    CHECK(mesh::base64url_decode("").value().empty());
}

TEST_CASE("secure bytes compare in constant time, move out wiped, clone explicitly",
          "[core][unit]") {
    const std::uint8_t raw[] = {1, 2, 3, 4};
    mesh::SecureBytes a{std::span<const std::uint8_t>(raw)};
    mesh::SecureBytes b = a.clone();
    CHECK(a == b);
    b.expose_secret_mut()[0] = 9;
    CHECK_FALSE(a == b);
    mesh::SecureBytes c = std::move(a);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    CHECK(c.size() == 4);

    mesh::SecretArray<4> s{std::span<const std::uint8_t, 4>(raw)};
    mesh::SecretArray<4> t = std::move(s);
    CHECK(t.expose_secret()[3] == 4);
    for (const auto byte : s.expose_secret()) CHECK(byte == 0);  // NOLINT: wiped on move
    CHECK_FALSE(mesh::secure_equal(mesh::Bytes{1}, mesh::Bytes{1, 2}));
}
