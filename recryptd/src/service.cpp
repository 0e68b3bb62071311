#include "service.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/hash.hpp>

namespace recryptd {
using mesh::Errc;
using recrypt::MemberEntry;
using recrypt::MemberStatus;
using recrypt::Privilege;
using recrypt::RecryptionGroup;

namespace {
constexpr std::size_t kMaxIdBytes = 128;

HttpReply reply(std::string_view tx, int code, std::string description, dare::JsonObject fields = {}) {
    HttpReply r;
    r.status = code;
    r.transaction = std::string(tx);
    r.description = description;
    r.body = dare::to_json(recrypt::response_to_json(tx, recrypt::Status{code, std::move(description)}, std::move(fields)));
    return r;
}

bool has(const MemberEntry& m, Privilege p) { return std::find(m.privileges.begin(), m.privileges.end(), p) != m.privileges.end(); }
bool administers(const MemberEntry& m) { return has(m, Privilege::admin) || has(m, Privilege::super); }
bool is_privileged(const MemberEntry& m) { return administers(m); }

std::string_view status_text(MemberStatus s) {
    return s == MemberStatus::revoked ? "membership revoked" : s == MemberStatus::suspended ? "membership suspended" : "active";
}

// Authentication failures: what was wrong, generic for the cryptographic checks.
HttpReply auth_failure(std::string_view tx, const mesh::Error& e) {
    switch (e.code) {
        case Errc::malformed: return reply(tx, 400, "request signature headers: " + e.message);
        case Errc::already_exists: return reply(tx, 409, "replayed request (nonce already used)");
        case Errc::permission_denied: return reply(tx, 401, e.message);  // the time checks: they say which
        case Errc::not_found: return reply(tx, 401, "unknown authentication key");
        case Errc::limit_exceeded: return reply(tx, 503, "too many requests in the replay window");
        default: return reply(tx, 401, "authentication failed");
    }
}

std::string etag_of(std::string_view body) {
    const auto d = mesh::sha512({mesh::as_bytes(body)});
    return "\"" + mesh::base64url_encode(std::span(d).first(16)) + "\"";
}

// What follows Partial in an entry's RecryptData answer (its DecryptionKey list and the group
// key), kept as text so RecryptData does not rebuild it.
std::string reply_tail(const recrypt::UserDecryptionEntry& e, const recrypt::Point& group_key) {
    std::string t = R"(","DecryptionKey":)";
    t += dare::to_json(dare::Json(dare::JsonArray(e.decryption_keys.begin(), e.decryption_keys.end())));
    t += R"(,"EncryptionKey":")";
    t += mesh::base64url_encode(group_key.bytes());
    t += R"("}})";
    return t;
}

// The RecryptData success body, written directly (the hot path).
std::string recrypt_body(const dare::SharedPoint& partial, const std::string& tail) {
    constexpr std::string_view head = R"({"RecryptDataResponse":{"Status":201,"StatusDescription":"Operation completed successfully","Partial":")";
    std::string b;
    b.reserve(head.size() + 44 + tail.size());
    b += head;
    b += mesh::base64url_encode(partial.expose_secret());
    b += tail;
    return b;
}

// A member's entries refused: 409 for an entry that exists, 400 otherwise.
HttpReply entry_refusal(std::string_view tx, const std::string& member_udf, const mesh::Error& e) {
    return reply(tx, e.code == Errc::already_exists ? 409 : 400, "member " + member_udf + ": " + e.message);
}

mesh::Result<void> check_id(std::string_view what, std::string_view id) {
    if (id.empty() || id.size() > kMaxIdBytes) {
        return mesh::fail(Errc::invalid_argument, std::string(what) + ": 1 to " + std::to_string(kMaxIdBytes) + " characters");
    }
    return mesh::ok();
}
}  // namespace

struct ServiceCore::Call {
    const HttpRequestInfo& request;
    std::string keyid;  // verified requester
    std::int64_t now;
};

