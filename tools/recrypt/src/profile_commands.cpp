// recrypt profile ... and recrypt contact ...: Mesh profiles in the local store
// (libmeshprofile; docs/profiles.md).
//
// Store files (under $RECRYPT_HOME or --home):
//   profile/master.json    the master secrets (0600; sealed with --passphrase)
//   profile/device.json    this device's secrets and its co-generated encryption key (0600)
//   profile/personal.json  the signed personal profile (master, devices, applications)
//   devices/NAME.json      a device added here: its signed profile and connection
//   contacts/UDF.json      a trusted profile (direct trust by fingerprint)
// Passphrases are read from standard input (one line), never from the command line.
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <dare/json.hpp>
#include <mesh/random.hpp>
#include <meshprofile/escrow.hpp>
#include <meshprofile/profile.hpp>
#include <meshprofile/store.hpp>
#include <recrypt/client.hpp>
#include <recrypt/recryption.hpp>
#include <udf/udf.hpp>

#include <unistd.h>

#include "cli.hpp"
#include "cli_io.hpp"
#include "group_support.hpp"
#include "identity.hpp"
#include "key_store.hpp"

namespace recrypt_cli {
namespace {
using dare::Json;
using dare::JsonArray;
using dare::JsonObject;
using mesh::Errc;
using mesh::fail;
using mesh::Result;
using namespace meshprofile;

constexpr std::string_view kMaster = "profile/master.json";
constexpr std::string_view kDevice = "profile/device.json";
constexpr std::string_view kPersonal = "profile/personal.json";
constexpr std::string_view kService = "profile/service.json";

std::string now_rfc3339() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Result<std::optional<mesh::SecureBytes>> passphrase_if(bool wanted) {
    if (!wanted) return std::optional<mesh::SecureBytes>{};
    MESH_ASSIGN_OR_RETURN(mesh::SecureBytes p, read_secret_line("passphrase"));
    if (p.size() < 8) return fail(Errc::invalid_argument, "passphrase: at least 8 characters");
    return std::optional<mesh::SecureBytes>(std::move(p));
}

// The master secrets, asking for the passphrase on standard input when they are protected.
Result<MasterSecrets> load_master(const ProfileStore& store) {
    if (!store.exists(std::string(kMaster))) return fail(Errc::not_found, "no profile here (recrypt profile create --name ACCOUNT)");
    MESH_ASSIGN_OR_RETURN(const bool locked, store.is_protected(std::string(kMaster)));
    MESH_ASSIGN_OR_RETURN(const auto pass, passphrase_if(locked));
    MESH_ASSIGN_OR_RETURN(const Json j, store.read_secret(std::string(kMaster), pass));
    return master_secrets_from_json(j, std::string(kMaster));
}

Result<PersonalProfile> load_personal(const ProfileStore& store) {
    if (!store.exists(std::string(kPersonal))) return fail(Errc::not_found, "no profile here (recrypt profile create --name ACCOUNT)");
    MESH_ASSIGN_OR_RETURN(const Json j, store.read_public(std::string(kPersonal)));
    return verify_personal(j);
}

// Re-signs the personal profile with the devices in devices/ and this device.
Result<void> resign(const ProfileStore& store, const MasterSecrets& secrets, const PersonalProfile& current,
                    std::vector<ConnectedDevice> devices) {
    MESH_ASSIGN_OR_RETURN(const Json p, sign_personal(current.signed_master, devices, current.applications, secrets, mesh::system_random()));
    return store.write_public(std::string(kPersonal), p);
}

Result<void> print_json_or(bool json, const Json& value, const std::string& text) {
    return print_line(json ? dare::to_json_pretty(value) : text);
}


// ---- the personal group: the account's encryption key as a recryption group whose members
// are the profile's devices (DESIGN §4.1 nesting). Its GroupID is the profile UDF, its key
// records are signed by the offline key.

// Where the personal group is ("" if it is not published).
Result<std::string> personal_service(const ProfileStore& store) {
    if (!store.exists(std::string(kService))) return std::string();
    MESH_ASSIGN_OR_RETURN(const Json j, store.read_public(std::string(kService)));
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(j, std::string(kService)));
    MESH_ASSIGN_OR_RETURN(std::string url, r.string("Service", 1024));
    MESH_TRY(r.finish());
    return url;
}

Principal device_principal(const PersonalProfile::Device& d) {
    return Principal{d.device.udf(), d.device.description, d.connection.authentication, d.connection.encryption};
}

Result<recrypt::GroupKey> account_group_key(const MasterSecrets& s) {
    MESH_ASSIGN_OR_RETURN(recrypt::Scalar a, recrypt::Scalar::from_bytes(s.encryption.expose_secret()));
    return recrypt::GroupKey::from_scalar(std::move(a));
}

Result<recrypt::MemberEntry> device_member(const recrypt::GroupKey& key, const PersonalProfile::Device& d,
                                           std::vector<recrypt::Privilege> privileges) {
    const Principal who = device_principal(d);
    recrypt::MemberEntry m;
    m.member_udf = who.udf;
    m.account_name = who.account;
    m.privileges = std::move(privileges);
    m.authentication_key = who.authentication;
    MESH_ASSIGN_OR_RETURN(auto e, recrypt::make_member_entry(key, who.encryption, mesh::system_random()));
    m.entries.push_back(std::move(e));
    return m;
}

Result<void> publish(const std::string& home, const std::string& url, bool json) {
    MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(home));
    MESH_ASSIGN_OR_RETURN(const std::string already, personal_service(store));
    if (!already.empty()) return fail(Errc::already_exists, "the personal group is already at " + already);
    MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
    MESH_ASSIGN_OR_RETURN(const MasterSecrets s, load_master(store));
    MESH_ASSIGN_OR_RETURN(const Me me, device_identity(home));
    MESH_ASSIGN_OR_RETURN(const recrypt::GroupKey key, account_group_key(s));
    recrypt::RecryptionGroup rg;
    rg.group_id = p.udf();
    rg.group_name = "personal";
    rg.signature_key = s.offline_signature.public_key();
    MESH_ASSIGN_OR_RETURN(rg.signed_key, recrypt::sign_key_record(recrypt::KeyRecord{p.udf(), s.offline_signature.public_key(),
                                                                                     key.public_key(), ""},
                                                                  s.offline_signature, mesh::system_random()));
    for (const auto& d : p.devices) {
        const bool here = d.device.udf() == me.who.udf;
        MESH_ASSIGN_OR_RETURN(auto m, device_member(key, d, here ? std::vector{recrypt::Privilege::super, recrypt::Privilege::recrypt}
                                                                  : std::vector{recrypt::Privilege::recrypt}));
        rg.members.push_back(std::move(m));
    }
    MESH_ASSIGN_OR_RETURN(Session session, connect(url, me));
    MESH_TRY(session.client->create_group(std::move(rg)));
    MESH_TRY(store.write_public(std::string(kService), Json(JsonObject{{"Service", Json(url)}})));
    return print_json_or(json, Json(JsonObject{{"GroupID", Json(p.udf())}, {"Service", Json(url)},
                                               {"Devices", Json(static_cast<std::uint64_t>(p.devices.size()))}}),
                         p.udf() + "  " + url);
}

