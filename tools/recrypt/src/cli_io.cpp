#include "cli_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace recrypt_cli {

mesh::Result<Input> Input::open(const std::string& path) {
    if (path == "-") return Input(STDIN_FILENO);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mesh::fail(mesh::Errc::io, path + ": " + std::strerror(errno));
    return Input(fd);
}

Input::~Input() {
    if (fd_ > STDIN_FILENO) ::close(fd_);
}

mesh::Result<mesh::SecureBytes> read_secret_line(std::string_view what) {
    mesh::SecureBytes line;
    for (;;) {
        std::uint8_t c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return mesh::fail(mesh::Errc::io, std::string(what) + ": " + std::strerror(errno));
        if (n == 0 || c == '\n') break;
        line.append(std::span<const std::uint8_t>(&c, 1));
        if (line.size() > 4096) {
            return mesh::fail(mesh::Errc::limit_exceeded, std::string(what) + ": longer than 4096 bytes");
        }
    }
    if (!line.empty() && line.expose_secret().back() == '\r') line.resize(line.size() - 1);
    if (line.empty()) return mesh::fail(mesh::Errc::invalid_argument, std::string(what) + ": empty");
    return line;
}

mesh::Result<void> print_line(std::string_view line) {
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() ||
        std::fputc('\n', stdout) == EOF || std::fflush(stdout) != 0) {
        return mesh::fail(mesh::Errc::io, std::string("standard output: ") + std::strerror(errno));
    }
    return mesh::ok();
}

}  // namespace recrypt_cli