ServiceCore::ServiceCore(const Config& config, Store& store, AuditLog& audit, Metrics& metrics, Clock clock)
    : config_(config),
      store_(store),
      audit_(audit),
      metrics_(metrics),
      clock_(clock ? std::move(clock)
                   : Clock([] {
                         return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
                     })),
      replay_(config.clock_skew),
      started_(clock_()) {}

std::size_t ServiceCore::groups() const {
    const std::shared_lock lock(m_);
    return groups_.size();
}

void ServiceCore::add_auth_key(const dare::SignaturePublicKey& key) {
    auto [it, inserted] = auth_keys_.try_emplace(key.kid(), key, 0);
    ++it->second.second;
}

void ServiceCore::remove_auth_key(const std::string& kid) {
    const auto it = auth_keys_.find(kid);
    if (it != auth_keys_.end() && --it->second.second == 0) auth_keys_.erase(it);
}

mesh::Result<void> ServiceCore::load() {
    const std::unique_lock lock(m_);
    Store::Visitor v;
    v.group = [&](RecryptionGroup g) -> mesh::Result<void> {
        GroupState gs;
        if (!g.signed_key) return mesh::fail(Errc::malformed, "store: group " + g.group_id + " without a key");
        MESH_ASSIGN_OR_RETURN(const recrypt::KeyRecord current, recrypt::verify_key_record(*g.signed_key, g.group_id));
        gs.keys.emplace(current.encryption_key.kid(), current.encryption_key);
        for (const auto& past : g.past_keys) {
            MESH_ASSIGN_OR_RETURN(const recrypt::KeyRecord rec, recrypt::verify_key_record(past, g.group_id));
            gs.keys.emplace(rec.encryption_key.kid(), rec.encryption_key);
        }
        const std::string id = g.group_id;
        gs.meta = std::move(g);
        groups_.insert_or_assign(id, std::move(gs));
        return mesh::ok();
    };
    v.member = [&](std::string gid, MemberEntry m) -> mesh::Result<void> {
        const auto it = groups_.find(gid);
        if (it == groups_.end()) return mesh::fail(Errc::malformed, "store: member of an unknown group " + gid);
        auto& members = it->second.members;
        if (const auto old = members.find(m.member_udf); old != members.end() && old->second.meta.authentication_key) {
            remove_auth_key(old->second.auth_kid);
        }
        if (m.authentication_key) add_auth_key(*m.authentication_key);
        auto& slot = members[m.member_udf];
        set_meta(slot, std::move(m));
        return mesh::ok();
    };
    v.entry = [&](std::string gid, std::string udf, recrypt::UserDecryptionEntry e) -> mesh::Result<void> {
        const auto it = groups_.find(gid);
        if (it == groups_.end()) return mesh::fail(Errc::malformed, "store: entry of an unknown group " + gid);
        const auto key = it->second.keys.find(e.encryption_key_udf);
        const auto member = it->second.members.find(udf);
        if (key == it->second.keys.end() || member == it->second.members.end()) {
            return mesh::fail(Errc::malformed, "store: entry of an unknown key or member in group " + gid);
        }
        member->second.pairs.emplace_back(e.encryption_key_udf, e.member_key_udf);
        const recrypt::Point group_key = key->second;
        reply_tails_[mesh::PairKey(e.encryption_key_udf, e.member_key_udf)] = reply_tail(e, group_key);
        return core_.add_entry(group_key, std::move(e), gid, udf);
    };
    return store_.load(v);
}

void ServiceCore::handle(const HttpRequestInfo& request, std::string_view body, Respond respond) {
    std::string_view path = request.target.substr(0, request.target.find('?'));
    if (path == kServicePath) {
        if (request.method != "POST") {
            HttpReply r = reply("Error", 405, "use POST for transactions");
            r.headers.emplace_back("Allow", "POST");
            return respond(std::move(r));
        }
        return post(request, body, respond);
    }
    if (path.starts_with(std::string(kServicePath) + "/")) {
        if (request.method != "GET" && request.method != "HEAD") {
            HttpReply r = reply("Error", 405, "resources are read with GET");
            r.headers.emplace_back("Allow", "GET, HEAD");
            return respond(std::move(r));
        }
        return respond(get(request, path));
    }
    respond(reply("Error", 404, "no such resource"));
}

