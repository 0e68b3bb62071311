#include <mesh_test/support.hpp>

#include <dare/envelope.hpp>
#include <dare/jsonb.hpp>

using mesh::Errc;

namespace {
struct Party {
    dare::PrivateKey enc;
    dare::SignaturePrivateKey sig;
};

Party make_party(mesh::RandomSource& rng) {
    return Party{dare::PrivateKey::generate(rng), dare::SignaturePrivateKey::generate(rng)};
}

mesh::Bytes pattern(std::size_t n) {
    mesh::Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 131) ^ (i >> 8));
    return b;
}

dare::SignerLookup lookup_for(const std::vector<const Party*>& parties) {
    return [parties](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        for (const auto* p : parties) {
            if (p->sig.public_key().kid() == kid) return p->sig.public_key();
        }
        return std::nullopt;
    };
}

std::string as_text(const mesh::SecureBytes& b) {
    const auto s = b.expose_secret();
    return {reinterpret_cast<const char*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("envelopes round trip in both forms for every kind and boundary size", "[envelope][property]") {
    mesh::test::SeededRandom rng(Catch::rngSeed());
    const Party alice = make_party(rng);
    const Party bob = make_party(rng);
    constexpr std::uint32_t kChunk = 4096;  // the GENERATE below spells out chunk-1, chunk, chunk+1
    const auto size = static_cast<std::size_t>(GENERATE(0, 1, 4095, 4096, 4097, 3 * 4096, 10 * 1024 * 1024));
    const int kind = GENERATE(0, 1, 2, 3);  // plaintext, signed, encrypted, signed and encrypted
    const bool sign = kind == 1 || kind == 3;
    const bool encrypt = kind >= 2;
    INFO("size " << size << " kind " << kind);

    dare::EncodeOptions o;
    o.chunk_bytes = kChunk;
    if (encrypt) o.recipients = {alice.enc.public_key(), bob.enc.public_key()};
    if (sign) o.signers = {&alice.sig};
    o.meta = dare::ContentMeta::of_type("text/plain");
    o.meta->filename = "notes.txt";
    o.meta->created = "2026-11-22T01:00:00Z";
    o.annotations = {pattern(10), mesh::Bytes()};
    const mesh::Bytes payload = pattern(size);

    dare::PrivateKeyAgreement bob_keys;
    bob_keys.add(bob.enc);
    dare::OpenOptions open;
    open.keys = &bob_keys;
    open.signers = lookup_for({&alice});
    open.require_signature = sign;

    const auto bin = dare::encode_binary(o, rng, payload);
    REQUIRE_OK(bin);
    CHECK(std::equal(dare::kFilePrefix.begin(), dare::kFilePrefix.end(), bin->begin()));
    const auto back = dare::decode_binary(*bin, open);
    REQUIRE_OK(back);
    CHECK(mesh::secure_equal(back->payload.expose_secret(), payload));
    CHECK(back->info.meta == o.meta);
    CHECK(back->info.annotations == o.annotations);
    CHECK(back->info.verified_signers.size() == (sign ? 1U : 0U));

    if (size <= 3 * kChunk + 1) {
        const auto json = dare::encode_json(o, rng, payload);
        REQUIRE_OK(json);
        CHECK(json->starts_with("{\"DareEnvelope\":[{"));
        const auto jback = dare::decode_json(*json, open);
        REQUIRE_OK(jback);
        CHECK(mesh::secure_equal(jback->payload.expose_secret(), payload));
        CHECK(jback->info.meta == o.meta);
    }
}

TEST_CASE("the streaming writer and reader agree with the one-shot forms", "[envelope][unit]") {
    mesh::test::SeededRandom rng(1);
    const Party a = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {a.enc.public_key()};
    o.chunk_bytes = 1024;
    dare::BytesSink sink;
    auto w = dare::EnvelopeWriter::begin(o, rng, sink).value();
    const mesh::Bytes data = pattern(5000);
    for (std::size_t off = 0; off < data.size(); off += 7) {
        REQUIRE_OK(w.write(std::span(data).subspan(off, std::min<std::size_t>(7, data.size() - off))));
    }
    REQUIRE_OK(w.finish());
    CHECK_ERRC(w.write(data), Errc::invalid_argument);

    dare::PrivateKeyAgreement keys;
    keys.add(a.enc);
    dare::SpanSource src(sink.bytes);
    auto r = dare::EnvelopeReader::open(src, {&keys, {}, false}).value();
    mesh::Bytes got;
    int chunks = 0;
    for (;;) {
        const auto c = r.next_chunk().value();
        if (c.empty()) break;
        got.insert(got.end(), c.begin(), c.end());
        ++chunks;
    }
    REQUIRE_OK(r.finish());
    CHECK(got == data);
    CHECK(chunks == 5);
    dare::SpanSource again(sink.bytes);
    const auto h = dare::read_header(again).value();
    CHECK(h.enc == dare::Aead::xchacha20_poly1305);
    CHECK(h.recipients.size() == 1);
    CHECK(h.recipients[0].kid == a.enc.public_key().kid());
}

TEST_CASE("every single-byte flip and every truncation of a sealed envelope fails", "[envelope][property]") {
    mesh::test::SeededRandom rng(7);
    const Party alice = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {alice.enc.public_key()};
    o.signers = {&alice.sig};
    o.chunk_bytes = 1024;
    o.meta = dare::ContentMeta::of_type("text/plain");
    o.annotations = {pattern(5)};
    const mesh::Bytes env = dare::encode_binary(o, rng, pattern(2500)).value();
    dare::PrivateKeyAgreement keys;
    keys.add(alice.enc);
    const dare::OpenOptions open{&keys, lookup_for({&alice}), true};
    REQUIRE_OK(dare::decode_binary(env, open));

    std::map<std::string, int> codes;
    for (std::size_t i = 0; i < env.size(); ++i) {
        for (const std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
            mesh::Bytes bad = env;
            bad[i] ^= mask;
            const auto r = dare::decode_binary(bad, open);
            INFO("offset " << i << " mask " << int(mask));
            REQUIRE_FALSE(r.has_value());
            ++codes[std::string(mesh::errc_name(r.error().code))];
        }
    }
    // no error outside the expected classes (e.g. never internal or io)
    for (const auto& [code, n] : codes) {
        INFO(code);
        CHECK((code == "auth_failed" || code == "malformed" || code == "not_found" || code == "unsupported" ||
               code == "limit_exceeded"));
    }
    CHECK(codes["auth_failed"] > 0);
    for (std::size_t n = 0; n < env.size(); ++n) {
        const auto r = dare::decode_binary(std::span(env).first(n), open);
        INFO("truncated to " << n);
        REQUIRE_FALSE(r.has_value());
        CHECK((r.error().code == Errc::malformed || r.error().code == Errc::auth_failed));
    }
    mesh::Bytes longer = env;
    longer.push_back(0);
    CHECK_ERRC(dare::decode_binary(longer, open), Errc::malformed);
}

TEST_CASE("reordered, dropped and repeated chunks are detected", "[envelope][unit]") {
    mesh::test::SeededRandom rng(9);
    const Party a = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {a.enc.public_key()};
    o.chunk_bytes = 1024;
    const auto value = dare::encode_value(o, rng, pattern(3 * 1024 + 10)).value();
    dare::PrivateKeyAgreement keys;
    keys.add(a.enc);
    const dare::OpenOptions open{&keys, {}, false};
    const mesh::Bytes carried = mesh::base64url_decode(value.as_array()[1].as_string()).value();
    const std::size_t full = 1024 + 16;
    const auto with_payload = [&](const mesh::Bytes& p) {
        dare::JsonArray parts = value.as_array();
        parts[1] = dare::Json(mesh::base64url_encode(p));
        return dare::decode_value(dare::Json(std::move(parts)), open);
    };
    REQUIRE_OK(with_payload(carried));
    mesh::Bytes swapped = carried;  // chunks 0 and 1 exchanged
    std::swap_ranges(swapped.begin(), swapped.begin() + full, swapped.begin() + full);
    CHECK_ERRC(with_payload(swapped), Errc::auth_failed);
    mesh::Bytes dropped_last(carried.begin(), carried.begin() + 3 * full);  // final chunk gone
    CHECK_ERRC(with_payload(dropped_last), Errc::auth_failed);
    mesh::Bytes repeated = carried;  // chunk 0 again at the end
    repeated.insert(repeated.end(), carried.begin(), carried.begin() + full);
    CHECK_FALSE(with_payload(repeated).has_value());
}

TEST_CASE("strict header reading: each problem its own clear error", "[envelope][unit]") {
    mesh::test::SeededRandom rng(11);
    const Party a = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {a.enc.public_key()};
    const dare::Json good = dare::encode_value(o, rng, pattern(100)).value();
    dare::PrivateKeyAgreement keys;
    keys.add(a.enc);
    const dare::OpenOptions open{&keys, {}, false};
    REQUIRE_OK(dare::decode_value(good, open));

    const auto with_header = [&](const std::function<void(dare::JsonObject&)>& change) {
        dare::JsonArray parts = good.as_array();
        change(parts[0].as_object());
        return dare::decode_value(dare::Json(std::move(parts)), open);
    };
    const auto set = [](dare::JsonObject& h, const std::string& name, dare::Json v) {
        for (auto& [k, e] : h) {
            if (k == name) {
                e = std::move(v);
                return;
            }
        }
        h.emplace_back(name, std::move(v));
    };
    const auto erase = [](dare::JsonObject& h, const std::string& name) {
        std::erase_if(h, [&](const auto& m) { return m.first == name; });
    };
    // the "Public" of the first recipient's epk
    const auto epk_public = [](dare::JsonObject& h) -> dare::Json& {
        for (auto& [k, e] : h) {
            if (k == "recipients") return e.as_array()[0].as_object()[1].second.as_object()[0].second.as_object()[1].second;
        }
        return h[0].second;
    };

    CHECK_ERRC(with_header([&](auto& h) { set(h, "enc", "A128CBC"); }), Errc::unsupported);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "enc", "none"); }), Errc::unsupported);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "enc", 5); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "dig", "S256"); }), Errc::unsupported);
    CHECK_ERRC(with_header([&](auto& h) { erase(h, "Salt"); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "Salt", "AAAA"); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { erase(h, "ChunkSize"); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "ChunkSize", 10); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "ChunkSize", 1 << 30); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { erase(h, "recipients"); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "Extra", 1); }), Errc::malformed);
    CHECK_ERRC(with_header([&](auto& h) { set(h, "ChunkSize", 2048); }), Errc::auth_failed);
    CHECK_ERRC(with_header([&](auto& h) { epk_public(h) = dare::Json(std::string(43, 'A')); }), Errc::malformed);  // identity
    CHECK_ERRC(with_header([&](auto& h) { epk_public(h) = dare::Json(std::string(43, '_')); }), Errc::malformed);  // not canonical
    CHECK_ERRC(with_header([&](auto& h) { epk_public(h) = dare::Json("AAAA"); }), Errc::malformed);              // length
    const auto wrong_epk = with_header([&](auto& h) {
        epk_public(h) = dare::Json(mesh::base64url_encode(dare::PrivateKey::generate(rng).public_key().bytes()));
    });
    CHECK_ERRC(wrong_epk, Errc::auth_failed);
    CHECK(wrong_epk.error().message == "dare: authentication failed");

    // no key, wrong key
    CHECK_ERRC(dare::decode_value(good, dare::OpenOptions{}), Errc::not_found);
    dare::PrivateKeyAgreement other;
    other.add(dare::PrivateKey::generate(rng));
    const auto nokey = dare::decode_value(good, dare::OpenOptions{&other, {}, false});
    CHECK_ERRC(nokey, Errc::not_found);
    CHECK(nokey.error().message.find(a.enc.public_key().kid()) != std::string::npos);
    // shapes
    CHECK_ERRC(dare::decode_json("{\"DareEnvelope\":[{}]}", open), Errc::malformed);
    CHECK_ERRC(dare::decode_json("{\"Envelope\":[{},\"\"]}", open), Errc::malformed);
    CHECK_ERRC(dare::decode_json("[{},\"@@\"]", open), Errc::malformed);
    CHECK(dare::decode_json("[{},\"\"]", open).has_value());  // an empty plaintext envelope
    CHECK_ERRC(dare::decode_binary(mesh::as_bytes("{\"DareEnvelope\":[]}"), open), Errc::malformed);
}

