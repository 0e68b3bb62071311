#include "group_support.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>

#include "key_store.hpp"

namespace recrypt_cli {
using dare::Json;
using dare::JsonArray;
using dare::JsonObject;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
Result<std::string> groups_dir(const std::string& home, bool create) {
    MESH_ASSIGN_OR_RETURN(const KeyStore store, KeyStore::open(home));
    const std::string dir = store.home() + "/groups";
    if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail(Errc::io, dir + ": cannot create");
    return dir;
}

std::string b64(std::span<const std::uint8_t> b) { return mesh::base64url_encode(b); }
}  // namespace

Result<ShareRecord> read_share_fields(dare::ObjectReader& r, const std::string& where) {
    MESH_ASSIGN_OR_RETURN(const std::uint64_t index, r.uint("Index", 255));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t threshold, r.uint("Threshold", 255));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t shares, r.uint("Shares", 255));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes value, r.fixed_bytes("Value", dare::kScalarBytes));
    auto v = recrypt::Scalar::from_bytes(value);
    mesh::secure_wipe(value.data(), value.size());
    if (!v || index == 0 || threshold < 2 || threshold > shares || index > shares) return fail(Errc::malformed, where + ": invalid share");
    return ShareRecord{static_cast<unsigned>(index), static_cast<unsigned>(threshold), static_cast<unsigned>(shares), std::move(v).value()};
}

Result<void> save_group(const std::string& home, const GroupRecord& g) {
    MESH_ASSIGN_OR_RETURN(const std::string dir, groups_dir(home, true));
    JsonObject o{{"Name", Json(g.name)},
                 {"Service", Json(g.service)},
                 {"GroupID", Json(g.group_id)},
                 {"EncryptionKey", Json(b64(g.encryption.bytes()))}};
    if (g.signature) o.emplace_back("SignatureSeed", Json(b64(g.signature->expose_seed())));
    if (g.key) o.emplace_back("GroupKey", Json(b64(g.key->secret().expose_secret())));
    if (g.share) {
        o.emplace_back("Share", Json(JsonObject{{"Index", Json(static_cast<std::int64_t>(g.share->index))},
                                                {"Threshold", Json(static_cast<std::int64_t>(g.share->threshold))},
                                                {"Shares", Json(static_cast<std::int64_t>(g.share->shares))},
                                                {"Value", Json(b64(g.share->value.expose_secret()))}}));
    }
    JsonArray members;
    for (const auto& m : g.members) {
        members.push_back(Json(JsonObject{{"UDF", Json(m.udf)}, {"EncryptionKey", Json(b64(m.encryption.bytes()))}}));
    }
    o.emplace_back("Members", Json(std::move(members)));
    std::string text = dare::to_json_pretty(Json(JsonObject{{"RecryptGroup", Json(std::move(o))}})) + "\n";
    auto w = write_file_atomic(dir + "/" + g.name + ".json", text, 0600);
    mesh::secure_wipe(text.data(), text.size());
    return w;
}