void ServiceCore::post(const HttpRequestInfo& request, std::string_view body, Respond& respond) {
    const std::string_view ct = request.content_type.substr(0, request.content_type.find(';'));
    if (ct != "application/json") return respond(reply("Error", 415, "Content-Type must be application/json"));
    auto parsed = recrypt::parse_request(body, dare::JsonLimits{config_.max_body_bytes, config_.max_json_depth});
    if (!parsed) {
        // syntax, types, depth and per-field limits alike: 400 (an oversized body is 413 before this)
        return respond(reply("Error", 400, "bad request: " + parsed.error().message));
    }
    recrypt::Request& req = *parsed;
    const std::string_view tx = recrypt::transaction_name(req);
    if (std::holds_alternative<recrypt::HelloRequest>(req)) {
        return respond(reply(tx, 201, "Operation completed successfully",
                             {{"Version", dare::Json(dare::JsonObject{{"Major", dare::Json(1)},
                                                                      {"Minor", dare::Json(0)},
                                                                      {"Encodings", dare::Json(dare::JsonArray{dare::Json("application/json")})}})}}));
    }
    // Authentication. For CreateGroup, the creator's key may come with the request: the group's
    // administrators' authentication keys (the signature proves the requester holds one).
    const auto* create = std::get_if<recrypt::CreateGroupRequest>(&req);
    const recrypt::KeyLookup lookup = [&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        {
            const std::shared_lock lock(m_);
            if (const auto it = auth_keys_.find(std::string(kid)); it != auth_keys_.end()) return it->second.first;
        }
        if (create != nullptr) {
            for (const auto& m : create->group.members) {
                if (administers(m) && m.authentication_key && m.authentication_key->kid() == kid) return m.authentication_key;
            }
        }
        return std::nullopt;
    };
    if (request.signature.signature.empty() && request.signature.signature_input.empty()) {
        return respond(reply(tx, 401, "this transaction needs a signed request"));
    }
    const std::int64_t now = clock_();
    auto who = recrypt::verify_request(request.signature, "POST", request.target.substr(0, request.target.find('?')),
                                       mesh::as_bytes(body), lookup,
                                       recrypt::VerifyOptions{config_.clock_skew, now, &replay_, started_});
    if (!who) return respond(auth_failure(tx, who.error()));
    Call call{request, who->keyid, now};
    if (const auto* rd = std::get_if<recrypt::RecryptDataRequest>(&req)) return recrypt_data(call, *rd, respond);
    HttpReply r = std::visit(
        [&](auto& m) -> HttpReply {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, recrypt::CreateGroupRequest>) return create_group(call, m);
            else if constexpr (std::is_same_v<T, recrypt::UpdateGroupRequest>) return update_group(call, m);
            else if constexpr (std::is_same_v<T, recrypt::GetGroupRequest>) return get_group(call, m.group_id);
            else if constexpr (std::is_same_v<T, recrypt::AddMemberRequest>) return add_member(call, m);
            else if constexpr (std::is_same_v<T, recrypt::UpdateMemberRequest>) return update_member(call, m);
            else if constexpr (std::is_same_v<T, recrypt::GetKeyRequest>) return get_key(call, m.group_id);
            else return reply(tx, 500, "internal error");  // Hello and RecryptData are answered above
        },
        req);
    r.requester = call.keyid;
    respond(std::move(r));
}