// device install: the package a device add wrote, on the new device.
Result<void> install(const std::string& home, const std::string& file, bool json) {
    MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(home));
    if (store.exists(std::string(kDevice))) return fail(Errc::already_exists, "this store already has a device (" + store.home() + ")");
    MESH_ASSIGN_OR_RETURN(const Json j, read_json_file(file, std::size_t{4} << 20, 64));
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, open_wrapped(j, "DevicePackage", file));
    MESH_ASSIGN_OR_RETURN(const Json* secrets_json, r.value("Secrets"));
    MESH_ASSIGN_OR_RETURN(const Json* contribution, r.value("Contribution"));
    MESH_ASSIGN_OR_RETURN(const Json* connection, r.value("ConnectionDevice"));
    MESH_ASSIGN_OR_RETURN(const Json* personal_json, r.value("ProfilePersonal"));
    MESH_ASSIGN_OR_RETURN(const auto service, r.optional_string("Service", 1024));
    MESH_TRY(r.finish());
    (void)connection;  // the personal profile carries it, verified
    MESH_ASSIGN_OR_RETURN(const DeviceSecrets secrets, device_secrets_from_json(*secrets_json, file + ".Secrets"));
    auto personal = verify_personal(*personal_json);
    if (!personal) return fail(personal.error().code, file + ".ProfilePersonal: " + personal.error().message);
    const std::string udf = secrets.signature.public_key().kid();
    const PersonalProfile::Device* mine = nullptr;
    for (const auto& d : personal->devices) {
        if (d.device.udf() == udf) mine = &d;
    }
    if (mine == nullptr) return fail(Errc::invalid_argument, file + ": the profile does not list this device");
    MESH_ASSIGN_OR_RETURN(const dare::PrivateKey combined, complete_connection(secrets, mine->connection, *contribution));
    Json device_json = device_secrets_to_json(secrets);
    device_json.as_object().emplace_back("ConnectedEncryption", Json(mesh::base64url_encode(combined.expose_secret())));
    MESH_TRY(store.write_secret(std::string(kDevice), device_json, std::nullopt));
    MESH_TRY(store.write_public(std::string(kPersonal), *personal_json));
    if (service) MESH_TRY(store.write_public(std::string(kService), Json(JsonObject{{"Service", Json(*service)}})));
    return print_json_or(json, Json(JsonObject{{"ProfileUDF", Json(personal->udf())}, {"DeviceUDF", Json(udf)}}), personal->udf() + "  " + udf);
}