TEST_CASE("signatures: verified, unknown, tampered and required", "[envelope][unit]") {
    mesh::test::SeededRandom rng(13);
    const Party alice = make_party(rng);
    const Party carol = make_party(rng);
    dare::EncodeOptions o;
    o.signers = {&alice.sig, &carol.sig};
    o.meta = dare::ContentMeta::of_type("text/plain");
    const mesh::Bytes env = dare::encode_binary(o, rng, mesh::as_bytes("signed words")).value();

    const auto both = dare::decode_binary(env, {nullptr, lookup_for({&alice, &carol}), true}).value();
    CHECK(both.info.verified_signers.size() == 2);
    CHECK(as_text(both.payload) == "signed words");
    const auto one = dare::decode_binary(env, {nullptr, lookup_for({&alice}), true}).value();
    CHECK(one.info.unknown_signers == std::vector<std::string>{carol.sig.public_key().kid()});
    CHECK_ERRC(dare::decode_binary(env, {nullptr, lookup_for({}), true}), Errc::not_found);
    CHECK(dare::decode_binary(env, {nullptr, lookup_for({}), false}).has_value());

    // a changed plaintext byte breaks the payload digest
    mesh::Bytes bad = env;
    const std::string_view needle = "signed words";
    const auto it = std::search(bad.begin(), bad.end(), needle.begin(), needle.end());
    REQUIRE(it != bad.end());
    *it = 'S';
    CHECK_ERRC(dare::decode_binary(bad, {nullptr, lookup_for({&alice}), true}), Errc::auth_failed);

    // a JSON envelope whose metadata was changed after signing fails the signature
    auto value = dare::encode_value(o, rng, mesh::as_bytes("x")).value();
    auto& header = value.as_array()[0].as_object();
    for (auto& [k, v] : header) {
        if (k == "ContentMetaData") v = dare::Json(mesh::base64url_encode(mesh::as_bytes("{\"cty\":\"text/html\"}")));
    }
    CHECK_ERRC(dare::decode_value(value, {nullptr, lookup_for({&alice}), true}), Errc::auth_failed);
}

