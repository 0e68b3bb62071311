#include "key_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mesh/crypto_init.hpp>
#include <mesh/files.hpp>
#include <meshprofile/store.hpp>
#include <udf/udf.hpp>

namespace recrypt_cli {
namespace fs = std::filesystem;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

Result<void> check_key_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') {
        return fail(Errc::invalid_argument, "key name '" + std::string(name.substr(0, 64)) +
                                                "': 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'");
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return fail(Errc::invalid_argument, "key name '" + std::string(name) + "': invalid character");
    }
    return mesh::ok();
}

Result<std::string> read_small_file(const std::string& path, std::size_t limit) { return mesh::read_file(path, limit); }

Result<dare::Json> read_json_file(const std::string& path, std::size_t limit, std::size_t depth) {
    MESH_ASSIGN_OR_RETURN(std::string text, read_small_file(path, limit));
    auto j = dare::parse_json(text, dare::JsonLimits{limit, depth});
    mesh::secure_wipe(text.data(), text.size());
    if (!j) return fail(Errc::malformed, path + ": " + j.error().message);
    return j;
}

Result<dare::ObjectReader> open_wrapped(const dare::Json& j, std::string_view name, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader outer, dare::ObjectReader::open(j, where));
    MESH_ASSIGN_OR_RETURN(const dare::Json* inner, outer.value(name));
    MESH_TRY(outer.finish());
    return dare::ObjectReader::open(*inner, where + "." + std::string(name));
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
    return mesh::write_file_atomic(path, data, mode);
}

dare::Json key_to_json(const StoredKey& key, bool with_private) {
    using dare::Json;
    using dare::JsonObject;
    JsonObject enc{{"crv", Json("ristretto255")},
                   {"kid", Json(key.encryption.kid())},
                   {"Public", Json(mesh::base64url_encode(key.encryption.bytes()))}};
    JsonObject sig{{"crv", Json("Ed25519")},
                   {"kid", Json(key.signature.kid())},
                   {"Public", Json(mesh::base64url_encode(key.signature.bytes()))}};
    if (with_private && key.encryption_private) {
        enc.emplace_back("Private", Json(mesh::base64url_encode(key.encryption_private->expose_secret())));
    }
    if (with_private && key.signature_private) {
        sig.emplace_back("Private", Json(mesh::base64url_encode(key.signature_private->expose_seed())));
    }
    JsonObject body{{"Name", Json(key.name)}, {"Encryption", Json(std::move(enc))}, {"Signature", Json(std::move(sig))}};
    const bool priv = with_private && key.encryption_private && key.signature_private;
    return Json(JsonObject{{priv ? "RecryptKey" : "RecryptPublicKey", Json(std::move(body))}});
}

namespace {
// One key of a key file: {"crv", "kid", "Public", "Private"?}.
struct KeyPart {
    std::string path;
    std::string kid;
    mesh::Bytes pub;
    std::optional<mesh::SecureBytes> priv;  // wiped whichever way the caller returns
};

Result<KeyPart> read_key_part(const dare::Json& j, const std::string& path, std::string_view crv, std::size_t pub_len) {
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(j, path));
    MESH_ASSIGN_OR_RETURN(const std::string c, r.string("crv", 32));
    if (c != crv) return fail(Errc::unsupported, r.member_path("crv") + ": '" + c + "', expected " + std::string(crv));
    KeyPart k{path, {}, {}, {}};
    MESH_ASSIGN_OR_RETURN(k.kid, r.string("kid", 128));
    MESH_ASSIGN_OR_RETURN(k.pub, r.fixed_bytes("Public", pub_len));
    MESH_ASSIGN_OR_RETURN(auto priv, r.optional_bytes("Private", 33));
    if (priv) {
        k.priv.emplace(std::span<const std::uint8_t>(*priv));
        mesh::secure_wipe(priv->data(), priv->size());
    }
    MESH_TRY(r.finish());
    return k;
}
}  // namespace

