#include <mesh_test/support.hpp>

#include <dare/sequence.hpp>

using mesh::Errc;
namespace seq = dare::sequence;

namespace {
mesh::Bytes payload300() {
    mesh::Bytes p(300);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i % 256);
    return p;
}

mesh::Bytes simple_list(const rapidjson::Value& v) {
    const std::string h0 = v["frame0_header_json"].GetString();
    const std::string h1 = v["frame1_header_json"].GetString();
    const mesh::Bytes empty;
    const mesh::Bytes p = payload300();
    const std::span<const std::uint8_t> f0[] = {mesh::as_bytes(h0), empty, empty};
    const std::span<const std::uint8_t> f1[] = {mesh::as_bytes(h1), p};
    mesh::Bytes file = seq::encode_frame(f0);
    const mesh::Bytes b = seq::encode_frame(f1);
    file.insert(file.end(), b.begin(), b.end());
    return file;
}
}  // namespace

TEST_CASE("the published simple list: headers in the reference layout and the frame bytes", "[sequence][kat]") {
    const auto doc = mesh::test::load_vectors("dare-sequence.json");
    const auto& v = doc["simple_list"];
    const std::string h0 = v["frame0_header_json"].GetString();
    const std::string h1 = v["frame1_header_json"].GetString();
    CHECK(h0.size() == v["frame0_header_len"].GetUint());
    CHECK(h1.size() == v["frame1_header_len"].GetUint());
    // our writer reproduces the reference's layout byte for byte
    CHECK(seq::reference_json(dare::parse_json(h0).value()) == h0);
    CHECK(seq::reference_json(dare::parse_json(h1).value()) == h1);

    const mesh::Bytes file = simple_list(v);
    const std::string hex = mesh::hex_encode(file);
    CHECK(hex.starts_with("f491f08b"));          // frame 0: F4 91 | F0 8B <139>
    const std::size_t f0_end = 2 + 0x91 + 2;
    CHECK(mesh::hex_encode(std::span(file).subspan(f0_end - 6, 6)) == "f000f00091f4");  // F0 00 | F0 00 | 91 F4
    CHECK(mesh::hex_encode(std::span(file).subspan(f0_end, 5)) == "f50173f042");      // F5 01 73 | F0 42
    CHECK(mesh::hex_encode(std::span(file).subspan(f0_end + 5 + 66, 3)) == "f1012c");  // F1 01 2C <300>
    CHECK(hex.ends_with("7301f5"));

    // forwards and backwards
    const auto a = seq::read_frame(file, 0).value();
    CHECK(std::string(a.header.begin(), a.header.end()) == h0);
    CHECK(a.payload.empty());
    CHECK(a.trailer.has_value());
    const auto b = seq::read_frame(file, a.end).value();
    CHECK(b.payload.size() == 300);
    CHECK_FALSE(b.trailer.has_value());
    CHECK(b.end == file.size());
    const auto back = seq::read_frame_before(file, file.size()).value();
    CHECK(back.start == a.end);
    const auto first = seq::read_frame_before(file, back.start).value();
    CHECK(first.start == 0);
    CHECK_ERRC(seq::read_frame_before(file, 0), Errc::malformed);
}

TEST_CASE("frames reject truncation, flipped tags and mismatched trailing lengths", "[sequence][unit]") {
    const auto doc = mesh::test::load_vectors("dare-sequence.json");
    const mesh::Bytes file = simple_list(doc["simple_list"]);
    const auto f0 = seq::read_frame(file, 0).value();
    for (std::size_t n = 0; n < f0.end; ++n) {
        INFO(n);
        CHECK_ERRC(seq::read_frame(std::span(file).first(n), 0), Errc::malformed);
    }
    for (const std::size_t at : {std::size_t{0}, std::size_t{1}, static_cast<std::size_t>(f0.end - 2),
                                 static_cast<std::size_t>(f0.end - 1), std::size_t{2}}) {
        mesh::Bytes bad = file;
        bad[at] ^= 0x01;
        INFO(at);
        CHECK_FALSE(seq::read_frame(bad, 0).has_value());
    }
    mesh::Bytes bad = file;
    bad[file.size() - 2] ^= 0x10;  // the reversed length of the last frame
    CHECK_ERRC(seq::read_frame_before(bad, bad.size()), Errc::malformed);
    // a frame with one record, or four, is refused
    const mesh::Bytes r(3, 7);
    const std::span<const std::uint8_t> two[] = {r, r};
    mesh::Bytes one = seq::encode_frame(two);
    one[1] = static_cast<std::uint8_t>(one[1] - 5);          // drop the second record from the length...
    one.erase(one.begin() + 2 + 5, one.begin() + 2 + 10);    // ...and its bytes
    one[one.size() - 2] = one[1];
    CHECK_ERRC(seq::read_frame(one, 0), Errc::malformed);
}