TEST_CASE("AES-256-GCM envelopes where the CPU has it", "[envelope][unit]") {
    if (!dare::aes256gcm_available()) {
        mesh::test::SeededRandom rng(3);
        dare::EncodeOptions o;
        o.recipients = {dare::PrivateKey::generate(rng).public_key()};
        o.aead = dare::Aead::aes256_gcm;
        CHECK_ERRC(dare::encode_binary(o, rng, pattern(10)), Errc::unsupported);
        return;
    }
    mesh::test::SeededRandom rng(3);
    const Party a = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {a.enc.public_key()};
    o.aead = dare::Aead::aes256_gcm;
    o.chunk_bytes = 1024;
    const mesh::Bytes payload = pattern(5000);
    const mesh::Bytes env = dare::encode_binary(o, rng, payload).value();
    dare::PrivateKeyAgreement keys;
    keys.add(a.enc);
    const auto back = dare::decode_binary(env, {&keys, {}, false}).value();
    CHECK(back.info.header.enc == dare::Aead::aes256_gcm);
    CHECK(mesh::secure_equal(back.payload.expose_secret(), payload));
}

TEST_CASE("a key-agreement callback opens an envelope without the private key", "[envelope][unit]") {
    // The recryption split: x = r + d; one party computes r·T, the other d·T, the sum is x·T.
    mesh::test::SeededRandom rng(5);
    const dare::PrivateKey x = dare::PrivateKey::generate(rng);
    dare::EncodeOptions o;
    o.recipients = {x.public_key()};
    const std::string json = dare::encode_json(o, rng, mesh::as_bytes("for the group")).value();

    class Split final : public dare::KeyAgreement {
    public:
        explicit Split(const dare::PrivateKey& key) : key_(key) {}
        mesh::Result<dare::Agreement> agree(const dare::RecipientEntry& r) override {
            if (r.kid != key_.public_key().kid()) return mesh::fail(Errc::not_found, "not mine");
            MESH_ASSIGN_OR_RETURN(dare::SharedPoint s, key_.agree(r.epk));  // stands in for r·T + d·T
            calls++;
            return dare::Agreement{std::move(s), key_.public_key()};
        }
        int calls = 0;

    private:
        const dare::PrivateKey& key_;
    } split(x);
    const auto back = dare::decode_json(json, {&split, {}, false}).value();
    CHECK(as_text(back.payload) == "for the group");
    CHECK(split.calls == 1);
}