Result<StoredKey> key_from_json(const dare::Json& j, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader outer, dare::ObjectReader::open(j, where));
    const bool priv = outer.has("RecryptKey");
    MESH_ASSIGN_OR_RETURN(const dare::Json* body, outer.value(priv ? "RecryptKey" : "RecryptPublicKey"));
    MESH_TRY(outer.finish());
    const std::string path = where + (priv ? ".RecryptKey" : ".RecryptPublicKey");
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(*body, path));
    MESH_ASSIGN_OR_RETURN(std::string name, r.string("Name", 64));
    MESH_TRY(check_key_name(name));
    MESH_ASSIGN_OR_RETURN(const dare::Json* enc_json, r.value("Encryption"));
    MESH_ASSIGN_OR_RETURN(const dare::Json* sig_json, r.value("Signature"));
    MESH_TRY(r.finish());

    MESH_ASSIGN_OR_RETURN(KeyPart e, read_key_part(*enc_json, path + ".Encryption", "ristretto255", dare::kPointBytes));
    MESH_ASSIGN_OR_RETURN(KeyPart s, read_key_part(*sig_json, path + ".Signature", "Ed25519", dare::kEd25519PublicBytes));
    auto encryption = dare::PublicKey::from_bytes(e.pub);
    if (!encryption) return fail(Errc::malformed, e.path + ".Public: " + encryption.error().message);
    auto signature = dare::SignaturePublicKey::from_bytes(s.pub);
    if (!signature) return fail(Errc::malformed, s.path + ".Public: " + signature.error().message);
    if (encryption->kid() != e.kid) return fail(Errc::malformed, e.path + ".kid: does not match the key");
    if (signature->kid() != s.kid) return fail(Errc::malformed, s.path + ".kid: does not match the key");
    const auto& epriv = e.priv;
    const auto& spriv = s.priv;
    StoredKey key{std::move(name), *encryption, *signature, std::nullopt, std::nullopt};
    if (priv != (epriv.has_value() && spriv.has_value())) {
        return fail(Errc::malformed, path + ": private parts missing or present in a public key");
    }
    if (epriv) {
        auto k = dare::PrivateKey::from_bytes(epriv->expose_secret());
        if (!k) return fail(Errc::malformed, e.path + ".Private: not a valid private key");
        if (!(k->public_key() == key.encryption)) return fail(Errc::malformed, e.path + ".Private: does not match Public");
        key.encryption_private.emplace(std::move(k).value());
        auto sk = dare::SignaturePrivateKey::from_seed(spriv->expose_secret());
        if (!sk) return fail(Errc::malformed, s.path + ".Private: not a valid seed");
        if (!(sk->public_key() == key.signature)) return fail(Errc::malformed, s.path + ".Private: does not match Public");
        key.signature_private.emplace(std::move(sk).value());
    }
    return key;
}

Result<std::string> KeyStore::directory(const std::string& home) { return meshprofile::ProfileStore::directory(home); }

Result<KeyStore> KeyStore::open(const std::string& home) {
    MESH_ASSIGN_OR_RETURN(meshprofile::ProfileStore store, meshprofile::ProfileStore::open(home));
    MESH_TRY(mesh::ensure_private_dir(store.home() + "/keys"));
    MESH_TRY(mesh::ensure_private_dir(store.home() + "/public"));
    return KeyStore(std::move(store));
}

Result<StoredKey> KeyStore::generate(const std::string& name) {
    MESH_TRY(check_key_name(name));
    const std::string file = "keys/" + name + ".json";
    if (store_.exists(file)) return fail(Errc::already_exists, "key '" + name + "' already exists");
    auto enc = dare::PrivateKey::generate(mesh::system_random());
    auto sig = dare::SignaturePrivateKey::generate(mesh::system_random());
    StoredKey key{name, enc.public_key(), sig.public_key(), std::move(enc), std::move(sig)};
    MESH_TRY(store_.write_secret(file, key_to_json(key, true), std::nullopt));
    return key;
}

