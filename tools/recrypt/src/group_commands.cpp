// recrypt group|member|encrypt|decrypt: recryption groups on a recryptd service.
//
// The administrator's side keeps the group's private keys in the key store
// (groups/NAME.json, 0600): the group's signature key (its GroupID is that key's UDF) and the
// group's encryption key, from which it makes each member's decryption entry. Who "I" am is a
// private key of the store (--key NAME, or the only one there): its signature key signs my
// requests and names me (MemberUDF), its encryption key is my device key.
// A sender needs no account: `encrypt` fetches the group's public key record and checks its
// signature against the GroupID before encrypting.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <dare/envelope.hpp>
#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/random.hpp>
#include <recrypt/agent.hpp>
#include <recrypt/client.hpp>
#include <recrypt/recryption.hpp>

#include "cli.hpp"
#include "cli_io.hpp"
#include "key_store.hpp"

namespace recrypt_cli {
namespace {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

constexpr std::size_t kMaxFile = std::size_t{256} << 20;

struct GroupRecord {
    std::string name;
    std::string service;
    std::string group_id;
    std::optional<dare::SignaturePrivateKey> signature;
    std::optional<recrypt::GroupKey> key;
};

std::string group_path(const KeyStore& store, const std::string& name) { return store.home() + "/groups/" + name + ".json"; }

Result<void> save_group(const KeyStore& store, const GroupRecord& g) {
    const std::string dir = store.home() + "/groups";
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail(Errc::io, dir + ": cannot create");
    std::string text = dare::to_json_pretty(dare::Json(dare::JsonObject{
        {"RecryptGroup",
         dare::Json(dare::JsonObject{{"Name", dare::Json(g.name)},
                                     {"Service", dare::Json(g.service)},
                                     {"GroupID", dare::Json(g.group_id)},
                                     {"SignatureSeed", dare::Json(mesh::base64url_encode(g.signature->expose_seed()))},
                                     {"GroupKey", dare::Json(mesh::base64url_encode(g.key->secret().expose_secret()))}})}}));
    text += "\n";
    auto w = write_file_atomic(group_path(store, g.name), text, 0600);
    mesh::secure_wipe(text.data(), text.size());
    return w;
}

Result<GroupRecord> load_group(const KeyStore& store, const std::string& name) {
    MESH_TRY(check_key_name(name));
    const std::string path = group_path(store, name);
    if (::access(path.c_str(), F_OK) != 0) return fail(Errc::not_found, "no group '" + name + "' administered here (recrypt group list)");
    MESH_ASSIGN_OR_RETURN(std::string text, read_small_file(path));
    auto j = dare::parse_json(text);
    mesh::secure_wipe(text.data(), text.size());
    if (!j) return fail(Errc::malformed, path + ": " + j.error().message);
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader outer, dare::ObjectReader::open(*j, path));
    MESH_ASSIGN_OR_RETURN(const dare::Json* inner, outer.value("RecryptGroup"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(*inner, path + ".RecryptGroup"));
    GroupRecord g;
    MESH_ASSIGN_OR_RETURN(g.name, r.string("Name", 64));
    MESH_ASSIGN_OR_RETURN(g.service, r.string("Service", 1024));
    MESH_ASSIGN_OR_RETURN(g.group_id, r.string("GroupID", 128));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes seed, r.fixed_bytes("SignatureSeed", dare::kEd25519SeedBytes));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes scalar, r.fixed_bytes("GroupKey", dare::kScalarBytes));
    MESH_TRY(r.finish());
    auto sig = dare::SignaturePrivateKey::from_seed(seed);
    auto a = recrypt::Scalar::from_bytes(scalar);
    mesh::secure_wipe(seed.data(), seed.size());
    mesh::secure_wipe(scalar.data(), scalar.size());
    if (!sig || !a) return fail(Errc::malformed, path + ": invalid key");
    auto key = recrypt::GroupKey::from_scalar(std::move(a).value());
    if (!key) return fail(Errc::malformed, path + ": invalid group key");
    g.signature.emplace(std::move(sig).value());
    g.key.emplace(std::move(key).value());
    if (g.signature->public_key().kid() != g.group_id) return fail(Errc::malformed, path + ": GroupID does not match its key");
    return g;
}

