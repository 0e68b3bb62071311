#include <mesh_test/support.hpp>

#include <dare/envelope.hpp>
#include <meshprofile/profile.hpp>

using mesh::Errc;
using namespace meshprofile;

namespace {
// A signed envelope of `payload` with `type`, by `key`: for forging broken links.
dare::Json signed_by(const dare::Json& payload, std::string_view type, const dare::SignaturePrivateKey& key, mesh::RandomSource& rng) {
    dare::EncodeOptions o;
    o.signers = {&key};
    o.meta = dare::ContentMeta::of_type(std::string(type));
    return dare::encode_value(o, rng, mesh::as_bytes(dare::to_json(payload))).value();
}

dare::Json payload_of(const dare::Json& env) {
    const auto d = dare::decode_value(env, {}).value();
    const auto p = d.payload.expose_secret();
    return dare::parse_json(std::string_view(reinterpret_cast<const char*>(p.data()), p.size())).value();
}

struct World {
    mesh::test::SeededRandom rng{42};
    NewMaster master = create_master(rng, "2026-11-22T00:00:00Z").value();
    NewDevice laptop = create_device("laptop", rng).value();
    NewDevice phone = create_device("phone", rng).value();
    Connection laptop_c = connect_device(master.profile, master.secrets, laptop.profile, rng).value();
    Connection phone_c = connect_device(master.profile, master.secrets, phone.profile, rng).value();
    dare::Json personal() {
        return sign_personal(master.signed_profile,
                             {{laptop.signed_profile, laptop_c.signed_connection}, {phone.signed_profile, phone_c.signed_connection}},
                             {{"recrypt", dare::Json(dare::JsonObject{{"Service", dare::Json("https://recrypt.example.com")}})}},
                             master.secrets, rng)
            .value();
    }
};
}  // namespace

TEST_CASE("every profile type signs and verifies, and the identity is the offline key UDF", "[meshprofile][unit]") {
    World w;
    const auto m = verify_master(w.master.signed_profile);
    REQUIRE_OK(m);
    CHECK(m->udf() == w.master.secrets.offline_signature.public_key().kid());
    CHECK(m->online_signatures.size() == 1);
    CHECK(m->escrow.size() == 1);
    const auto d = verify_device(w.laptop.signed_profile);
    REQUIRE_OK(d);
    CHECK(d->description == "laptop");
    CHECK(d->udf() == w.laptop.secrets.signature.public_key().kid());
    REQUIRE_OK(verify_connection(w.laptop_c.signed_connection, *m, *d));
    const auto p = verify_personal(w.personal());
    REQUIRE_OK(p);
    CHECK(p->udf() == m->udf());
    REQUIRE(p->devices.size() == 2);
    CHECK(p->devices[1].device.description == "phone");
    REQUIRE(p->applications.size() == 1);
    CHECK(p->applications[0].name == "recrypt");
}

TEST_CASE("co-generation: the device's own key alone opens nothing sent to the connected key", "[meshprofile][unit]") {
    World w;
    const auto combined = complete_connection(w.laptop.secrets, w.laptop_c.connection, w.laptop_c.sealed_contribution);
    REQUIRE_OK(combined);
    CHECK(combined->public_key() == w.laptop_c.connection.encryption);
    CHECK(combined->public_key() != w.laptop.profile.encryption);
    dare::EncodeOptions o;
    o.recipients = {w.laptop_c.connection.encryption};
    const auto env = dare::encode_value(o, w.rng, mesh::as_bytes("for the connected laptop")).value();
    dare::PrivateKeyAgreement manufacturer;
    manufacturer.add(w.laptop.secrets.encryption);  // what a manufacturer installed
    CHECK_FALSE(dare::decode_value(env, {&manufacturer, {}, false}).has_value());
    dare::PrivateKeyAgreement device;
    device.add(*combined);
    REQUIRE_OK(dare::decode_value(env, {&device, {}, false}));
    // another device cannot take the contribution, and a wrong contribution is noticed
    CHECK_FALSE(complete_connection(w.phone.secrets, w.laptop_c.connection, w.laptop_c.sealed_contribution).has_value());
    CHECK_ERRC(complete_connection(w.laptop.secrets, w.phone_c.connection, w.laptop_c.sealed_contribution), Errc::auth_failed);
}

