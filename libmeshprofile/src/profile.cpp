#include <meshprofile/profile.hpp>

#include <algorithm>

#include <dare/envelope.hpp>
#include <mesh/bytes.hpp>
#include <recrypt/scalar.hpp>

namespace meshprofile {
using dare::Json;
using dare::JsonArray;
using dare::JsonObject;
using dare::ObjectReader;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr std::string_view kContributionType = "application/mmm-key-contribution";

// ---- key data: {"UDF": kid, "PublicParameters": {"PublicKeyECDH"|"PublicKeyEdDSA": {"crv", "Public"}}}

Json key_data(const dare::PublicKey& k) {
    return Json(JsonObject{{"UDF", Json(k.kid())},
                           {"PublicParameters", Json(JsonObject{{"PublicKeyECDH", Json(JsonObject{{"crv", Json("ristretto255")},
                                                                                                   {"Public", Json(mesh::base64url_encode(k.bytes()))}})}})}});
}

Json key_data(const dare::SignaturePublicKey& k) {
    return Json(JsonObject{{"UDF", Json(k.kid())},
                           {"PublicParameters", Json(JsonObject{{"PublicKeyEdDSA", Json(JsonObject{{"crv", Json("Ed25519")},
                                                                                                    {"Public", Json(mesh::base64url_encode(k.bytes()))}})}})}});
}

// The public key bytes of a key-data object, checked against its curve and UDF.
Result<mesh::Bytes> key_bytes(const Json& j, const std::string& where, std::string_view kind, std::string_view crv) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, where));
    MESH_ASSIGN_OR_RETURN(const std::string udf, r.string("UDF", 128));
    MESH_ASSIGN_OR_RETURN(const Json* pp, r.value("PublicParameters"));
    MESH_TRY(r.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader p, ObjectReader::open(*pp, where + ".PublicParameters"));
    MESH_ASSIGN_OR_RETURN(const Json* inner, p.value(kind));
    MESH_TRY(p.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader k, ObjectReader::open(*inner, where + ".PublicParameters." + std::string(kind)));
    MESH_ASSIGN_OR_RETURN(const std::string curve, k.string("crv", 32));
    if (curve != crv) return fail(Errc::unsupported, k.member_path("crv") + ": '" + curve + "', expected " + std::string(crv));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes pub, k.fixed_bytes("Public", 32));
    MESH_TRY(k.finish());
    (void)udf;  // compared by the callers with the key's own UDF
    return pub;
}

Result<dare::PublicKey> encryption_key(ObjectReader& r, std::string_view name) {
    MESH_ASSIGN_OR_RETURN(const Json* j, r.value(name));
    const std::string where = r.member_path(name);
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes b, key_bytes(*j, where, "PublicKeyECDH", "ristretto255"));
    auto k = dare::PublicKey::from_bytes(b);
    if (!k) return fail(Errc::malformed, where + ": " + k.error().message);
    if (j->as_object()[0].second.as_string() != k->kid()) return fail(Errc::auth_failed, where + ".UDF: does not match the key");
    return k;
}

Result<dare::SignaturePublicKey> signature_key_from(const Json& j, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes b, key_bytes(j, where, "PublicKeyEdDSA", "Ed25519"));
    auto k = dare::SignaturePublicKey::from_bytes(b);
    if (!k) return fail(Errc::malformed, where + ": " + k.error().message);
    if (j.as_object()[0].second.as_string() != k->kid()) return fail(Errc::auth_failed, where + ".UDF: does not match the key");
    return k;
}

Result<dare::SignaturePublicKey> signature_key(ObjectReader& r, std::string_view name) {
    MESH_ASSIGN_OR_RETURN(const Json* j, r.value(name));
    return signature_key_from(*j, r.member_path(name));
}

// ---- signed envelopes ------------------------------------------------------------------------

Result<Json> sign_payload(const Json& payload, std::string_view type, const dare::SignaturePrivateKey& key, mesh::RandomSource& rng) {
    dare::EncodeOptions o;
    o.signers = {&key};
    o.meta = dare::ContentMeta::of_type(std::string(type));
    const std::string text = dare::to_json(payload);
    return dare::encode_value(o, rng, mesh::as_bytes(text));
}

