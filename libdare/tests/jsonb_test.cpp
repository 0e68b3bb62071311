#include <mesh_test/support.hpp>

#include <dare/jsonb.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using dare::Json;
using mesh::Errc;

namespace {
mesh::Bytes spaced_hex(std::string_view s) {
    std::string compact;
    for (const char c : s) {
        if (c != ' ') compact.push_back(c);
    }
    return mesh::test::unhex(compact);
}
}  // namespace

TEST_CASE("every published JSON-B example decodes to the JSON it stands for", "[jsonb][kat]") {
    const auto doc = mesh::test::load_vectors("jsonb.json");
    int checked = 0;
    for (const auto& v : doc["jsonb_examples"].GetArray()) {
        const std::string desc = v.HasMember("desc") ? v["desc"].GetString() : "";
        INFO(v["hex"].GetString() << " " << desc);
        const mesh::Bytes in = spaced_hex(v["hex"].GetString());
        const auto got = dare::parse_jsonb(in);
        if (desc.find("erroneous") != std::string::npos) {
            // The draft's "A5 00 01 42": A5 is a 256-bit integer, so three bytes cannot hold it.
            CHECK_ERRC(got, Errc::malformed);
            continue;
        }
        REQUIRE_OK(got);
        rapidjson::StringBuffer sb;
        rapidjson::Writer<rapidjson::StringBuffer> w(sb);
        v["value"].Accept(w);
        const Json expect = dare::parse_json(sb.GetString()).value();
        if (expect.kind() == Json::Kind::number) {
            CHECK(got->as_double() == Approx(expect.as_double()));
        } else {
            CHECK(*got == expect);
        }
        ++checked;
    }
    CHECK(checked == 14);
}

TEST_CASE("JSON-C and frames are refused clearly", "[jsonb][unit]") {
    const auto doc = mesh::test::load_vectors("jsonb.json");
    for (const auto& v : doc["jsonc_examples"].GetArray()) {
        INFO(v["hex"].GetString());
        CHECK_ERRC(dare::parse_jsonb(spaced_hex(v["hex"].GetString())), Errc::unsupported);
    }
    CHECK_ERRC(dare::parse_jsonb(spaced_hex("F0 00")), Errc::malformed);
    for (int tag = 0xF8; tag <= 0xFF; ++tag) {
        const mesh::Bytes b{static_cast<std::uint8_t>(tag)};
        CHECK_ERRC(dare::parse_jsonb(b), Errc::malformed);
        CHECK(dare::parse_jsonb(b).error().message.find("reserved tag") != std::string::npos);
    }
}

TEST_CASE("the EDS example is two JSON-B binary items", "[jsonb][kat]") {
    const auto doc = mesh::test::load_vectors("jsonb.json");
    const auto& eds = doc["dare_eds_examples"][0];
    const mesh::Bytes bytes = mesh::test::unhex(eds["hex"].GetString());
    CHECK(mesh::base64url_encode(bytes) == eds["base64url"].GetString());
    std::size_t pos = 0;
    CHECK(dare::parse_jsonb_item(bytes, pos).value() == Json(mesh::base64url_encode(mesh::Bytes{0})));
    CHECK(dare::parse_jsonb_item(bytes, pos).value() ==
          Json(mesh::base64url_encode(mesh::as_bytes("From: Alice@example.com"))));
    CHECK(pos == bytes.size());
}

