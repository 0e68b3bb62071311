#include <recrypt/recryption.hpp>

#include <algorithm>

namespace recrypt {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

GroupKey GroupKey::generate(mesh::RandomSource& rng) {
    auto k = from_scalar(Scalar::random(rng));
    MESH_ASSERT(k.has_value());  // random scalars are never zero
    return std::move(k).value();
}

Result<GroupKey> GroupKey::from_scalar(Scalar a) {
    MESH_ASSIGN_OR_RETURN(const Point p, a.public_point());
    return GroupKey(std::move(a), p);
}

Split split_key(const Scalar& a, mesh::RandomSource& rng) {
    for (;;) {
        Scalar d = Scalar::random(rng);
        Scalar r = a.sub(d);
        if (!r.is_zero()) return Split{std::move(r), std::move(d)};  // r = 0 has probability 1/l
    }
}

Result<dare::Json> seal_decryption_key(const Scalar& d, const Point& member_key, mesh::RandomSource& rng) {
    dare::EncodeOptions o;
    o.recipients = {member_key};
    o.meta = dare::ContentMeta::of_type(std::string(kDecryptionKeyType));
    return dare::encode_value(o, rng, d.expose_secret());
}

Result<UserDecryptionEntry> make_member_entry(const GroupKey& group, const Point& member_key, mesh::RandomSource& rng) {
    if (member_key == group.public_key()) return fail(Errc::invalid_argument, "recrypt: a group cannot be its own member");
    Split s = split_key(group.secret(), rng);
    MESH_ASSIGN_OR_RETURN(dare::Json e, seal_decryption_key(s.decryption, member_key, rng));
    UserDecryptionEntry entry{group.kid(), member_key.kid(), std::move(s.recryption), {}};
    entry.decryption_keys.push_back(std::move(e));
    return entry;
}

Result<dare::SharedPoint> service_partial(const Scalar& r, const Point& t) { return r.times(t); }

Result<Scalar> open_decryption_keys(const std::vector<dare::Json>& envelopes, dare::KeyAgreement& keys) {
    if (envelopes.empty()) return fail(Errc::malformed, "recrypt: no decryption key in the entry");
    std::optional<Scalar> sum;
    for (const auto& env : envelopes) {
        MESH_ASSIGN_OR_RETURN(const dare::Decoded d, dare::decode_value(env, dare::OpenOptions{&keys, {}, false}));
        if (!d.info.meta || d.info.meta->content_type != kDecryptionKeyType) {
            return fail(Errc::malformed, "recrypt: the entry's envelope is not a decryption key");
        }
        auto part = Scalar::from_bytes(d.payload.expose_secret());
        if (!part) return fail(Errc::malformed, "recrypt: the decryption key is not a valid scalar");
        sum = sum ? sum->add(*part) : std::move(part).value();
    }
    if (sum->is_zero()) return fail(Errc::malformed, "recrypt: the decryption keys sum to zero");
    return std::move(*sum);
}

Result<dare::SharedPoint> complete(const dare::SharedPoint& partial, const Scalar& d, const Point& t) {
    MESH_ASSIGN_OR_RETURN(const dare::SharedPoint mine, d.times(t));
    return add_points(partial, mine);
}

Result<std::vector<AdminShare>> split_group_key(const Scalar& a, unsigned k, unsigned n, mesh::RandomSource& rng) {
    if (k < 2 || k > n || n > 255) {
        return fail(Errc::invalid_argument, "recrypt: threshold " + std::to_string(k) + " of " + std::to_string(n) +
                                                " (2 <= k <= n <= 255)");
    }
    std::vector<Scalar> coeff;
    coeff.push_back(a.clone());
    for (unsigned i = 1; i < k; ++i) coeff.push_back(Scalar::random(rng));
    std::vector<AdminShare> out;
    for (unsigned x = 1; x <= n; ++x) {
        const Scalar sx = Scalar::from_uint(x);
        Scalar y = coeff.back().clone();  // Horner
        for (std::size_t i = coeff.size() - 1; i-- > 0;) y = y.mul(sx).add(coeff[i]);
        out.push_back(AdminShare{x, std::move(y)});
    }
    return out;
}

Result<Scalar> lagrange_at_zero(unsigned index, const std::vector<unsigned>& quorum) {
    if (std::find(quorum.begin(), quorum.end(), index) == quorum.end()) {
        return fail(Errc::invalid_argument, "recrypt: administrator " + std::to_string(index) + " not in the quorum");
    }
    std::optional<Scalar> num;
    std::optional<Scalar> den;
    for (const unsigned j : quorum) {
        if (j == index) continue;
        if (j == 0) return fail(Errc::invalid_argument, "recrypt: administrator index 0");
        if (std::count(quorum.begin(), quorum.end(), j) != 1) {
            return fail(Errc::invalid_argument, "recrypt: administrator " + std::to_string(j) + " twice in the quorum");
        }
        // λ_i = Π_j x_j / (x_j − x_i)
        const Scalar xj = Scalar::from_uint(j);
        const Scalar diff = xj.sub(Scalar::from_uint(index));
        num = num ? num->mul(xj) : xj.clone();
        den = den ? den->mul(diff) : diff.clone();
    }
    if (!num) return fail(Errc::invalid_argument, "recrypt: a quorum of one");
    MESH_ASSIGN_OR_RETURN(const Scalar inv, den->invert());
    return num->mul(inv);
}

Result<EntryContribution> contribute(const AdminShare& share, const std::vector<unsigned>& quorum,
                                     const Point& member_key, mesh::RandomSource& rng) {
    MESH_ASSIGN_OR_RETURN(const Scalar lambda, lagrange_at_zero(share.index, quorum));
    const Scalar weighted = lambda.mul(share.share);
    Split s = split_key(weighted, rng);
    MESH_ASSIGN_OR_RETURN(dare::Json e, seal_decryption_key(s.decryption, member_key, rng));
    return EntryContribution{std::move(s.recryption), std::move(e)};
}

Result<UserDecryptionEntry> combine_contributions(std::vector<EntryContribution> parts, const Point& group_key,
                                          const Point& member_key) {
    if (parts.empty()) return fail(Errc::invalid_argument, "recrypt: no contributions");
    UserDecryptionEntry entry{group_key.kid(), member_key.kid(), parts[0].recryption.clone(), {}};
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) entry.recryption_key = entry.recryption_key.add(parts[i].recryption);
        entry.decryption_keys.push_back(std::move(parts[i].decryption_key));
    }
    if (entry.recryption_key.is_zero()) return fail(Errc::invalid_argument, "recrypt: contributions sum to zero");
    return entry;
}

}  // namespace recrypt
