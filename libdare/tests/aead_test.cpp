// The AEADs the envelope uses (XChaCha20-Poly1305, AES-256-GCM) against Wycheproof/RFC cases,
// through libsodium exactly as the envelope calls it.
#include <mesh_test/support.hpp>

#include <sodium.h>

TEST_CASE("aead.json: XChaCha20-Poly1305 and AES-256-GCM cases", "[aead][kat]") {
    const auto doc = mesh::test::load_vectors("aead.json");
    int checked = 0;
    for (const auto& v : doc.GetArray()) {
        const std::string alg = v["algorithm"].GetString();
        const bool xchacha = alg == "XChaCha20-Poly1305";
        const bool gcm = alg == "AES-256-GCM";
        if (!xchacha && !gcm) continue;  // ChaCha20-Poly1305 (IETF) is not used by the envelope
        if (gcm && crypto_aead_aes256gcm_is_available() == 0) continue;
        INFO(v["name"].GetString());
        const auto key = mesh::test::unhex(v["key"].GetString());
        const auto nonce = mesh::test::unhex(v["nonce"].GetString());
        const auto aad = mesh::test::unhex(v["aad"].GetString());
        const auto pt = mesh::test::unhex(v["plaintext"].GetString());
        auto ct = mesh::test::unhex(v["ciphertext"].GetString());
        const auto tag = mesh::test::unhex(v["tag"].GetString());
        const bool valid = std::string(v["result"].GetString()) == "valid";
        const std::size_t want_nonce = xchacha ? 24 : 12;
        if (key.size() != 32 || nonce.size() != want_nonce || tag.size() != 16) {
            CHECK_FALSE(valid);  // the envelope never calls with such sizes
            ++checked;
            continue;
        }
        ct.insert(ct.end(), tag.begin(), tag.end());
        mesh::Bytes out(ct.size());
        unsigned long long len = 0;
        const int rc = xchacha ? crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &len, nullptr, ct.data(), ct.size(),
                                                                            aad.data(), aad.size(), nonce.data(), key.data())
                               : crypto_aead_aes256gcm_decrypt(out.data(), &len, nullptr, ct.data(), ct.size(),
                                                               aad.data(), aad.size(), nonce.data(), key.data());
        CHECK((rc == 0) == valid);
        if (valid) {
            out.resize(len);
            CHECK(out == pt);
        }
        ++checked;
    }
    CHECK(checked >= 13);
}