// Me: a private key of the store (named, or the only one).
Result<StoredKey> my_key(const KeyStore& store, const std::string& name) {
    if (!name.empty()) {
        MESH_ASSIGN_OR_RETURN(StoredKey k, store.load(name));
        if (!k.signature_private || !k.encryption_private) return fail(Errc::invalid_argument, "--key " + name + ": not a private key");
        return k;
    }
    MESH_ASSIGN_OR_RETURN(auto keys, store.list());
    std::vector<StoredKey> mine;
    for (auto& k : keys) {
        if (k.signature_private && k.encryption_private) mine.push_back(std::move(k));
    }
    if (mine.size() != 1) {
        return fail(Errc::invalid_argument, std::to_string(mine.size()) + " private keys in the store; " +
                                                (mine.empty() ? "make one with: recrypt key generate --name NAME" : "name one with --key NAME"));
    }
    return std::move(mine.front());
}

Result<std::string> service_url(const std::string& flag, const std::string& fallback = {}) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("RECRYPT_SERVICE"); env != nullptr && *env != '\0') return std::string(env);
    if (!fallback.empty()) return fallback;
    return fail(Errc::invalid_argument, "which service? give --service URL or set RECRYPT_SERVICE");
}

struct Session {
    std::unique_ptr<recrypt::HttpTransport> transport;
    std::unique_ptr<recrypt::Client> client;
};

Result<Session> connect(const std::string& url, const StoredKey& me) {
    recrypt::HttpOptions o;
    if (const char* ca = std::getenv("RECRYPT_CA_FILE"); ca != nullptr && *ca != '\0') o.ca_file = ca;
    auto t = recrypt::HttpTransport::create(url, o);
    if (!t) return fail(t.error().code, "--service " + url + ": " + t.error().message);
    Session s;
    s.transport = std::move(t).value();
    s.client = std::make_unique<recrypt::Client>(*s.transport, *me.signature_private, me.signature.kid());
    return s;
}

Result<recrypt::Privilege> privilege_of(const std::string& p) {
    if (p == "RECRYPT" || p == "recrypt") return recrypt::Privilege::recrypt;
    if (p == "ADMIN" || p == "admin") return recrypt::Privilege::admin;
    if (p == "SUPER" || p == "super") return recrypt::Privilege::super;
    return fail(Errc::invalid_argument, "privilege '" + p + "': RECRYPT, ADMIN or SUPER");
}

recrypt::MemberEntry member_entry(const GroupRecord& g, const StoredKey& who, std::vector<recrypt::Privilege> privileges,
                                  mesh::RandomSource& rng) {
    recrypt::MemberEntry m;
    m.member_udf = who.signature.kid();
    m.account_name = who.name;
    m.privileges = std::move(privileges);
    m.authentication_key = who.signature;
    m.entries.push_back(recrypt::make_member_entry(*g.key, who.encryption, rng).value());
    return m;
}

struct MemberArgs {
    std::string group;
    std::string member;
    std::vector<std::string> privileges;
    std::string key;
};

struct CryptArgs {
    std::string file;
    std::string output;
    std::string group;
    std::string service;
    std::string key;
    bool force = false;
};

Result<void> write_output(const std::string& path, const mesh::Bytes& data, bool force) {
    if (path == "-") {
        if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0) {
            return fail(Errc::io, "standard output: write failed");
        }
        return mesh::ok();
    }
    if (!force && ::access(path.c_str(), F_OK) == 0) return fail(Errc::already_exists, path + ": exists (use --force to replace it)");
    return write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), 0600);
}

// UpdateMember with a new status for the member named by key name, key file, UDF or account name.
Result<void> set_status(const std::string& home, const MemberArgs& a, recrypt::MemberStatus status) {
    MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(home));
    MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(store, a.group));
    MESH_ASSIGN_OR_RETURN(const StoredKey me, my_key(store, a.key));
    MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
    std::string udf = a.member;
    if (auto k = store.resolve(a.member)) udf = k->signature.kid();
    MESH_ASSIGN_OR_RETURN(const recrypt::RecryptionGroup current, s.client->get_group(g.group_id));
    for (const auto& m : current.members) {
        if (m.member_udf == udf || (!m.account_name.empty() && m.account_name == a.member)) {
            recrypt::MemberEntry next = recrypt::clone(m);
            next.status = status;
            std::vector<recrypt::MemberEntry> one;
            one.push_back(std::move(next));
            return s.client->update_member(g.group_id, std::move(one));
        }
    }
    return fail(Errc::not_found, "no member '" + a.member + "' in group " + a.group);
}
}  // namespace

