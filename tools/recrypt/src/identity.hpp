// Who "I" am and who can be a member, for the group commands (docs/tool.md).
//
// Me: the identity that signs requests and decrypts. With --key NAME it is a key of the key
// store (recrypt key generate); else, when the store holds a profile: on the device that holds
// its master keys (unprotected), the profile itself (MemberUDF = profile UDF, its online
// signature key signs, the account encryption key decrypts); on another device, that device
// (its authentication key signs, its co-generated key decrypts, it reads through the personal
// group); else the store's only private key.
// A member (Principal) is named by a key of the store (name, key file, fingerprint), by a
// profile file (recrypt profile export), or by the UDF of a contact whose profile is held
// (recrypt contact add). A profile's member key is its account encryption key, which is also
// the key of its personal group (recrypt profile publish): its devices read through it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <dare/json.hpp>
#include <dare/keys.hpp>
#include <mesh/result.hpp>

namespace recrypt_cli {

struct Principal {
    std::string udf;      ///< MemberUDF
    std::string account;  ///< AccountName ("" if none)
    dare::SignaturePublicKey authentication;
    dare::PublicKey encryption;  ///< the member key
};

struct Me {
    Principal who;
    dare::SignaturePrivateKey authentication;
    dare::PrivateKey encryption;
    std::vector<dare::PrivateKey> more_keys;   ///< other keys held here (a profile's account key)
    std::vector<std::string> memberships;      ///< group keys I read through (my personal group)
    std::string personal_service;              ///< where my personal group is ("" if unpublished)
    bool from_profile = false;
};

/// `key_name` empty: the profile's device, else the only key.
mesh::Result<Me> whoami(const std::string& home, const std::string& key_name);

/// This profile's device itself (for the personal group's administration).
mesh::Result<Me> device_identity(const std::string& home);

/// A member named by a key of the store, a profile file, or a contact's UDF.
mesh::Result<Principal> principal_of(const std::string& home, const std::string& spec);

/// A verified exported profile as a member.
mesh::Result<Principal> principal_of_profile(const dare::Json& signed_personal, const std::string& where);

}  // namespace recrypt_cli
