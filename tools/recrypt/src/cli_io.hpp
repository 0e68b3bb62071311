// Input and output helpers of the recrypt tool: files or "-" for standard streams.
#pragma once

#include <string>
#include <string_view>

#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace dare {
struct EncodeOptions;
struct OpenOptions;
}  // namespace dare

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

/// Streams FILE ("-": standard input) into an envelope at `output` (empty: FILE.dare; "-":
/// standard output, refused on a terminal): constant memory, a progress bar on a terminal, the
/// output appearing only when complete. `o.meta` gets the file name and time.
mesh::Result<void> encode_file(dare::EncodeOptions o, const std::string& file, const std::string& output, bool force,
                               const std::string& content_type = "application/octet-stream");
/// Streams an envelope (binary or JSON form) to `out_path` ("-": standard output), written
/// only once the whole envelope verified.
mesh::Result<void> decode_file(const dare::OpenOptions& options, const std::string& file, const std::string& out_path, bool force);

}  // namespace recrypt_cli
