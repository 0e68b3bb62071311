// meshprofile/escrow.hpp: escrow and recovery of a master profile's private keys (seed 003 §4.2,
// seed 004 §4.7, §5.7), docs/profiles.md.
//
// escrow() draws a 32-byte secret S, splits it k-of-n with Shamir (udf/shamir.hpp; each share a
// UDF to write down or hand to a trustee) and makes the recovery record: the master secrets in a
// DARE envelope encrypted to a ristretto255 key derived from S (HKDF-SHA-512, "mesh/escrow/v1").
// recover() needs the record and any k shares: wrong shares are refused before anything is
// decrypted (the record names the key they must give), and a changed record does not
// authenticate. The recovered secrets are checked against the record's profile UDF.
// Thread-safety: pure functions. Errors: invalid_argument (counts, not enough shares),
// auth_failed (wrong shares, a tampered record), malformed.
#pragma once

#include <string>
#include <vector>

#include <dare/json.hpp>
#include <meshprofile/profile.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>

namespace meshprofile {

struct Escrow {
    dare::Json recovery_record;       ///< {"RecoveryRecord": {...}}
    std::vector<std::string> shares;  ///< k-of-n Shamir shares as UDF text
};

mesh::Result<Escrow> escrow_master(const MasterSecrets& secrets, const std::string& profile_udf, unsigned threshold,
                                   unsigned shares, mesh::RandomSource& rng);

mesh::Result<MasterSecrets> recover_master(const dare::Json& recovery_record, const std::vector<std::string>& shares);

}  // namespace meshprofile
