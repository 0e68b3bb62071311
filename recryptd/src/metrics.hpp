// recryptd's metrics in the Prometheus text format (prometheus-cpp core: registry and
// serializer; the daemon serves GET /metrics itself).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace recryptd {

class Metrics {
public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    /// One request: its transaction ("RecryptData", "GET /healthz" ...), HTTP status, latency.
    void request(std::string_view transaction, int status, std::chrono::nanoseconds latency);
    void recryption();
    void store_appends(std::uint64_t total);
    void audit(std::uint64_t frames, std::uint64_t records_written);
    void connections(std::int64_t open);
    /// Every metric, text format 0.0.4.
    [[nodiscard]] std::string serialize() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace recryptd
