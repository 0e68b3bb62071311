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

#include <atomic>
#include <cstdint>
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

/// The free space kept in reserve on the data directory's filesystem (store.min_free_bytes):
/// below it, writes are refused before anything is written (503) and /readyz answers 503,
/// until space is freed. So a full disk never leaves half a batch behind. statvfs at most every
/// 50 ms (the check is on the RecryptData path). Thread-safe.
class SpaceReserve final {
public:
    SpaceReserve(std::string dir, std::uint64_t reserve) : dir_(std::move(dir)), reserve_(reserve) {}
    /// limit_exceeded (with the figures) when less than the reserve is free.
    mesh::Result<void> check() const;
    [[nodiscard]] std::uint64_t free_bytes() const;

private:
    std::string dir_;
    std::uint64_t reserve_;
    mutable std::atomic<std::int64_t> checked_at_{0};  // steady clock, ms
    mutable std::atomic<std::uint64_t> free_{0};
};

}  // namespace recryptd
