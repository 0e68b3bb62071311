// recrypt group|member: recryption groups on a recryptd service (docs/tool.md).
//
// The administrator keeps the group's private keys in groups/NAME.json (group_support.hpp).
// "I" am the identity of identity.hpp: a profile's device, or a key of the store. Members are
// named by a key of the store, a profile file or a contact's UDF (principal_of).
// Threshold groups (DESIGN §4.1): the creator splits the group key k-of-n among the
// administrators (itself and each --admin), keeps no whole key, and writes each administrator
// a share sealed to them (group import). A member entry then needs k administrators: each
// writes a contribution (member contribute), one of them combines them (member add --quorum).
#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

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

constexpr std::string_view kShareType = "application/mmm-recrypt-group-share";

std::string b64(std::span<const std::uint8_t> b) { return mesh::base64url_encode(b); }

Result<recrypt::Privilege> privilege_of(const std::string& p) {
    if (p == "RECRYPT" || p == "recrypt") return recrypt::Privilege::recrypt;
    if (p == "ADMIN" || p == "admin") return recrypt::Privilege::admin;
    if (p == "SUPER" || p == "super") return recrypt::Privilege::super;
    return fail(Errc::invalid_argument, "privilege '" + p + "': RECRYPT, ADMIN or SUPER");
}

recrypt::MemberEntry member_entry(const Principal& who, std::vector<recrypt::Privilege> privileges, recrypt::UserDecryptionEntry entry) {
    recrypt::MemberEntry m;
    m.member_udf = who.udf;
    m.account_name = who.account;
    m.privileges = std::move(privileges);
    m.authentication_key = who.authentication;
    m.entries.push_back(std::move(entry));
    return m;
}

void remember(GroupRecord& g, const Principal& who) {
    for (auto& m : g.members) {
        if (m.udf == who.udf) {
            m.encryption = who.encryption;
            return;
        }
    }
    g.members.push_back(MemberKey{who.udf, who.encryption});
}

Json principal_json(const Principal& p) {
    return Json(JsonObject{{"UDF", Json(p.udf)},
                           {"AccountName", Json(p.account)},
                           {"AuthenticationKey", Json(b64(p.authentication.bytes()))},
                           {"EncryptionKey", Json(b64(p.encryption.bytes()))}});
}

Result<Principal> principal_from_json(const Json& j, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(j, where));
    MESH_ASSIGN_OR_RETURN(std::string udf, r.string("UDF", 128));
    MESH_ASSIGN_OR_RETURN(std::string account, r.string("AccountName", 256));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes auth, r.fixed_bytes("AuthenticationKey", 32));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes enc, r.fixed_bytes("EncryptionKey", dare::kScalarBytes));
    MESH_TRY(r.finish());
    auto a = dare::SignaturePublicKey::from_bytes(auth);
    auto e = dare::PublicKey::from_bytes(enc);
    if (!a || !e) return fail(Errc::malformed, where + ": invalid key");
    return Principal{std::move(udf), std::move(account), *a, *e};
}

Result<std::vector<unsigned>> parse_quorum(const std::string& text, const ShareRecord& share) {
    std::vector<unsigned> q;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(item.c_str(), &end, 10);
        if (item.empty() || end == nullptr || *end != '\0' || v == 0 || v > share.shares) {
            return fail(Errc::invalid_argument, "--quorum '" + text + "': administrator numbers 1 to " + std::to_string(share.shares) +
                                                    ", separated by commas");
        }
        if (std::find(q.begin(), q.end(), v) != q.end()) return fail(Errc::invalid_argument, "--quorum '" + text + "': a number twice");
        q.push_back(static_cast<unsigned>(v));
    }
    if (q.size() < share.threshold) {
        return fail(Errc::permission_denied, std::to_string(share.threshold) + " of " + std::to_string(share.shares) +
                                                 " administrators must take part; --quorum names " + std::to_string(q.size()));
    }
    std::sort(q.begin(), q.end());
    return q;
}

