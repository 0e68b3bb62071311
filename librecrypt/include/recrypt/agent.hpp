// recrypt/agent.hpp: opening envelopes addressed to groups, through recryption services.
//
// Service is what a member asks: for (group key, member key, T) the partial r·T and the entries'
// E(d, M). MemberAgent is a dare::KeyAgreement: for a recipient entry it uses a private key it
// holds, else asks the service for each member key it can use (its own keys, and the groups it
// belongs to), opening E(d, M) recursively, so personal groups of devices and mailing lists
// nested to any depth work, with a depth limit and a loop guard. A conjunction entry (A + E)
// combines one result per group. RecryptionService is the service's core, in memory: entries by
// (group key, member key) in a hash map, so a recryption costs the same in any group size.
// Thread-safety: MemberAgent is single-threaded; RecryptionService is thread-safe.
// Errors: not_found (no entry for any key this agent has), permission_denied (suspended or
// revoked), limit_exceeded (nesting too deep), malformed (a loop), auth_failed.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <dare/envelope.hpp>
#include <mesh/pair_key.hpp>
#include <recrypt/recryption.hpp>
#include <recrypt/schema.hpp>

namespace recrypt {

struct RecryptReply {
    dare::SharedPoint partial;                ///< r·T
    std::vector<dare::Json> decryption_keys;  ///< E(d_i, M)
    Point group_key;                          ///< A, bound into the key-encryption key
};

class Service {
public:
    virtual ~Service() = default;
    virtual mesh::Result<RecryptReply> recrypt(std::string_view group_kid, std::string_view member_kid,
                                               const Point& t) = 0;
};

class MemberAgent final : public dare::KeyAgreement {
public:
    explicit MemberAgent(Service& service, std::size_t max_depth = 8) : service_(service), max_depth_(max_depth) {}
    /// A private key held here (a device key, or a group key this agent administers).
    void add_private_key(const dare::PrivateKey& key);
    /// A group this agent belongs to, by its key's kid: a member key worth asking for.
    void add_membership(std::string group_kid);
    mesh::Result<dare::Agreement> agree(const dare::RecipientEntry& recipient) override;

    /// Recryptions asked of the service so far (for tests and diagnostics).
    [[nodiscard]] std::size_t service_calls() const noexcept { return calls_; }

private:
    class Nested;
    mesh::Result<dare::Agreement> agree_one(std::string_view kid, const Point& t, std::size_t depth,
                                            std::vector<std::string>& chain);
    Service& service_;
    std::size_t max_depth_;
    dare::PrivateKeyAgreement keys_;
    std::vector<std::string> own_kids_;
    std::vector<std::string> memberships_;
    std::size_t calls_ = 0;
};

/// CombinedToGroup (seed 002 §4.4.4): which group and member a (group key, member key) pair
/// belongs to, so RecryptData finds them without scanning members.
struct CombinedToGroup {
    std::string encryption_key_udf;
    std::string member_key_udf;
    std::string member_udf;  ///< the member's profile UDF ("" when not recorded)
    std::string group_id;    ///< the group's UDF ("" when not recorded)
};

/// The service's side, in memory.
class RecryptionService final : public Service {
public:
    /// Stores an entry; already_exists if one is there for the pair. `group_id` and
    /// `member_udf` are recorded in the CombinedToGroup index.
    mesh::Result<void> add_entry(const Point& group_key, UserDecryptionEntry entry, std::string group_id = {},
                                 std::string member_udf = {});
    /// The index record of a pair; not_found if none.
    mesh::Result<CombinedToGroup> combined(std::string_view group_kid, std::string_view member_kid) const;
    /// The same without a copy: null if none. Entries are never removed, so the record stays
    /// valid and unchanged for the service's lifetime.
    [[nodiscard]] const CombinedToGroup* find(std::string_view group_kid, std::string_view member_kid) const;
    mesh::Result<void> set_status(std::string_view group_kid, std::string_view member_kid, MemberStatus status);
    mesh::Result<RecryptReply> recrypt(std::string_view group_kid, std::string_view member_kid,
                                       const Point& t) override;
    /// recrypt() without copying the entry's decryption keys (a server that keeps them
    /// serialized): r·T and the group key A.
    struct Partial {
        dare::SharedPoint partial;
        Point group_key;
    };
    mesh::Result<Partial> partial(std::string_view group_kid, std::string_view member_kid, const Point& t) const;
    /// partial() on T as received (RecryptDataRequest::ephemeral_key): malformed, naming
    /// EphemeralKey, unless it encodes a group element other than the identity.
    mesh::Result<Partial> partial(std::string_view group_kid, std::string_view member_kid,
                                  std::span<const std::uint8_t, dare::kPointBytes> t) const;
    [[nodiscard]] std::size_t size() const;

private:
    struct Stored {
        CombinedToGroup index;
        Point group_key;
        Scalar recryption_key;
        std::vector<dare::Json> decryption_keys;
        MemberStatus status;
    };
    mesh::Result<Partial> partial_of(std::string_view group_kid, std::string_view member_kid,
                                     std::span<const std::uint8_t, dare::kPointBytes> t, std::vector<dare::Json>* keys) const;
    mutable std::mutex m_;
    std::unordered_map<mesh::PairKey, Stored, mesh::PairKeyHash, mesh::PairKeyEqual> entries_;  // by (group key, member key)
};

}  // namespace recrypt
