// Tree and Merkle containers, signed apexes, encrypted containers and index frames.
#include <mesh_test/support.hpp>

#include <map>
#include <set>

#include <dare/container.hpp>
#include <dare/sequence.hpp>

#include "container_support.hpp"

using mesh::Errc;
using namespace dare_test;
namespace seq = dare::sequence;

namespace {
struct RawFrame {
    std::uint64_t start;
    std::uint64_t end;
    dare::Json header;
    std::optional<dare::Json> trailer;
    mesh::Bytes header_bytes;
    mesh::Bytes payload;
};

// Every frame of a container file, parsed by the frame layer alone.
std::vector<RawFrame> raw_frames(const mesh::Bytes& file) {
    std::vector<RawFrame> out;
    std::uint64_t pos = 0;
    while (pos < file.size()) {
        const auto f = seq::read_frame(file, pos);
        REQUIRE_OK(f);
        const std::string h(f->header.begin(), f->header.end());
        RawFrame r{f->start, f->end, seq::parse_reference_json(h).value(), std::nullopt,
                   mesh::Bytes(f->header.begin(), f->header.end()), mesh::Bytes(f->payload.begin(), f->payload.end())};
        if (f->trailer && !f->trailer->empty()) {
            r.trailer = seq::parse_reference_json(std::string(f->trailer->begin(), f->trailer->end())).value();
        }
        out.push_back(std::move(r));
        pos = f->end;
    }
    return out;
}

const dare::Json& member(const dare::Json& o, std::string_view name) {
    for (const auto& [k, v] : o.as_object()) {
        if (k == name) return v;
    }
    FAIL("no member " << name);
    throw std::logic_error("unreachable");
}

bool has_member(const dare::Json& o, std::string_view name) {
    for (const auto& [k, v] : o.as_object()) {
        if (k == name) return true;
    }
    return false;
}

mesh::Digest512 digest_of(const dare::Json& trailer, std::string_view name) {
    const auto b = dare::base64url_decode_lenient(member(trailer, name).as_string()).value();
    mesh::Digest512 d{};
    REQUIRE(b.size() == d.size());
    std::copy(b.begin(), b.end(), d.begin());
    return d;
}

// RFC 6962's Merkle tree hash over leaves[lo, hi), computed independently of the library.
mesh::Digest512 mth(const std::vector<mesh::Digest512>& leaves, std::size_t lo, std::size_t hi) {
    if (hi - lo == 1) return leaves[lo];
    std::size_t k = 1;
    while (k * 2 < hi - lo) k *= 2;
    return seq::combine_digest(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

// The leaf of a frame: SHA-512(HeaderDigest || PayloadDigest).
mesh::Digest512 leaf_of(const RawFrame& f) {
    return seq::combine_digest(mesh::sha512({f.header_bytes}), mesh::sha512({f.payload}));
}

// Rewrites frame `i` with a changed payload and trailer digests recomputed the way an attacker
// without the signing key could: its own HeaderDigest, PayloadDigest and TreeDigest.
mesh::Bytes forge(const mesh::Bytes& file, std::size_t i) {
    auto frames = raw_frames(file);
    frames[i].payload[0] ^= 0x20;
    std::vector<mesh::Digest512> leaves;
    for (std::size_t n = 1; n <= i; ++n) leaves.push_back(leaf_of(frames[n]));
    dare::JsonObject t;
    for (const auto& [k, v] : frames[i].trailer->as_object()) {
        if (k == "HeaderDigest") {
            t.emplace_back(k, dare::Json(mesh::base64url_encode(mesh::sha512({frames[i].header_bytes}))));
        } else if (k == "PayloadDigest") {
            t.emplace_back(k, dare::Json(mesh::base64url_encode(mesh::sha512({frames[i].payload}))));
        } else if (k == "TreeDigest") {
            t.emplace_back(k, dare::Json(mesh::base64url_encode(mth(leaves, 0, leaves.size()))));
        } else {
            t.emplace_back(k, v);
        }
    }
    const std::string trailer =
        seq::reference_json(dare::Json(std::move(t)), {"HeaderDigest", "PayloadDigest", "ChainDigest", "TreeDigest", "signature"});
    const std::span<const std::uint8_t> recs[] = {frames[i].header_bytes, frames[i].payload, mesh::as_bytes(trailer)};
    const mesh::Bytes frame = seq::encode_frame(recs);
    REQUIRE(frame.size() == frames[i].end - frames[i].start);
    mesh::Bytes out = file;
    std::copy(frame.begin(), frame.end(), out.begin() + static_cast<std::ptrdiff_t>(frames[i].start));
    return out;
}

dare::SignerLookup lookup_for(const dare::SignaturePublicKey& key) {
    return [key](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        if (kid == key.kid()) return key;
        return std::nullopt;
    };
}

std::size_t count_of(const mesh::Bytes& file, std::string_view needle) {
    const std::string text(file.begin(), file.end());
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("Tree and Merkle frames point to the previous apex and carry the intended Merkle root", "[container][unit]") {
    TempDir dir;
    const auto type = GENERATE(dare::ContainerType::tree, dare::ContainerType::merkle);
    const std::string path = dir.file("tree.dare");
    {
        auto c = dare::Container::create(path, type, kFast).value();
        for (std::size_t i = 1; i <= 37; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i))));
        REQUIRE_OK(c.verify());
    }
    const auto frames = raw_frames(read_file(path));
    REQUIRE(frames.size() == 38);
    std::vector<mesh::Digest512> leaves;
    for (std::uint64_t n = 1; n < frames.size(); ++n) {
        INFO("frame " << n);
        const auto& info = member(frames[n].header, "SequenceInfo");
        CHECK(*member(info, "TreePosition").as_uint64() == frames[seq::previous_frame(n)].start);
        leaves.push_back(leaf_of(frames[n]));
        if (type == dare::ContainerType::merkle) {
            CHECK(digest_of(*frames[n].trailer, "TreeDigest") == mth(leaves, 0, leaves.size()));
        } else {
            CHECK_FALSE(has_member(*frames[n].trailer, "TreeDigest"));
        }
    }
    // the first frame's root is its leaf; two frames combine the two leaves
    if (type == dare::ContainerType::merkle) {
        CHECK(digest_of(*frames[1].trailer, "TreeDigest") == leaves[0]);
        CHECK(digest_of(*frames[2].trailer, "TreeDigest") == seq::combine_digest(leaves[0], leaves[1]));
        auto c = dare::Container::open(path, kFast).value();
        CHECK(c.apex() == mth(leaves, 0, leaves.size()));
    }
}

TEST_CASE("Merkle: verify detects any changed frame, even with its own digests recomputed", "[container][property]") {
    TempDir dir;
    mesh::test::SeededRandom rng(7);
    const auto signer = dare::SignaturePrivateKey::generate(rng);
    const std::string path = dir.file("merkle.dare");
    dare::ContainerOptions options = kFast;
    options.signer = &signer;
    options.sign_interval = 1;  // every apex signed
    {
        auto c = dare::Container::create(path, dare::ContainerType::merkle, options).value();
        for (std::size_t i = 1; i <= 12; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i))));
    }
    const mesh::Bytes whole = read_file(path);
    const auto signers = lookup_for(signer.public_key());
    {
        const auto report = dare::Container::open(path, kFast).value().verify(signers).value();
        CHECK(report.signatures == 12);
        CHECK(report.signed_upto == 12);
    }
    for (std::size_t i = 1; i <= 12; ++i) {
        INFO("forged frame " << i);
        write_file(path, forge(whole, i));
        auto c = dare::Container::open(path, kFast);
        if (i < 12) {
            // the next frame's TreeDigest no longer matches
            CHECK_ERRC(c, Errc::auth_failed);
        } else {
            // the last frame is consistent with itself: only its signed apex gives it away
            REQUIRE_OK(c);
            CHECK_ERRC(c->verify(signers), Errc::auth_failed);
        }
    }
    // and every single-byte flip is noticed by open or by verify (a shorter container: each
    // flip costs an open and a verification of every signature)
    write_file(path, whole);
    mesh::Bytes small;
    {
        const std::string small_path = dir.file("small.dare");
        auto c = dare::Container::create(small_path, dare::ContainerType::merkle, options).value();
        for (std::size_t i = 1; i <= 4; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i))));
        small = read_file(small_path);
    }
    std::size_t noticed = 0;
    for (std::size_t at = 0; at < small.size(); ++at) {
        mesh::Bytes bad = small;
        bad[at] ^= 0x04;
        write_file(path, bad);
        auto c = dare::Container::open(path, kFast);
        if (!c || !c->verify(signers)) ++noticed;
    }
    CHECK(noticed == small.size());
}