// A contribution file: one administrator's part of a member's entry (its r_i is for the service:
// the file is written 0600 and should travel privately).
Json contribution_json(const GroupRecord& g, const Principal& who, const std::vector<unsigned>& quorum,
                       const recrypt::EntryContribution& c) {
    JsonArray q;
    for (const unsigned i : quorum) q.emplace_back(static_cast<std::uint64_t>(i));
    return Json(JsonObject{{"MemberContribution", Json(JsonObject{{"GroupID", Json(g.group_id)},
                                                                  {"Index", Json(static_cast<std::uint64_t>(g.share->index))},
                                                                  {"Quorum", Json(std::move(q))},
                                                                  {"Member", principal_json(who)},
                                                                  {"Recryption", Json(b64(c.recryption.expose_secret()))},
                                                                  {"DecryptionKey", c.decryption_key}})}});
}

struct Contribution {
    unsigned index = 0;
    std::vector<unsigned> quorum;
    Principal member;
    recrypt::EntryContribution part;
};

Result<Contribution> read_contribution(const std::string& path, const GroupRecord& g) {
    MESH_ASSIGN_OR_RETURN(const Json j, read_json_file(path));
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, open_wrapped(j, "MemberContribution", path));
    MESH_ASSIGN_OR_RETURN(const std::string gid, r.string("GroupID", 128));
    if (gid != g.group_id) return fail(Errc::invalid_argument, path + ": a contribution for another group (" + gid + ")");
    MESH_ASSIGN_OR_RETURN(const std::uint64_t index, r.uint("Index", 255));
    MESH_ASSIGN_OR_RETURN(const JsonArray* q, r.optional_array("Quorum", 255));
    std::vector<unsigned> quorum;
    for (const auto& v : *q) {
        if (!v.is_integer()) return fail(Errc::malformed, path + ".Quorum: numbers expected");
        quorum.push_back(static_cast<unsigned>(v.as_uint64().value_or(0)));
    }
    MESH_ASSIGN_OR_RETURN(const Json* member, r.value("Member"));
    MESH_ASSIGN_OR_RETURN(Principal who, principal_from_json(*member, path + ".Member"));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes rb, r.fixed_bytes("Recryption", dare::kScalarBytes));
    auto rs = recrypt::Scalar::from_bytes(rb);
    mesh::secure_wipe(rb.data(), rb.size());
    if (!rs) return fail(Errc::malformed, path + ": Recryption is not a scalar");
    MESH_ASSIGN_OR_RETURN(const Json* dk, r.value("DecryptionKey"));
    MESH_TRY(r.finish());
    return Contribution{static_cast<unsigned>(index), std::move(quorum), std::move(who), recrypt::EntryContribution{std::move(rs).value(), *dk}};
}

// The group's record for the service (no members): its signature key and a key record for `key`.
Result<recrypt::RecryptionGroup> group_meta(const GroupRecord& g, const std::string& group_name, const recrypt::Point& key,
                                            mesh::RandomSource& rng) {
    recrypt::RecryptionGroup rg;
    rg.group_id = g.group_id;
    rg.group_name = group_name;
    rg.signature_key = g.signature->public_key();
    MESH_ASSIGN_OR_RETURN(rg.signed_key,
                          recrypt::sign_key_record(recrypt::KeyRecord{g.group_id, g.signature->public_key(), key, ""}, *g.signature, rng));
    return rg;
}

struct GroupArgs {
    std::string name;
    std::string service;
    std::string key;
    unsigned threshold = 0;
    std::vector<std::string> admins;
    std::string shares_dir = ".";
};