TEST_CASE("every broken link of the signature chain is named", "[meshprofile][unit]") {
    World w;
    const ProfileMaster master = verify_master(w.master.signed_profile).value();
    const ProfileDevice laptop = verify_device(w.laptop.signed_profile).value();
    const ProfileDevice phone = verify_device(w.phone.signed_profile).value();
    const auto message = [](const auto& r) { return r.has_value() ? std::string("(verified)") : r.error().message; };

    // master: signed by an online key instead of its offline key
    const auto m1 = verify_master(signed_by(payload_of(w.master.signed_profile), kMasterType, w.master.secrets.online_signatures[0], w.rng));
    CHECK_ERRC(m1, Errc::auth_failed);
    CHECK(message(m1).find("offline signature key") != std::string::npos);
    // master: its payload changed after signing (another encryption key): the signature fails
    {
        dare::Json env = w.master.signed_profile;
        dare::Json changed = payload_of(env);
        auto& fields = changed.as_object()[0].second.as_object();
        for (auto& [k, v] : fields) {
            if (k == "Created") v = dare::Json("2030-01-01T00:00:00Z");
        }
        const std::string text = dare::to_json(changed);
        env.as_array()[1] = dare::Json(mesh::base64url_encode(mesh::as_bytes(text)));
        CHECK_FALSE(verify_master(env).has_value());
    }
    // device: not self-signed
    CHECK_ERRC(verify_device(signed_by(payload_of(w.laptop.signed_profile), kDeviceType, w.phone.secrets.signature, w.rng)), Errc::auth_failed);
    // connection: signed by a key that is not an online key of the master
    {
        const auto c = verify_connection(signed_by(payload_of(w.laptop_c.signed_connection), kConnectionType, w.laptop.secrets.signature, w.rng),
                                         master, laptop);
        CHECK_ERRC(c, Errc::auth_failed);
        CHECK(message(c).find("not signed by an online key") != std::string::npos);
    }
    // connection: for another device
    {
        const auto c = verify_connection(w.laptop_c.signed_connection, master, phone);
        CHECK_ERRC(c, Errc::auth_failed);
        CHECK(message(c).find("another device") != std::string::npos);
    }
    // connection: for another profile
    {
        mesh::test::SeededRandom rng2(7);
        const auto other = create_master(rng2, "2026-11-22T00:00:00Z").value();
        const auto c = verify_connection(w.laptop_c.signed_connection, other.profile, laptop);
        CHECK_ERRC(c, Errc::auth_failed);
    }
    // connection: an encryption key that is not the device key plus the contribution
    {
        dare::Json p = payload_of(w.laptop_c.signed_connection);
        auto& fields = p.as_object()[0].second.as_object();
        dare::Json phone_key = payload_of(w.phone_c.signed_connection).as_object()[0].second.as_object()[2].second;
        for (auto& [k, v] : fields) {
            if (k == "KeyEncryption") v = phone_key;
        }
        const auto c = verify_connection(signed_by(p, kConnectionType, w.master.secrets.online_signatures[0], w.rng), master, laptop);
        CHECK_ERRC(c, Errc::auth_failed);
        CHECK(message(c).find("plus the contribution") != std::string::npos);
    }
    // personal: signed by the device, not an online key
    {
        const dare::Json p = payload_of(w.personal());
        const auto r = verify_personal(signed_by(p, kPersonalType, w.laptop.secrets.signature, w.rng));
        CHECK_ERRC(r, Errc::auth_failed);
    }
    // personal: a device whose connection is for the other device
    {
        const auto bad = sign_personal(w.master.signed_profile, {{w.laptop.signed_profile, w.phone_c.signed_connection}}, {},
                                       w.master.secrets, w.rng).value();
        const auto r = verify_personal(bad);
        CHECK_ERRC(r, Errc::auth_failed);
        CHECK(message(r).find("Devices[0]") != std::string::npos);
    }
    // a device profile where a master profile belongs
    CHECK_ERRC(verify_master(w.laptop.signed_profile), Errc::malformed);
}

TEST_CASE("master and device secrets round-trip through JSON", "[meshprofile][unit]") {
    World w;
    const auto back = master_secrets_from_json(master_secrets_to_json(w.master.secrets), "secrets").value();
    CHECK(back.offline_signature.public_key() == w.master.secrets.offline_signature.public_key());
    CHECK(back.online_signatures[0].public_key() == w.master.secrets.online_signatures[0].public_key());
    CHECK(back.escrow[0].public_key() == w.master.secrets.escrow[0].public_key());
    const auto dev = device_secrets_from_json(device_secrets_to_json(w.laptop.secrets), "secrets").value();
    CHECK(dev.encryption.public_key() == w.laptop.secrets.encryption.public_key());
    CHECK_ERRC(master_secrets_from_json(dare::Json(dare::JsonObject{{"MasterSecrets", dare::Json(dare::JsonObject{})}}), "x"),
               Errc::malformed);
}