// The payload of a signed profile envelope (not yet verified) and its signers' kids.
struct Unverified {
    Json payload;
    std::vector<std::string> signers;
};

Result<Unverified> open_signed(const Json& env, std::string_view type, const std::string& where) {
    auto d = dare::decode_value(env, dare::OpenOptions{});
    if (!d) return fail(d.error().code, where + ": " + d.error().message);
    if (!d->info.meta || d->info.meta->content_type != type) {
        return fail(Errc::malformed, where + ": not a " + std::string(type) + " envelope");
    }
    if (d->info.unknown_signers.empty()) return fail(Errc::auth_failed, where + ": not signed");
    const auto& p = d->payload.expose_secret();
    MESH_ASSIGN_OR_RETURN(Json payload, dare::parse_json(std::string_view(reinterpret_cast<const char*>(p.data()), p.size())));
    return Unverified{std::move(payload), d->info.unknown_signers};
}

// Checks that `key` signed the envelope.
Result<void> check_signed_by(const Json& env, const dare::SignaturePublicKey& key, const std::string& where) {
    const dare::SignerLookup lookup = [&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        if (kid == key.kid()) return key;
        return std::nullopt;
    };
    auto d = dare::decode_value(env, dare::OpenOptions{nullptr, lookup, true});
    if (!d) return fail(Errc::auth_failed, where + ": signature by " + key.kid() + " does not verify");
    return mesh::ok();
}

// The inner object of {"<tag>": {...}}.
Result<ObjectReader> inner(const Json& payload, std::string_view tag, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(ObjectReader outer, ObjectReader::open(payload, where));
    MESH_ASSIGN_OR_RETURN(const Json* j, outer.value(tag));
    MESH_TRY(outer.finish());
    return ObjectReader::open(*j, where + "." + std::string(tag));
}

std::string b64(std::span<const std::uint8_t> b) { return mesh::base64url_encode(b); }

Result<mesh::Bytes> secret_bytes(ObjectReader& r, std::string_view name) { return r.fixed_bytes(name, 32); }

// Which online key of `master` signed, if any.
Result<void> signed_by_online(const Json& env, const std::vector<std::string>& signers, const ProfileMaster& master,
                              const std::string& where) {
    for (const auto& kid : signers) {
        for (const auto& k : master.online_signatures) {
            if (k.kid() == kid) return check_signed_by(env, k, where);
        }
    }
    return fail(Errc::auth_failed, where + ": not signed by an online key of profile " + master.udf());
}
}  // namespace

Result<NewMaster> create_master(mesh::RandomSource& rng, std::string created) {
    MasterSecrets s{dare::SignaturePrivateKey::generate(rng), {}, {}, dare::PrivateKey::generate(rng)};
    s.online_signatures.push_back(dare::SignaturePrivateKey::generate(rng));
    s.escrow.push_back(dare::PrivateKey::generate(rng));
    ProfileMaster p{s.offline_signature.public_key(), {s.online_signatures[0].public_key()}, {s.escrow[0].public_key()},
                    s.encryption.public_key(), std::move(created)};
    JsonArray online;
    for (const auto& k : p.online_signatures) online.push_back(key_data(k));
    JsonArray escrow;
    for (const auto& k : p.escrow) escrow.push_back(key_data(k));
    const Json payload(JsonObject{{"ProfileMaster", Json(JsonObject{{"KeyOfflineSignature", key_data(p.offline_signature)},
                                                                   {"KeysOnlineSignature", Json(std::move(online))},
                                                                   {"KeysMasterEscrow", Json(std::move(escrow))},
                                                                   {"KeyEncryption", key_data(p.encryption)},
                                                                   {"Created", Json(p.created)}})}});
    MESH_ASSIGN_OR_RETURN(Json env, sign_payload(payload, kMasterType, s.offline_signature, rng));
    return NewMaster{std::move(p), std::move(s), std::move(env)};
}

