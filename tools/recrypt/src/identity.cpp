#include "identity.hpp"

#include <sys/stat.h>

#include <meshprofile/profile.hpp>
#include <meshprofile/store.hpp>
#include <udf/udf.hpp>

#include "key_store.hpp"

namespace recrypt_cli {
using dare::Json;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr const char* kDeviceFile = "profile/device.json";
constexpr const char* kPersonalFile = "profile/personal.json";
constexpr const char* kMasterFile = "profile/master.json";
constexpr const char* kServiceFile = "profile/service.json";

Me from_key(StoredKey k) {
    Principal p{k.signature.kid(), k.name, k.signature, k.encryption};
    return Me{std::move(p), std::move(*k.signature_private), std::move(*k.encryption_private), {}, {}, {}, false};
}

std::string account_of(const meshprofile::PersonalProfile& p) {
    for (const auto& a : p.applications) {
        if (a.name == "account" && a.data.is_object() && !a.data.as_object().empty() && a.data.as_object()[0].second.is_string()) {
            return a.data.as_object()[0].second.as_string();
        }
    }
    return {};
}

Result<Me> from_profile(const meshprofile::ProfileStore& store, bool as_device) {
    MESH_ASSIGN_OR_RETURN(const Json device, store.read_secret(kDeviceFile, std::nullopt));
    const std::string where = store.home() + "/" + kDeviceFile;
    const Json* secrets = nullptr;
    const Json* connected = nullptr;
    if (device.is_object()) {
        for (const auto& [k, v] : device.as_object()) {
            if (k == "DeviceSecrets") secrets = &v;
            if (k == "ConnectedEncryption") connected = &v;
        }
    }
    if (secrets == nullptr || connected == nullptr || !connected->is_string()) {
        return fail(Errc::malformed, where + ": not a connected device's secrets");
    }
    MESH_ASSIGN_OR_RETURN(const meshprofile::DeviceSecrets s,
                          meshprofile::device_secrets_from_json(Json(dare::JsonObject{{"DeviceSecrets", *secrets}}), where));
    auto bytes = mesh::base64url_decode(connected->as_string());
    if (!bytes) return fail(Errc::malformed, where + ": ConnectedEncryption is not base64url");
    auto enc = dare::PrivateKey::from_bytes(*bytes);
    mesh::secure_wipe(bytes->data(), bytes->size());
    if (!enc) return fail(Errc::malformed, where + ": ConnectedEncryption is not a key");
    MESH_ASSIGN_OR_RETURN(const Json personal_json, store.read_public(kPersonalFile));
    auto personal = meshprofile::verify_personal(personal_json);
    if (!personal) return fail(personal.error().code, store.home() + "/" + kPersonalFile + ": " + personal.error().message);
    const std::string device_udf = s.signature.public_key().kid();
    const meshprofile::PersonalProfile::Device* mine = nullptr;
    for (const auto& d : personal->devices) {
        if (d.device.udf() == device_udf) mine = &d;
    }
    if (mine == nullptr) return fail(Errc::permission_denied, "this device is no longer in the profile " + personal->udf());
    if (!(mine->connection.encryption == enc->public_key())) return fail(Errc::malformed, where + ": the key is not the connected one");
    Me me{Principal{device_udf, account_of(*personal), s.authentication.public_key(), enc->public_key()},
          s.authentication.clone(),
          std::move(enc).value(),
          {},
          {},
          {},
          true};
    if (store.exists(kServiceFile)) {
        MESH_ASSIGN_OR_RETURN(const Json svc, store.read_public(kServiceFile));
        if (svc.is_object() && !svc.as_object().empty() && svc.as_object()[0].second.is_string()) {
            me.personal_service = svc.as_object()[0].second.as_string();
        }
        me.memberships.push_back(personal->master.encryption.kid());
    }
    if (!as_device && store.exists(kMasterFile) && !store.is_protected(kMasterFile).value_or(true)) {
        // the device that holds the master keys acts as the profile itself
        MESH_ASSIGN_OR_RETURN(const Json j, store.read_secret(kMasterFile, std::nullopt));
        MESH_ASSIGN_OR_RETURN(meshprofile::MasterSecrets m, meshprofile::master_secrets_from_json(j, kMasterFile));
        if (m.online_signatures.empty()) return fail(Errc::malformed, std::string(kMasterFile) + ": no online signature key");
        me.more_keys.push_back(std::move(me.encryption));
        me.who = Principal{personal->udf(), account_of(*personal), m.online_signatures.front().public_key(), m.encryption.public_key()};
        me.authentication = m.online_signatures.front().clone();
        me.encryption = std::move(m.encryption);
    }
    return me;
}
}  // namespace

