#include <mesh_test/support.hpp>

#include <udf/base32.hpp>

using mesh::Errc;

TEST_CASE("base32 matches RFC 4648 section 10, padded and unpadded", "[base32][kat]") {
    const auto doc = mesh::test::load_vectors("base32.json");
    for (const auto& v : doc.GetArray()) {
        const mesh::Bytes input = mesh::test::unhex(v["input_hex"].GetString());
        INFO(v["input_ascii"].GetString());
        CHECK(udf::base32_encode(input) == v["base32_unpadded"].GetString());
        CHECK(udf::base32_encode_padded(input) == v["base32"].GetString());
        CHECK(udf::base32_decode(v["base32"].GetString()).value() == input);
        CHECK(udf::base32_decode(v["base32_unpadded"].GetString()).value() == input);
    }
}

TEST_CASE("base32 round trips every length up to 64", "[base32][property]") {
    const auto n = static_cast<std::size_t>(GENERATE(range(0, 65)));
    mesh::Bytes data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(0xA5 ^ (i * 31));
    CHECK(udf::base32_decode(udf::base32_encode(data)).value() == data);
    CHECK(udf::base32_decode(udf::base32_encode_padded(data)).value() == data);
}

TEST_CASE("base32 rejects lower case, bad letters, bad padding and impossible lengths",
          "[base32][unit]") {
    for (const char* bad : {"my", "MY0", "MY1", "M8", "MY=", "MY=====", "MY======X", "M",
                            "MZX", "MZXW6Y", "MZ", "MZXR", "MY-A", "MY A", "=", "MZXW6YQ=="}) {
        INFO(bad);
        CHECK_ERRC(udf::base32_decode(bad), Errc::malformed);
    }
}
