// meshprofile/profile.hpp: Mesh profiles (seed 003 §3, §10; seed 004 §3-5), docs/profiles.md.
//
// Every profile is a signed DARE envelope (JSON form) whose payload is the profile's JSON:
// - ProfileMaster: the offline (master) signature key, the online signature keys, the escrow
//   keys and the account's encryption key; signed by the offline key. Its UDF (the identity) is
//   the UDF of the offline signature key.
// - ProfileDevice: a device's own keys (signature, encryption, authentication); self-signed.
// - ConnectionDevice: binds a device to a master profile with the keys the device will use: the
//   encryption key is co-generated (seed 004 §5.4): the device's own key plus a contribution
//   the administration device draws, so the key installed by a manufacturer alone opens
//   nothing. Signed by an online key of the master profile.
// - ProfilePersonal: the master profile, its devices with their connections, and application
//   entries; signed by an online key.
// verify_*() check every signature and every link and say which link is broken.
// Keys are ristretto255 (encryption) and Ed25519 (signature, authentication).
// Thread-safety: values and pure functions. Errors: malformed (syntax), auth_failed (a
// signature or a link), invalid_argument.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <dare/json.hpp>
#include <dare/keys.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>

namespace meshprofile {

inline constexpr std::string_view kMasterType = "application/mmm-profile-master";
inline constexpr std::string_view kDeviceType = "application/mmm-profile-device";
inline constexpr std::string_view kConnectionType = "application/mmm-connection-device";
inline constexpr std::string_view kPersonalType = "application/mmm-profile-personal";

struct ProfileMaster {
    dare::SignaturePublicKey offline_signature;
    std::vector<dare::SignaturePublicKey> online_signatures;
    std::vector<dare::PublicKey> escrow;
    dare::PublicKey encryption;
    std::string created;  ///< RFC 3339
    /// The identity: UDF of the offline signature key.
    [[nodiscard]] std::string udf() const { return offline_signature.kid(); }
};

struct ProfileDevice {
    dare::SignaturePublicKey signature;
    dare::PublicKey encryption;
    dare::SignaturePublicKey authentication;
    std::string description;
    [[nodiscard]] std::string udf() const { return signature.kid(); }
};

struct ConnectionDevice {
    std::string profile_udf;             ///< the master profile
    std::string device_udf;              ///< the device profile
    dare::PublicKey encryption;          ///< co-generated: device key + contribution
    dare::PublicKey contribution;        ///< the administration device's public contribution E
    dare::SignaturePublicKey authentication;
};

struct Application {
    std::string name;
    dare::Json data;
};

/// The private halves a master profile's holder keeps (and escrows).
struct MasterSecrets {
    dare::SignaturePrivateKey offline_signature;
    std::vector<dare::SignaturePrivateKey> online_signatures;
    std::vector<dare::PrivateKey> escrow;
    dare::PrivateKey encryption;
};

struct DeviceSecrets {
    dare::SignaturePrivateKey signature;
    dare::PrivateKey encryption;  ///< the device's own key (before co-generation)
    dare::SignaturePrivateKey authentication;
};

/// A new master profile with one online and one escrow key.
struct NewMaster {
    ProfileMaster profile;
    MasterSecrets secrets;
    dare::Json signed_profile;  ///< the signed envelope
};
mesh::Result<NewMaster> create_master(mesh::RandomSource& rng, std::string created);

struct NewDevice {
    ProfileDevice profile;
    DeviceSecrets secrets;
    dare::Json signed_profile;
};
mesh::Result<NewDevice> create_device(std::string description, mesh::RandomSource& rng);

/// Co-generation, administration side: draws the contribution e for `device`, and returns the
/// signed ConnectionDevice and the contribution sealed to the device's own encryption key
/// (a DARE envelope only the device can open).
struct Connection {
    ConnectionDevice connection;
    dare::Json signed_connection;
    dare::Json sealed_contribution;
};
mesh::Result<Connection> connect_device(const ProfileMaster& master, const MasterSecrets& secrets,
                                        const ProfileDevice& device, mesh::RandomSource& rng);

/// Co-generation, device side: opens the contribution and returns the combined private key
/// (d + e); checks that its public key is the one the connection states.
mesh::Result<dare::PrivateKey> complete_connection(const DeviceSecrets& device, const ConnectionDevice& connection,
                                                   const dare::Json& sealed_contribution);

struct ConnectedDevice {
    dare::Json signed_device;
    dare::Json signed_connection;
};

/// The personal profile envelope: master + devices + applications, signed by an online key.
mesh::Result<dare::Json> sign_personal(const dare::Json& signed_master, const std::vector<ConnectedDevice>& devices,
                                       const std::vector<Application>& applications, const MasterSecrets& secrets,
                                       mesh::RandomSource& rng);

// ---- verification -----------------------------------------------------------------------------

mesh::Result<ProfileMaster> verify_master(const dare::Json& signed_master);
mesh::Result<ProfileDevice> verify_device(const dare::Json& signed_device);
/// Checks the connection's signature by an online key of `master` and its links to `device`.
mesh::Result<ConnectionDevice> verify_connection(const dare::Json& signed_connection, const ProfileMaster& master,
                                                 const ProfileDevice& device);

struct PersonalProfile {
    ProfileMaster master;
    dare::Json signed_master;
    struct Device {
        ProfileDevice device;
        ConnectionDevice connection;
        ConnectedDevice signed_parts;
    };
    std::vector<Device> devices;
    std::vector<Application> applications;
    [[nodiscard]] std::string udf() const { return master.udf(); }
};
/// The whole chain: the master self-signed, the personal profile signed by one of its online
/// keys, every device self-signed and connected by an online key.
mesh::Result<PersonalProfile> verify_personal(const dare::Json& signed_personal);

// ---- secrets as JSON (for the store and the recovery record) ---------------------------------
dare::Json master_secrets_to_json(const MasterSecrets& s);
mesh::Result<MasterSecrets> master_secrets_from_json(const dare::Json& j, const std::string& where);
dare::Json device_secrets_to_json(const DeviceSecrets& s);
mesh::Result<DeviceSecrets> device_secrets_from_json(const dare::Json& j, const std::string& where);

}  // namespace meshprofile
