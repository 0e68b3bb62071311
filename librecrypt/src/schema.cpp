#include <recrypt/schema.hpp>

#include <udf/udf.hpp>

#include <array>
#include <ctime>

namespace recrypt {
using dare::Json;
using dare::JsonArray;
using dare::JsonObject;
using dare::ObjectReader;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr std::array<std::string_view, 3> kPrivileges = {"RECRYPT", "ADMIN", "SUPER"};
constexpr std::array<std::string_view, 3> kStatuses = {"ACTIVE", "SUSPENDED", "REVOKED"};
constexpr std::size_t kMaxUdf = 128;
constexpr std::size_t kMaxName = 256;

Json b64(std::span<const std::uint8_t> b) { return Json(mesh::base64url_encode(b)); }

std::string at(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

Result<std::string> udf_field(ObjectReader& r, std::string_view name) {
    MESH_ASSIGN_OR_RETURN(std::string v, r.string(name, kMaxUdf));
    if (!udf::canonical(v)) return fail(Errc::malformed, r.member_path(name) + ": not a UDF");
    return v;
}

Result<Point> point_field(ObjectReader& r, std::string_view name) {
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes b, r.fixed_bytes(name, dare::kPointBytes));
    auto p = Point::from_bytes(b);
    if (!p) return fail(Errc::malformed, r.member_path(name) + ": " + p.error().message);
    return p;
}

Result<std::vector<Json>> envelope_list(ObjectReader& r, std::string_view name, std::size_t max) {
    MESH_ASSIGN_OR_RETURN(const JsonArray* a, r.optional_array(name, max));
    std::vector<Json> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        if (!(*a)[i].is_array() && !(*a)[i].is_object()) return dare::type_error(at(r.member_path(name), i), "DARE envelope", (*a)[i]);
        out.push_back((*a)[i]);
    }
    return out;
}

Json envelopes(const std::vector<Json>& v) { return Json(JsonArray(v.begin(), v.end())); }

Json entry_to_json(const UserDecryptionEntry& e, bool with_secrets) {
    JsonObject o{{"EncryptionKeyUDF", Json(e.encryption_key_udf)}, {"MemberKeyUDF", Json(e.member_key_udf)}};
    if (with_secrets) o.emplace_back("RecryptionKey", b64(e.recryption_key.expose_secret()));
    o.emplace_back("DecryptionKey", envelopes(e.decryption_keys));
    return Json(std::move(o));
}

Result<UserDecryptionEntry> entry_from_json(const Json& j, const std::string& path) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, path));
    MESH_ASSIGN_OR_RETURN(std::string ek, udf_field(r, "EncryptionKeyUDF"));
    MESH_ASSIGN_OR_RETURN(std::string mk, udf_field(r, "MemberKeyUDF"));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes rk, r.fixed_bytes("RecryptionKey", dare::kScalarBytes));
    auto scalar = Scalar::from_bytes(rk);
    if (!scalar) return fail(Errc::malformed, r.member_path("RecryptionKey") + ": not a valid scalar");
    MESH_ASSIGN_OR_RETURN(std::vector<Json> dks, envelope_list(r, "DecryptionKey", 16));
    if (dks.empty()) return fail(Errc::malformed, r.member_path("DecryptionKey") + ": empty");
    MESH_TRY(r.finish());
    return UserDecryptionEntry{std::move(ek), std::move(mk), std::move(scalar).value(), std::move(dks)};
}

Result<Status> status_from(ObjectReader& r) {
    MESH_ASSIGN_OR_RETURN(const std::uint64_t code, r.uint("Status", 999));
    MESH_ASSIGN_OR_RETURN(auto desc, r.optional_string("StatusDescription", 1024));
    return Status{static_cast<int>(code), desc.value_or("")};
}

std::string now_rfc3339() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}
}  // namespace