TEST_CASE("length codes switch at 256, 65536 and 2^32 bytes", "[sequence][unit]") {
    for (const std::size_t n : {std::size_t{0}, std::size_t{200}, std::size_t{300}, std::size_t{70000}}) {
        const mesh::Bytes p(n, 1);
        const mesh::Bytes h(10, 2);
        const std::span<const std::uint8_t> recs[] = {h, p};
        const mesh::Bytes f = seq::encode_frame(recs);
        const auto v = seq::read_frame(f, 0).value();
        CHECK(v.payload.size() == n);
        CHECK(v.end == f.size());
        const std::size_t content = 2 + 10 + (n < 256 ? 2 : n < 65536 ? 3 : 5) + n;
        const unsigned code = content < 256 ? 0 : content < 65536 ? 1 : 2;
        CHECK(f[0] == 0xF4 + code);
    }
}

TEST_CASE("chain digests and tree positions of the published examples", "[sequence][kat]") {
    const auto doc = mesh::test::load_vectors("dare-sequence.json");
    const mesh::Digest512 pd = mesh::sha512({payload300()});
    CHECK(mesh::base64url_encode(pd) == doc["chain"]["payload_digest_b64"].GetString());
    // The reference's published ChainDigest of frames 1-3 is CombineDigest(null, PayloadDigest)
    // every time (it reads the previous value where it never is): our CombineDigest reproduces it.
    const auto ref = seq::combine_digest(std::nullopt, pd);
    CHECK(mesh::base64url_encode(ref) == doc["chain"]["chain_digest_frames_1_2_3_as_published"].GetString());
    // The intended chain links each frame to the one before, so equal payloads differ.
    const auto c1 = seq::combine_digest(std::nullopt, pd);
    const auto c2 = seq::combine_digest(c1, pd);
    CHECK(c1 == ref);
    CHECK_FALSE(c2 == ref);
    // TreePosition(n) is the start of frame previous_frame(n)
    const auto& m = doc["merkle"];
    for (const auto& f : m["frames"].GetArray()) {
        const auto n = f["index"].GetUint64();
        const std::string prev = std::to_string(seq::previous_frame(n));
        INFO("frame " << n);
        CHECK(m["frame_start_positions"][prev.c_str()].GetUint64() == f["TreePosition"].GetUint64());
    }
    CHECK(seq::previous_frame(0) == 0);
}

TEST_CASE("the reference layout wraps long binary strings", "[sequence][unit]") {
    const std::string b64(100, 'A');
    const dare::Json j(dare::JsonObject{{"Salt", dare::Json(b64)}, {"n", dare::Json(1)}, {"a", dare::Json(dare::JsonArray{dare::Json(1), dare::Json(2)})}});
    const std::string out = seq::reference_json(j, {"Salt"});
    // the column starts at 1 + 4 + len("Salt") = 9 and breaks past 63, then restarts at 2
    CHECK(out.find("\n  AAAA") != std::string::npos);
    CHECK(out.starts_with("{\n  \"Salt\": \""));
    CHECK(out.ends_with("\"n\": 1,\n  \"a\": [1,\n    2]}"));
    std::string joined = out;  // removing the inserted "\n  " gives the string back whole
    for (std::size_t at; (at = joined.find("\n  ")) != std::string::npos;) joined.erase(at, 3);
    CHECK(joined.find("\"" + b64 + "\"") != std::string::npos);
    CHECK(dare::to_json(dare::parse_json(seq::reference_json(j)).value()) == dare::to_json(j));
    // the wrapped form reads back through the reference-JSON reader, not the strict one
    CHECK_FALSE(dare::parse_json(out).has_value());
    CHECK(dare::to_json(seq::parse_reference_json(out).value()) == dare::to_json(j));
    // escapes and newlines outside strings are left alone
    CHECK(seq::parse_reference_json("{\n  \"a\": \"x\\\"y\"}").value().find("a")->as_string() == "x\"y");
}