TEST_CASE("options are checked before anything is written", "[envelope][unit]") {
    mesh::test::SeededRandom rng(2);
    dare::EncodeOptions o;
    o.chunk_bytes = 100;
    CHECK_ERRC(dare::encode_binary(o, rng, pattern(1)), Errc::invalid_argument);
    o.chunk_bytes = dare::kMaxChunkBytes + 1;
    CHECK_ERRC(dare::encode_binary(o, rng, pattern(1)), Errc::invalid_argument);
    o.chunk_bytes = dare::kDefaultChunkBytes;
    o.signers = {nullptr};
    CHECK_ERRC(dare::encode_binary(o, rng, pattern(1)), Errc::invalid_argument);
}

namespace {
// Returns at most `step` bytes a read, like a pipe.
class DribbleSource final : public dare::Source {
public:
    DribbleSource(std::span<const std::uint8_t> data, std::size_t step) : data_(data), step_(step) {}
    mesh::Result<std::size_t> read(std::span<std::uint8_t> out) override {
        const std::size_t n = std::min({out.size(), data_.size(), step_});
        std::copy_n(data_.begin(), n, out.begin());
        data_ = data_.subspan(n);
        return n;
    }

private:
    std::span<const std::uint8_t> data_;
    std::size_t step_;
};

class FailingSource final : public dare::Source {
public:
    explicit FailingSource(std::size_t ok_bytes) : left_(ok_bytes) {}
    mesh::Result<std::size_t> read(std::span<std::uint8_t> out) override {
        if (left_ == 0) return mesh::fail(Errc::io, "read: disk on fire");
        const std::size_t n = std::min(out.size(), left_);
        std::fill_n(out.begin(), n, std::uint8_t{7});
        left_ -= n;
        return n;
    }

private:
    std::size_t left_;
};

class FailingSink final : public dare::Sink {
public:
    explicit FailingSink(std::size_t ok_bytes) : left_(ok_bytes) {}
    mesh::Result<void> write(std::span<const std::uint8_t> data) override {
        if (data.size() > left_) return mesh::fail(Errc::io, "write: no space left on device");
        left_ -= data.size();
        return mesh::ok();
    }

private:
    std::size_t left_;
};
}  // namespace