TEST_CASE("signed apexes at intervals, on Chain and Merkle only", "[container][unit]") {
    TempDir dir;
    mesh::test::SeededRandom rng(8);
    const auto signer = dare::SignaturePrivateKey::generate(rng);
    const auto other = dare::SignaturePrivateKey::generate(rng);
    dare::ContainerOptions options = kFast;
    options.signer = &signer;
    options.sign_interval = 4;
    for (const auto type : {dare::ContainerType::chain, dare::ContainerType::merkle}) {
        const std::string path = dir.file(std::string(dare::container_type_name(type)) + ".dare");
        auto c = dare::Container::create(path, type, options).value();
        for (std::size_t i = 1; i <= 10; ++i) REQUIRE_OK(c.append(payload(i), object("o")));
        const auto report = c.verify(lookup_for(signer.public_key())).value();
        CHECK(report.signatures == 2);
        CHECK(report.signed_upto == 8);
        CHECK(report.apex == c.apex());
        CHECK(c.verify().value().signatures == 0);  // no lookup: not checked
        CHECK_ERRC(c.verify(lookup_for(other.public_key())), Errc::not_found);
        // the key that signed is named in the trailer
        CHECK(count_of(read_file(path), signer.public_key().kid()) == 2);
    }
    CHECK_ERRC(dare::Container::create(dir.file("tree.dare"), dare::ContainerType::tree, options), Errc::invalid_argument);
}