std::string_view privilege_name(Privilege p) noexcept { return kPrivileges[static_cast<std::size_t>(p)]; }
std::string_view status_name(MemberStatus s) noexcept { return kStatuses[static_cast<std::size_t>(s)]; }

// ---- members and groups ----------------------------------------------------------------------

UserDecryptionEntry clone(const UserDecryptionEntry& e) {
    return UserDecryptionEntry{e.encryption_key_udf, e.member_key_udf, e.recryption_key.clone(), e.decryption_keys};
}

MemberEntry clone(const MemberEntry& m) {
    MemberEntry out{m.member_udf, m.account_name, m.privileges, m.status, m.quota, m.authentication_key, {}};
    for (const auto& e : m.entries) out.entries.push_back(clone(e));
    return out;
}

RecryptionGroup clone(const RecryptionGroup& g) {
    RecryptionGroup out{g.group_id, g.group_name, g.signature_key, g.signed_key, g.past_keys, {}};
    for (const auto& m : g.members) out.members.push_back(clone(m));
    return out;
}

Json to_json(const MemberEntry& m, bool with_secrets) {
    JsonObject o{{"MemberUDF", Json(m.member_udf)}};
    if (!m.account_name.empty()) o.emplace_back("AccountName", Json(m.account_name));
    JsonArray privs;
    for (const auto p : m.privileges) privs.emplace_back(privilege_name(p));
    o.emplace_back("Privileges", Json(std::move(privs)));
    o.emplace_back("Status", Json(status_name(m.status)));
    if (m.quota) {
        o.emplace_back("Quota", Json(JsonObject{{"Limit", Json(m.quota->limit)}, {"Period", Json(m.quota->period_seconds)}}));
    }
    if (m.authentication_key) o.emplace_back("AuthenticationKey", b64(m.authentication_key->bytes()));
    if (with_secrets && !m.entries.empty()) {
        JsonArray es;
        for (const auto& e : m.entries) es.push_back(entry_to_json(e, true));
        o.emplace_back("Entries", Json(std::move(es)));
    }
    return Json(std::move(o));
}