Result<GroupRecord> load_group(const std::string& home, const std::string& name) {
    MESH_TRY(check_key_name(name));
    MESH_ASSIGN_OR_RETURN(const std::string dir, groups_dir(home, false));
    const std::string path = dir + "/" + name + ".json";
    if (::access(path.c_str(), F_OK) != 0) return fail(Errc::not_found, "no group '" + name + "' here (recrypt group list)");
    MESH_ASSIGN_OR_RETURN(const Json j, read_json_file(path, std::size_t{64} << 20, 16));
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, open_wrapped(j, "RecryptGroup", path));
    MESH_ASSIGN_OR_RETURN(std::string stored_name, r.string("Name", 64));
    MESH_ASSIGN_OR_RETURN(std::string service, r.string("Service", 1024));
    MESH_ASSIGN_OR_RETURN(std::string group_id, r.string("GroupID", 128));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes pub, r.fixed_bytes("EncryptionKey", dare::kScalarBytes));
    auto enc = dare::PublicKey::from_bytes(pub);
    if (!enc) return fail(Errc::malformed, path + ": EncryptionKey is not a key");
    GroupRecord g{std::move(stored_name), std::move(service), std::move(group_id), *enc, std::nullopt, std::nullopt, std::nullopt, {}};
    if (r.has("SignatureSeed")) {
        MESH_ASSIGN_OR_RETURN(mesh::Bytes seed, r.fixed_bytes("SignatureSeed", dare::kEd25519SeedBytes));
        auto sig = dare::SignaturePrivateKey::from_seed(seed);
        mesh::secure_wipe(seed.data(), seed.size());
        if (!sig || sig->public_key().kid() != g.group_id) return fail(Errc::malformed, path + ": the signature key is not the GroupID's");
        g.signature.emplace(std::move(sig).value());
    }
    if (r.has("GroupKey")) {
        MESH_ASSIGN_OR_RETURN(mesh::Bytes scalar, r.fixed_bytes("GroupKey", dare::kScalarBytes));
        auto a = recrypt::Scalar::from_bytes(scalar);
        mesh::secure_wipe(scalar.data(), scalar.size());
        if (!a) return fail(Errc::malformed, path + ": invalid group key");
        auto key = recrypt::GroupKey::from_scalar(std::move(a).value());
        if (!key) return fail(Errc::malformed, path + ": invalid group key");
        g.key.emplace(std::move(key).value());
    }
    if (r.has("Share")) {
        MESH_ASSIGN_OR_RETURN(const Json* sj, r.value("Share"));
        MESH_ASSIGN_OR_RETURN(dare::ObjectReader s, dare::ObjectReader::open(*sj, path + ".Share"));
        MESH_ASSIGN_OR_RETURN(ShareRecord share, read_share_fields(s, path + ".Share"));
        MESH_TRY(s.finish());
        g.share.emplace(std::move(share));
    }
    MESH_ASSIGN_OR_RETURN(const JsonArray* members, r.optional_array("Members", std::size_t{1} << 22));
    for (std::size_t i = 0; i < members->size(); ++i) {
        const std::string p = path + ".Members[" + std::to_string(i) + "]";
        MESH_ASSIGN_OR_RETURN(dare::ObjectReader m, dare::ObjectReader::open((*members)[i], p));
        MESH_ASSIGN_OR_RETURN(std::string udf, m.string("UDF", 128));
        MESH_ASSIGN_OR_RETURN(const mesh::Bytes key, m.fixed_bytes("EncryptionKey", dare::kScalarBytes));
        MESH_TRY(m.finish());
        auto k = dare::PublicKey::from_bytes(key);
        if (!k) return fail(Errc::malformed, p + ".EncryptionKey: not a key");
        g.members.push_back(MemberKey{std::move(udf), *k});
    }
    MESH_TRY(r.finish());
    if (g.key && !(g.key->public_key() == g.encryption)) return fail(Errc::malformed, path + ": GroupKey does not match EncryptionKey");
    if (!g.key && !g.share) return fail(Errc::malformed, path + ": neither GroupKey nor Share");
    return g;
}

Result<std::vector<std::string>> group_names(const std::string& home) {
    MESH_ASSIGN_OR_RETURN(const std::string dir, groups_dir(home, false));
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string f = e.path().filename().string();
        if (f.size() > 5 && f.ends_with(".json") && check_key_name(f.substr(0, f.size() - 5))) out.push_back(f.substr(0, f.size() - 5));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<GroupRecord> group_by_key(const std::string& home, std::string_view kid) {
    auto names = group_names(home);
    if (!names) return std::nullopt;
    for (const auto& n : *names) {
        auto g = load_group(home, n);
        if (g && g->encryption.kid() == kid) return std::move(g).value();
    }
    return std::nullopt;
}

Result<std::string> service_url(const std::string& flag, const std::string& fallback) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("RECRYPT_SERVICE"); env != nullptr && *env != '\0') return std::string(env);
    if (!fallback.empty()) return fallback;
    return fail(Errc::invalid_argument, "which service? give --service URL or set RECRYPT_SERVICE");
}