TEST_CASE("parallel write_all and read_all round trip at block boundaries and with short reads",
          "[envelope][property]") {
    mesh::test::SeededRandom rng(21);
    const Party alice = make_party(rng);
    constexpr std::size_t kChunk = 1024;
    constexpr std::size_t kBlock = 4 * kChunk;  // the writer's block of chunks
    const auto size = static_cast<std::size_t>(GENERATE(0, 1, 1023, 1024, 4095, 4096, 4097, 8192, 40000));
    const auto threads = static_cast<unsigned>(GENERATE(1, 2, 3));
    const bool sign = GENERATE(false, true);
    const bool in_memory = GENERATE(false, true);  // SpanSource: sealed in place (read_view)
    INFO("size " << size << " threads " << threads << " sign " << sign << " in memory " << in_memory << " block " << kBlock);
    const mesh::Bytes payload = pattern(size);
    dare::EncodeOptions o;
    o.recipients = {alice.enc.public_key()};
    o.chunk_bytes = kChunk;
    if (sign) o.signers = {&alice.sig};

    dare::BytesSink sink;
    auto w = dare::EnvelopeWriter::begin(o, rng, sink).value();
    DribbleSource dribble(payload, 700);
    dare::SpanSource span(payload);
    dare::Source& src = in_memory ? static_cast<dare::Source&>(span) : dribble;
    std::size_t reported = 0;
    REQUIRE_OK(w.write_all(src, threads, [&](std::size_t n) { reported += n; }));
    REQUIRE_OK(w.finish());
    CHECK(reported == size);

    dare::PrivateKeyAgreement keys;
    keys.add(alice.enc);
    const dare::OpenOptions open{&keys, lookup_for({&alice}), sign};
    // the one-chunk-at-a-time reader agrees
    const auto serial = dare::decode_binary(sink.bytes, open);
    REQUIRE_OK(serial);
    CHECK(mesh::secure_equal(serial->payload.expose_secret(), payload));
    // and so does the parallel reader, from a dribbling source
    DribbleSource in(sink.bytes, 333);
    auto r = dare::EnvelopeReader::open(in, open).value();
    dare::BytesSink plain;
    REQUIRE_OK(r.read_all(plain, threads));
    REQUIRE_OK(r.finish());
    CHECK(plain.bytes == payload);
}