Result<MemberEntry> member_from_json(const Json& j, const std::string& path) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, path));
    MemberEntry m;
    MESH_ASSIGN_OR_RETURN(m.member_udf, udf_field(r, "MemberUDF"));
    MESH_ASSIGN_OR_RETURN(auto name, r.optional_string("AccountName", kMaxName));
    m.account_name = name.value_or("");
    MESH_ASSIGN_OR_RETURN(const JsonArray* privs, r.optional_array("Privileges", 3));
    for (std::size_t i = 0; i < privs->size(); ++i) {
        const auto& v = (*privs)[i];
        const auto it = v.is_string() ? std::find(kPrivileges.begin(), kPrivileges.end(), v.as_string()) : kPrivileges.end();
        if (it == kPrivileges.end()) return fail(Errc::malformed, at(r.member_path("Privileges"), i) + ": RECRYPT, ADMIN or SUPER");
        const auto p = static_cast<Privilege>(it - kPrivileges.begin());
        if (std::find(m.privileges.begin(), m.privileges.end(), p) != m.privileges.end()) {
            return fail(Errc::malformed, at(r.member_path("Privileges"), i) + ": repeated");
        }
        m.privileges.push_back(p);
    }
    MESH_ASSIGN_OR_RETURN(auto status, r.optional_string("Status", 16));
    if (status) {
        const auto it = std::find(kStatuses.begin(), kStatuses.end(), *status);
        if (it == kStatuses.end()) return fail(Errc::malformed, r.member_path("Status") + ": ACTIVE, SUSPENDED or REVOKED");
        m.status = static_cast<MemberStatus>(it - kStatuses.begin());
    }
    MESH_ASSIGN_OR_RETURN(const Json* quota, r.optional_value("Quota"));
    if (quota != nullptr) {
        MESH_ASSIGN_OR_RETURN(ObjectReader q, ObjectReader::open(*quota, r.member_path("Quota")));
        Quota qq;
        MESH_ASSIGN_OR_RETURN(qq.limit, q.uint("Limit", 1'000'000'000));
        MESH_ASSIGN_OR_RETURN(qq.period_seconds, q.uint("Period", 366ULL * 86400));
        if (qq.period_seconds == 0) return fail(Errc::malformed, q.member_path("Period") + ": zero");
        MESH_TRY(q.finish());
        m.quota = qq;
    }
    MESH_ASSIGN_OR_RETURN(auto auth, r.optional_bytes("AuthenticationKey", 33));
    if (auth) {
        auto k = dare::SignaturePublicKey::from_bytes(*auth);
        if (!k) return fail(Errc::malformed, r.member_path("AuthenticationKey") + ": " + k.error().message);
        m.authentication_key = *k;
    }
    MESH_ASSIGN_OR_RETURN(const JsonArray* es, r.optional_array("Entries", kMaxEntriesPerMember));
    for (std::size_t i = 0; i < es->size(); ++i) {
        MESH_ASSIGN_OR_RETURN(UserDecryptionEntry e, entry_from_json((*es)[i], at(r.member_path("Entries"), i)));
        m.entries.push_back(std::move(e));
    }
    MESH_TRY(r.finish());
    return m;
}

Json to_json(const RecryptionGroup& g, bool with_secrets) {
    JsonObject o{{"GroupID", Json(g.group_id)}};
    if (!g.group_name.empty()) o.emplace_back("GroupName", Json(g.group_name));
    if (g.signature_key) o.emplace_back("SignatureKey", b64(g.signature_key->bytes()));
    if (g.signed_key) o.emplace_back("SignedKey", *g.signed_key);
    if (!g.past_keys.empty()) o.emplace_back("PastKeys", envelopes(g.past_keys));
    if (!g.members.empty()) {
        JsonArray ms;
        for (const auto& m : g.members) ms.push_back(to_json(m, with_secrets));
        o.emplace_back("Members", Json(std::move(ms)));
    }
    return Json(std::move(o));
}

Result<RecryptionGroup> group_from_json(const Json& j, const std::string& path, std::size_t max_members) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j, path));
    RecryptionGroup g;
    MESH_ASSIGN_OR_RETURN(g.group_id, udf_field(r, "GroupID"));
    MESH_ASSIGN_OR_RETURN(auto name, r.optional_string("GroupName", kMaxName));
    g.group_name = name.value_or("");
    MESH_ASSIGN_OR_RETURN(auto sk, r.optional_bytes("SignatureKey", 33));
    if (sk) {
        auto k = dare::SignaturePublicKey::from_bytes(*sk);
        if (!k) return fail(Errc::malformed, r.member_path("SignatureKey") + ": " + k.error().message);
        if (k->kid() != g.group_id) return fail(Errc::malformed, r.member_path("SignatureKey") + ": its UDF is not the GroupID");
        g.signature_key = *k;
    }
    MESH_ASSIGN_OR_RETURN(const Json* signed_key, r.optional_value("SignedKey"));
    if (signed_key != nullptr) g.signed_key = *signed_key;
    MESH_ASSIGN_OR_RETURN(g.past_keys, envelope_list(r, "PastKeys", 1024));
    MESH_ASSIGN_OR_RETURN(const JsonArray* ms, r.optional_array("Members", max_members));
    for (std::size_t i = 0; i < ms->size(); ++i) {
        MESH_ASSIGN_OR_RETURN(MemberEntry m, member_from_json((*ms)[i], at(r.member_path("Members"), i)));
        g.members.push_back(std::move(m));
    }
    MESH_TRY(r.finish());
    return g;
}

// ---- the signed key record ---------------------------------------------------------------