// The group as the service should first see it: me SUPER, the administrators ADMIN, each with an
// entry made with the whole key.
Result<void> create_group(Context& ctx, const GroupArgs& a) {
    MESH_TRY(check_key_name(a.name));
    if (load_group(ctx.home, a.name)) return fail(Errc::already_exists, "group '" + a.name + "' exists here");
    if (a.threshold == 0 && !a.admins.empty()) return fail(Errc::invalid_argument, "--admin needs --threshold K");
    const unsigned n = 1 + static_cast<unsigned>(a.admins.size());
    if (a.threshold != 0 && (a.threshold < 2 || a.threshold > n)) {
        return fail(Errc::invalid_argument, "--threshold " + std::to_string(a.threshold) + ": 2 to " + std::to_string(n) +
                                                " (you and " + std::to_string(a.admins.size()) + " --admin)");
    }
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, a.key));
    std::vector<Principal> admins;
    for (const auto& spec : a.admins) {
        auto p = principal_of(ctx.home, spec);
        if (!p) return fail(p.error().code, "--admin " + spec + ": " + p.error().message);
        admins.push_back(std::move(p).value());
    }
    MESH_ASSIGN_OR_RETURN(const std::string url, service_url(a.service));
    mesh::RandomSource& rng = mesh::system_random();
    recrypt::GroupKey key = recrypt::GroupKey::generate(rng);
    GroupRecord g{a.name, url, {}, key.public_key(), dare::SignaturePrivateKey::generate(rng), std::nullopt, std::nullopt, {}};
    g.group_id = g.signature->public_key().kid();
    MESH_ASSIGN_OR_RETURN(recrypt::RecryptionGroup rg, group_meta(g, a.name, key.public_key(), rng));
    MESH_ASSIGN_OR_RETURN(auto mine, recrypt::make_member_entry(key, me.who.encryption, rng));
    rg.members.push_back(member_entry(me.who, {recrypt::Privilege::super, recrypt::Privilege::recrypt}, std::move(mine)));
    remember(g, me.who);
    for (const auto& p : admins) {
        MESH_ASSIGN_OR_RETURN(auto e, recrypt::make_member_entry(key, p.encryption, rng));
        rg.members.push_back(member_entry(p, {recrypt::Privilege::admin, recrypt::Privilege::recrypt}, std::move(e)));
        remember(g, p);
    }
    std::vector<std::string> share_files;
    std::vector<mesh::Bytes> sealed;
    if (a.threshold != 0) {
        MESH_ASSIGN_OR_RETURN(auto shares, recrypt::split_group_key(key.secret(), a.threshold, n, rng));
        for (unsigned i = 1; i < n; ++i) {
            Json body(JsonObject{{"GroupShare", Json(JsonObject{{"Name", Json(a.name)},
                                                               {"Service", Json(url)},
                                                               {"GroupID", Json(g.group_id)},
                                                               {"EncryptionKey", Json(b64(g.encryption.bytes()))},
                                                               {"Index", Json(static_cast<std::uint64_t>(shares[i].index))},
                                                               {"Threshold", Json(static_cast<std::uint64_t>(a.threshold))},
                                                               {"Shares", Json(static_cast<std::uint64_t>(n))},
                                                               {"Value", Json(b64(shares[i].share.expose_secret()))}})}});
            std::string text = dare::to_json(body);
            dare::EncodeOptions eo;
            eo.recipients = {admins[i - 1].encryption};
            eo.meta = dare::ContentMeta::of_type(std::string(kShareType));
            auto env = dare::encode_binary(eo, rng, mesh::as_bytes(text));
            mesh::secure_wipe(text.data(), text.size());
            if (!env) return std::move(env).error();
            sealed.push_back(std::move(env).value());
            share_files.push_back(a.shares_dir + "/" + a.name + ".share-" + std::to_string(i + 1) + ".dare");
            if (::access(share_files.back().c_str(), F_OK) == 0) return fail(Errc::already_exists, share_files.back() + ": exists");
        }
        g.share.emplace(ShareRecord{shares[0].index, a.threshold, n, std::move(shares[0].share)});
    } else {
        g.key.emplace(std::move(key));
    }
    MESH_ASSIGN_OR_RETURN(Session s, connect(url, me));
    MESH_TRY(s.client->create_group(std::move(rg)));
    MESH_TRY(save_group(ctx.home, g));
    JsonArray files;
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        MESH_TRY(write_file_atomic(share_files[i], std::string_view(reinterpret_cast<const char*>(sealed[i].data()), sealed[i].size()), 0600));
        files.emplace_back(share_files[i]);
    }
    if (ctx.json) {
        return print_line(dare::to_json_pretty(Json(JsonObject{{"Name", Json(g.name)}, {"GroupID", Json(g.group_id)},
                                                               {"Service", Json(url)}, {"ShareFiles", Json(std::move(files))}})));
    }
    MESH_TRY(print_line(g.group_id));
    for (std::size_t i = 0; i < share_files.size(); ++i) {
        MESH_TRY(print_line("share " + std::to_string(i + 2) + " for " + admins[i].udf + ": " + share_files[i]));
    }
    return mesh::ok();
}

