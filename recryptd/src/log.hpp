// recryptd's logs (spdlog, kept in one translation unit): text or JSON lines on standard error,
// each with the request id where there is one. Never secrets or bodies: callers pass only
// names, UDFs, statuses and sizes.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "config.hpp"

namespace recryptd::log {

enum class Level { debug, info, warn, error };

void configure(LogFormat format, std::string_view level);
/// An event, optionally tied to a request.
void event(Level level, std::string_view message, std::string_view request_id = {});

struct RequestLine {
    std::string_view request_id;
    std::string_view client;
    std::string_view method;
    std::string_view path;
    int status = 0;
    std::string_view transaction;
    std::string_view requester;
    std::chrono::nanoseconds latency{};
    std::size_t bytes_in = 0;
    std::size_t bytes_out = 0;
};
void request(const RequestLine& line);

}  // namespace recryptd::log