Result<Json> sign_key_record(const KeyRecord& record, const dare::SignaturePrivateKey& key, mesh::RandomSource& rng) {
    if (key.public_key().kid() != record.group_id || !(key.public_key() == record.signature_key)) {
        return fail(Errc::invalid_argument, "recrypt: the key record must be signed by the group's signature key");
    }
    const Json payload(JsonObject{{"GroupKey", Json(JsonObject{{"GroupID", Json(record.group_id)},
                                                               {"SignatureKey", b64(record.signature_key.bytes())},
                                                               {"EncryptionKey", b64(record.encryption_key.bytes())},
                                                               {"Issued", Json(record.issued.empty() ? now_rfc3339() : record.issued)}})}});
    dare::EncodeOptions o;
    o.signers = {&key};
    o.meta = dare::ContentMeta::of_type(std::string(kKeyRecordType));
    return dare::encode_value(o, rng, mesh::as_bytes(dare::to_json(payload)));
}

Result<KeyRecord> verify_key_record(const Json& signed_key, std::string_view group_id) {
    // First read the claimed signature key from the payload, then require that key's signature.
    MESH_ASSIGN_OR_RETURN(const dare::Decoded unverified, dare::decode_value(signed_key, dare::OpenOptions{}));
    const auto text = unverified.payload.expose_secret();
    MESH_ASSIGN_OR_RETURN(const Json j, dare::parse_json(std::string_view(reinterpret_cast<const char*>(text.data()), text.size())));
    MESH_ASSIGN_OR_RETURN(ObjectReader outer, ObjectReader::open(j, "SignedKey"));
    MESH_ASSIGN_OR_RETURN(const Json* body, outer.value("GroupKey"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(*body, "SignedKey.GroupKey"));
    MESH_ASSIGN_OR_RETURN(std::string gid, udf_field(r, "GroupID"));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes sk, r.fixed_bytes("SignatureKey", dare::kEd25519PublicBytes));
    MESH_ASSIGN_OR_RETURN(const Point ek, point_field(r, "EncryptionKey"));
    MESH_ASSIGN_OR_RETURN(std::string issued, r.string("Issued", 64));
    MESH_TRY(r.finish());
    MESH_ASSIGN_OR_RETURN(const dare::SignaturePublicKey key, dare::SignaturePublicKey::from_bytes(sk));
    if (gid != group_id || key.kid() != group_id) {
        return fail(Errc::auth_failed, "recrypt: the key record is not signed by group " + std::string(group_id));
    }
    if (!unverified.info.meta || unverified.info.meta->content_type != kKeyRecordType) {
        return fail(Errc::malformed, "recrypt: SignedKey is not a group key record");
    }
    const dare::OpenOptions verify{nullptr, [&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
                                       if (kid == key.kid()) return key;
                                       return std::nullopt;
                                   }, true};
    auto checked = dare::decode_value(signed_key, verify);
    if (!checked) return fail(Errc::auth_failed, "recrypt: the key record's signature does not verify");
    return KeyRecord{std::move(gid), key, ek, std::move(issued)};
}

// ---- requests ------------------------------------------------------------------------------

namespace {
constexpr std::array<std::string_view, 8> kTransactions = {"Hello",        "CreateGroup", "UpdateGroup",
                                                           "GetGroup",     "AddMember",   "UpdateMember",
                                                           "GetKey",       "RecryptData"};

Result<std::vector<MemberEntry>> members_of(ObjectReader& r) {
    MESH_ASSIGN_OR_RETURN(const JsonArray* ms, r.optional_array("Members", kMaxMembersPerMessage));
    if (ms->empty()) return fail(Errc::malformed, r.member_path("Members") + ": missing or empty");
    std::vector<MemberEntry> out;
    for (std::size_t i = 0; i < ms->size(); ++i) {
        MESH_ASSIGN_OR_RETURN(MemberEntry m, member_from_json((*ms)[i], at(r.member_path("Members"), i)));
        out.push_back(std::move(m));
    }
    return out;
}
}  // namespace

std::string_view transaction_name(const Request& r) noexcept { return kTransactions[r.index()]; }

