#include <meshprofile/escrow.hpp>

#include <algorithm>

#include <dare/envelope.hpp>
#include <mesh/hash.hpp>
#include <recrypt/scalar.hpp>
#include <udf/shamir.hpp>
#include <udf/udf.hpp>

namespace meshprofile {
using dare::Json;
using dare::JsonObject;
using dare::ObjectReader;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr std::string_view kRecoveryType = "application/mmm-recovery-record";

// A RandomSource that yields given bytes once: turns 64 derived bytes into a scalar with
// Scalar::random's reduction.
class Derived final : public mesh::RandomSource {
public:
    explicit Derived(mesh::SecureBytes bytes) : bytes_(std::move(bytes)) {}
    void fill(std::span<std::uint8_t> out) override {
        const auto src = bytes_.expose_secret();
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), out.begin());
        used_ += out.size();
    }

private:
    mesh::SecureBytes bytes_;
    std::size_t used_ = 0;
};

Result<dare::PrivateKey> key_from_secret(std::span<const std::uint8_t> secret) {
    auto okm = mesh::hkdf(mesh::HkdfHash::sha512, mesh::as_bytes(std::string_view("mesh/escrow/salt")), secret,
                          mesh::as_bytes(std::string_view("mesh/escrow/v1")), 64);
    if (!okm) return std::move(okm).error();
    Derived source(std::move(okm).value());
    return recrypt::Scalar::random(source).to_private_key();
}
}  // namespace

Result<Escrow> escrow_master(const MasterSecrets& secrets, const std::string& profile_udf, unsigned threshold, unsigned shares,
                             mesh::RandomSource& rng) {
    if (threshold < 2 || threshold > shares || shares > udf::kMaxShares) {
        return fail(Errc::invalid_argument, "escrow: need 2 <= threshold <= shares <= " + std::to_string(udf::kMaxShares));
    }
    if (secrets.offline_signature.public_key().kid() != profile_udf) {
        return fail(Errc::invalid_argument, "escrow: the secrets are not those of profile " + profile_udf);
    }
    mesh::SecretArray<32> s;
    rng.fill(s.expose_secret_mut());
    MESH_ASSIGN_OR_RETURN(const dare::PrivateKey key, key_from_secret(s.expose_secret()));
    MESH_ASSIGN_OR_RETURN(const auto parts, udf::shamir_split(s.expose_secret(), threshold, shares, rng));
    dare::EncodeOptions o;
    o.recipients = {key.public_key()};
    o.meta = dare::ContentMeta::of_type(std::string(kRecoveryType));
    std::string text = dare::to_json(master_secrets_to_json(secrets));
    auto env = dare::encode_value(o, rng, mesh::as_bytes(text));
    mesh::secure_wipe(text.data(), text.size());
    if (!env) return std::move(env).error();
    Escrow out;
    out.recovery_record = Json(JsonObject{{"RecoveryRecord", Json(JsonObject{{"ProfileUDF", Json(profile_udf)},
                                                                            {"Threshold", Json(static_cast<std::uint64_t>(threshold))},
                                                                            {"Shares", Json(static_cast<std::uint64_t>(shares))},
                                                                            {"KeyUDF", Json(key.public_key().kid())},
                                                                            {"Envelope", std::move(env).value()}})}});
    for (const auto& p : parts) out.shares.push_back(udf::present_full(p.expose_secret()));
    return out;
}

Result<MasterSecrets> recover_master(const Json& record, const std::vector<std::string>& shares) {
    const std::string where = "recovery record";
    MESH_ASSIGN_OR_RETURN(ObjectReader outer, ObjectReader::open(record, where));
    MESH_ASSIGN_OR_RETURN(const Json* inner, outer.value("RecoveryRecord"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::open(*inner, where));
    MESH_ASSIGN_OR_RETURN(const std::string udf_text, r.string("ProfileUDF", 128));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t threshold, r.uint("Threshold", udf::kMaxThreshold));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t count, r.uint("Shares", udf::kMaxShares));
    MESH_ASSIGN_OR_RETURN(const std::string key_udf, r.string("KeyUDF", 128));
    MESH_ASSIGN_OR_RETURN(const Json* env, r.value("Envelope"));
    MESH_TRY(r.finish());
    (void)count;
    if (shares.size() < threshold) {
        return fail(Errc::invalid_argument, "recovery needs " + std::to_string(threshold) + " shares, " + std::to_string(shares.size()) + " given");
    }
    std::vector<mesh::SecureBytes> parts;
    for (std::size_t i = 0; i < shares.size(); ++i) {
        auto p = udf::parse_share(shares[i]);
        if (!p) return fail(p.error().code, "share " + std::to_string(i + 1) + ": " + p.error().message);
        parts.push_back(std::move(p).value());
    }
    auto secret = udf::shamir_recover(parts);
    if (!secret) return fail(Errc::auth_failed, "the shares do not fit together: " + secret.error().message);
    MESH_ASSIGN_OR_RETURN(const dare::PrivateKey key, key_from_secret(secret->expose_secret()));
    if (key.public_key().kid() != key_udf) return fail(Errc::auth_failed, "these shares are not for this recovery record");
    dare::PrivateKeyAgreement keys;
    keys.add(key);
    auto d = dare::decode_value(*env, dare::OpenOptions{&keys, {}, false});
    if (!d) return fail(Errc::auth_failed, where + ": does not decrypt (" + d.error().message + ")");
    if (!d->info.meta || d->info.meta->content_type != kRecoveryType) return fail(Errc::malformed, where + ": not a recovery record");
    const auto& p = d->payload.expose_secret();
    MESH_ASSIGN_OR_RETURN(const Json j, dare::parse_json(std::string_view(reinterpret_cast<const char*>(p.data()), p.size())));
    MESH_ASSIGN_OR_RETURN(MasterSecrets s, master_secrets_from_json(j, where));
    if (s.offline_signature.public_key().kid() != udf_text) return fail(Errc::auth_failed, where + ": the keys are not profile " + udf_text + "'s");
    return s;
}

}  // namespace meshprofile