// GET .../groups/{id}/key: public (the record is signed by the group's own key), cacheable.
// GET .../groups/{id}: GetGroup, signed like a POST (with the digest of an empty body).
HttpReply ServiceCore::get(const HttpRequestInfo& request, std::string_view path) {
    std::string_view rest = path.substr(kServicePath.size() + 1);
    if (!rest.starts_with("groups/")) return reply("Error", 404, "no such resource");
    rest.remove_prefix(7);
    const bool key = rest.ends_with("/key");
    if (key) rest.remove_suffix(4);
    if (rest.empty() || rest.find('/') != std::string_view::npos) return reply("Error", 404, "no such resource");
    const std::string group_id(rest);
    HttpReply r;
    if (key) {
        dare::Json signed_key;
        {
            const std::shared_lock lock(m_);
            const auto it = groups_.find(group_id);
            if (it == groups_.end()) return reply("GetKey", 404, "no such group");
            signed_key = *it->second.meta.signed_key;
        }
        r = reply("GetKey", 201, "Operation completed successfully", {{"SignedKey", std::move(signed_key)}});
        r.headers.emplace_back("Cache-Control", "public, max-age=60");
        r.transaction = "GET key";
    } else {
        const std::int64_t now = clock_();
        const recrypt::KeyLookup lookup = [&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
            const std::shared_lock lock(m_);
            if (const auto it = auth_keys_.find(std::string(kid)); it != auth_keys_.end()) return it->second.first;
            return std::nullopt;
        };
        if (request.signature.signature.empty() && request.signature.signature_input.empty()) {
            return reply("GetGroup", 401, "this resource needs a signed request");
        }
        auto who = recrypt::verify_request(request.signature, "GET", path, {}, lookup,
                                           recrypt::VerifyOptions{config_.clock_skew, now, &replay_, started_});
        if (!who) return auth_failure("GetGroup", who.error());
        Call call{request, who->keyid, now};
        r = get_group(call, group_id);
        r.requester = who->keyid;
        r.headers.emplace_back("Cache-Control", "private, no-cache");
        r.transaction = "GET group";
    }
    if (r.status == 201) {
        r.status = 200;
        const std::string etag = etag_of(r.body);
        r.headers.emplace_back("ETag", etag);
        if (request.if_none_match == etag) {
            r.status = 304;
            r.body.clear();
        }
    }
    return r;
}

const ServiceCore::MemberState* ServiceCore::caller_in(const GroupState& group, std::string_view keyid) const {
    for (const auto& [udf, m] : group.members) {
        if (m.meta.authentication_key && m.auth_kid == keyid) return &m;
    }
    return nullptr;
}

ServiceCore::Administered ServiceCore::administered(std::string_view group_id, std::string_view keyid) const {
    const auto it = groups_.find(std::string(group_id));
    if (it == groups_.end()) return {nullptr, nullptr, 404, "no such group"};
    const MemberState* caller = caller_in(it->second, keyid);
    if (caller == nullptr || !administers(caller->meta)) return {&it->second, nullptr, 403, "not an administrator of the group"};
    if (caller->meta.status != MemberStatus::active) return {&it->second, nullptr, 403, std::string(status_text(caller->meta.status))};
    return {&it->second, caller, 0, {}};
}

mesh::Result<void> ServiceCore::check_entries(const GroupState& g, const MemberEntry& m) const {
    for (const auto& e : m.entries) {
        if (!g.keys.contains(e.encryption_key_udf)) {
            return mesh::fail(Errc::invalid_argument, "entry for " + e.encryption_key_udf.substr(0, 64) + ": not a key of this group");
        }
        if (core_.find(e.encryption_key_udf, e.member_key_udf) != nullptr) {
            return mesh::fail(Errc::already_exists, "an entry for member key " + e.member_key_udf.substr(0, 64) + " exists");
        }
        if (e.decryption_keys.empty()) return mesh::fail(Errc::invalid_argument, "entry without DecryptionKey");
    }
    return mesh::ok();
}

void ServiceCore::set_meta(MemberState& slot, MemberEntry m) {
    slot.auth_kid = m.authentication_key ? m.authentication_key->kid() : std::string();
    slot.meta = std::move(m);
}