struct CreateArgs {
    std::string name;
    std::string device = "this device";
    bool passphrase = false;
};
}  // namespace

void add_profile_commands(CLI::App& app, Context& ctx) {
    auto* profile = app.add_subcommand("profile", "Your Mesh profile: master keys, devices, escrow");
    profile->require_subcommand(1);
    {
        auto a = std::make_shared<CreateArgs>();
        auto* c = profile->add_subcommand("create", "Create your profile and connect this device; prints the profile UDF");
        c->add_option("--name", a->name, "account name, e.g. alice@example.com")->required();
        c->add_option("--device", a->device, "a description of this device")->capture_default_str();
        c->add_flag("--passphrase", a->passphrase, "protect the master keys with a passphrase read from standard input");
        c->footer("Example:\n  recrypt profile create --name alice@example.com");
        c->callback(ctx.bind("profile create", [a, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            if (store.exists(std::string(kMaster))) return fail(Errc::already_exists, "a profile exists here (" + store.home() + ")");
            if (a->name.empty() || a->name.size() > 256) return fail(Errc::invalid_argument, "--name: 1 to 256 characters");
            MESH_ASSIGN_OR_RETURN(const auto pass, passphrase_if(a->passphrase));
            mesh::RandomSource& rng = mesh::system_random();
            MESH_ASSIGN_OR_RETURN(const NewMaster master, create_master(rng, now_rfc3339()));
            MESH_ASSIGN_OR_RETURN(const NewDevice device, create_device(a->device, rng));
            MESH_ASSIGN_OR_RETURN(const Connection con, connect_device(master.profile, master.secrets, device.profile, rng));
            MESH_ASSIGN_OR_RETURN(const dare::PrivateKey combined, complete_connection(device.secrets, con.connection, con.sealed_contribution));
            const Application account{"account", Json(JsonObject{{"Name", Json(a->name)}})};
            MESH_ASSIGN_OR_RETURN(const Json personal, sign_personal(master.signed_profile, {{device.signed_profile, con.signed_connection}},
                                                                     {account}, master.secrets, rng));
            Json device_json = device_secrets_to_json(device.secrets);
            device_json.as_object().emplace_back("ConnectedEncryption", Json(mesh::base64url_encode(combined.expose_secret())));
            MESH_TRY(store.write_secret(std::string(kMaster), master_secrets_to_json(master.secrets), pass));
            MESH_TRY(store.write_secret(std::string(kDevice), device_json, std::nullopt));
            MESH_TRY(store.write_public(std::string(kPersonal), personal));
            return print_line(master.profile.udf());
        }));
    }
    {
        auto json = std::make_shared<bool>(false);
        auto* c = profile->add_subcommand("show", "Verify your profile and show its UDF, account and devices");
        c->footer("Example:\n  recrypt profile show --json");
        c->add_flag("--json", *json, "as JSON");
        c->callback(ctx.bind("profile show", [json, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
            JsonArray devices;
            std::string text = "profile " + p.udf() + "\ncreated " + p.master.created;
            for (const auto& a : p.applications) {
                if (a.name == "account" && a.data.is_object() && !a.data.as_object().empty()) {
                    text += "\naccount " + a.data.as_object()[0].second.as_string();
                }
            }
            for (const auto& d : p.devices) {
                devices.push_back(Json(JsonObject{{"DeviceUDF", Json(d.device.udf())}, {"Description", Json(d.device.description)},
                                                  {"EncryptionKey", Json(d.connection.encryption.kid())}}));
                text += "\ndevice " + d.device.udf() + "  " + d.device.description;
            }
            return print_json_or(*json || ctx.json, Json(JsonObject{{"ProfileUDF", Json(p.udf())}, {"Created", Json(p.master.created)},
                                                        {"Devices", Json(std::move(devices))}}),
                                 text);
        }));
    }
    {
        auto out = std::make_shared<std::string>("-");
        auto* c = profile->add_subcommand("export", "Write your signed public profile, to hand to an administrator or a contact");
        c->footer("Example:\n  recrypt profile export -o alice.profile   (hand alice.profile to an administrator)");
        c->add_option("-o,--output", *out, "file (default standard output)");
        c->callback(ctx.bind("profile export", [out, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_TRY(load_personal(store));  // only a profile that verifies leaves the store
            MESH_ASSIGN_OR_RETURN(const Json j, store.read_public(std::string(kPersonal)));
            const std::string text = dare::to_json_pretty(j) + "\n";
            if (*out == "-") return print_line(dare::to_json_pretty(j));
            return write_file_atomic(*out, text, 0644);
        }));
    }
    {
        auto shares = std::make_shared<unsigned>(3);
        auto threshold = std::make_shared<unsigned>(2);
        auto record = std::make_shared<std::string>("recovery-record.json");
        auto* c = profile->add_subcommand("escrow", "Escrow the master keys: a recovery record and K-of-N shares (printed, one a line)");
        c->add_option("--shares", *shares, "N shares")->capture_default_str();
        c->add_option("--threshold", *threshold, "K of them recover")->capture_default_str();
        c->add_option("-o,--record", *record, "where to write the recovery record")->capture_default_str();
        c->footer("Example:\n  recrypt profile escrow --shares 5 --threshold 3 -o recovery.json");
        c->callback(ctx.bind("profile escrow", [shares, threshold, record, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
            MESH_ASSIGN_OR_RETURN(const MasterSecrets s, load_master(store));
            MESH_ASSIGN_OR_RETURN(const Escrow e, escrow_master(s, p.udf(), *threshold, *shares, mesh::system_random()));
            if (::access(record->c_str(), F_OK) == 0) return fail(Errc::already_exists, *record + ": exists");
            MESH_TRY(write_file_atomic(*record, dare::to_json_pretty(e.recovery_record) + "\n", 0600));
            for (const auto& share : e.shares) MESH_TRY(print_line(share));
            return mesh::ok();
        }));
    }
    {
        auto shares = std::make_shared<std::vector<std::string>>();
        auto record = std::make_shared<std::string>();
        auto passphrase = std::make_shared<bool>(false);
        auto* c = profile->add_subcommand("recover", "Recover the master keys from a recovery record and K shares");
        c->footer("Example:\n  recrypt profile recover MB2G-... MCX4-... --record recovery-record.json --passphrase");
        c->add_option("SHARE", *shares, "shares (UDFs)")->required();
        c->add_option("--record", *record, "the recovery record")->required();
        c->add_flag("--passphrase", *passphrase, "protect the recovered keys with a passphrase read from standard input");
        c->callback(ctx.bind("profile recover", [shares, record, passphrase, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const std::string text, read_small_file(*record, 1 << 20));
            auto j = dare::parse_json(text);
            if (!j) return fail(Errc::malformed, *record + ": " + j.error().message);
            MESH_ASSIGN_OR_RETURN(const MasterSecrets s, recover_master(*j, *shares));
            const std::string udf = s.offline_signature.public_key().kid();
            if (store.exists(std::string(kPersonal))) {
                MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
                if (p.udf() != udf) return fail(Errc::invalid_argument, "the record is for profile " + udf + ", this store holds " + p.udf());
            }
            MESH_ASSIGN_OR_RETURN(const auto pass, passphrase_if(*passphrase));
            MESH_TRY(store.write_secret(std::string(kMaster), master_secrets_to_json(s), pass));
            return print_line(udf);
        }));
    }
    {
        auto service = std::make_shared<std::string>();
        auto* c = profile->add_subcommand("publish", "Make your devices readers for you: your personal group on a service (groups you join add it)");
        c->add_option("--service", *service, "the service URL (default $RECRYPT_SERVICE)");
        c->footer("Run it on the device that holds your master keys. Devices added later join it;\n"
                  "a device removed is revoked there at once.\nExample:\n  recrypt profile publish --service https://recrypt.example.com");
        c->callback(ctx.bind("profile publish", [service, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const std::string url, service_url(*service));
            return publish(ctx.home, url, ctx.json);
        }));
    }
    auto* device = profile->add_subcommand("device", "Devices connected to your profile");
    device->require_subcommand(1);
    {
        auto file = std::make_shared<std::string>();
        auto* c = device->add_subcommand("install", "On a new device: install the package that device add wrote for it");
        c->add_option("PACKAGE", *file, "the package file (move it here privately, delete it after)")->required();
        c->footer("Example:\n  RECRYPT_HOME=~/.local/share/recrypt recrypt profile device install phone.device.json");
        c->callback(ctx.bind("profile device install", [file, &ctx] { return install(ctx.home, *file, ctx.json); }));
    }
    {
        auto name = std::make_shared<std::string>();
        auto package = std::make_shared<std::string>();
        auto* c = device->add_subcommand("add", "Make and connect a new device; writes its secrets package for transfer");
        c->footer("Example:\n  recrypt profile device add phone -o phone.pkg   (then, on the phone: recrypt profile device install phone.pkg)");
        c->add_option("NAME", *name, "a name for the device")->required();
        c->add_option("-o,--package", *package, "where to write the device's secrets (default NAME.device.json)");
        c->callback(ctx.bind("profile device add", [name, package, &ctx]() -> Result<void> {
            MESH_TRY(check_key_name(*name));
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            const std::string file = "devices/" + *name + ".json";
            if (store.exists(file)) return fail(Errc::already_exists, "device '" + *name + "' exists");
            MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
            MESH_ASSIGN_OR_RETURN(const MasterSecrets s, load_master(store));
            mesh::RandomSource& rng = mesh::system_random();
            MESH_ASSIGN_OR_RETURN(const NewDevice d, create_device(*name, rng));
            MESH_ASSIGN_OR_RETURN(const Connection con, connect_device(p.master, s, d.profile, rng));
            const std::string out = package->empty() ? *name + ".device.json" : *package;
            if (::access(out.c_str(), F_OK) == 0) return fail(Errc::already_exists, out + ": exists");
            MESH_ASSIGN_OR_RETURN(const std::string url, personal_service(store));
            std::vector<ConnectedDevice> devices;
            for (const auto& x : p.devices) devices.push_back(x.signed_parts);
            devices.push_back(ConnectedDevice{d.signed_profile, con.signed_connection});
            MESH_ASSIGN_OR_RETURN(const Json personal, sign_personal(p.signed_master, devices, p.applications, s, rng));
            MESH_ASSIGN_OR_RETURN(const PersonalProfile next, verify_personal(personal));
            if (!url.empty()) {  // the new device joins the personal group on the service
                MESH_ASSIGN_OR_RETURN(const Me me, device_identity(ctx.home));
                MESH_ASSIGN_OR_RETURN(const recrypt::GroupKey key, account_group_key(s));
                MESH_ASSIGN_OR_RETURN(Session session, connect(url, me));
                std::vector<recrypt::MemberEntry> one;
                MESH_ASSIGN_OR_RETURN(auto m, device_member(key, next.devices.back(), {recrypt::Privilege::recrypt}));
                one.push_back(std::move(m));
                MESH_TRY(session.client->add_member(p.udf(), std::move(one)));
            }
            JsonObject body{{"Secrets", device_secrets_to_json(d.secrets)},
                            {"Contribution", con.sealed_contribution},
                            {"ConnectionDevice", con.signed_connection},
                            {"ProfilePersonal", personal}};
            if (!url.empty()) body.emplace_back("Service", Json(url));
            std::string text = dare::to_json_pretty(Json(JsonObject{{"DevicePackage", Json(std::move(body))}})) + "\n";
            auto written = write_file_atomic(out, text, 0600);
            mesh::secure_wipe(text.data(), text.size());
            MESH_TRY(written);
            MESH_TRY(store.write_public(file, Json(JsonObject{{"ProfileDevice", d.signed_profile}, {"ConnectionDevice", con.signed_connection}})));
            MESH_TRY(store.write_public(std::string(kPersonal), personal));
            return print_line(d.profile.udf());
        }));
    }
    {
        auto* c = device->add_subcommand("list", "The devices of your profile");
        c->footer("Example:\n  recrypt profile device list --json");
        c->callback(ctx.bind("profile device list", [&ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
            JsonArray all;
            for (const auto& d : p.devices) {
                if (ctx.json) {
                    all.push_back(Json(JsonObject{{"DeviceUDF", Json(d.device.udf())}, {"Description", Json(d.device.description)},
                                                  {"EncryptionKey", Json(d.connection.encryption.kid())}}));
                } else {
                    MESH_TRY(print_line(d.device.udf() + "  " + d.device.description));
                }
            }
            return ctx.json ? print_line(dare::to_json_pretty(Json(std::move(all)))) : mesh::ok();
        }));
    }
    {
        auto which = std::make_shared<std::string>();
        auto* c = device->add_subcommand("remove", "Disconnect a device (by name or UDF): the profile is signed again without it");
        c->footer("Example:\n  recrypt profile device remove phone");
        c->add_option("DEVICE", *which, "device name or UDF")->required();
        c->callback(ctx.bind("profile device remove", [which, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
            std::vector<ConnectedDevice> keep;
            bool found = false;
            for (const auto& d : p.devices) {
                if (d.device.udf() == *which || d.device.description == *which) {
                    found = true;
                } else {
                    keep.push_back(d.signed_parts);
                }
            }
            if (!found) return fail(Errc::not_found, "no device '" + *which + "' in the profile");
            if (keep.empty()) return fail(Errc::invalid_argument, "that is the last device; a profile keeps at least one");
            MESH_ASSIGN_OR_RETURN(const MasterSecrets s, load_master(store));
            MESH_ASSIGN_OR_RETURN(const std::string url, personal_service(store));
            if (!url.empty()) {  // revoked in the personal group at once: it reads nothing more
                std::string udf;
                for (const auto& d : p.devices) {
                    if (d.device.udf() == *which || d.device.description == *which) udf = d.device.udf();
                }
                MESH_ASSIGN_OR_RETURN(const Me me, device_identity(ctx.home));
                if (udf == me.who.udf) return fail(Errc::invalid_argument, "that is this device: remove it from another one");
                MESH_ASSIGN_OR_RETURN(Session session, connect(url, me));
                auto revoked = set_member_status(*session.client, p.udf(), udf, "", recrypt::MemberStatus::revoked);
                if (!revoked && revoked.error().code != Errc::not_found) return std::move(revoked).error();
            }
            MESH_TRY(resign(store, s, p, std::move(keep)));
            if (check_key_name(*which) && store.exists("devices/" + *which + ".json")) MESH_TRY(store.remove("devices/" + *which + ".json"));
            return mesh::ok();
        }));
    }

    auto* contact = app.add_subcommand("contact", "Profiles you trust (direct trust by fingerprint)");
    contact->require_subcommand(1);
    {
        auto what = std::make_shared<std::string>();
        auto expect = std::make_shared<std::string>();
        auto* c = contact->add_subcommand("add", "Add a contact from their exported profile file (checked), or by UDF alone");
        c->footer("Example:\n  recrypt contact add bob.profile --expect MB2G-...");
        c->add_option("FILE_OR_UDF", *what, "profile file from recrypt profile export, or a profile UDF")->required();
        c->add_option("--expect", *expect, "the UDF you were told: the file must have it");
        c->callback(ctx.bind("contact add", [what, expect, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            Json entry;
            std::string udf;
            if (::access(what->c_str(), F_OK) == 0) {
                MESH_ASSIGN_OR_RETURN(const std::string text, read_small_file(*what, 4 << 20));
                auto j = dare::parse_json(text, dare::JsonLimits{std::size_t{4} << 20, 64});
                if (!j) return fail(Errc::malformed, *what + ": " + j.error().message);
                auto p = verify_personal(*j);
                if (!p) return fail(p.error().code, *what + ": " + p.error().message);
                udf = p->udf();
                if (!expect->empty() && !udf::matches(udf, *expect).value_or(false)) {
                    return fail(Errc::auth_failed, *what + ": profile " + udf + " is not the expected " + *expect);
                }
                entry = Json(JsonObject{{"Contact", Json(JsonObject{{"UDF", Json(udf)}, {"Profile", *j}})}});
            } else {
                auto bin = udf::decode(*what);
                if (!bin) return fail(Errc::invalid_argument, *what + ": neither a file nor a UDF");
                udf = *what;
                entry = Json(JsonObject{{"Contact", Json(JsonObject{{"UDF", Json(udf)}})}});
            }
            MESH_TRY(store.write_public("contacts/" + udf + ".json", entry));
            return print_line(udf);
        }));
    }
    {
        auto* c = contact->add_subcommand("list", "Your contacts: UDF and whether their profile is held");
        c->footer("Example:\n  recrypt contact list --json");
        c->callback(ctx.bind("contact list", [&ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            JsonArray all;
            for (const auto& name : store.list("contacts")) {
                MESH_ASSIGN_OR_RETURN(const Json j, store.read_public("contacts/" + name + ".json"));
                const bool held = j.as_object()[0].second.as_object().size() > 1;
                if (ctx.json) {
                    all.push_back(Json(JsonObject{{"UDF", Json(name)}, {"ProfileHeld", Json(held)}}));
                } else {
                    MESH_TRY(print_line(name + (held ? "  profile" : "  fingerprint only")));
                }
            }
            return ctx.json ? print_line(dare::to_json_pretty(Json(std::move(all)))) : mesh::ok();
        }));
    }
}

}  // namespace recrypt_cli