Result<Me> whoami(const std::string& home, const std::string& key_name) {
    MESH_ASSIGN_OR_RETURN(KeyStore keys, KeyStore::open(home));
    if (!key_name.empty()) {
        MESH_ASSIGN_OR_RETURN(StoredKey k, keys.load(key_name));
        if (!k.signature_private || !k.encryption_private) return fail(Errc::invalid_argument, "--key " + key_name + ": not a private key");
        return from_key(std::move(k));
    }
    MESH_ASSIGN_OR_RETURN(const meshprofile::ProfileStore store, meshprofile::ProfileStore::open(home));
    if (store.exists(kDeviceFile)) return from_profile(store, false);
    MESH_ASSIGN_OR_RETURN(auto all, keys.list());
    std::vector<StoredKey> mine;
    for (auto& k : all) {
        if (k.signature_private && k.encryption_private) mine.push_back(std::move(k));
    }
    if (mine.size() != 1) {
        return fail(Errc::invalid_argument, std::to_string(mine.size()) + " private keys and no profile in " + keys.home() + "; " +
                                                (mine.empty() ? "make a profile (recrypt profile create --name ACCOUNT) or a key"
                                                              : "name one with --key NAME"));
    }
    return from_key(std::move(mine.front()));
}

Result<Me> device_identity(const std::string& home) {
    MESH_ASSIGN_OR_RETURN(const meshprofile::ProfileStore store, meshprofile::ProfileStore::open(home));
    if (!store.exists(kDeviceFile)) return fail(Errc::not_found, "no profile here (recrypt profile create --name ACCOUNT)");
    return from_profile(store, true);
}

Result<Principal> principal_of_profile(const Json& signed_personal, const std::string& where) {
    auto p = meshprofile::verify_personal(signed_personal);
    if (!p) return fail(p.error().code, where + ": " + p.error().message);
    if (p->master.online_signatures.empty()) return fail(Errc::malformed, where + ": the profile has no online signature key");
    return Principal{p->udf(), account_of(*p), p->master.online_signatures.front(), p->master.encryption};
}

Result<Principal> principal_of(const std::string& home, const std::string& spec) {
    // a profile file from recrypt profile export
    struct stat st {};
    if (::stat(spec.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        MESH_ASSIGN_OR_RETURN(const std::string text, read_small_file(spec, std::size_t{4} << 20));
        auto j = dare::parse_json(text, dare::JsonLimits{std::size_t{4} << 20, 64});
        if (!j) return fail(Errc::malformed, spec + ": " + j.error().message);
        const bool is_key = j->is_object() && !j->as_object().empty() &&
                            (j->as_object()[0].first == "RecryptKey" || j->as_object()[0].first == "RecryptPublicKey");
        if (!is_key) return principal_of_profile(*j, spec);
    }
    // a contact whose profile is held
    if (udf::canonical(spec).has_value()) {
        MESH_ASSIGN_OR_RETURN(const meshprofile::ProfileStore store, meshprofile::ProfileStore::open(home));
        for (const auto& name : store.list("contacts")) {
            if (!udf::matches(spec, name).value_or(false)) continue;
            MESH_ASSIGN_OR_RETURN(const Json c, store.read_public("contacts/" + name + ".json"));
            const auto& body = c.as_object()[0].second.as_object();
            for (const auto& [k, v] : body) {
                if (k == "Profile") return principal_of_profile(v, "contact " + name);
            }
            return fail(Errc::not_found, "contact " + name + ": only the fingerprint is held (recrypt contact add PROFILE-FILE)");
        }
    }
    MESH_ASSIGN_OR_RETURN(const KeyStore keys, KeyStore::open(home));
    auto k = keys.resolve(spec);
    if (!k) {
        if (k.error().code == Errc::not_found) {
            return fail(Errc::not_found, "no key, profile file or contact '" + spec + "' (recrypt key import, recrypt contact add)");
        }
        return std::move(k).error();
    }
    return Principal{k->signature.kid(), k->name, k->signature, k->encryption};
}

}  // namespace recrypt_cli