void ServiceCore::apply_member(GroupState& g, const std::string& group_id, MemberEntry m) {
    auto& slot = g.members[m.member_udf];
    const std::string udf = m.member_udf;
    for (auto& e : m.entries) {
        slot.pairs.emplace_back(e.encryption_key_udf, e.member_key_udf);
        const recrypt::Point key = g.keys.at(e.encryption_key_udf);  // before e is moved from
        reply_tails_[mesh::PairKey(e.encryption_key_udf, e.member_key_udf)] = reply_tail(e, key);
        (void)core_.add_entry(key, std::move(e), group_id, udf);     // checked: no duplicate
    }
    m.entries.clear();
    if (slot.meta.authentication_key) remove_auth_key(slot.auth_kid);
    if (m.authentication_key) add_auth_key(*m.authentication_key);
    for (const auto& [gk, mk] : slot.pairs) (void)core_.set_status(gk, mk, m.status);
    set_meta(slot, std::move(m));
}

mesh::Result<void> ServiceCore::save(const Batch& batch) {
    if (reserve_ != nullptr) MESH_TRY(reserve_->check());
    if (auto saved = store_.save(batch); !saved) return fail(Errc::io, "the store cannot be written");
    return mesh::ok();
}

HttpReply ServiceCore::finish_admin(Call& call, HttpReply r, std::string group_id, std::string key) {
    const AuditRecord rec{call.now, call.request.request_id, call.keyid, r.transaction, std::move(group_id), std::move(key),
                          r.status, r.description};
    if (auto a = audit_.record(rec); !a) return reply(r.transaction, 503, "the audit log cannot be written");
    metrics_.store_appends(store_.appends());
    return r;
}

HttpReply ServiceCore::create_group(Call& call, recrypt::CreateGroupRequest& r) {
    constexpr std::string_view tx = "CreateGroup";
    RecryptionGroup& g = r.group;
    if (config_.group_creation == CreationPolicy::closed) return reply(tx, 403, "this service does not create groups");
    if (config_.group_creation == CreationPolicy::allowlist &&
        std::find(config_.creators.begin(), config_.creators.end(), call.keyid) == config_.creators.end()) {
        return reply(tx, 403, "not allowed to create groups here");
    }
    if (auto ok = check_id("GroupID", g.group_id); !ok) return reply(tx, 400, ok.error().message);
    if (!g.signed_key) return reply(tx, 400, "SignedKey missing");
    auto rec = recrypt::verify_key_record(*g.signed_key, g.group_id);
    if (!rec) return reply(tx, 400, "SignedKey does not verify for this GroupID");
    if (!g.past_keys.empty()) return reply(tx, 400, "a new group has no PastKeys");
    const MemberEntry* creator = nullptr;
    for (const auto& m : g.members) {
        if (administers(m) && m.authentication_key && m.authentication_key->kid() == call.keyid) creator = &m;
    }
    if (creator == nullptr || creator->status != MemberStatus::active) {
        return reply(tx, 403, "the creator must be an active ADMIN or SUPER member of the group");
    }
    const std::lock_guard admin(admin_m_);
    GroupState gs;
    gs.keys.emplace(rec->encryption_key.kid(), rec->encryption_key);
    {
        const std::shared_lock lock(m_);
        if (groups_.contains(g.group_id)) return reply(tx, 409, "the group exists");
        std::set<std::string> seen;
        for (const auto& m : g.members) {
            if (auto ok = check_id("MemberUDF", m.member_udf); !ok) return reply(tx, 400, ok.error().message);
            if (!seen.insert(m.member_udf).second) return reply(tx, 400, "member " + m.member_udf + " listed twice");
            if (!m.authentication_key) return reply(tx, 400, "member " + m.member_udf + ": AuthenticationKey missing");
            if (auto ok = check_entries(gs, m); !ok) return entry_refusal(tx, m.member_udf, ok.error());
        }
    }
    RecryptionGroup meta = recrypt::clone(g);
    meta.members.clear();
    Batch batch;
    batch.groups.push_back(&meta);
    batch.add_members(g.group_id, g.members);
    if (auto saved = save(batch); !saved) return reply(tx, 503, saved.error().message);
    const std::string id = g.group_id;
    {
        const std::unique_lock lock(m_);
        gs.meta = std::move(meta);
        auto& placed = groups_.emplace(id, std::move(gs)).first->second;
        for (auto& m : g.members) apply_member(placed, id, std::move(m));
    }
    return finish_admin(call, reply(tx, 201, "group created"), id, "");
}

