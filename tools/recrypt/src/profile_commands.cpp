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
#include <udf/udf.hpp>

#include <unistd.h>

#include "cli.hpp"
#include "cli_io.hpp"
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
            return print_json_or(*json, Json(JsonObject{{"ProfileUDF", Json(p.udf())}, {"Created", Json(p.master.created)},
                                                        {"Devices", Json(std::move(devices))}}),
                                 text);
        }));
    }
    {
        auto out = std::make_shared<std::string>("-");
        auto* c = profile->add_subcommand("export", "Write your signed public profile, to hand to an administrator or a contact");
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
    auto* device = profile->add_subcommand("device", "Devices connected to your profile");
    device->require_subcommand(1);
    {
        auto name = std::make_shared<std::string>();
        auto package = std::make_shared<std::string>();
        auto* c = device->add_subcommand("add", "Make and connect a new device; writes its secrets package for transfer");
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
            Json pkg(JsonObject{{"DevicePackage", Json(JsonObject{{"Secrets", device_secrets_to_json(d.secrets)},
                                                                 {"Contribution", con.sealed_contribution},
                                                                 {"ConnectionDevice", con.signed_connection}})}});
            std::string text = dare::to_json_pretty(pkg) + "\n";
            auto written = write_file_atomic(out, text, 0600);
            mesh::secure_wipe(text.data(), text.size());
            MESH_TRY(written);
            MESH_TRY(store.write_public(file, Json(JsonObject{{"ProfileDevice", d.signed_profile}, {"ConnectionDevice", con.signed_connection}})));
            std::vector<ConnectedDevice> devices;
            for (const auto& x : p.devices) devices.push_back(x.signed_parts);
            devices.push_back(ConnectedDevice{d.signed_profile, con.signed_connection});
            MESH_TRY(resign(store, s, p, std::move(devices)));
            return print_line(d.profile.udf());
        }));
    }
    {
        auto* c = device->add_subcommand("list", "The devices of your profile");
        c->callback(ctx.bind("profile device list", [&ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const PersonalProfile p, load_personal(store));
            for (const auto& d : p.devices) MESH_TRY(print_line(d.device.udf() + "  " + d.device.description));
            return mesh::ok();
        }));
    }
    {
        auto which = std::make_shared<std::string>();
        auto* c = device->add_subcommand("remove", "Disconnect a device (by name or UDF): the profile is signed again without it");
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
        c->callback(ctx.bind("contact list", [&ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const ProfileStore store, ProfileStore::open(ctx.home));
            for (const auto& name : store.list("contacts")) {
                MESH_ASSIGN_OR_RETURN(const Json j, store.read_public("contacts/" + name + ".json"));
                const bool held = j.as_object()[0].second.as_object().size() > 1;
                MESH_TRY(print_line(name + (held ? "  profile" : "  fingerprint only")));
            }
            return mesh::ok();
        }));
    }
}

}  // namespace recrypt_cli
