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
    o.meta = dare::ContentMeta{"text/plain", "notes.txt", "2026-11-22T01:00:00Z", std::nullopt, std::nullopt, std::nullopt};
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
    o.meta = dare::ContentMeta{"text/plain", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
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
    const auto epk_public = [](dare::JsonObject& h) -> dare::Json& {
        auto& r0 = h[0].second;  // placeholder, replaced below
        (void)r0;
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
    o.meta = dare::ContentMeta{"text/plain", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
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
        mesh::Result<dare::Agreement> agree(std::string_view kid, const dare::PublicKey& epk) override {
            if (kid != key_.public_key().kid()) return mesh::fail(Errc::not_found, "not mine");
            MESH_ASSIGN_OR_RETURN(dare::SharedPoint s, key_.agree(epk));  // stands in for r·T + d·T
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