Json group_json(const GroupRecord& g) {
    JsonObject o{{"Name", Json(g.name)}, {"GroupID", Json(g.group_id)}, {"Service", Json(g.service)}, {"EncryptionKey", Json(g.encryption.kid())}};
    if (g.share) {
        o.emplace_back("Threshold", Json(static_cast<std::uint64_t>(g.share->threshold)));
        o.emplace_back("Administrators", Json(static_cast<std::uint64_t>(g.share->shares)));
        o.emplace_back("MyShare", Json(static_cast<std::uint64_t>(g.share->index)));
    }
    o.emplace_back("Members", Json(static_cast<std::uint64_t>(g.members.size())));
    return Json(std::move(o));
}

Result<void> rotate_group(Context& ctx, const std::string& name, const std::string& key_name) {
    MESH_ASSIGN_OR_RETURN(GroupRecord g, load_group(ctx.home, name));
    if (!g.key || !g.signature) {
        return fail(Errc::unsupported, "group '" + name + "' is administered by threshold: one administrator cannot make its new key "
                                                          "(create a new threshold group and re-add its members)");
    }
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, key_name));
    MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
    MESH_ASSIGN_OR_RETURN(const recrypt::RecryptionGroup current, s.client->get_group(g.group_id));
    // every member who is not revoked gets an entry for the new key
    std::vector<std::pair<recrypt::MemberEntry, dare::PublicKey>> keep;
    for (const auto& m : current.members) {
        if (m.status == recrypt::MemberStatus::revoked) continue;
        std::optional<dare::PublicKey> k;
        for (const auto& known : g.members) {
            if (known.udf == m.member_udf) k = known.encryption;
        }
        if (!k && m.member_udf == me.who.udf) k = me.who.encryption;
        if (!k) {
            auto p = principal_of(ctx.home, m.member_udf);
            if (!p) return fail(Errc::not_found, "member " + m.member_udf + ": their key is not known here (recrypt key import or contact add)");
            k = p->encryption;
        }
        keep.emplace_back(recrypt::clone(m), *k);
    }
    mesh::RandomSource& rng = mesh::system_random();
    recrypt::GroupKey next = recrypt::GroupKey::generate(rng);
    MESH_ASSIGN_OR_RETURN(recrypt::RecryptionGroup rg, group_meta(g, current.group_name, next.public_key(), rng));
    std::vector<recrypt::MemberEntry> updates;
    for (auto& [m, k] : keep) {
        m.entries.clear();
        MESH_ASSIGN_OR_RETURN(auto e, recrypt::make_member_entry(next, k, rng));
        m.entries.push_back(std::move(e));
        updates.push_back(std::move(m));
    }
    MESH_TRY(s.client->update_group(std::move(rg)));
    g.encryption = next.public_key();
    g.key.emplace(std::move(next));
    MESH_TRY(save_group(ctx.home, g));  // the new key is the group's from now on
    if (!updates.empty()) MESH_TRY(s.client->update_member(g.group_id, std::move(updates)));
    return print_line(ctx.json ? dare::to_json_pretty(group_json(g)) : g.encryption.kid());
}