void add_group_commands(CLI::App& app, Context& ctx) {
    auto* group = app.add_subcommand("group", "Recryption groups you administer");
    group->require_subcommand(1);
    {
        auto name = std::make_shared<std::string>();
        auto service = std::make_shared<std::string>();
        auto key = std::make_shared<std::string>();
        auto* c = group->add_subcommand("create", "Create a group on a service, with you as its SUPER member; prints the GroupID");
        c->add_option("NAME", *name, "a local name for the group")->required();
        c->add_option("--service", *service, "the service URL (default $RECRYPT_SERVICE)");
        c->add_option("--key", *key, "which of your keys (default: the only one)");
        c->footer("Example:\n  recrypt group create friends --service http://127.0.0.1:8437");
        c->callback(ctx.bind("group create", [name, service, key, &ctx]() -> Result<void> {
            MESH_TRY(check_key_name(*name));
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            if (::access(group_path(store, *name).c_str(), F_OK) == 0) return fail(Errc::already_exists, "group '" + *name + "' exists here");
            MESH_ASSIGN_OR_RETURN(const StoredKey me, my_key(store, *key));
            MESH_ASSIGN_OR_RETURN(const std::string url, service_url(*service));
            mesh::RandomSource& rng = mesh::system_random();
            GroupRecord g;
            g.name = *name;
            g.service = url;
            g.signature.emplace(dare::SignaturePrivateKey::generate(rng));
            g.key.emplace(recrypt::GroupKey::generate(rng));
            g.group_id = g.signature->public_key().kid();
            recrypt::RecryptionGroup rg;
            rg.group_id = g.group_id;
            rg.group_name = *name;
            rg.signature_key = g.signature->public_key();
            MESH_ASSIGN_OR_RETURN(rg.signed_key, recrypt::sign_key_record(recrypt::KeyRecord{g.group_id, g.signature->public_key(),
                                                                                             g.key->public_key(), ""},
                                                                          *g.signature, rng));
            rg.members.push_back(member_entry(g, me, {recrypt::Privilege::super, recrypt::Privilege::recrypt}, rng));
            MESH_ASSIGN_OR_RETURN(Session s, connect(url, me));
            MESH_TRY(s.client->create_group(std::move(rg)));
            MESH_TRY(save_group(store, g));
            return print_line(g.group_id);
        }));
    }
    {
        auto name = std::make_shared<std::string>();
        auto* c = group->add_subcommand("show", "The group's id, service and current key");
        c->add_option("NAME", *name, "group")->required();
        c->callback(ctx.bind("group show", [name, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(store, *name));
            return print_line(dare::to_json_pretty(dare::Json(dare::JsonObject{{"Name", dare::Json(g.name)},
                                                                               {"GroupID", dare::Json(g.group_id)},
                                                                               {"Service", dare::Json(g.service)},
                                                                               {"EncryptionKey", dare::Json(g.key->kid())}})));
        }));
    }

    {
        auto name = std::make_shared<std::string>();
        auto key = std::make_shared<std::string>();
        auto* c = group->add_subcommand("rotate", "Give the group a new key: new data needs it; revoked members get no entry for it");
        c->add_option("NAME", *name, "group")->required();
        c->add_option("--key", *key, "which of your keys signs (default: the only one)");
        c->footer("Example:\n  recrypt member revoke friends mallet && recrypt group rotate friends");
        c->callback(ctx.bind("group rotate", [name, key, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(GroupRecord g, load_group(store, *name));
            MESH_ASSIGN_OR_RETURN(const StoredKey me, my_key(store, *key));
            MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
            MESH_ASSIGN_OR_RETURN(const recrypt::RecryptionGroup current, s.client->get_group(g.group_id));
            // every member who is not revoked gets an entry for the new key: their encryption
            // keys come from this store (imported when they were added)
            std::vector<std::pair<recrypt::MemberEntry, StoredKey>> keep;
            for (const auto& m : current.members) {
                if (m.status == recrypt::MemberStatus::revoked) continue;
                auto who = m.member_udf == me.signature.kid() ? Result<StoredKey>(my_key(store, *key)) : store.resolve(m.member_udf);
                if (!who) return fail(Errc::not_found, "member " + m.member_udf + ": their key is not in this store (recrypt key import)");
                keep.emplace_back(recrypt::clone(m), std::move(who).value());
            }
            mesh::RandomSource& rng = mesh::system_random();
            GroupRecord next{g.name, g.service, g.group_id, std::move(g.signature), recrypt::GroupKey::generate(rng)};
            recrypt::RecryptionGroup rg;
            rg.group_id = next.group_id;
            rg.group_name = current.group_name;
            rg.signature_key = next.signature->public_key();
            MESH_ASSIGN_OR_RETURN(rg.signed_key, recrypt::sign_key_record(recrypt::KeyRecord{next.group_id, next.signature->public_key(),
                                                                                             next.key->public_key(), ""},
                                                                          *next.signature, rng));
            MESH_TRY(s.client->update_group(std::move(rg)));
            MESH_TRY(save_group(store, next));  // the new key is the group's from now on
            std::vector<recrypt::MemberEntry> updates;
            for (auto& [m, who] : keep) {
                m.entries.clear();
                m.entries.push_back(recrypt::make_member_entry(*next.key, who.encryption, rng).value());
                updates.push_back(std::move(m));
            }
            if (!updates.empty()) MESH_TRY(s.client->update_member(next.group_id, std::move(updates)));
            return print_line(next.key->kid());
        }));
    }

    auto* member = app.add_subcommand("member", "Members of a group you administer");
    member->require_subcommand(1);
    {
        auto a = std::make_shared<MemberArgs>();
        auto* c = member->add_subcommand("add", "Add someone whose public key is in your store (recrypt key import)");
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("MEMBER", a->member, "their key: name, key file or UDF")->required();
        c->add_option("--privilege", a->privileges, "RECRYPT (default), ADMIN or SUPER; repeatable");
        c->add_option("--key", a->key, "which of your keys signs (default: the only one)");
        c->footer("Example:\n  recrypt member add friends bob");
        c->callback(ctx.bind("member add", [a, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(store, a->group));
            MESH_ASSIGN_OR_RETURN(const StoredKey me, my_key(store, a->key));
            auto who = store.resolve(a->member);
            if (!who) return fail(who.error().code, "member " + a->member + ": " + who.error().message);
            std::vector<recrypt::Privilege> privileges;
            for (const auto& p : a->privileges) {
                MESH_ASSIGN_OR_RETURN(const recrypt::Privilege v, privilege_of(p));
                privileges.push_back(v);
            }
            if (privileges.empty()) privileges.push_back(recrypt::Privilege::recrypt);
            MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
            std::vector<recrypt::MemberEntry> one;
            one.push_back(member_entry(g, *who, std::move(privileges), mesh::system_random()));
            MESH_TRY(s.client->add_member(g.group_id, std::move(one)));
            return print_line(who->signature.kid());
        }));
    }
    for (const auto& [verb, status, help] :
         {std::tuple{"suspend", recrypt::MemberStatus::suspended, "Suspend a member (reinstate undoes it)"},
          std::tuple{"reinstate", recrypt::MemberStatus::active, "Make a suspended member active again"},
          std::tuple{"revoke", recrypt::MemberStatus::revoked, "Revoke a member, for good"}}) {
        auto a = std::make_shared<MemberArgs>();
        auto* c = member->add_subcommand(verb, help);
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("MEMBER", a->member, "their key name, UDF or account name")->required();
        c->add_option("--key", a->key, "which of your keys signs (default: the only one)");
        const recrypt::MemberStatus st = status;
        c->callback(ctx.bind(std::string("member ") + verb, [a, st, &ctx]() -> Result<void> { return set_status(ctx.home, *a, st); }));
    }
    {
        auto a = std::make_shared<MemberArgs>();
        auto json = std::make_shared<bool>(false);
        auto* c = member->add_subcommand("list", "The members: UDF, account, privileges, status");
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("--key", a->key, "which of your keys signs (default: the only one)");
        c->add_flag("--json", *json, "the service's answer as JSON");
        c->callback(ctx.bind("member list", [a, json, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(store, a->group));
            MESH_ASSIGN_OR_RETURN(const StoredKey me, my_key(store, a->key));
            MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
            MESH_ASSIGN_OR_RETURN(const recrypt::RecryptionGroup current, s.client->get_group(g.group_id));
            if (*json) return print_line(dare::to_json_pretty(recrypt::to_json(current, false)));
            for (const auto& m : current.members) {
                std::string privs;
                for (const auto p : m.privileges) privs += (privs.empty() ? "" : ",") + std::string(recrypt::privilege_name(p));
                MESH_TRY(print_line(m.member_udf + "  " + (m.account_name.empty() ? "-" : m.account_name) + "  " + privs + "  " +
                                    std::string(recrypt::status_name(m.status))));
            }
            return mesh::ok();
        }));
    }
    {
        auto a = std::make_shared<CryptArgs>();
        auto* c = app.add_subcommand("encrypt", "Encrypt a file to a group (no account needed: the group's key is fetched and checked)");
        c->add_option("FILE", a->file, "file to encrypt")->required();
        c->add_option("--group", a->group, "a group you administer, or a GroupID with --service")->required();
        c->add_option("--service", a->service, "the service URL (default: the group's, or $RECRYPT_SERVICE)");
        c->add_option("-o,--output", a->output, "output file (default FILE.dare)");
        c->add_flag("--force", a->force, "replace the output file");
        c->footer("Example:\n  recrypt encrypt notes.txt --group friends");
        c->callback(ctx.bind("encrypt", [a, &ctx]() -> Result<void> {
            std::string group_id = a->group;
            std::string fallback;
            if (check_key_name(a->group)) {
                MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
                if (auto g = load_group(store, a->group)) {
                    group_id = g->group_id;
                    fallback = g->service;
                }
            }
            MESH_ASSIGN_OR_RETURN(const std::string url, service_url(a->service, fallback));
            MESH_ASSIGN_OR_RETURN(const std::string data, read_small_file(a->file, kMaxFile));
            recrypt::HttpOptions o;
            if (const char* ca = std::getenv("RECRYPT_CA_FILE"); ca != nullptr && *ca != '\0') o.ca_file = ca;
            auto t = recrypt::HttpTransport::create(url, o);
            if (!t) return fail(t.error().code, "--service " + url + ": " + t.error().message);
            const dare::SignaturePrivateKey anonymous = dare::SignaturePrivateKey::generate(mesh::system_random());  // GET needs no key
            recrypt::Client client(**t, anonymous, "");
            MESH_ASSIGN_OR_RETURN(const recrypt::KeyRecord rec, client.fetch_key(group_id));
            dare::EncodeOptions eo;
            eo.recipients = {rec.encryption_key};
            dare::ContentMeta meta = dare::ContentMeta::of_type("application/octet-stream");
            meta.filename = a->file.substr(a->file.rfind('/') + 1);
            eo.meta = meta;
            MESH_ASSIGN_OR_RETURN(const mesh::Bytes env, dare::encode_binary(eo, mesh::system_random(), mesh::as_bytes(data)));
            return write_output(a->output.empty() ? a->file + ".dare" : a->output, env, a->force);
        }));
    }
    {
        auto a = std::make_shared<CryptArgs>();
        auto* c = app.add_subcommand("decrypt", "Decrypt a file encrypted to a group you belong to, through its service");
        c->add_option("FILE", a->file, "file to decrypt")->required();
        c->add_option("--service", a->service, "the service URL (default $RECRYPT_SERVICE)");
        c->add_option("--key", a->key, "which of your keys (default: the only one)");
        c->add_option("-o,--output", a->output, "output file (default standard output)")->capture_default_str();
        c->add_flag("--force", a->force, "replace the output file");
        c->footer("Example:\n  recrypt decrypt notes.txt.dare -o notes.txt --service http://127.0.0.1:8437");
        c->callback(ctx.bind("decrypt", [a, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(KeyStore store, KeyStore::open(ctx.home));
            MESH_ASSIGN_OR_RETURN(const StoredKey me, my_key(store, a->key));
            MESH_ASSIGN_OR_RETURN(const std::string url, service_url(a->service));
            MESH_ASSIGN_OR_RETURN(const std::string data, read_small_file(a->file, kMaxFile));
            MESH_ASSIGN_OR_RETURN(Session s, connect(url, me));
            recrypt::MemberAgent agent(*s.client);
            agent.add_private_key(*me.encryption_private);
            auto decoded = dare::decode_binary(mesh::as_bytes(data), dare::OpenOptions{&agent, {}, false});
            if (!decoded) {
                if (decoded.error().code == Errc::malformed || decoded.error().code == Errc::unsupported) {
                    return fail(decoded.error().code, a->file + ": " + decoded.error().message);
                }
                return std::move(decoded).error();
            }
            const auto& p = decoded->payload.expose_secret();
            return write_output(a->output.empty() ? "-" : a->output, mesh::Bytes(p.begin(), p.end()), a->force);
        }));
    }
}

}  // namespace recrypt_cli