TEST_CASE("parallel paths stop cleanly on read and write failures", "[envelope][unit]") {
    mesh::test::SeededRandom rng(22);
    const Party alice = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {alice.enc.public_key()};
    o.chunk_bytes = 1024;
    {
        dare::BytesSink sink;
        auto w = dare::EnvelopeWriter::begin(o, rng, sink).value();
        FailingSource src(10000);
        const auto r = w.write_all(src, 2);
        CHECK_ERRC(r, Errc::io);
        CHECK(r.error().message == "read: disk on fire");
    }
    {
        FailingSink sink(5000);
        auto w = dare::EnvelopeWriter::begin(o, rng, sink).value();
        FailingSource src(100000);
        CHECK_ERRC(w.write_all(src, 2), Errc::io);
    }
    {
        dare::BytesSink sink;
        auto w = dare::EnvelopeWriter::begin(o, rng, sink).value();
        REQUIRE_OK(w.write(pattern(10)));
        dare::SpanSource src(pattern(10));
        CHECK_ERRC(w.write_all(src, 2), Errc::invalid_argument);
    }
    const mesh::Bytes env = dare::encode_binary(o, rng, pattern(50000)).value();
    dare::PrivateKeyAgreement keys;
    keys.add(alice.enc);
    {
        dare::SpanSource in(env);
        auto r = dare::EnvelopeReader::open(in, {&keys, {}, false}).value();
        FailingSink out(10000);
        CHECK_ERRC(r.read_all(out, 2), Errc::io);
    }
}