Result<Request> request_from_json(const Json& j) {
    if (!j.is_object() || j.as_object().size() != 1) {
        return fail(Errc::malformed, "request: expected an object with one member, the transaction");
    }
    std::string tag = j.as_object()[0].first;
    if (tag.ends_with("Request")) tag.resize(tag.size() - 7);
    const auto it = std::find(kTransactions.begin(), kTransactions.end(), tag);
    if (it == kTransactions.end()) {
        return fail(Errc::unsupported, "request: unknown transaction '" + tag.substr(0, 64) + "'");
    }
    const std::string path = "$." + j.as_object()[0].first;
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(j.as_object()[0].second, path));
    Request out;
    switch (it - kTransactions.begin()) {
        case 0: out = HelloRequest{}; break;
        case 1:
        case 2: {
            MESH_ASSIGN_OR_RETURN(const Json* g, r.value("RecryptionGroup"));
            MESH_ASSIGN_OR_RETURN(RecryptionGroup group, group_from_json(*g, r.member_path("RecryptionGroup")));
            if (tag == "CreateGroup") {
                out = CreateGroupRequest{std::move(group)};
            } else {
                out = UpdateGroupRequest{std::move(group)};
            }
            break;
        }
        case 3: {
            MESH_ASSIGN_OR_RETURN(std::string id, udf_field(r, "GroupID"));
            out = GetGroupRequest{std::move(id)};
            break;
        }
        case 4:
        case 5: {
            MESH_ASSIGN_OR_RETURN(std::string id, udf_field(r, "GroupID"));
            MESH_ASSIGN_OR_RETURN(std::vector<MemberEntry> ms, members_of(r));
            if (tag == "AddMember") {
                out = AddMemberRequest{std::move(id), std::move(ms)};
            } else {
                out = UpdateMemberRequest{std::move(id), std::move(ms)};
            }
            break;
        }
        case 6: {
            MESH_ASSIGN_OR_RETURN(std::string id, udf_field(r, "GroupID"));
            out = GetKeyRequest{std::move(id)};
            break;
        }
        default: {
            MESH_ASSIGN_OR_RETURN(std::string member, udf_field(r, "MemberUDF"));
            MESH_ASSIGN_OR_RETURN(std::string member_key, udf_field(r, "MemberKeyUDF"));
            MESH_ASSIGN_OR_RETURN(std::string group_key, udf_field(r, "GroupKeyID"));
            MESH_ASSIGN_OR_RETURN(const mesh::Bytes t, r.fixed_bytes("EphemeralKey", dare::kPointBytes));
            RecryptDataRequest rd{std::move(member), std::move(member_key), std::move(group_key), {}};
            std::copy(t.begin(), t.end(), rd.ephemeral_key.begin());
            out = std::move(rd);
            break;
        }
    }
    MESH_TRY(r.finish());
    return out;
}

Result<Request> parse_request(std::string_view text, const dare::JsonLimits& limits) {
    MESH_ASSIGN_OR_RETURN(const Json j, dare::parse_json(text, limits));
    return request_from_json(j);
}

Json to_json(const Request& req) {
    JsonObject body;
    std::visit(
        [&](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, CreateGroupRequest> || std::is_same_v<T, UpdateGroupRequest>) {
                body.emplace_back("RecryptionGroup", to_json(r.group, true));
            } else if constexpr (std::is_same_v<T, GetGroupRequest> || std::is_same_v<T, GetKeyRequest>) {
                body.emplace_back("GroupID", Json(r.group_id));
            } else if constexpr (std::is_same_v<T, AddMemberRequest> || std::is_same_v<T, UpdateMemberRequest>) {
                body.emplace_back("GroupID", Json(r.group_id));
                JsonArray ms;
                for (const auto& m : r.members) ms.push_back(to_json(m, true));
                body.emplace_back("Members", Json(std::move(ms)));
            } else if constexpr (std::is_same_v<T, RecryptDataRequest>) {
                body = JsonObject{{"MemberUDF", Json(r.member_udf)},
                                  {"MemberKeyUDF", Json(r.member_key_udf)},
                                  {"GroupKeyID", Json(r.group_key_id)},
                                  {"EphemeralKey", b64(r.ephemeral_key)}};
            }
        },
        req);
    return Json(JsonObject{{std::string(transaction_name(req)), Json(std::move(body))}});
}

