// The daemon's data directory (docs/recryptd.md):
//   DIR/                 0700, created on first start
//   DIR/lock             held (flock) while a recryptd uses DIR: a second one refuses to start
//   DIR/keys/service.json  0600: the storage key (ristretto255; the groups store is encrypted
//                        to it) and the signing key (Ed25519; signs the audit log's apex)
//   DIR/service.pub.json the public halves, for auditors (`recrypt audit verify`)
//   DIR/groups.dare, DIR/audit.dare
// A directory or key file that others can read or write is refused.
// Errors: io, permission_denied (unsafe permissions), already_exists (in use), malformed (key file).
#pragma once

#include <string>

#include <dare/keys.hpp>
#include <mesh/result.hpp>

namespace recryptd {

struct DataDir {
    std::string path;
    dare::PrivateKey storage_key;
    dare::SignaturePrivateKey signing_key;
    int lock_fd = -1;  ///< held for the life of the process
    bool created = false;  ///< first start
};

mesh::Result<DataDir> open_data_dir(const std::string& path);

}  // namespace recryptd
