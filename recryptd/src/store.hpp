// recryptd's store: groups, members and decryption entries, durable before a response.
//
// The interface is what the service's handlers need and no more, so that a PostgreSQL back end
// (three tables: groups, members, entries) can follow without touching them. The embedded back
// end keeps them as objects of one Chain container encrypted under the service's storage key
// (docs/recryptd.md), synced once per batch, compacted at start.
// Thread-safety: implementations serialize writes themselves; load() runs before serving.
// Errors: io (the disk), auth_failed/malformed (a damaged store), not_found (a key is missing).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <dare/container.hpp>
#include <dare/keys.hpp>
#include <mesh/result.hpp>
#include <recrypt/schema.hpp>

namespace recryptd {

/// Changes that become durable together (one sync; on a crash, a batch may be partly present,
/// each object whole).
struct Batch {
    std::vector<const recrypt::RecryptionGroup*> groups;  ///< metadata (members ignored)
    struct Member {
        std::string group_id;
        const recrypt::MemberEntry* member;  ///< metadata (entries ignored)
    };
    std::vector<Member> members;
    struct Entry {
        std::string group_id;
        std::string member_udf;
        const recrypt::UserDecryptionEntry* entry;
    };
    std::vector<Entry> entries;

    /// Adds members (metadata) and their entries, by reference: `list` must outlive the batch.
    void add_members(const std::string& group_id, const std::vector<recrypt::MemberEntry>& list) {
        for (const auto& m : list) {
            members.push_back({group_id, &m});
            for (const auto& e : m.entries) entries.push_back({group_id, m.member_udf, &e});
        }
    }
};

class Store {
public:
    virtual ~Store() = default;
    struct Visitor {
        std::function<mesh::Result<void>(recrypt::RecryptionGroup)> group;
        std::function<mesh::Result<void>(std::string group_id, recrypt::MemberEntry)> member;
        std::function<mesh::Result<void>(std::string group_id, std::string member_udf, recrypt::UserDecryptionEntry)> entry;
    };
    /// Every stored object: groups first, then members, then entries.
    virtual mesh::Result<void> load(const Visitor& visitor) = 0;
    virtual mesh::Result<void> save(const Batch& batch) = 0;
    /// Whether writes can succeed (readyz).
    [[nodiscard]] virtual bool healthy() const = 0;
    /// Objects written since start (metrics).
    [[nodiscard]] virtual std::uint64_t appends() const = 0;
};

/// The embedded back end: DIR/groups.dare.
mesh::Result<std::unique_ptr<Store>> open_container_store(const std::string& path, const dare::PrivateKey& storage_key);

}  // namespace recryptd