Result<ProfileMaster> verify_master(const Json& signed_master) {
    const std::string where = "master profile";
    MESH_ASSIGN_OR_RETURN(const Unverified u, open_signed(signed_master, kMasterType, where));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, inner(u.payload, "ProfileMaster", where));
    MESH_ASSIGN_OR_RETURN(const dare::SignaturePublicKey offline, signature_key(r, "KeyOfflineSignature"));
    std::vector<dare::SignaturePublicKey> online_keys;
    MESH_ASSIGN_OR_RETURN(const JsonArray* online, r.optional_array("KeysOnlineSignature", 16));
    for (std::size_t i = 0; i < online->size(); ++i) {
        MESH_ASSIGN_OR_RETURN(auto k, signature_key_from((*online)[i], r.member_path("KeysOnlineSignature") + "[" + std::to_string(i) + "]"));
        online_keys.push_back(k);
    }
    if (online_keys.empty()) return fail(Errc::malformed, where + ": no online signature key");
    std::vector<dare::PublicKey> escrow_keys;
    MESH_ASSIGN_OR_RETURN(const JsonArray* escrow, r.optional_array("KeysMasterEscrow", 16));
    for (std::size_t i = 0; i < escrow->size(); ++i) {
        const std::string w = r.member_path("KeysMasterEscrow") + "[" + std::to_string(i) + "]";
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes b, key_bytes((*escrow)[i], w, "PublicKeyECDH", "ristretto255"));
        auto k = dare::PublicKey::from_bytes(b);
        if (!k) return fail(Errc::malformed, w + ": " + k.error().message);
        escrow_keys.push_back(*k);
    }
    MESH_ASSIGN_OR_RETURN(const dare::PublicKey encryption, encryption_key(r, "KeyEncryption"));
    MESH_ASSIGN_OR_RETURN(std::string created, r.string("Created", 64));
    ProfileMaster p{offline, std::move(online_keys), std::move(escrow_keys), encryption, std::move(created)};
    MESH_TRY(r.finish());
    if (std::find(u.signers.begin(), u.signers.end(), offline.kid()) == u.signers.end()) {
        return fail(Errc::auth_failed, where + ": not signed by its own offline signature key");
    }
    MESH_TRY(check_signed_by(signed_master, offline, where));
    return p;
}

Result<NewDevice> create_device(std::string description, mesh::RandomSource& rng) {
    DeviceSecrets s{dare::SignaturePrivateKey::generate(rng), dare::PrivateKey::generate(rng), dare::SignaturePrivateKey::generate(rng)};
    ProfileDevice p{s.signature.public_key(), s.encryption.public_key(), s.authentication.public_key(), std::move(description)};
    const Json payload(JsonObject{{"ProfileDevice", Json(JsonObject{{"KeyOfflineSignature", key_data(p.signature)},
                                                                   {"KeyEncryption", key_data(p.encryption)},
                                                                   {"KeyAuthentication", key_data(p.authentication)},
                                                                   {"Description", Json(p.description)}})}});
    MESH_ASSIGN_OR_RETURN(Json env, sign_payload(payload, kDeviceType, s.signature, rng));
    return NewDevice{std::move(p), std::move(s), std::move(env)};
}

Result<ProfileDevice> verify_device(const Json& signed_device) {
    const std::string where = "device profile";
    MESH_ASSIGN_OR_RETURN(const Unverified u, open_signed(signed_device, kDeviceType, where));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, inner(u.payload, "ProfileDevice", where));
    MESH_ASSIGN_OR_RETURN(const dare::SignaturePublicKey sig, signature_key(r, "KeyOfflineSignature"));
    MESH_ASSIGN_OR_RETURN(const dare::PublicKey enc, encryption_key(r, "KeyEncryption"));
    MESH_ASSIGN_OR_RETURN(const dare::SignaturePublicKey auth, signature_key(r, "KeyAuthentication"));
    MESH_ASSIGN_OR_RETURN(std::string description, r.string("Description", 256));
    MESH_TRY(r.finish());
    MESH_TRY(check_signed_by(signed_device, sig, where + " " + sig.kid()));
    return ProfileDevice{sig, enc, auth, std::move(description)};
}