TEST_CASE("encrypted containers: one key exchange reused, a salt per frame, nothing in the clear", "[container][unit]") {
    TempDir dir;
    mesh::test::SeededRandom rng(9);
    const auto key = dare::PrivateKey::generate(rng);
    const auto stranger = dare::PrivateKey::generate(rng);
    dare::PrivateKeyAgreement keys;
    keys.add(key);
    dare::PrivateKeyAgreement wrong;
    wrong.add(stranger);
    const auto type = GENERATE(dare::ContainerType::list, dare::ContainerType::chain, dare::ContainerType::merkle);
    const std::string path = dir.file("secret.dare");
    dare::ContainerOptions options = kFast;
    options.recipients = {key.public_key()};
    options.keys = &keys;
    {
        auto c = dare::Container::create(path, type, options).value();
        CHECK(c.encrypted());
        dare::Catalog cat(c);
        for (int i = 0; i < 6; ++i) REQUIRE_OK(cat.put("secret-id-" + std::to_string(i % 4), payload(static_cast<std::size_t>(700 + i))));
        CHECK(cat.get("secret-id-1").value() == payload(705));
    }
    mesh::Bytes file = read_file(path);
    CHECK(count_of(file, "secret-id") == 0);
    CHECK(count_of(file, "\"object\"") == 0);
    CHECK(count_of(file, "\"recipients\"") == 1);
    CHECK(count_of(file, "ExchangePosition") == 5);
    {
        std::set<std::string> salts;
        const auto frames = raw_frames(file);
        for (std::size_t n = 1; n < frames.size(); ++n) salts.insert(member(frames[n].header, "Salt").as_string());
        CHECK(salts.size() == frames.size() - 1);
    }
    // reopened with the key: objects, reads, and appends reuse the exchange
    {
        dare::ContainerOptions with_key = kFast;
        with_key.keys = &keys;
        auto c = dare::Container::open(path, with_key).value();
        dare::Catalog cat(c);
        CHECK(cat.ids() == std::vector<std::string>({"secret-id-0", "secret-id-1", "secret-id-2", "secret-id-3"}));
        CHECK(cat.get("secret-id-0").value() == payload(704));
        REQUIRE_OK(cat.put("secret-id-9", payload(9)));
        REQUIRE_OK(c.verify());
        CHECK(count_of(read_file(path), "\"recipients\"") == 1);
    }
    // without the key: frames and digests check, contents stay closed
    for (dare::KeyAgreement* k : {static_cast<dare::KeyAgreement*>(nullptr), static_cast<dare::KeyAgreement*>(&wrong)}) {
        dare::ContainerOptions no_key = kFast;
        no_key.keys = k;
        auto c = dare::Container::open(path, no_key).value();
        CHECK(c.frames() == 8);
        CHECK(c.objects().empty());
        CHECK_ERRC(c.read(1), Errc::not_found);
        REQUIRE_OK(c.verify());
        CHECK_ERRC(c.append(payload(1), object("x")), Errc::not_found);  // no key, no recipients
    }
    // an append-only writer with only the public key makes a new exchange
    {
        dare::ContainerOptions writer = kFast;
        writer.recipients = {key.public_key()};
        auto c = dare::Container::open(path, writer).value();
        REQUIRE_OK(c.append(payload(10), object("from-writer")));
        REQUIRE_OK(c.append(payload(11), object("from-writer")));
        CHECK(count_of(read_file(path), "\"recipients\"") == 2);
        dare::ContainerOptions with_key = kFast;
        with_key.keys = &keys;
        auto r = dare::Container::open(path, with_key).value();
        CHECK(r.read(r.find("from-writer").value()).value().payload == payload(11));
        CHECK(r.read(1).value().payload == payload(700));
    }
    // compaction re-encrypts under a fresh content key
    {
        dare::ContainerOptions both = options;
        auto c = dare::Container::open(path, both).value();
        REQUIRE_OK(c.compact());
        dare::Catalog cat(c);
        CHECK(cat.get("secret-id-9").value() == payload(9));
        auto again = dare::Container::open(path, both).value();
        CHECK(dare::Catalog(again).get("from-writer").value() == payload(11));
        dare::ContainerOptions no_recipients = kFast;
        no_recipients.keys = &keys;
        CHECK_ERRC(dare::Container::open(path, no_recipients).value().compact(), Errc::invalid_argument);
    }
    // a changed ciphertext byte never yields data
    file = read_file(path);
    const auto frames = raw_frames(file);
    const auto& last = frames.back();
    mesh::Bytes bad = file;
    bad[last.end - 40] ^= 0x01;  // inside the payload or the trailer of the last frame
    write_file(path, bad);
    dare::ContainerOptions with_key = kFast;
    with_key.keys = &keys;
    auto c = dare::Container::open(path, with_key);
    if (c) {
        const auto r = c->read(c->frames() - 1);
        CHECK_FALSE(r.has_value());
        CHECK_FALSE(c->verify().has_value());
    }
}

