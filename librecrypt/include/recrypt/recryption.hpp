// recrypt/recryption.hpp: recryption groups on ristretto255 (DESIGN §4.1; seeds 000 §3.1,
// 002 §3.1, 004 §5.6).
//
// The administrator holds the group key a (A = a·G). For a member key M it draws d and gives
// the service r = a − d and the member E(d, M), a DARE envelope only M can open. A sender
// encrypts to A with an ephemeral T; the service returns r·T; the member adds d·T; the sum is
// a·T, the shared point of the envelope's recipient entry. Because E(d, M) is an envelope to a
// ristretto255 key, M can itself be a group (nesting).
// Threshold administration: a is split k-of-n (Shamir over Z_l); any k administrators each give
// r_i = λ_i·a_i − d_i and E(d_i, M); the service sums the r_i, the member the d_i. No one party
// learns a; k−1 administrators produce an entry that does not work.
// Thread-safe (values). Errors: invalid_argument (counts, indexes), malformed, auth_failed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dare/envelope.hpp>
#include <dare/json.hpp>
#include <recrypt/scalar.hpp>

namespace recrypt {

/// Content type of a decryption-key envelope's payload (the 32-byte scalar d).
inline constexpr std::string_view kDecryptionKeyType = "application/mmm-recrypt-decryption-key";

/// The administrator's group encryption key.
class GroupKey final {
public:
    static GroupKey generate(mesh::RandomSource& rng);
    static mesh::Result<GroupKey> from_scalar(Scalar a);
    [[nodiscard]] const Point& public_key() const noexcept { return public_; }
    [[nodiscard]] std::string kid() const { return public_.kid(); }
    [[nodiscard]] const Scalar& secret() const noexcept { return a_; }
    /// The administrator's direct agreement a·T (no service needed).
    [[nodiscard]] mesh::Result<dare::SharedPoint> agree(const Point& t) const { return a_.times(t); }

private:
    GroupKey(Scalar a, Point p) : a_(std::move(a)), public_(p) {}
    Scalar a_;
    Point public_;
};

/// One UserDecryptionEntry (seed 002): what the service keeps for a (group key, member key) pair.
struct UserDecryptionEntry {
    std::string encryption_key_udf;           ///< kid(A): the group key
    std::string member_key_udf;               ///< kid(M): the member key (a device or a group)
    Scalar recryption_key;                    ///< r: for the service only
    std::vector<dare::Json> decryption_keys;  ///< E(d_i, M): one, or one per administrator
};

/// r = a − d with d random; both non-zero.
struct Split {
    Scalar recryption;
    Scalar decryption;
};
Split split_key(const Scalar& a, mesh::RandomSource& rng);

/// E(d, M): d sealed to the member key as a DARE envelope (JSON value).
mesh::Result<dare::Json> seal_decryption_key(const Scalar& d, const Point& member_key, mesh::RandomSource& rng);

/// The whole entry, by the one administrator who holds a.
mesh::Result<UserDecryptionEntry> make_member_entry(const GroupKey& group, const Point& member_key, mesh::RandomSource& rng);

/// The service's partial result r·T.
mesh::Result<dare::SharedPoint> service_partial(const Scalar& r, const Point& t);

/// Opens E(d_i, M) with `keys` and sums the d_i. auth_failed/not_found from opening; malformed
/// if a payload is not a scalar.
mesh::Result<Scalar> open_decryption_keys(const std::vector<dare::Json>& envelopes, dare::KeyAgreement& keys);

/// S = partial + d·T.
mesh::Result<dare::SharedPoint> complete(const dare::SharedPoint& partial, const Scalar& d, const Point& t);

// ---- threshold administration ----------------------------------------------------------------

struct AdminShare {
    unsigned index;  ///< x = 1..n
    Scalar share;    ///< f(x)
};

/// Shamir over Z_l: f(0) = a, degree k−1; 2 <= k <= n <= 255.
mesh::Result<std::vector<AdminShare>> split_group_key(const Scalar& a, unsigned k, unsigned n,
                                                      mesh::RandomSource& rng);
/// λ_i at 0 for `index` within the distinct `quorum` (which contains it).
mesh::Result<Scalar> lagrange_at_zero(unsigned index, const std::vector<unsigned>& quorum);

/// One administrator's part of a member entry.
struct EntryContribution {
    Scalar recryption;          ///< r_i = λ_i·a_i − d_i
    dare::Json decryption_key;  ///< E(d_i, M)
};
mesh::Result<EntryContribution> contribute(const AdminShare& share, const std::vector<unsigned>& quorum,
                                           const Point& member_key, mesh::RandomSource& rng);
/// The entry from the quorum's contributions: r = Σ r_i, the E(d_i, M) in order.
mesh::Result<UserDecryptionEntry> combine_contributions(std::vector<EntryContribution> parts, const Point& group_key,
                                                const Point& member_key);

}  // namespace recrypt