Result<StoredKey> KeyStore::load(const std::string& name) const {
    MESH_TRY(check_key_name(name));
    for (const char* sub : {"keys/", "public/"}) {
        const std::string file = sub + name + ".json";
        if (!store_.exists(file)) continue;
        auto j = std::string(sub) == "keys/" ? store_.read_secret(file, std::nullopt) : store_.read_public(file);
        if (!j) return std::move(j).error();
        auto key = key_from_json(*j, "$");
        if (!key) return fail(key.error().code, home() + "/" + file + ": " + key.error().message);
        return key;
    }
    return fail(Errc::not_found, "no key named '" + name + "' in " + home());
}

Result<std::vector<StoredKey>> KeyStore::list() const {
    std::vector<StoredKey> out;
    for (const char* sub : {"keys", "public"}) {
        for (const auto& n : store_.list(sub)) {
            if (check_key_name(n)) {
                MESH_ASSIGN_OR_RETURN(StoredKey k, load(n));
                if (std::string(sub) == "public" && k.encryption_private) continue;
                out.push_back(std::move(k));
            }
        }
    }
    return out;
}

Result<void> KeyStore::import(const StoredKey& key) {
    if (store_.exists("keys/" + key.name + ".json") || store_.exists("public/" + key.name + ".json")) {
        return fail(Errc::already_exists, "a key named '" + key.name + "' already exists");
    }
    return store_.write_public("public/" + key.name + ".json", key_to_json(key, false));
}

Result<StoredKey> KeyStore::resolve(const std::string& spec) const {
    // a key file: a path with a slash, or an existing regular file (a directory named like a
    // key, such as a store given as --home NAME, is not one)
    struct stat st {};
    if (spec.find('/') != std::string::npos || (::stat(spec.c_str(), &st) == 0 && S_ISREG(st.st_mode))) {
        MESH_ASSIGN_OR_RETURN(std::string text, read_small_file(spec));
        auto j = dare::parse_json(text);
        mesh::secure_wipe(text.data(), text.size());
        if (!j) return fail(j.error().code, spec + ": " + j.error().message);
        auto key = key_from_json(*j, "$");
        if (!key) return fail(key.error().code, spec + ": " + key.error().message);
        return key;
    }
    if (check_key_name(spec)) {
        auto byname = load(spec);
        if (byname || byname.error().code != Errc::not_found) return byname;
    }
    if (udf::canonical(spec).has_value()) {
        MESH_ASSIGN_OR_RETURN(auto keys, list());
        std::optional<StoredKey> found;
        for (auto& k : keys) {
            const bool hit = udf::matches(spec, k.encryption.kid()).value_or(false) ||
                             udf::matches(spec, k.signature.kid()).value_or(false);
            if (!hit) continue;
            if (found && !(found->encryption == k.encryption)) {
                return fail(Errc::invalid_argument, "'" + spec + "' matches several keys; give more of the fingerprint");
            }
            if (!found) found.emplace(std::move(k));
        }
        if (found) return std::move(*found);
    }
    return fail(Errc::not_found, "no key '" + spec + "' (a name, a key file or a fingerprint) in " + home());
}

dare::SignerLookup StoreKeys::lookup() const {
    return [this](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        for (const auto& k : keys) {
            if (k.signature.kid() == kid) return k.signature;
        }
        return std::nullopt;
    };
}

Result<std::unique_ptr<StoreKeys>> load_store_keys(const std::string& home) {
    MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(home));
    auto sk = std::make_unique<StoreKeys>();
    MESH_ASSIGN_OR_RETURN(sk->keys, store.list());
    for (const auto& k : sk->keys) {
        if (k.encryption_private) sk->agreement.add(*k.encryption_private);
    }
    return sk;
}

}  // namespace recrypt_cli
