// recryptd's service core: every Admin and User transaction of librecrypt's schema, with
// authentication, authorization, quotas, the store and the audit log. No HTTP here: the server
// hands it a request's method, path, a few headers and the body, and sends back what it returns
// (docs/recryptd.md has the rules; docs/protocol.md the messages).
//
// Authorization: a member's privileges are RECRYPT (may RecryptData), ADMIN (may GetGroup,
// UpdateGroup, and AddMember/UpdateMember for RECRYPT-only members) and SUPER (ADMIN, and may add
// or change ADMIN and SUPER members). SUSPENDED and REVOKED members may do nothing; REVOKED is
// final. The creator of a group must list itself as an ADMIN or SUPER member with its
// authentication key (its request is verified with that key), subject to the creation policy.
//
// Thread-safety: handle() may run on many threads at once. Administrative transactions are
// serialized among themselves and are durable (store, then audit) before their reply;
// RecryptData takes a shared lock, so a suspension or revocation affects every RecryptData that
// starts after its reply.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <recrypt/agent.hpp>
#include <recrypt/request_signature.hpp>
#include <recrypt/schema.hpp>

#include "audit.hpp"
#include "config.hpp"
#include "data_dir.hpp"
#include "metrics.hpp"
#include "store.hpp"

namespace recryptd {

inline constexpr std::string_view kServicePath = "/.well-known/recrypt";

struct HttpRequestInfo {
    std::string_view method;
    std::string_view target;        ///< path and query
    std::string_view content_type;
    recrypt::SignedHeaders signature;
    std::string_view if_none_match;
    std::string request_id;
    std::string client;             ///< the client's address (after trusted-proxy rules)
};

struct HttpReply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string transaction;  ///< for metrics and logs ("RecryptData", "GET key", ...)
    std::string requester;    ///< the verified key UDF, for logs
    std::string description;  ///< the StatusDescription, for the audit log and logs
};

class ServiceCore {
public:
    using Clock = std::function<std::int64_t()>;
    ServiceCore(const Config& config, Store& store, AuditLog& audit, Metrics& metrics, Clock clock = {});
    /// Loads the store into memory (before serving).
    mesh::Result<void> load();
    using Respond = std::function<void(HttpReply)>;
    /// Requests under /.well-known/recrypt. `respond` is called once, maybe on another thread
    /// (RecryptData answers once its audit record is durable); `request` and `body` are not
    /// used after it is called.
    void handle(const HttpRequestInfo& request, std::string_view body, Respond respond);
    [[nodiscard]] std::size_t groups() const;
    /// Refuse writes (503) when the data directory's disk is below its reserve.
    void set_reserve(const SpaceReserve& reserve) { reserve_ = &reserve; }

private:
    struct MemberState {
        recrypt::MemberEntry meta;  // no entries: their secrets live in core_
        std::string auth_kid;       // meta.authentication_key's UDF (a digest: computed once)
        std::vector<std::pair<std::string, std::string>> pairs;  // (group key, member key) of its entries
    };
    struct GroupState {
        recrypt::RecryptionGroup meta;  // no members
        std::map<std::string, recrypt::Point> keys;  // every key the group has had, by kid
        std::map<std::string, MemberState> members;
    };
    struct Call;

    void post(const HttpRequestInfo& request, std::string_view body, Respond& respond);
    HttpReply get(const HttpRequestInfo& request, std::string_view path);
    HttpReply create_group(Call& call, recrypt::CreateGroupRequest& r);
    HttpReply update_group(Call& call, recrypt::UpdateGroupRequest& r);
    HttpReply get_group(Call& call, std::string_view group_id);
    HttpReply add_member(Call& call, recrypt::AddMemberRequest& r);
    HttpReply update_member(Call& call, recrypt::UpdateMemberRequest& r);
    HttpReply get_key(Call& call, std::string_view group_id);
    void recrypt_data(Call& call, const recrypt::RecryptDataRequest& r, Respond& respond);

    // Holding m_ (any mode): the active member of `group` whose key signed the call, if any.
    const MemberState* caller_in(const GroupState& group, std::string_view keyid) const;
    // Holding m_: the group and its caller when the caller is an active ADMIN or SUPER of it;
    // else caller is null and status/refused say why (404 no group, 403 not allowed).
    struct Administered {
        const GroupState* group;
        const MemberState* caller;
        int status;
        std::string refused;
    };
    std::optional<std::string> may_recrypt(const MemberState& member, std::string_view requester_udf,
                                           std::string_view keyid) const;
    Administered administered(std::string_view group_id, std::string_view keyid) const;
    mesh::Result<void> check_entries(const GroupState& g, const recrypt::MemberEntry& m) const;
    static void set_meta(MemberState& slot, recrypt::MemberEntry m);
    void apply_member(GroupState& g, const std::string& group_id, recrypt::MemberEntry m);
    void add_auth_key(const dare::SignaturePublicKey& key);
    void remove_auth_key(const std::string& kid);
    HttpReply finish_admin(Call& call, HttpReply reply, std::string group_id, std::string key);

    // Holding admin_m_: the reserve checked, then the batch made durable.
    mesh::Result<void> save(const Batch& batch);

    const Config& config_;
    const SpaceReserve* reserve_ = nullptr;
    Store& store_;
    AuditLog& audit_;
    Metrics& metrics_;
    Clock clock_;
    recrypt::ReplayCache replay_;
    std::int64_t started_;  // requests created before this are refused (the replay cache is new)

    mutable std::shared_mutex m_;  // groups_, auth_keys_
    std::unordered_map<std::string, GroupState> groups_;
    std::unordered_map<std::string, std::pair<dare::SignaturePublicKey, int>> auth_keys_;  // kid -> key, users
    recrypt::RecryptionService core_;  // entries by (group key, member key): CombinedToGroup
    // (group key, member key) -> the end of its RecryptData answer (DecryptionKey, EncryptionKey)
    std::unordered_map<mesh::PairKey, std::string, mesh::PairKeyHash, mesh::PairKeyEqual> reply_tails_;

    std::mutex admin_m_;  // one administrative transaction at a time

    struct QuotaUse {
        std::int64_t window_start = 0;
        std::uint64_t used = 0;
    };
    std::mutex quota_m_;
    std::unordered_map<std::string, QuotaUse> quota_;
};

}  // namespace recryptd