Result<Connection> connect_device(const ProfileMaster& master, const MasterSecrets& secrets, const ProfileDevice& device,
                                  mesh::RandomSource& rng) {
    if (secrets.online_signatures.empty()) return fail(Errc::invalid_argument, "connect: no online signature key");
    const recrypt::Scalar e = recrypt::Scalar::random(rng);
    MESH_ASSIGN_OR_RETURN(const dare::PublicKey contribution, e.public_point());
    MESH_ASSIGN_OR_RETURN(const dare::PublicKey combined, device.encryption.add(contribution));
    ConnectionDevice c{master.udf(), device.udf(), combined, contribution, device.authentication};
    const Json payload(JsonObject{{"ConnectionDevice", Json(JsonObject{{"ProfileUDF", Json(c.profile_udf)},
                                                                      {"DeviceUDF", Json(c.device_udf)},
                                                                      {"KeyEncryption", key_data(c.encryption)},
                                                                      {"KeyContribution", key_data(c.contribution)},
                                                                      {"KeyAuthentication", key_data(c.authentication)}})}});
    MESH_ASSIGN_OR_RETURN(Json signed_connection, sign_payload(payload, kConnectionType, secrets.online_signatures[0], rng));
    dare::EncodeOptions o;
    o.recipients = {device.encryption};
    o.meta = dare::ContentMeta::of_type(std::string(kContributionType));
    MESH_ASSIGN_OR_RETURN(Json sealed, dare::encode_value(o, rng, e.expose_secret()));
    return Connection{std::move(c), std::move(signed_connection), std::move(sealed)};
}

Result<dare::PrivateKey> complete_connection(const DeviceSecrets& device, const ConnectionDevice& connection,
                                             const Json& sealed_contribution) {
    dare::PrivateKeyAgreement keys;
    keys.add(device.encryption);
    auto d = dare::decode_value(sealed_contribution, dare::OpenOptions{&keys, {}, false});
    if (!d) return fail(d.error().code, "contribution: " + d.error().message);
    if (!d->info.meta || d->info.meta->content_type != kContributionType) return fail(Errc::malformed, "contribution: wrong content type");
    MESH_ASSIGN_OR_RETURN(const recrypt::Scalar e, recrypt::Scalar::from_bytes(d->payload.expose_secret()));
    const recrypt::Scalar own = recrypt::Scalar::from_private_key(device.encryption);
    const recrypt::Scalar sum = own.add(e);
    MESH_ASSIGN_OR_RETURN(dare::PrivateKey combined, sum.to_private_key());
    if (combined.public_key() != connection.encryption) {
        return fail(Errc::auth_failed, "contribution: the combined key is not the one the connection states");
    }
    return combined;
}

Result<ConnectionDevice> verify_connection(const Json& signed_connection, const ProfileMaster& master, const ProfileDevice& device) {
    const std::string where = "connection of device " + device.udf();
    MESH_ASSIGN_OR_RETURN(const Unverified u, open_signed(signed_connection, kConnectionType, where));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, inner(u.payload, "ConnectionDevice", where));
    ConnectionDevice c{std::string(), std::string(), device.encryption, device.encryption, device.authentication};
    MESH_ASSIGN_OR_RETURN(c.profile_udf, r.string("ProfileUDF", 128));
    MESH_ASSIGN_OR_RETURN(c.device_udf, r.string("DeviceUDF", 128));
    MESH_ASSIGN_OR_RETURN(c.encryption, encryption_key(r, "KeyEncryption"));
    MESH_ASSIGN_OR_RETURN(c.contribution, encryption_key(r, "KeyContribution"));
    MESH_ASSIGN_OR_RETURN(c.authentication, signature_key(r, "KeyAuthentication"));
    MESH_TRY(r.finish());
    MESH_TRY(signed_by_online(signed_connection, u.signers, master, where));
    if (c.profile_udf != master.udf()) return fail(Errc::auth_failed, where + ": for another profile (" + c.profile_udf + ")");
    if (c.device_udf != device.udf()) return fail(Errc::auth_failed, where + ": for another device (" + c.device_udf + ")");
    MESH_ASSIGN_OR_RETURN(const dare::PublicKey expected, device.encryption.add(c.contribution));
    if (expected != c.encryption) return fail(Errc::auth_failed, where + ": KeyEncryption is not the device key plus the contribution");
    if (c.authentication != device.authentication) return fail(Errc::auth_failed, where + ": KeyAuthentication is not the device's");
    return c;
}