HttpReply ServiceCore::update_group(Call& call, recrypt::UpdateGroupRequest& r) {
    constexpr std::string_view tx = "UpdateGroup";
    const std::lock_guard admin(admin_m_);
    RecryptionGroup meta;
    std::optional<recrypt::KeyRecord> rec;
    {
        const std::shared_lock lock(m_);
        const Administered a = administered(r.group.group_id, call.keyid);
        if (a.caller == nullptr) return reply(tx, a.status, a.refused);
        const GroupState& group = *a.group;
        meta = recrypt::clone(group.meta);
        if (!r.group.signed_key) return reply(tx, 400, "SignedKey missing");
        auto verified = recrypt::verify_key_record(*r.group.signed_key, r.group.group_id);
        if (!verified) return reply(tx, 400, "SignedKey does not verify for this GroupID");
        rec = std::move(verified).value();
        if (group.keys.contains(rec->encryption_key.kid()) &&
            dare::to_json(*r.group.signed_key) != dare::to_json(*meta.signed_key)) {
            return reply(tx, 409, "that key was used before");
        }
    }
    if (!r.group.group_name.empty()) meta.group_name = r.group.group_name;
    if (dare::to_json(*r.group.signed_key) != dare::to_json(*meta.signed_key)) {
        meta.past_keys.push_back(*meta.signed_key);  // the old key stays usable for old data
        meta.signed_key = *r.group.signed_key;
    }
    Batch batch;
    batch.groups.push_back(&meta);
    if (auto saved = save(batch); !saved) return reply(tx, 503, saved.error().message);
    const std::string id = meta.group_id;
    {
        const std::unique_lock lock(m_);
        auto& gs = groups_.at(id);
        gs.keys.emplace(rec->encryption_key.kid(), rec->encryption_key);
        gs.meta = std::move(meta);
    }
    return finish_admin(call, reply(tx, 202, "group updated"), id, rec->encryption_key.kid());
}

HttpReply ServiceCore::get_group(Call& call, std::string_view group_id) {
    constexpr std::string_view tx = "GetGroup";
    const std::shared_lock lock(m_);
    const Administered a = administered(group_id, call.keyid);
    if (a.caller == nullptr) return reply(tx, a.status, a.refused);
    const GroupState& group = *a.group;
    RecryptionGroup g = recrypt::clone(group.meta);
    for (const auto& [udf, m] : group.members) {
        MemberEntry copy = recrypt::clone(m.meta);
        g.members.push_back(std::move(copy));
    }
    return reply(tx, 201, "Operation completed successfully", {{"RecryptionGroup", recrypt::to_json(g, false)}});
}

HttpReply ServiceCore::add_member(Call& call, recrypt::AddMemberRequest& r) {
    constexpr std::string_view tx = "AddMember";
    const std::lock_guard admin(admin_m_);
    {
        const std::shared_lock lock(m_);
        const Administered a = administered(r.group_id, call.keyid);
        if (a.caller == nullptr) return reply(tx, a.status, a.refused);
        const GroupState& group = *a.group;
        const MemberState* caller = a.caller;
        std::set<std::string> seen;
        for (const auto& m : r.members) {
            if (auto ok = check_id("MemberUDF", m.member_udf); !ok) return reply(tx, 400, ok.error().message);
            if (!seen.insert(m.member_udf).second) return reply(tx, 400, "member " + m.member_udf + " listed twice");
            if (group.members.contains(m.member_udf)) return reply(tx, 409, "member " + m.member_udf + " exists (use UpdateMember)");
            if (is_privileged(m) && !has(caller->meta, Privilege::super)) {
                return reply(tx, 403, "only a SUPER member may add an ADMIN or SUPER member");
            }
            if (!m.authentication_key) return reply(tx, 400, "member " + m.member_udf + ": AuthenticationKey missing");
            if (auto ok = check_entries(group, m); !ok) return entry_refusal(tx, m.member_udf, ok.error());
        }
    }
    Batch batch;
    batch.add_members(r.group_id, r.members);
    if (auto saved = save(batch); !saved) return reply(tx, 503, saved.error().message);
    std::string who;
    {
        const std::unique_lock lock(m_);
        auto& gs = groups_.at(r.group_id);
        for (auto& m : r.members) {
            who += (who.empty() ? "" : " ") + m.member_udf;
            apply_member(gs, r.group_id, std::move(m));
        }
    }
    return finish_admin(call, reply(tx, 201, "members added"), r.group_id, who);
}