// group import: a share sealed to me, checked against the group's published key.
Result<void> import_share(Context& ctx, const std::string& file, const std::string& key_name, const std::string& override_url) {
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, key_name));
    MESH_ASSIGN_OR_RETURN(const std::string data, read_small_file(file, std::size_t{1} << 20));
    Reader reader(me, override_url, me.personal_service);
    auto opened = dare::decode_binary(mesh::as_bytes(data), dare::OpenOptions{&reader, {}, false});
    if (!opened) return fail(opened.error().code, file + ": " + opened.error().message);
    const auto p = opened->payload.expose_secret();
    auto j = dare::parse_json(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
    if (!j) return fail(Errc::malformed, file + ": " + j.error().message);
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, open_wrapped(*j, "GroupShare", file));
    MESH_ASSIGN_OR_RETURN(std::string name, r.string("Name", 64));
    MESH_ASSIGN_OR_RETURN(std::string service, r.string("Service", 1024));
    MESH_ASSIGN_OR_RETURN(std::string group_id, r.string("GroupID", 128));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes pub, r.fixed_bytes("EncryptionKey", dare::kScalarBytes));
    MESH_ASSIGN_OR_RETURN(ShareRecord share, read_share_fields(r, file + ".GroupShare"));
    MESH_TRY(r.finish());
    auto enc = dare::PublicKey::from_bytes(pub);
    if (!enc) return fail(Errc::malformed, file + ": EncryptionKey is not a key");
    MESH_TRY(check_key_name(name));
    if (load_group(ctx.home, name)) return fail(Errc::already_exists, "group '" + name + "' exists here");
    GroupRecord g{std::move(name), std::move(service), std::move(group_id), *enc, std::nullopt, std::nullopt, std::nullopt, {}};
    g.share.emplace(std::move(share));
    // the service's signed key record must be the key the share is for
    if (!override_url.empty()) g.service = override_url;
    MESH_ASSIGN_OR_RETURN(auto t, transport_for(g.service));
    recrypt::Client anonymous(*t, me.authentication, "");
    MESH_ASSIGN_OR_RETURN(const recrypt::KeyRecord rec, anonymous.fetch_key(g.group_id));
    if (!(rec.encryption_key == g.encryption)) return fail(Errc::auth_failed, file + ": the share is not for the group's current key");
    MESH_TRY(save_group(ctx.home, g));
    return print_line(ctx.json ? dare::to_json_pretty(group_json(g)) : g.name + "  " + g.group_id + "  share " + std::to_string(g.share->index) + " of " +
                                                                        std::to_string(g.share->shares) + ", " + std::to_string(g.share->threshold) +
                                                                        " needed");
}

struct MemberArgs {
    std::string group;
    std::string member;
    std::vector<std::string> privileges;
    std::string key;
    std::string quorum;
    std::vector<std::string> contributions;
    std::string output;
};

Result<std::vector<recrypt::Privilege>> privileges_of(const std::vector<std::string>& names) {
    std::vector<recrypt::Privilege> out;
    for (const auto& p : names) {
        MESH_ASSIGN_OR_RETURN(const recrypt::Privilege v, privilege_of(p));
        out.push_back(v);
    }
    if (out.empty()) out.push_back(recrypt::Privilege::recrypt);
    return out;
}

// The entry for `who` in a threshold group: the quorum's contributions, mine made here.
Result<recrypt::UserDecryptionEntry> threshold_entry(const GroupRecord& g, const MemberArgs& a, std::optional<Principal>& who) {
    if (a.quorum.empty()) {
        return fail(Errc::permission_denied, "group '" + g.name + "' needs " + std::to_string(g.share->threshold) + " of " +
                                                 std::to_string(g.share->shares) + " administrators: give --quorum and their --contribution files");
    }
    MESH_ASSIGN_OR_RETURN(const std::vector<unsigned> quorum, parse_quorum(a.quorum, *g.share));
    std::vector<Contribution> parts;
    for (const auto& f : a.contributions) {
        MESH_ASSIGN_OR_RETURN(Contribution c, read_contribution(f, g));
        if (c.quorum != quorum) return fail(Errc::invalid_argument, f + ": made for another quorum");
        if (who && !(c.member.encryption == who->encryption)) return fail(Errc::invalid_argument, f + ": made for another member");
        if (!who) who.emplace(c.member);
        parts.push_back(std::move(c));
    }
    if (!who) return fail(Errc::invalid_argument, "which member? name them, or give contributions");
    const bool mine_given = std::any_of(parts.begin(), parts.end(), [&](const Contribution& c) { return c.index == g.share->index; });
    if (!mine_given && std::find(quorum.begin(), quorum.end(), g.share->index) != quorum.end()) {
        MESH_ASSIGN_OR_RETURN(auto part, recrypt::contribute(recrypt::AdminShare{g.share->index, g.share->value.clone()}, quorum, who->encryption,
                                                             mesh::system_random()));
        parts.push_back(Contribution{g.share->index, quorum, *who, std::move(part)});
    }
    std::vector<recrypt::EntryContribution> ordered;
    for (const unsigned i : quorum) {
        const auto it = std::find_if(parts.begin(), parts.end(), [&](const Contribution& c) { return c.index == i; });
        if (it == parts.end()) return fail(Errc::permission_denied, "no contribution from administrator " + std::to_string(i) + " of the quorum");
        ordered.push_back(std::move(it->part));
    }
    if (parts.size() != quorum.size()) return fail(Errc::invalid_argument, "contributions from administrators outside the quorum, or twice");
    return recrypt::combine_contributions(std::move(ordered), g.encryption, who->encryption);
}

