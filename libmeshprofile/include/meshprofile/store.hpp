// meshprofile/store.hpp: the local profile store (docs/profiles.md).
//
// A directory ($RECRYPT_HOME, else $XDG_DATA_HOME/recrypt, else ~/.local/share/recrypt), mode
// 0700, files 0600, refused if others may read or write it or it belongs to someone else. Files
// are written atomically (temporary file, fsync, rename, fsync of the directory), so a crash
// leaves the old file or the new one. Writers hold an exclusive lock (flock on DIR/lock); a
// second process waits up to a few seconds, then is told the store is busy.
// Secret files may be protected by a passphrase: Argon2id (libsodium crypto_pwhash, moderate
// limits, the parameters stored) derives a key that seals the JSON with XChaCha20-Poly1305.
// Thread-safety: one ProfileStore per thread; processes are serialized by the lock.
// Errors: permission_denied (unsafe permissions), auth_failed (wrong passphrase), not_found,
// limit_exceeded (the lock stayed busy), io, malformed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <dare/json.hpp>
#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace meshprofile {

class ProfileStore final {
public:
    /// The store at `home` ("" for the environment's default); created 0700 if absent.
    static mesh::Result<ProfileStore> open(const std::string& home);
    /// Where the store for `home` is.
    static mesh::Result<std::string> directory(const std::string& home);

    [[nodiscard]] const std::string& home() const noexcept { return home_; }

    /// Public files (profiles, contacts): `name` is a relative path like "profile.json".
    mesh::Result<void> write_public(const std::string& name, const dare::Json& value) const;
    mesh::Result<dare::Json> read_public(const std::string& name) const;
    /// Secret files (0600), sealed under `passphrase` when one is given.
    mesh::Result<void> write_secret(const std::string& name, const dare::Json& value,
                                    const std::optional<mesh::SecureBytes>& passphrase) const;
    /// not_found if absent; invalid_argument if it is protected and no passphrase was given;
    /// auth_failed for a wrong passphrase.
    mesh::Result<dare::Json> read_secret(const std::string& name, const std::optional<mesh::SecureBytes>& passphrase) const;
    [[nodiscard]] bool exists(const std::string& name) const;
    /// Whether a secret file is passphrase-protected.
    mesh::Result<bool> is_protected(const std::string& name) const;
    mesh::Result<void> remove(const std::string& name) const;
    /// Files in a subdirectory, sorted.
    [[nodiscard]] std::vector<std::string> list(const std::string& subdir) const;

private:
    explicit ProfileStore(std::string home) : home_(std::move(home)) {}
    mesh::Result<void> write_file(const std::string& name, std::string_view data) const;
    mesh::Result<std::string> read_file(const std::string& name) const;
    std::string home_;
};

/// Argon2id limits for passphrases: moderate in use, interactive when RECRYPT_FAST_KDF is set
/// (tests).
struct KdfLimits {
    unsigned long long ops;
    std::size_t mem;
};
KdfLimits kdf_limits() noexcept;

}  // namespace meshprofile