HttpReply ServiceCore::update_member(Call& call, recrypt::UpdateMemberRequest& r) {
    constexpr std::string_view tx = "UpdateMember";
    const std::lock_guard admin(admin_m_);
    std::vector<MemberEntry> updated;  // full new metadata, with the new entries
    {
        const std::shared_lock lock(m_);
        const Administered a = administered(r.group_id, call.keyid);
        if (a.caller == nullptr) return reply(tx, a.status, a.refused);
        const GroupState& group = *a.group;
        const MemberState* caller = a.caller;
        std::set<std::string> seen;
        for (auto& m : r.members) {
            if (!seen.insert(m.member_udf).second) return reply(tx, 400, "member " + m.member_udf + " listed twice");
            const auto cur = group.members.find(m.member_udf);
            if (cur == group.members.end()) return reply(tx, 404, "no member " + m.member_udf.substr(0, 64));
            const MemberEntry& old = cur->second.meta;
            if (old.status == MemberStatus::revoked) return reply(tx, 409, "member " + m.member_udf + " is revoked, and stays revoked");
            if ((is_privileged(old) || is_privileged(m)) && !has(caller->meta, Privilege::super)) {
                return reply(tx, 403, "only a SUPER member may change an ADMIN or SUPER member");
            }
            if (auto ok = check_entries(group, m); !ok) return entry_refusal(tx, m.member_udf, ok.error());
            MemberEntry next = recrypt::clone(m);
            if (next.account_name.empty()) next.account_name = old.account_name;
            if (!next.authentication_key) next.authentication_key = old.authentication_key;
            updated.push_back(std::move(next));
        }
    }
    Batch batch;
    batch.add_members(r.group_id, updated);
    if (auto saved = save(batch); !saved) return reply(tx, 503, saved.error().message);
    std::string who;
    {
        const std::unique_lock lock(m_);
        auto& gs = groups_.at(r.group_id);
        for (auto& m : updated) {
            who += (who.empty() ? "" : " ") + m.member_udf + "=" + std::string(recrypt::status_name(m.status));
            apply_member(gs, r.group_id, std::move(m));
        }
    }
    return finish_admin(call, reply(tx, 202, "members updated"), r.group_id, who);
}

HttpReply ServiceCore::get_key(Call& call, std::string_view group_id) {
    (void)call;  // any authenticated requester may ask; the record verifies itself
    const std::shared_lock lock(m_);
    const auto it = groups_.find(std::string(group_id));
    if (it == groups_.end()) return reply("GetKey", 404, "no such group");
    return reply("GetKey", 201, "Operation completed successfully", {{"SignedKey", *it->second.meta.signed_key}});
}

// Holding m_: whether `requester_udf`, signing with `keyid`, may recrypt for `member`: the member
// itself, or an active RECRYPT member of the group `member` is (a personal group of devices,
// a mailing list: DESIGN §4.1 nesting, one level on this service). nullopt: allowed; "": the
// requester is no one here (404); else why not (403).
std::optional<std::string> ServiceCore::may_recrypt(const MemberState& member, std::string_view requester_udf,
                                                    std::string_view keyid) const {
    const auto usable = [](const MemberEntry& m) -> std::optional<std::string> {
        if (m.status != MemberStatus::active) return std::string(status_text(m.status));
        if (!has(m, Privilege::recrypt)) return std::string("the member lacks the RECRYPT privilege");
        return std::nullopt;
    };
    if (member.meta.member_udf == requester_udf) {
        if (!member.meta.authentication_key || member.auth_kid != keyid) {
            return std::string("the request is not signed by this member's key");
        }
        return usable(member.meta);
    }
    const auto inner = groups_.find(member.meta.member_udf);  // the member is a group here
    if (inner == groups_.end()) return std::string();
    const auto via = inner->second.members.find(std::string(requester_udf));
    if (via == inner->second.members.end()) return std::string();
    if (!via->second.meta.authentication_key || via->second.auth_kid != keyid) {
        return std::string("the request is not signed by this member's key");
    }
    if (auto no = usable(member.meta)) return "group member " + member.meta.member_udf + ": " + *no;
    return usable(via->second.meta);
}

