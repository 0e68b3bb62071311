#include <mesh/files.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesh {
namespace {
std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }
}  // namespace

Result<bool> ensure_private_dir(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail(Errc::io, os_error(dir));
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) return fail(Errc::io, dir + ": " + ec.message());
        if (::chmod(dir.c_str(), 0700) != 0) return fail(Errc::io, os_error(dir));
        return true;
    }
    if (!S_ISDIR(st.st_mode)) return fail(Errc::invalid_argument, dir + ": not a directory");
    if (st.st_uid != ::geteuid()) return fail(Errc::permission_denied, dir + ": belongs to another user");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
        return fail(Errc::permission_denied, dir + ": others may access it (mode " + mode + "); chmod 700 it");
    }
    return false;
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return fail(Errc::io, os_error(tmp));
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const auto err = fail(Errc::io, os_error(tmp));
            ::close(fd);
            ::unlink(tmp.c_str());
            return err;
        }
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return fail(Errc::io, os_error(tmp));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const auto err = fail(Errc::io, os_error(path));
        ::unlink(tmp.c_str());
        return err;
    }
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return ok();
}

Result<std::string> read_file(const std::string& path, std::size_t limit, bool private_only) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (private_only ? O_NOFOLLOW : 0));
    if (fd < 0) return fail(errno == ENOENT ? Errc::not_found : Errc::io, os_error(path));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const auto err = fail(Errc::io, os_error(path));
        ::close(fd);
        return err;
    }
    if (private_only && (st.st_mode & 077) != 0) {
        ::close(fd);
        return fail(Errc::permission_denied, path + ": others may read it; chmod 600 it");
    }
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const auto err = fail(Errc::io, os_error(path));
            ::close(fd);
            return err;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) {
            ::close(fd);
            return fail(Errc::limit_exceeded, path + ": larger than " + std::to_string(limit) + " bytes");
        }
    }
    ::close(fd);
    return out;
}

}  // namespace mesh