// ---- responses -----------------------------------------------------------------------------

Json response_to_json(std::string_view transaction, const Status& status, JsonObject fields) {
    JsonObject body{{"Status", Json(status.code)}, {"StatusDescription", Json(status.description)}};
    for (auto& f : fields) body.push_back(std::move(f));
    return Json(JsonObject{{std::string(transaction) + "Response", Json(std::move(body))}});
}

Result<ResponseView> parse_response(std::string_view text, const dare::JsonLimits& limits) {
    MESH_ASSIGN_OR_RETURN(const Json j, dare::parse_json(text, limits));
    if (!j.is_object() || j.as_object().size() != 1 || !j.as_object()[0].first.ends_with("Response")) {
        return fail(Errc::malformed, "response: expected {\"<Transaction>Response\": {...}}");
    }
    const auto& [tag, body] = j.as_object()[0];
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(body, "$." + tag));
    MESH_ASSIGN_OR_RETURN(Status st, status_from(r));
    return ResponseView{tag.substr(0, tag.size() - 8), std::move(st), body};
}

namespace {
// Reads the status again and the rest with `read`, refusing unknown members.
template <class F>
auto read_response(const ResponseView& v, F&& read) -> decltype(read(std::declval<ObjectReader&>())) {
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(v.body, "$." + v.transaction + "Response"));
    MESH_TRY(status_from(r));
    auto out = read(r);
    if (!out) return out;
    MESH_TRY(r.finish());
    return out;
}
}  // namespace

Result<RecryptDataResponse> recrypt_data_response(const ResponseView& v) {
    return read_response(v, [&](ObjectReader& r) -> Result<RecryptDataResponse> {
        RecryptDataResponse out;
        out.status = v.status;
        if (v.status.code >= 300) return out;
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes partial, r.fixed_bytes("Partial", dare::kPointBytes));
        auto p = shared_from_bytes(partial);
        if (!p) return fail(Errc::malformed, r.member_path("Partial") + ": " + p.error().message);
        out.partial.emplace(std::move(p).value());
        MESH_ASSIGN_OR_RETURN(out.decryption_keys, envelope_list(r, "DecryptionKey", 16));
        if (out.decryption_keys.empty()) return fail(Errc::malformed, r.member_path("DecryptionKey") + ": empty");
        MESH_ASSIGN_OR_RETURN(const Point ek, point_field(r, "EncryptionKey"));
        out.encryption_key = ek;
        return out;
    });
}

Result<GetKeyResponse> get_key_response(const ResponseView& v) {
    return read_response(v, [&](ObjectReader& r) -> Result<GetKeyResponse> {
        GetKeyResponse out{v.status, std::nullopt};
        if (v.status.code >= 300) return out;
        MESH_ASSIGN_OR_RETURN(const Json* k, r.value("SignedKey"));
        out.signed_key = *k;
        return out;
    });
}

Result<GetGroupResponse> get_group_response(const ResponseView& v) {
    return read_response(v, [&](ObjectReader& r) -> Result<GetGroupResponse> {
        GetGroupResponse out{v.status, std::nullopt};
        if (v.status.code >= 300) return out;
        MESH_ASSIGN_OR_RETURN(const Json* g, r.value("RecryptionGroup"));
        MESH_ASSIGN_OR_RETURN(RecryptionGroup group, group_from_json(*g, r.member_path("RecryptionGroup"), std::size_t{1} << 20));
        out.group.emplace(std::move(group));
        return out;
    });
}

}  // namespace recrypt
