#include "data_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/random.hpp>
#include <mesh/secure.hpp>

namespace recryptd {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<bool> private_dir(const std::string& dir) {
    bool created = false;
    if (::mkdir(dir.c_str(), 0700) == 0) {
        created = true;
    } else if (errno != EEXIST) {
        return fail(Errc::io, os_error(dir));
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail(Errc::io, os_error(dir));
    if (!S_ISDIR(st.st_mode)) return fail(Errc::invalid_argument, dir + ": not a directory");
    if (st.st_uid != ::geteuid()) return fail(Errc::permission_denied, dir + ": owned by another user");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
        return fail(Errc::permission_denied, dir + ": others may access it (mode " + mode + "); chmod 700 it");
    }
    return created;
}

Result<void> write_new_file(const std::string& path, std::string_view data, mode_t mode) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return fail(Errc::io, os_error(tmp));
    const bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return fail(Errc::io, os_error(path));
    }
    return mesh::ok();
}

Result<std::string> read_private_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return fail(errno == ENOENT ? Errc::not_found : Errc::io, os_error(path));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size > 65536) {
        ::close(fd);
        return fail(Errc::malformed, path + ": not a key file");
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        return fail(Errc::permission_denied, path + ": others may read it; chmod 600 it");
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    const bool ok = ::read(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) return fail(Errc::io, os_error(path));
    return text;
}
}  // namespace

Result<DataDir> open_data_dir(const std::string& path) {
    MESH_ASSIGN_OR_RETURN(const bool created, private_dir(path));
    MESH_TRY(private_dir(path + "/keys"));
    const std::string lock = path + "/lock";
    const int lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return fail(Errc::io, os_error(lock));
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd);
        return fail(Errc::already_exists, path + ": in use by another recryptd");
    }
    const std::string key_file = path + "/keys/service.json";
    auto text = read_private_file(key_file);
    if (!text && text.error().code == Errc::not_found) {
        mesh::RandomSource& rng = mesh::system_random();
        const auto storage = dare::PrivateKey::generate(rng);
        mesh::SecretArray<32> seed;
        rng.fill(seed.expose_secret_mut());
        const auto signing = dare::SignaturePrivateKey::from_seed(seed.expose_secret()).value();
        std::string body = dare::to_json_pretty(dare::Json(dare::JsonObject{
            {"RecryptdServiceKeys", dare::Json(dare::JsonObject{
                                        {"StorageKey", dare::Json(mesh::base64url_encode(storage.expose_secret()))},
                                        {"SigningSeed", dare::Json(mesh::base64url_encode(seed.expose_secret()))}})}}));
        auto w = write_new_file(key_file, body, 0600);
        mesh::secure_wipe(body.data(), body.size());
        MESH_TRY(w);
        text = read_private_file(key_file);
    }
    if (!text) {
        ::close(lock_fd);
        return std::move(text).error();
    }
    auto parsed = dare::parse_json(*text);
    mesh::secure_wipe(text->data(), text->size());
    if (!parsed) return fail(Errc::malformed, key_file + ": " + parsed.error().message);
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader outer, dare::ObjectReader::open(*parsed, key_file));
    MESH_ASSIGN_OR_RETURN(const dare::Json* inner, outer.value("RecryptdServiceKeys"));
    MESH_TRY(outer.finish());
    MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(*inner, key_file + ".RecryptdServiceKeys"));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes storage, r.fixed_bytes("StorageKey", 32));
    MESH_ASSIGN_OR_RETURN(mesh::Bytes seed, r.fixed_bytes("SigningSeed", 32));
    MESH_TRY(r.finish());
    auto storage_key = dare::PrivateKey::from_bytes(storage);
    auto signing_key = dare::SignaturePrivateKey::from_seed(seed);
    mesh::secure_wipe(storage.data(), storage.size());
    mesh::secure_wipe(seed.data(), seed.size());
    if (!storage_key || !signing_key) return fail(Errc::malformed, key_file + ": invalid key");
    // the public halves, for auditors and operators
    const std::string pub = dare::to_json_pretty(dare::Json(dare::JsonObject{
        {"RecryptdServicePublicKeys",
         dare::Json(dare::JsonObject{{"StorageKey", dare::Json(mesh::base64url_encode(storage_key->public_key().bytes()))},
                                     {"SigningKey", dare::Json(mesh::base64url_encode(signing_key->public_key().bytes()))},
                                     {"SigningKeyUDF", dare::Json(signing_key->public_key().kid())}})}})) + "\n";
    MESH_TRY(write_new_file(path + "/service.pub.json", pub, 0644));
    return DataDir{path, std::move(storage_key).value(), std::move(signing_key).value(), lock_fd, created};
}

}  // namespace recryptd