Result<Json> sign_personal(const Json& signed_master, const std::vector<ConnectedDevice>& devices,
                           const std::vector<Application>& applications, const MasterSecrets& secrets, mesh::RandomSource& rng) {
    MESH_ASSIGN_OR_RETURN(const ProfileMaster master, verify_master(signed_master));
    JsonArray ds;
    for (const auto& d : devices) ds.push_back(Json(JsonObject{{"ProfileDevice", d.signed_device}, {"ConnectionDevice", d.signed_connection}}));
    JsonArray apps;
    for (const auto& a : applications) apps.push_back(Json(JsonObject{{"Name", Json(a.name)}, {"Data", a.data}}));
    const Json payload(JsonObject{{"ProfilePersonal", Json(JsonObject{{"ProfileUDF", Json(master.udf())},
                                                                     {"ProfileMaster", signed_master},
                                                                     {"Devices", Json(std::move(ds))},
                                                                     {"Applications", Json(std::move(apps))}})}});
    if (secrets.online_signatures.empty()) return fail(Errc::invalid_argument, "personal profile: no online signature key");
    return sign_payload(payload, kPersonalType, secrets.online_signatures[0], rng);
}

Result<PersonalProfile> verify_personal(const Json& signed_personal) {
    const std::string where = "personal profile";
    MESH_ASSIGN_OR_RETURN(const Unverified u, open_signed(signed_personal, kPersonalType, where));
    MESH_ASSIGN_OR_RETURN(ObjectReader r, inner(u.payload, "ProfilePersonal", where));
    MESH_ASSIGN_OR_RETURN(const std::string udf, r.string("ProfileUDF", 128));
    MESH_ASSIGN_OR_RETURN(const Json* m, r.value("ProfileMaster"));
    MESH_ASSIGN_OR_RETURN(const ProfileMaster master, verify_master(*m));
    if (master.udf() != udf) return fail(Errc::auth_failed, where + ": ProfileUDF is not the master profile's");
    MESH_TRY(signed_by_online(signed_personal, u.signers, master, where));
    PersonalProfile out{master, *m, {}, {}};
    MESH_ASSIGN_OR_RETURN(const JsonArray* ds, r.optional_array("Devices", 256));
    for (std::size_t i = 0; i < ds->size(); ++i) {
        const std::string w = r.member_path("Devices") + "[" + std::to_string(i) + "]";
        MESH_ASSIGN_OR_RETURN(ObjectReader dr, ObjectReader::open((*ds)[i], w));
        MESH_ASSIGN_OR_RETURN(const Json* dev, dr.value("ProfileDevice"));
        MESH_ASSIGN_OR_RETURN(const Json* con, dr.value("ConnectionDevice"));
        MESH_TRY(dr.finish());
        auto device = verify_device(*dev);
        if (!device) return fail(device.error().code, w + ": " + device.error().message);
        auto connection = verify_connection(*con, master, *device);
        if (!connection) return fail(connection.error().code, w + ": " + connection.error().message);
        out.devices.push_back(PersonalProfile::Device{*device, *connection, ConnectedDevice{*dev, *con}});
    }
    MESH_ASSIGN_OR_RETURN(const JsonArray* apps, r.optional_array("Applications", 256));
    for (std::size_t i = 0; i < apps->size(); ++i) {
        MESH_ASSIGN_OR_RETURN(ObjectReader ar, ObjectReader::open((*apps)[i], r.member_path("Applications") + "[" + std::to_string(i) + "]"));
        Application a;
        MESH_ASSIGN_OR_RETURN(a.name, ar.string("Name", 128));
        MESH_ASSIGN_OR_RETURN(const Json* data, ar.value("Data"));
        a.data = *data;
        MESH_TRY(ar.finish());
        out.applications.push_back(std::move(a));
    }
    MESH_TRY(r.finish());
    return out;
}