void ServiceCore::recrypt_data(Call& call, const recrypt::RecryptDataRequest& r, Respond& respond) {
    constexpr std::string_view tx = "RecryptData";
    HttpReply out;
    std::string group_id;
    {
        const std::shared_lock lock(m_);
        const recrypt::CombinedToGroup* index = core_.find(r.group_key_id, r.member_key_udf);  // CombinedToGroup: O(1)
        std::optional<std::string> refused;  // 403 with this text
        const auto space = reserve_ != nullptr ? reserve_->check() : mesh::Result<void>(mesh::ok());
        if (space && index) {
            group_id = index->group_id;
            const auto& group = groups_.at(index->group_id);
            refused = may_recrypt(group.members.at(index->member_udf), r.member_udf, call.keyid);
        }
        if (!space) {
            out = reply(tx, 503, space.error().message);  // the audit record could not be kept
        } else if (!index || (refused && refused->empty())) {
            out = reply(tx, 404, "no entry for this member and key");
        } else if (refused) {
            out = reply(tx, 403, *refused);
        } else {
            bool allowed = true;
            const MemberState& m = groups_.at(group_id).members.at(index->member_udf);
            if (m.meta.quota && m.meta.quota->limit > 0 && m.meta.quota->period_seconds > 0) {
                const std::lock_guard q(quota_m_);
                QuotaUse& use = quota_[group_id + "\n" + r.member_udf];
                if (call.now - use.window_start >= static_cast<std::int64_t>(m.meta.quota->period_seconds)) use = QuotaUse{call.now, 0};
                allowed = use.used < m.meta.quota->limit;
                if (allowed) ++use.used;
                if (!allowed) {
                    out = reply(tx, 429, "quota of " + std::to_string(m.meta.quota->limit) + " recryptions per " +
                                             std::to_string(m.meta.quota->period_seconds) + " s used");
                }
            }
            if (allowed) {
                auto rep = core_.partial(r.group_key_id, r.member_key_udf, r.ephemeral_key);
                if (!rep) {
                    const Errc c = rep.error().code;
                    // a bad EphemeralKey says so; other crypto failures stay generic
                    out = reply(tx, c == Errc::not_found ? 404 : c == Errc::permission_denied ? 403 : 400,
                                c == Errc::permission_denied || c == Errc::malformed ? rep.error().message : "recryption failed");
                } else {
                    out.status = 201;
                    out.transaction = std::string(tx);
                    out.description = "Operation completed successfully";
                    out.body = recrypt_body(rep->partial, reply_tails_.find(mesh::PairKeyView(r.group_key_id, r.member_key_udf))->second);
                    metrics_.recryption();
                }
            }
        }
    }
    const AuditRecord rec{call.now, call.request.request_id, call.keyid, std::string(tx), group_id,
                          r.group_key_id + "/" + r.member_key_udf, out.status, out.description};
    out.requester = call.keyid;
    // The answer goes out once its audit record is durable (the syncer thread calls back).
    audit_.record_async(rec, [respond = std::move(respond), out = std::move(out)](bool durable) mutable {
        if (!durable) {
            HttpReply failed = reply("RecryptData", 503, "the audit log cannot be written");
            failed.requester = out.requester;
            return respond(std::move(failed));
        }
        respond(std::move(out));
    });
}

}  // namespace recryptd
