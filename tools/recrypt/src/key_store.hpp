// Named keys for the recrypt tool, kept in libmeshprofile's profile store (the same directory,
// its locking, atomic writes and permission rules).
//
// $RECRYPT_HOME (or $XDG_DATA_HOME/recrypt, or ~/.local/share/recrypt) holds keys/NAME.json
// (private: a ristretto255 encryption key and an Ed25519 signature key, mode 0600) and
// public/NAME.json (imported public keys). Directories are 0700; a store that others can read
// or write is refused. Files are written atomically (temporary file, fsync, rename, fsync dir).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dare/envelope.hpp>
#include <meshprofile/store.hpp>
#include <dare/json.hpp>
#include <dare/keys.hpp>
#include <mesh/result.hpp>

namespace recrypt_cli {

struct StoredKey {
    std::string name;
    dare::PublicKey encryption;
    dare::SignaturePublicKey signature;
    std::optional<dare::PrivateKey> encryption_private;
    std::optional<dare::SignaturePrivateKey> signature_private;
};

/// The JSON of a key: {"RecryptKey": {...}} with private parts, {"RecryptPublicKey": {...}} without.
dare::Json key_to_json(const StoredKey& key, bool with_private);
mesh::Result<StoredKey> key_from_json(const dare::Json& j, const std::string& where);

class KeyStore final {
public:
    /// The store at `home` (empty: the environment's default). Creates it (0700) if absent;
    /// refuses one whose permissions let others in.
    static mesh::Result<KeyStore> open(const std::string& home);
    /// Where the store for `home` is (it may not exist).
    static mesh::Result<std::string> directory(const std::string& home);

    [[nodiscard]] const std::string& home() const noexcept { return store_.home(); }
    mesh::Result<StoredKey> generate(const std::string& name);
    mesh::Result<StoredKey> load(const std::string& name) const;
    /// Private keys first, then imported public keys.
    mesh::Result<std::vector<StoredKey>> list() const;
    mesh::Result<void> import(const StoredKey& key);
    /// A key by name, by a key file path, or by fingerprint (prefix match, 100-bit floor) of its
    /// encryption or signature key.
    mesh::Result<StoredKey> resolve(const std::string& spec) const;

private:
    explicit KeyStore(meshprofile::ProfileStore store) : store_(std::move(store)) {}
    meshprofile::ProfileStore store_;  // the profile store: locking, atomic writes, permissions
};

/// Every private key in the store can open; every key in the store can verify.
struct StoreKeys {
    std::vector<StoredKey> keys;
    dare::PrivateKeyAgreement agreement;
    [[nodiscard]] dare::SignerLookup lookup() const;
};
/// The store's keys (held behind a pointer: the lookup refers to them).
mesh::Result<std::unique_ptr<StoreKeys>> load_store_keys(const std::string& home);

/// Validates a key name: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.
mesh::Result<void> check_key_name(std::string_view name);
/// Reads a whole (small) file.
mesh::Result<std::string> read_small_file(const std::string& path, std::size_t limit = 1 << 20);
/// A JSON file (at most `limit` bytes, nesting at most `depth`): read, parsed, and the text wiped
/// (it may hold secrets). Errors name the file.
mesh::Result<dare::Json> read_json_file(const std::string& path, std::size_t limit = 1 << 20, std::size_t depth = 32);
/// The reader of `{"NAME": {...}}`'s inner object (the only member allowed); `j` must outlive it.
mesh::Result<dare::ObjectReader> open_wrapped(const dare::Json& j, std::string_view name, const std::string& where);
/// Writes a file atomically with the given mode.
mesh::Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode);

}  // namespace recrypt_cli