// ---- secrets as JSON -----------------------------------------------------------------------------

Json master_secrets_to_json(const MasterSecrets& s) {
    JsonArray online;
    for (const auto& k : s.online_signatures) online.emplace_back(b64(k.expose_seed()));
    JsonArray escrow;
    for (const auto& k : s.escrow) escrow.emplace_back(b64(k.expose_secret()));
    return Json(JsonObject{{"MasterSecrets", Json(JsonObject{{"OfflineSignature", Json(b64(s.offline_signature.expose_seed()))},
                                                             {"OnlineSignature", Json(std::move(online))},
                                                             {"Escrow", Json(std::move(escrow))},
                                                             {"Encryption", Json(b64(s.encryption.expose_secret()))}})}});
}

Result<MasterSecrets> master_secrets_from_json(const Json& j, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, inner(j, "MasterSecrets", where));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes offline, secret_bytes(r, "OfflineSignature"));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes enc, secret_bytes(r, "Encryption"));
    auto off = dare::SignaturePrivateKey::from_seed(offline);
    auto e = dare::PrivateKey::from_bytes(enc);
    mesh::secure_wipe(offline.data(), offline.size());
    mesh::secure_wipe(enc.data(), enc.size());
    if (!off || !e) return fail(Errc::malformed, where + ": invalid key");
    MasterSecrets s{std::move(off).value(), {}, {}, std::move(e).value()};
    for (const auto& [name, is_signature] : {std::pair{"OnlineSignature", true}, std::pair{"Escrow", false}}) {
        MESH_ASSIGN_OR_RETURN(const JsonArray* a, r.optional_array(name, 16));
        for (std::size_t i = 0; i < a->size(); ++i) {
            const std::string w = r.member_path(name) + "[" + std::to_string(i) + "]";
            if (!(*a)[i].is_string()) return dare::type_error(w, "base64url key", (*a)[i]);
            auto bytes = mesh::base64url_decode((*a)[i].as_string());
            if (!bytes || bytes->size() != 32) return fail(Errc::malformed, w + ": not a 32-byte key");
            if (is_signature) {
                auto k = dare::SignaturePrivateKey::from_seed(*bytes);
                if (!k) return fail(Errc::malformed, w + ": invalid key");
                s.online_signatures.push_back(std::move(k).value());
            } else {
                auto k = dare::PrivateKey::from_bytes(*bytes);
                if (!k) return fail(Errc::malformed, w + ": invalid key");
                s.escrow.push_back(std::move(k).value());
            }
            mesh::secure_wipe(bytes->data(), bytes->size());
        }
    }
    MESH_TRY(r.finish());
    return s;
}

Json device_secrets_to_json(const DeviceSecrets& s) {
    return Json(JsonObject{{"DeviceSecrets", Json(JsonObject{{"Signature", Json(b64(s.signature.expose_seed()))},
                                                             {"Encryption", Json(b64(s.encryption.expose_secret()))},
                                                             {"Authentication", Json(b64(s.authentication.expose_seed()))}})}});
}

Result<DeviceSecrets> device_secrets_from_json(const Json& j, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, inner(j, "DeviceSecrets", where));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes sig, secret_bytes(r, "Signature"));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes enc, secret_bytes(r, "Encryption"));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes auth, secret_bytes(r, "Authentication"));
    MESH_TRY(r.finish());
    auto s = dare::SignaturePrivateKey::from_seed(sig);
    auto e = dare::PrivateKey::from_bytes(enc);
    auto a = dare::SignaturePrivateKey::from_seed(auth);
    for (auto* b : {&sig, &enc, &auth}) mesh::secure_wipe(b->data(), b->size());
    if (!s || !e || !a) return fail(Errc::malformed, where + ": invalid key");
    return DeviceSecrets{std::move(s).value(), std::move(e).value(), std::move(a).value()};
}

}  // namespace meshprofile
