// Input and output helpers of the recrypt tool: files or "-" for standard streams.
#pragma once

#include <string>
#include <string_view>

#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace recrypt_cli {

/// FILE opened for reading ("-" is standard input), closed when it goes out of scope
/// (standard input is left open).
class Input final {
public:
    static mesh::Result<Input> open(const std::string& path);
    Input(Input&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Input& operator=(Input&&) = delete;
    Input(const Input&) = delete;
    Input& operator=(const Input&) = delete;
    ~Input();
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    explicit Input(int fd) : fd_(fd) {}
    int fd_;
};
/// Reads one secret line from standard input (the trailing newline removed).
mesh::Result<mesh::SecureBytes> read_secret_line(std::string_view what);
/// Writes one line to standard output; io error if stdout fails (e.g. a closed pipe).
mesh::Result<void> print_line(std::string_view line);

}  // namespace recrypt_cli