Result<void> add_member(Context& ctx, const MemberArgs& a) {
    MESH_ASSIGN_OR_RETURN(GroupRecord g, load_group(ctx.home, a.group));
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, a.key));
    MESH_ASSIGN_OR_RETURN(auto privileges, privileges_of(a.privileges));
    std::optional<Principal> who;
    if (!a.member.empty()) {
        auto p = principal_of(ctx.home, a.member);
        if (!p) return fail(p.error().code, "member " + a.member + ": " + p.error().message);
        who.emplace(std::move(p).value());
    }
    std::optional<recrypt::UserDecryptionEntry> entry;
    if (g.key) {
        if (!a.quorum.empty() || !a.contributions.empty()) return fail(Errc::invalid_argument, "group '" + g.name + "' is not a threshold group");
        if (!who) return fail(Errc::invalid_argument, "which member?");
        MESH_ASSIGN_OR_RETURN(auto e, recrypt::make_member_entry(*g.key, who->encryption, mesh::system_random()));
        entry.emplace(std::move(e));
    } else {
        MESH_ASSIGN_OR_RETURN(auto e, threshold_entry(g, a, who));
        entry.emplace(std::move(e));
    }
    MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
    std::vector<recrypt::MemberEntry> one;
    one.push_back(member_entry(*who, std::move(privileges), std::move(*entry)));
    MESH_TRY(s.client->add_member(g.group_id, std::move(one)));
    remember(g, *who);
    MESH_TRY(save_group(ctx.home, g));
    if (ctx.json) {
        return print_line(dare::to_json_pretty(Json(JsonObject{{"GroupID", Json(g.group_id)}, {"MemberUDF", Json(who->udf)},
                                                               {"AccountName", Json(who->account)}, {"MemberKey", Json(who->encryption.kid())}})));
    }
    return print_line(who->udf);
}

Result<void> contribute(Context& ctx, const MemberArgs& a) {
    MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(ctx.home, a.group));
    if (!g.share) return fail(Errc::invalid_argument, "group '" + g.name + "' is not a threshold group: add members directly");
    MESH_ASSIGN_OR_RETURN(const std::vector<unsigned> quorum, parse_quorum(a.quorum, *g.share));
    if (std::find(quorum.begin(), quorum.end(), g.share->index) == quorum.end()) {
        return fail(Errc::invalid_argument, "--quorum " + a.quorum + " leaves out your share (" + std::to_string(g.share->index) + ")");
    }
    auto who = principal_of(ctx.home, a.member);
    if (!who) return fail(who.error().code, "member " + a.member + ": " + who.error().message);
    MESH_ASSIGN_OR_RETURN(auto part, recrypt::contribute(recrypt::AdminShare{g.share->index, g.share->value.clone()}, quorum, who->encryption,
                                                         mesh::system_random()));
    const std::string out = a.output.empty() ? g.name + "." + std::to_string(g.share->index) + ".contribution.json" : a.output;
    if (::access(out.c_str(), F_OK) == 0) return fail(Errc::already_exists, out + ": exists");
    std::string text = dare::to_json_pretty(contribution_json(g, *who, quorum, part)) + "\n";
    auto w = write_file_atomic(out, text, 0600);
    mesh::secure_wipe(text.data(), text.size());
    MESH_TRY(w);
    return print_line(out);
}

