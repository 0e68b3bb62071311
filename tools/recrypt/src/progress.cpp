#include "progress.hpp"

#include <cstdio>

#include <unistd.h>

namespace recrypt_cli {

Progress::Progress(std::string label, std::uint64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(::isatty(STDERR_FILENO) == 1 && (total == 0 || total >= (std::uint64_t{16} << 20))),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { done(); }

void Progress::advance(std::uint64_t bytes) {
    done_ += bytes;
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    draw();
}

void Progress::draw() {
    const double secs = std::chrono::duration<double>(last_ - start_).count();
    const double mbps = secs > 0 ? static_cast<double>(done_) / 1e6 / secs : 0;
    if (total_ > 0) {
        const double frac = static_cast<double>(done_) / static_cast<double>(total_);
        const int width = 30;
        const int fill = static_cast<int>(frac * width + 0.5);
        std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %.0f MB/s", label_.c_str(), fill,
                     "##############################", width - fill, "", static_cast<int>(frac * 100), mbps);
    } else {
        std::fprintf(stderr, "\r%s %.0f MB %.0f MB/s", label_.c_str(), static_cast<double>(done_) / 1e6, mbps);
    }
    std::fflush(stderr);
}

void Progress::done() {
    if (!enabled_ || cleared_) return;
    cleared_ = true;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
}

}  // namespace recrypt_cli