Result<std::unique_ptr<recrypt::HttpTransport>> transport_for(const std::string& url) {
    recrypt::HttpOptions o;
    if (const char* ca = std::getenv("RECRYPT_CA_FILE"); ca != nullptr && *ca != '\0') o.ca_file = ca;
    auto t = recrypt::HttpTransport::create(url, o);
    if (!t) return fail(t.error().code, "service " + url + ": " + t.error().message);
    return t;
}

Result<Session> connect(const std::string& url, const Me& me) {
    MESH_ASSIGN_OR_RETURN(auto t, transport_for(url));
    Session s;
    s.transport = std::move(t);
    s.client = std::make_unique<recrypt::Client>(*s.transport, me.authentication, me.who.udf);
    return s;
}

Result<std::string> set_member_status(recrypt::Client& client, const std::string& group_id, const std::string& udf,
                                      const std::string& account, recrypt::MemberStatus status) {
    MESH_ASSIGN_OR_RETURN(const recrypt::RecryptionGroup current, client.get_group(group_id));
    for (const auto& m : current.members) {
        if (m.member_udf != udf && (account.empty() || m.account_name != account)) continue;
        recrypt::MemberEntry next = recrypt::clone(m);
        next.status = status;
        std::vector<recrypt::MemberEntry> one;
        one.push_back(std::move(next));
        MESH_TRY(client.update_member(group_id, std::move(one)));
        return m.member_udf;
    }
    return fail(Errc::not_found, "no such member");
}

// A recrypt::Service that sends each group key's RecryptData to that group's service.
class Reader::Router final : public recrypt::Service {
public:
    Router(const Me& me, std::string fallback) : me_(me), fallback_(std::move(fallback)) {}
    void hint(const std::string& kid, const std::string& url) { hints_.emplace(kid, url); }
    Result<recrypt::RecryptReply> recrypt(std::string_view group_kid, std::string_view member_kid, const recrypt::Point& t) override {
        const auto h = hints_.find(std::string(group_kid));
        std::string url = h != hints_.end() ? h->second : fallback_;
        if (url.empty() && !used_.empty()) url = used_.front();
        if (url.empty()) return fail(Errc::invalid_argument, "which service? the file names none: give --service URL");
        auto s = sessions_.find(url);
        if (s == sessions_.end()) {
            MESH_ASSIGN_OR_RETURN(Session made, connect(url, me_));
            s = sessions_.emplace(url, std::move(made)).first;
            used_.push_back(url);
        }
        auto r = s->second.client->recrypt(group_kid, member_kid, t);
        if (!r && r.error().code == Errc::io) return fail(Errc::io, "service " + url + ": " + r.error().message);
        return r;
    }
    std::vector<std::string> used_;

private:
    const Me& me_;
    std::string fallback_;
    std::map<std::string, std::string> hints_;
    std::map<std::string, Session> sessions_;
};

Reader::Reader(const Me& me, std::string override_url, std::string fallback)
    : router_(std::make_unique<Router>(me, override_url.empty() ? std::move(fallback) : override_url)),
      agent_(std::make_unique<recrypt::MemberAgent>(*router_)),
      override_(std::move(override_url)) {
    agent_->add_private_key(me.encryption);
    for (const auto& k : me.more_keys) agent_->add_private_key(k);
    for (const auto& m : me.memberships) agent_->add_membership(m);
}

Reader::~Reader() = default;

Result<dare::Agreement> Reader::agree(const dare::RecipientEntry& r) {
    if (override_.empty()) {
        if (r.conjunction.empty() && !r.services.empty()) router_->hint(r.kid, r.services.front());
        for (std::size_t i = 0; i < r.conjunction.size() && i < r.services.size(); ++i) router_->hint(r.conjunction[i], r.services[i]);
    }
    return agent_->agree(r);
}

std::vector<std::string> Reader::services_used() const { return router_->used_; }

}  // namespace recrypt_cli