// UpdateMember with a new status for the member named by key, profile, UDF or account name.
Result<void> set_status(Context& ctx, const MemberArgs& a, recrypt::MemberStatus status) {
    MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(ctx.home, a.group));
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, a.key));
    MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
    std::string udf = a.member;
    if (auto p = principal_of(ctx.home, a.member)) udf = p->udf;
    auto changed = set_member_status(*s.client, g.group_id, udf, a.member, status);
    if (!changed) {
        if (changed.error().code == Errc::not_found) return fail(Errc::not_found, "no member '" + a.member + "' in group " + a.group);
        return std::move(changed).error();
    }
    const std::string name(recrypt::status_name(status));
    return print_line(ctx.json ? dare::to_json(Json(JsonObject{{"MemberUDF", Json(*changed)}, {"Status", Json(name)}})) : *changed + "  " + name);
}

Result<void> list_members(Context& ctx, const MemberArgs& a) {
    MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(ctx.home, a.group));
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, a.key));
    MESH_ASSIGN_OR_RETURN(Session s, connect(g.service, me));
    MESH_ASSIGN_OR_RETURN(const recrypt::RecryptionGroup current, s.client->get_group(g.group_id));
    if (ctx.json) return print_line(dare::to_json_pretty(recrypt::to_json(current, false)));
    for (const auto& m : current.members) {
        std::string privs;
        for (const auto p : m.privileges) privs += (privs.empty() ? "" : ",") + std::string(recrypt::privilege_name(p));
        MESH_TRY(print_line(m.member_udf + "  " + (m.account_name.empty() ? "-" : m.account_name) + "  " + privs + "  " +
                            std::string(recrypt::status_name(m.status))));
    }
    return mesh::ok();
}
}  // namespace