TEST_CASE("read_all releases nothing from a tampered block on", "[envelope][unit]") {
    mesh::test::SeededRandom rng(23);
    const Party alice = make_party(rng);
    dare::EncodeOptions o;
    o.recipients = {alice.enc.public_key()};
    o.chunk_bytes = 1024;
    const mesh::Bytes payload = pattern(20 * 1024);
    mesh::Bytes env = dare::encode_binary(o, rng, payload).value();
    env[env.size() - 3000] ^= 0x40;  // inside one of the last chunks
    dare::PrivateKeyAgreement keys;
    keys.add(alice.enc);
    dare::SpanSource in(env);
    auto r = dare::EnvelopeReader::open(in, {&keys, {}, false}).value();
    dare::BytesSink plain;
    CHECK_ERRC(r.read_all(plain, 2), Errc::auth_failed);
    CHECK(plain.bytes.size() % (4 * 1024) == 0);  // whole verified blocks only
    CHECK(plain.bytes.size() < payload.size());
    CHECK(std::equal(plain.bytes.begin(), plain.bytes.end(), payload.begin()));
}

TEST_CASE("service hints travel in the recipient entry and are checked", "[envelope][unit]") {
    mesh::test::SeededRandom rng(9);
    const dare::PrivateKey a = dare::PrivateKey::generate(rng);
    const dare::PrivateKey b = dare::PrivateKey::generate(rng);
    dare::EncodeOptions o;
    o.recipients = {a.public_key(), b.public_key()};
    o.services = {{"https://recrypt.example.com/base"}};  // the first recipient only
    const mesh::Bytes bin = dare::encode_binary(o, rng, mesh::as_bytes("hinted")).value();
    dare::SpanSource src(bin);
    const dare::Header h = dare::read_header(src).value();
    REQUIRE(h.recipients.size() == 2);
    CHECK(h.recipients[0].services == std::vector<std::string>{"https://recrypt.example.com/base"});
    CHECK(h.recipients[1].services.empty());

    // the reader's key agreement sees them
    class Seen final : public dare::KeyAgreement {
    public:
        explicit Seen(const dare::PrivateKey& key) : key_(key) {}
        mesh::Result<dare::Agreement> agree(const dare::RecipientEntry& r) override {
            if (r.kid != key_.public_key().kid()) return mesh::fail(Errc::not_found, "not mine");
            services = r.services;
            MESH_ASSIGN_OR_RETURN(dare::SharedPoint s, key_.agree(r.epk));
            return dare::Agreement{std::move(s), key_.public_key()};
        }
        std::vector<std::string> services;

    private:
        const dare::PrivateKey& key_;
    } seen(a);
    CHECK(as_text(dare::decode_binary(bin, {&seen, {}, false}).value().payload) == "hinted");
    CHECK(seen.services.size() == 1);

    // JSON form: a hint of the wrong shape or count is refused with its path
    const std::string json = dare::encode_json(o, rng, mesh::as_bytes("hinted")).value();
    const auto bad = [&](const std::string& from, const std::string& to) {
        std::string t = json;
        const auto at = t.find(from);
        REQUIRE(at != std::string::npos);
        t.replace(at, from.size(), to);
        return dare::decode_json(t, {&seen, {}, false});
    };
    auto r1 = bad(R"("Services":["https://recrypt.example.com/base"])", R"("Services":[7])");
    REQUIRE_FALSE(r1);
    CHECK(r1.error().message.find("Services[0]") != std::string::npos);
    auto r2 = bad(R"("Services":["https://recrypt.example.com/base"])", R"("Services":["https://a","https://b"])");
    REQUIRE_FALSE(r2);
    CHECK(r2.error().message.find("one URL, or one per Conjunction key") != std::string::npos);
    o.services = {{"a"}, {"b"}, {"c"}};
    CHECK(dare::encode_binary(o, rng, mesh::as_bytes("x")).error().code == Errc::invalid_argument);
}