TEST_CASE("the writer's output round trips", "[jsonb][property]") {
    const Json doc = dare::parse_json(R"({"name":"Al\u00efce","n":[0,255,256,65535,65536,4294967296,-1,-256,-9223372036854775808,18446744073709551615],
        "f":[1.5,-0.25,1e300],"t":true,"f2":false,"z":null,"nested":{"a":[[],{}],"e":""}})").value();
    const mesh::Bytes b = dare::to_jsonb(doc).value();
    CHECK(dare::parse_jsonb(b).value() == doc);
    // integers use the smallest length; names are B4 tag strings; strings count UTF-8 bytes
    CHECK(dare::to_jsonb(Json(255)).value() == mesh::Bytes{0xA0, 0xFF});
    CHECK(dare::to_jsonb(Json(256)).value() == mesh::Bytes{0xA1, 0x01, 0x00});
    CHECK(dare::to_jsonb(Json(-1)).value() == mesh::Bytes{0xA8, 0x01});
    CHECK(dare::to_jsonb(Json("\u00e9")).value() == mesh::Bytes{0x80, 0x02, 0xC3, 0xA9});
    CHECK(dare::to_jsonb(Json(dare::JsonObject{{"a", Json(true)}})).value() == mesh::Bytes{'{', 0xB4, 0x01, 'a', 0xB0, '}'});
    // long strings switch length codes
    const std::string big(70000, 'x');
    const mesh::Bytes bb = dare::to_jsonb(Json(big)).value();
    CHECK(bb[0] == 0x82);
    CHECK(dare::parse_jsonb(bb).value().as_string() == big);
}

TEST_CASE("128, 256 and 512-bit integers decode to their decimal values and round trip", "[jsonb][unit]") {
    mesh::Bytes a4{0xA4};
    a4.insert(a4.end(), 15, 0);
    a4.push_back(42);
    CHECK(dare::to_json(dare::parse_jsonb(a4).value()) == "42");
    mesh::Bytes max128{0xA4};
    max128.insert(max128.end(), 16, 0xFF);
    const Json j = dare::parse_jsonb(max128).value();
    CHECK(dare::to_json(j) == "340282366920938463463374607431768211455");
    CHECK(dare::to_jsonb(j).value() == max128);
    mesh::Bytes a6{0xA6};
    a6.insert(a6.end(), 64, 0xFF);
    const Json j6 = dare::parse_jsonb(a6).value();
    CHECK(dare::to_jsonb(j6).value() == a6);
    mesh::Bytes ac{0xAC};
    ac.insert(ac.end(), 15, 0);
    ac.push_back(7);
    CHECK(dare::to_json(dare::parse_jsonb(ac).value()) == "-7");
    CHECK(dare::to_json(dare::parse_jsonb(spaced_hex("AB FF FF FF FF FF FF FF FF")).value()) == "-18446744073709551615");
    CHECK_ERRC(dare::JsonbWriter().big_integer("12a"), Errc::invalid_argument);
}

TEST_CASE("malformed JSON-B is rejected without over-reading", "[jsonb][unit]") {
    for (const char* bad : {"80", "80 05 48 65", "81 00", "82 FF FF FF FF 41", "83 7F FF FF FF FF FF FF FF",
                            "88 02 00", "A1 00", "A3 00 00", "92 3f f0", "84 01 41", "84 01 41 88 00",
                            "7B B4 01 61", "7B B4 01 61 B0", "5B B0", "7B A0 01 B0 7D", "B0 B0",
                            "7B B4 01 61 B0 B4 01 61 B1 7D", "80 01 FF", "92 7f f0 00 00 00 00 00 00", "90"}) {
        INFO(bad);
        const auto r = dare::parse_jsonb(spaced_hex(bad));
        CHECK_FALSE(r.has_value());
        if (!r) CHECK(r.error().code == Errc::malformed);
    }
    // nesting is bounded
    mesh::Bytes deep(1000, '[');
    deep.insert(deep.end(), 1000, ']');
    CHECK_ERRC(dare::parse_jsonb(deep), Errc::limit_exceeded);
    // every truncation of a valid document fails and never reads past the end
    const mesh::Bytes doc = dare::to_jsonb(dare::parse_json(R"({"a":[1,"two",{"b":null}],"c":3.5})").value()).value();
    for (std::size_t n = 0; n < doc.size(); ++n) {
        INFO(n);
        CHECK_FALSE(dare::parse_jsonb(std::span(doc).first(n)).has_value());
    }
}
