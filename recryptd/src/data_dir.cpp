#include "data_dir.hpp"

#include <chrono>

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/files.hpp>
#include <mesh/random.hpp>
#include <mesh/secure.hpp>

namespace recryptd {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Result<DataDir> open_data_dir(const std::string& path) {
    MESH_ASSIGN_OR_RETURN(const bool created, mesh::ensure_private_dir(path));
    MESH_TRY(mesh::ensure_private_dir(path + "/keys"));
    const std::string lock = path + "/lock";
    const int lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return fail(Errc::io, os_error(lock));
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd);
        return fail(Errc::already_exists, path + ": in use by another recryptd");
    }
    const std::string key_file = path + "/keys/service.json";
    auto text = mesh::read_file(key_file, 65536, true);
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
        auto w = mesh::write_file_atomic(key_file, body, 0600);
        mesh::secure_wipe(body.data(), body.size());
        MESH_TRY(w);
        text = mesh::read_file(key_file, 65536, true);
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
    MESH_TRY(mesh::write_file_atomic(path + "/service.pub.json", pub, 0644));
    return DataDir{path, std::move(storage_key).value(), std::move(signing_key).value(), lock_fd, created};
}

std::uint64_t SpaceReserve::free_bytes() const {
    struct statvfs v {};
    if (::statvfs(dir_.c_str(), &v) != 0) return 0;
    return static_cast<std::uint64_t>(v.f_bavail) * static_cast<std::uint64_t>(v.f_frsize);
}

Result<void> SpaceReserve::check() const {
    if (reserve_ == 0) return mesh::ok();
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (now - checked_at_.load(std::memory_order_relaxed) >= 50) {
        free_.store(free_bytes(), std::memory_order_relaxed);
        checked_at_.store(now, std::memory_order_relaxed);
    }
    const std::uint64_t free = free_.load(std::memory_order_relaxed);
    if (free >= reserve_) return mesh::ok();
    return fail(Errc::limit_exceeded, "the data directory's disk is full (" + std::to_string(free) + " bytes free, " +
                                          std::to_string(reserve_) + " kept in reserve)");
}

}  // namespace recryptd