void add_group_commands(CLI::App& app, Context& ctx) {
    auto* group = app.add_subcommand("group", "Recryption groups you administer");
    group->require_subcommand(1);
    {
        auto a = std::make_shared<GroupArgs>();
        auto* c = group->add_subcommand("create", "Create a group on a service, with you as its SUPER member; prints the GroupID");
        c->add_option("NAME", a->name, "a local name for the group")->required();
        c->add_option("--service", a->service, "the service URL (default $RECRYPT_SERVICE)");
        c->add_option("--key", a->key, "which of your keys (default: your profile's device, or the only key)");
        c->add_option("--threshold", a->threshold, "K: K of the administrators (you and each --admin) must act together to add a member");
        c->add_option("--admin", a->admins, "another administrator (key, profile file or contact); repeatable");
        c->add_option("--shares-dir", a->shares_dir, "where the administrators' share files go")->capture_default_str();
        c->footer("Examples:\n  recrypt group create friends --service http://127.0.0.1:8437\n"
                  "  recrypt group create board --threshold 2 --admin bob.profile --admin carol.profile\n"
                  "    (writes board.share-2.dare and board.share-3.dare: hand each to its administrator)");
        c->callback(ctx.bind("group create", [a, &ctx] { return create_group(ctx, *a); }));
    }
    {
        auto name = std::make_shared<std::string>();
        auto* c = group->add_subcommand("show", "The group's id, service, current key and threshold");
        c->add_option("NAME", *name, "group")->required();
        c->footer("Example:\n  recrypt group show friends --json");
        c->callback(ctx.bind("group show", [name, &ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(ctx.home, *name));
            return print_line(dare::to_json_pretty(group_json(g)));
        }));
    }
    {
        auto* c = group->add_subcommand("list", "The groups you administer here");
        c->footer("Example:\n  recrypt group list");
        c->callback(ctx.bind("group list", [&ctx]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const auto names, group_names(ctx.home));
            JsonArray all;
            for (const auto& n : names) {
                MESH_ASSIGN_OR_RETURN(const GroupRecord g, load_group(ctx.home, n));
                if (ctx.json) {
                    all.push_back(group_json(g));
                } else {
                    MESH_TRY(print_line(g.name + "  " + g.group_id + "  " + g.service +
                                        (g.share ? "  threshold " + std::to_string(g.share->threshold) + " of " + std::to_string(g.share->shares) : "")));
                }
            }
            return ctx.json ? print_line(dare::to_json_pretty(Json(std::move(all)))) : mesh::ok();
        }));
    }
    {
        auto name = std::make_shared<std::string>();
        auto key = std::make_shared<std::string>();
        auto* c = group->add_subcommand("rotate", "Give the group a new key: new data needs it; revoked members get no entry for it");
        c->add_option("NAME", *name, "group")->required();
        c->add_option("--key", *key, "which of your keys signs (default: your profile's device, or the only key)");
        c->footer("Example:\n  recrypt member revoke friends mallet && recrypt group rotate friends");
        c->callback(ctx.bind("group rotate", [name, key, &ctx] { return rotate_group(ctx, *name, *key); }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto key = std::make_shared<std::string>();
        auto service = std::make_shared<std::string>();
        auto* c = group->add_subcommand("import", "Take up your share of a threshold group (a file from group create --threshold)");
        c->add_option("FILE", *file, "the share file sealed to you")->required();
        c->add_option("--key", *key, "which of your keys opens it (default: your profile's device, or the only key)");
        c->add_option("--service", *service, "use this service URL instead of the one in the share");
        c->footer("Example:\n  recrypt group import board.share-2.dare");
        c->callback(ctx.bind("group import", [file, key, service, &ctx] { return import_share(ctx, *file, *key, *service); }));
    }

    auto* member = app.add_subcommand("member", "Members of a group you administer");
    member->require_subcommand(1);
    {
        auto a = std::make_shared<MemberArgs>();
        auto* c = member->add_subcommand("add", "Add a member: a profile file, a contact's UDF, or a key of your store");
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("MEMBER", a->member, "profile file (recrypt profile export), contact UDF, or key name/file/fingerprint");
        c->add_option("--privilege", a->privileges, "RECRYPT (default), ADMIN or SUPER; repeatable");
        c->add_option("--key", a->key, "which of your keys signs (default: your profile's device, or the only key)");
        c->add_option("--quorum", a->quorum, "threshold groups: the administrators taking part, e.g. 1,2");
        c->add_option("--contribution", a->contributions, "threshold groups: another administrator's contribution file; repeatable");
        c->footer("Examples:\n  recrypt member add friends bob.profile\n  recrypt member add friends MB2G-...   (a contact)\n"
                  "  recrypt member add board dave.profile --quorum 1,2 --contribution board.2.contribution.json");
        c->callback(ctx.bind("member add", [a, &ctx] { return add_member(ctx, *a); }));
    }
    {
        auto a = std::make_shared<MemberArgs>();
        auto* c = member->add_subcommand("contribute", "Threshold groups: your part of a new member's entry, for the administrator who adds them");
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("MEMBER", a->member, "profile file, contact UDF, or key")->required();
        c->add_option("--quorum", a->quorum, "the administrators taking part, you among them, e.g. 1,2")->required();
        c->add_option("-o,--output", a->output, "the contribution file (default GROUP.INDEX.contribution.json; keep it private)");
        c->footer("Example:\n  recrypt member contribute board dave.profile --quorum 1,2");
        c->callback(ctx.bind("member contribute", [a, &ctx] { return contribute(ctx, *a); }));
    }
    for (const auto& [verb, status, help] :
         {std::tuple{"suspend", recrypt::MemberStatus::suspended, "Suspend a member (reinstate undoes it)"},
          std::tuple{"reinstate", recrypt::MemberStatus::active, "Make a suspended member active again"},
          std::tuple{"revoke", recrypt::MemberStatus::revoked, "Revoke a member, for good"}}) {
        auto a = std::make_shared<MemberArgs>();
        auto* c = member->add_subcommand(verb, help);
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("MEMBER", a->member, "their UDF, account name, profile file or key")->required();
        c->add_option("--key", a->key, "which of your keys signs (default: your profile's device, or the only key)");
        c->footer(std::string("Example:\n  recrypt member ") + verb + " friends mallet@example.com");
        const recrypt::MemberStatus st = status;
        c->callback(ctx.bind(std::string("member ") + verb, [a, st, &ctx] { return set_status(ctx, *a, st); }));
    }
    {
        auto a = std::make_shared<MemberArgs>();
        auto* c = member->add_subcommand("list", "The members: UDF, account, privileges, status");
        c->add_option("GROUP", a->group, "group")->required();
        c->add_option("--key", a->key, "which of your keys signs (default: your profile's device, or the only key)");
        c->footer("Example:\n  recrypt member list friends --json");
        c->callback(ctx.bind("member list", [a, &ctx] { return list_members(ctx, *a); }));
    }
}

}  // namespace recrypt_cli
