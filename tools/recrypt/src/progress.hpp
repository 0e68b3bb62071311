// A progress bar on stderr for long work, shown only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace recrypt_cli {

class Progress final {
public:
    /// `total` bytes expected (0: unknown). Silent unless stderr is a terminal and the work is
    /// at least 16 MiB (or of unknown size).
    Progress(std::string label, std::uint64_t total);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void advance(std::uint64_t bytes);
    /// Clears the line.
    void done();

private:
    void draw();
    std::string label_;
    std::uint64_t total_;
    std::uint64_t done_ = 0;
    bool enabled_;
    bool cleared_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_;
};

}  // namespace recrypt_cli
