#include <recrypt/agent.hpp>

#include <algorithm>

namespace recrypt {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

// Opens the E(d, M) of a nested level with the same agent one level deeper.
class MemberAgent::Nested final : public dare::KeyAgreement {
public:
    Nested(MemberAgent& agent, std::size_t depth, std::vector<std::string>& chain)
        : agent_(agent), depth_(depth), chain_(chain) {}
    Result<dare::Agreement> agree(const dare::RecipientEntry& r) override {
        if (!r.conjunction.empty()) return fail(Errc::malformed, "recrypt: conjunction inside a decryption key");
        return agent_.agree_one(r.kid, r.epk, depth_, chain_);
    }

private:
    MemberAgent& agent_;
    std::size_t depth_;
    std::vector<std::string>& chain_;
};

void MemberAgent::add_private_key(const dare::PrivateKey& key) {
    keys_.add(key);
    own_kids_.push_back(key.public_key().kid());
}

void MemberAgent::add_membership(std::string group_kid) { memberships_.push_back(std::move(group_kid)); }

Result<dare::Agreement> MemberAgent::agree_one(std::string_view kid, const Point& t, std::size_t depth,
                                               std::vector<std::string>& chain) {
    if (const dare::PrivateKey* k = keys_.find(kid)) {
        MESH_ASSIGN_OR_RETURN(dare::SharedPoint s, k->agree(t));
        return dare::Agreement{std::move(s), k->public_key()};
    }
    if (depth >= max_depth_) {
        return fail(Errc::limit_exceeded, "recrypt: groups nested deeper than " + std::to_string(max_depth_));
    }
    if (std::find(chain.begin(), chain.end(), kid) != chain.end()) {
        return fail(Errc::malformed, "recrypt: group " + std::string(kid) + " is a member of itself");
    }
    chain.emplace_back(kid);
    std::optional<mesh::Error> refused;  // a service's "no" for a key we hold is worth reporting
    for (const auto* list : {&own_kids_, &memberships_}) {
        for (const auto& member : *list) {
            if (member == kid) continue;
            ++calls_;
            auto reply = service_.recrypt(kid, member, t);
            if (!reply) {
                if (reply.error().code != Errc::not_found) refused = std::move(reply).error();
                continue;
            }
            Nested nested(*this, depth + 1, chain);
            auto d = open_decryption_keys(reply->decryption_keys, nested);
            if (!d) {
                chain.pop_back();
                return std::move(d).error();
            }
            auto s = complete(reply->partial, *d, t);
            chain.pop_back();
            if (!s) return std::move(s).error();
            return dare::Agreement{std::move(s).value(), reply->group_key};
        }
    }
    chain.pop_back();
    if (refused) return std::move(*refused);
    return fail(Errc::not_found, "recrypt: no membership in " + std::string(kid));
}

Result<dare::Agreement> MemberAgent::agree(const dare::RecipientEntry& r) {
    std::vector<std::string> chain;
    if (r.conjunction.empty()) return agree_one(r.kid, r.epk, 0, chain);
    // A + E: one agreement per group, added; the sum of the group keys must be the recipient.
    std::optional<dare::SharedPoint> s;
    std::optional<Point> key;
    for (const auto& part : r.conjunction) {
        MESH_ASSIGN_OR_RETURN(dare::Agreement a, agree_one(part, r.epk, 0, chain));
        if (s) {
            MESH_ASSIGN_OR_RETURN(dare::SharedPoint sum, add_points(*s, a.shared));
            s.emplace(std::move(sum));
            MESH_ASSIGN_OR_RETURN(const Point k, key->add(a.recipient));
            key.emplace(k);
        } else {
            s.emplace(std::move(a.shared));
            key.emplace(a.recipient);
        }
    }
    if (key->kid() != r.kid) return fail(Errc::malformed, "recrypt: the conjunction's keys do not sum to the recipient key");
    return dare::Agreement{std::move(*s), *key};
}

Result<void> RecryptionService::add_entry(const Point& group_key, UserDecryptionEntry entry, std::string group_id,
                                          std::string member_udf) {
    if (entry.encryption_key_udf != group_key.kid()) {
        return fail(Errc::invalid_argument, "recrypt: the entry is for another group key");
    }
    mesh::PairKey k(entry.encryption_key_udf, entry.member_key_udf);
    const std::lock_guard lock(m_);
    if (entries_.contains(k)) return fail(Errc::already_exists, "recrypt: an entry for this member key exists");
    CombinedToGroup index{entry.encryption_key_udf, entry.member_key_udf, std::move(member_udf), std::move(group_id)};
    entries_.emplace(std::move(k), Stored{std::move(index), group_key, std::move(entry.recryption_key),
                               std::move(entry.decryption_keys), MemberStatus::active});
    return mesh::ok();
}

Result<void> RecryptionService::set_status(std::string_view group_kid, std::string_view member_kid, MemberStatus status) {
    const std::lock_guard lock(m_);
    const auto it = entries_.find(mesh::PairKeyView(group_kid, member_kid));
    if (it == entries_.end()) return fail(Errc::not_found, "recrypt: no such member entry");
    if (it->second.status == MemberStatus::revoked && status != MemberStatus::revoked) {
        return fail(Errc::permission_denied, "recrypt: a revoked entry stays revoked");
    }
    it->second.status = status;
    return mesh::ok();
}

// The entry's group key and recryption key (copied under the lock), its keys when asked for.
Result<RecryptionService::Partial> RecryptionService::partial_of(std::string_view group_kid, std::string_view member_kid,
                                                                std::span<const std::uint8_t, dare::kPointBytes> t,
                                                                std::vector<dare::Json>* keys) const {
    std::optional<Point> group;
    std::optional<Scalar> r;
    {
        const std::lock_guard lock(m_);
        const auto it = entries_.find(mesh::PairKeyView(group_kid, member_kid));
        if (it == entries_.end()) return fail(Errc::not_found, "recrypt: not a member");
        if (it->second.status != MemberStatus::active) {
            return fail(Errc::permission_denied, it->second.status == MemberStatus::revoked ? "recrypt: membership revoked"
                                                                                          : "recrypt: membership suspended");
        }
        group = it->second.group_key;
        r.emplace(it->second.recryption_key.clone());
        if (keys != nullptr) *keys = it->second.decryption_keys;
    }
    auto p = r->times_encoded(t);  // outside the lock; decodes T, refusing what is not a group element
    if (!p) {
        if (p.error().code == Errc::malformed) return fail(Errc::malformed, "EphemeralKey: " + p.error().message);
        return std::move(p).error();
    }
    return Partial{std::move(p).value(), *group};
}

Result<RecryptReply> RecryptionService::recrypt(std::string_view group_kid, std::string_view member_kid, const Point& t) {
    std::vector<dare::Json> keys;
    MESH_ASSIGN_OR_RETURN(Partial p, partial_of(group_kid, member_kid, t.bytes(), &keys));
    return RecryptReply{std::move(p.partial), std::move(keys), p.group_key};
}

Result<RecryptionService::Partial> RecryptionService::partial(std::string_view group_kid, std::string_view member_kid,
                                                             const Point& t) const {
    return partial_of(group_kid, member_kid, t.bytes(), nullptr);
}

Result<RecryptionService::Partial> RecryptionService::partial(std::string_view group_kid, std::string_view member_kid,
                                                             std::span<const std::uint8_t, dare::kPointBytes> t) const {
    return partial_of(group_kid, member_kid, t, nullptr);
}

Result<CombinedToGroup> RecryptionService::combined(std::string_view group_kid, std::string_view member_kid) const {
    const std::lock_guard lock(m_);
    const auto it = entries_.find(mesh::PairKeyView(group_kid, member_kid));
    if (it == entries_.end()) return fail(Errc::not_found, "recrypt: no such member entry");
    return it->second.index;
}

const CombinedToGroup* RecryptionService::find(std::string_view group_kid, std::string_view member_kid) const {
    const std::lock_guard lock(m_);
    const auto it = entries_.find(mesh::PairKeyView(group_kid, member_kid));
    return it == entries_.end() ? nullptr : &it->second.index;
}

std::size_t RecryptionService::size() const {
    const std::lock_guard lock(m_);
    return entries_.size();
}

}  // namespace recrypt
