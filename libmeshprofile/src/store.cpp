#include <meshprofile/store.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mesh/bytes.hpp>
#include <mesh/files.hpp>

namespace meshprofile {
using dare::Json;
using dare::JsonObject;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<void> check_name(const std::string& name) {
    if (name.empty() || name.size() > 200 || name.front() == '/' || name.find("..") != std::string::npos ||
        name.find('\0') != std::string::npos) {
        return fail(Errc::invalid_argument, "store: bad file name '" + name.substr(0, 64) + "'");
    }
    return mesh::ok();
}

// The exclusive writer lock, held for one write.
class Lock {
public:
    static Result<Lock> take(const std::string& home) {
        const std::string path = home + "/lock";
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) return fail(Errc::io, os_error(path));
        for (int i = 0; i < 100; ++i) {
            if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Lock(fd);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ::close(fd);
        return fail(Errc::limit_exceeded, home + ": the store is busy (another recrypt is writing); try again");
    }
    Lock(Lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Lock& operator=(Lock&&) = delete;
    ~Lock() {
        if (fd_ >= 0) ::close(fd_);  // closing releases the flock
    }

private:
    explicit Lock(int fd) : fd_(fd) {}
    int fd_;
};
}  // namespace

KdfLimits kdf_limits() noexcept {
    if (std::getenv("RECRYPT_FAST_KDF") != nullptr) return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

Result<std::string> ProfileStore::directory(const std::string& home) {
    if (!home.empty()) return home;
    if (const char* h = std::getenv("RECRYPT_HOME"); h != nullptr && *h != '\0') return std::string(h);
    if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/recrypt";
    if (const char* hm = std::getenv("HOME"); hm != nullptr && *hm != '\0') return std::string(hm) + "/.local/share/recrypt";
    return fail(Errc::invalid_argument, "no profile store: set RECRYPT_HOME or HOME");
}

Result<ProfileStore> ProfileStore::open(const std::string& home) {
    MESH_ASSIGN_OR_RETURN(const std::string dir, directory(home));
    MESH_TRY(mesh::ensure_private_dir(dir));
    return ProfileStore(dir);
}

bool ProfileStore::exists(const std::string& name) const { return check_name(name) && ::access((home_ + "/" + name).c_str(), F_OK) == 0; }

Result<void> ProfileStore::write_file(const std::string& name, std::string_view data) const {
    MESH_TRY(check_name(name));
    MESH_ASSIGN_OR_RETURN(const Lock lock, Lock::take(home_));
    const std::string path = home_ + "/" + name;
    const auto slash = path.rfind('/');
    const std::string dir = path.substr(0, slash);
    if (dir != home_) MESH_TRY(mesh::ensure_private_dir(dir));
    return mesh::write_file_atomic(path, data, 0600);
}

Result<std::string> ProfileStore::read_file(const std::string& name) const {
    MESH_TRY(check_name(name));
    const bool shared = name.starts_with("contacts/") || name.starts_with("devices/") || name.starts_with("public/") ||
                        name == "profile/personal.json";
    return mesh::read_file(home_ + "/" + name, std::size_t{4} << 20, !shared);
}

Result<void> ProfileStore::write_public(const std::string& name, const Json& value) const {
    return write_file(name, dare::to_json_pretty(value) + "\n");
}

Result<Json> ProfileStore::read_public(const std::string& name) const {
    MESH_ASSIGN_OR_RETURN(const std::string text, read_file(name));
    auto j = dare::parse_json(text, dare::JsonLimits{std::size_t{4} << 20, 64});
    if (!j) return fail(j.error().code, home_ + "/" + name + ": " + j.error().message);
    return j;
}

Result<void> ProfileStore::write_secret(const std::string& name, const Json& value, const std::optional<mesh::SecureBytes>& passphrase) const {
    std::string text = dare::to_json(value);
    if (!passphrase) {
        auto w = write_file(name, text);
        mesh::secure_wipe(text.data(), text.size());
        return w;
    }
    const KdfLimits limits = kdf_limits();
    std::array<std::uint8_t, crypto_pwhash_SALTBYTES> salt{};
    std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
    randombytes_buf(salt.data(), salt.size());
    randombytes_buf(nonce.data(), nonce.size());
    mesh::SecretArray<32> key;
    const auto pw = passphrase->expose_secret();
    if (crypto_pwhash(key.expose_secret_mut().data(), 32, reinterpret_cast<const char*>(pw.data()), pw.size(), salt.data(), limits.ops,
                      limits.mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        mesh::secure_wipe(text.data(), text.size());
        return fail(Errc::io, "passphrase: out of memory for Argon2id");
    }
    mesh::Bytes sealed(text.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), &len, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                               reinterpret_cast<const std::uint8_t*>(name.data()), name.size(), nullptr, nonce.data(),
                                               key.expose_secret().data());
    mesh::secure_wipe(text.data(), text.size());
    const Json wrapped(JsonObject{{"Protected", Json(JsonObject{{"kdf", Json("argon2id13")},
                                                               {"ops", Json(static_cast<std::uint64_t>(limits.ops))},
                                                               {"mem", Json(static_cast<std::uint64_t>(limits.mem))},
                                                               {"salt", Json(mesh::base64url_encode(salt))},
                                                               {"nonce", Json(mesh::base64url_encode(nonce))},
                                                               {"data", Json(mesh::base64url_encode(sealed))}})}});
    return write_file(name, dare::to_json_pretty(wrapped) + "\n");
}

Result<bool> ProfileStore::is_protected(const std::string& name) const {
    MESH_ASSIGN_OR_RETURN(const std::string text, read_file(name));
    auto j = dare::parse_json(text);
    return j && j->is_object() && !j->as_object().empty() && j->as_object()[0].first == "Protected";
}

Result<Json> ProfileStore::read_secret(const std::string& name, const std::optional<mesh::SecureBytes>& passphrase) const {
    MESH_ASSIGN_OR_RETURN(std::string text, read_file(name));
    auto j = dare::parse_json(text, dare::JsonLimits{std::size_t{4} << 20, 64});
    mesh::secure_wipe(text.data(), text.size());
    const std::string where = home_ + "/" + name;
    if (!j) return fail(j.error().code, where + ": " + j.error().message);
    if (!j->is_object() || j->as_object().empty() || j->as_object()[0].first != "Protected") return j;
    if (!passphrase) return fail(Errc::invalid_argument, where + ": protected by a passphrase; give it");
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader outer, dare::ObjectReader::open(*j, where));
    MESH_ASSIGN_OR_RETURN(const Json* inner, outer.value("Protected"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(*inner, where + ".Protected"));
    MESH_ASSIGN_OR_RETURN(const std::string kdf, r.string("kdf", 32));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t ops, r.uint("ops", crypto_pwhash_OPSLIMIT_SENSITIVE));
    MESH_ASSIGN_OR_RETURN(const std::uint64_t mem, r.uint("mem", crypto_pwhash_MEMLIMIT_SENSITIVE));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes salt, r.fixed_bytes("salt", crypto_pwhash_SALTBYTES));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes nonce, r.fixed_bytes("nonce", crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));
    MESH_ASSIGN_OR_RETURN(const mesh::Bytes sealed, r.bytes("data", std::size_t{4} << 20));
    MESH_TRY(r.finish());
    if (kdf != "argon2id13" || ops < crypto_pwhash_OPSLIMIT_MIN || mem < crypto_pwhash_MEMLIMIT_MIN ||
        sealed.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        return fail(Errc::malformed, where + ": unsupported protection");
    }
    mesh::SecretArray<32> key;
    const auto pw = passphrase->expose_secret();
    if (crypto_pwhash(key.expose_secret_mut().data(), 32, reinterpret_cast<const char*>(pw.data()), pw.size(), salt.data(), ops,
                      static_cast<std::size_t>(mem), crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return fail(Errc::io, "passphrase: out of memory for Argon2id");
    }
    mesh::SecureBytes plain(sealed.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.expose_secret_mut().data(), &len, nullptr, sealed.data(), sealed.size(),
                                                   reinterpret_cast<const std::uint8_t*>(name.data()), name.size(), nonce.data(),
                                                   key.expose_secret().data()) != 0) {
        return fail(Errc::auth_failed, where + ": wrong passphrase");
    }
    const auto p = plain.expose_secret();
    return dare::parse_json(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()), dare::JsonLimits{std::size_t{4} << 20, 64});
}

Result<void> ProfileStore::remove(const std::string& name) const {
    MESH_TRY(check_name(name));
    MESH_ASSIGN_OR_RETURN(const Lock lock, Lock::take(home_));
    const std::string path = home_ + "/" + name;
    if (::unlink(path.c_str()) != 0) return fail(errno == ENOENT ? Errc::not_found : Errc::io, os_error(path));
    return mesh::ok();
}

std::vector<std::string> ProfileStore::list(const std::string& subdir) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(home_ + "/" + subdir, ec)) {
        const std::string n = e.path().filename().string();
        if (n.ends_with(".json")) out.push_back(n.substr(0, n.size() - 5));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace meshprofile