TEST_CASE("index frames: open starts from the last one and reads only what follows", "[container][unit]") {
    TempDir dir;
    mesh::test::SeededRandom rng(10);
    const auto key = dare::PrivateKey::generate(rng);
    dare::PrivateKeyAgreement keys;
    keys.add(key);
    const auto type = GENERATE(dare::ContainerType::list, dare::ContainerType::digest, dare::ContainerType::chain,
                               dare::ContainerType::tree, dare::ContainerType::merkle);
    const bool encrypted = GENERATE(false, true);
    INFO(dare::container_type_name(type) << (encrypted ? " encrypted" : ""));
    const std::string path = dir.file("indexed.dare");
    dare::ContainerOptions options = kFast;
    if (encrypted) {
        options.recipients = {key.public_key()};
        options.keys = &keys;
    }
    std::map<std::string, std::size_t> expect;
    std::uint64_t index_frame = 0;
    {
        auto c = dare::Container::create(path, type, options).value();
        dare::Catalog cat(c);
        for (std::size_t i = 0; i < 300; ++i) {
            const std::string id = "obj-" + std::to_string(i % 97);
            REQUIRE_OK(cat.put(id, payload(i)));
            expect[id] = i;
        }
        REQUIRE_OK(cat.remove("obj-5"));
        expect.erase("obj-5");
        index_frame = c.write_index().value();
        CHECK(index_frame == 302);
        CHECK(c.read(index_frame).value().is_meta);
        for (std::size_t i = 300; i < 310; ++i) {
            REQUIRE_OK(cat.put("late-" + std::to_string(i), payload(i)));
            expect["late-" + std::to_string(i)] = i;
        }
    }
    const auto check_state = [&](dare::Container& c) {
        dare::Catalog cat(c);
        CHECK(cat.ids().size() == expect.size());
        for (const auto& [id, i] : expect) CHECK(cat.get(id).value() == payload(i));
        CHECK_ERRC(cat.get("obj-5"), Errc::not_found);
        REQUIRE_OK(c.verify());
    };
    dare::OpenReport report;
    {
        auto c = dare::Container::open(path, options, &report).value();
        CHECK(report.index_frame == index_frame);
        CHECK(report.frames == 313);
        check_state(c);
        // appends continue the chain and the tree from the indexed state
        REQUIRE_OK(dare::Catalog(c).put("after", payload(1)));
        expect["after"] = 1;
        REQUIRE_OK(c.verify());
    }
    {
        auto c = dare::Container::open(path, options, &report).value();
        CHECK(report.index_frame == index_frame);
        check_state(c);
    }
    // a torn tail after the index still goes back to the forward scan and is cut
    mesh::Bytes file = read_file(path);
    mesh::Bytes torn = file;
    torn.resize(torn.size() - 3);
    write_file(path, torn);
    {
        auto c = dare::Container::open(path, options, &report).value();
        CHECK(report.truncated_bytes > 0);
        CHECK(report.index_frame == 0);
        expect.erase("after");
        check_state(c);
    }
    // damage inside the index frame is reported, not read around
    write_file(path, file);
    const auto frames = raw_frames(file);
    mesh::Bytes bad = file;
    bad[frames[index_frame].start + (frames[index_frame].end - frames[index_frame].start) / 2] ^= 0x01;
    write_file(path, bad);
    if (type != dare::ContainerType::list || encrypted) {
        CHECK_FALSE(dare::Container::open(path, options).has_value());
    }
}

TEST_CASE("index frames every N appends, and after compaction", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("auto.dare");
    dare::ContainerOptions options = kFast;
    options.index_interval = 50;
    {
        auto c = dare::Container::create(path, dare::ContainerType::merkle, options).value();
        for (std::size_t i = 1; i <= 120; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i % 30))));
        CHECK(c.frames() == 123);  // indexes after frames 50 and 101
        CHECK(c.read(51).value().is_meta);
        CHECK(c.read(102).value().is_meta);
    }
    dare::OpenReport report;
    {
        auto c = dare::Container::open(path, options, &report).value();
        CHECK(report.index_frame == 102);
        REQUIRE_OK(c.compact());
        CHECK(c.frames() == 32);  // 30 objects, the index, frame 0
    }
    auto c = dare::Container::open(path, options, &report).value();
    CHECK(report.index_frame == 31);
    CHECK(c.read(c.find("o7").value()).value().payload == payload(97));
    REQUIRE_OK(c.verify());
}
