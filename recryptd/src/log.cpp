#include "log.hpp"

#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <dare/json.hpp>

namespace recryptd::log {
namespace {
LogFormat g_format = LogFormat::text;

spdlog::level::level_enum to_spd(Level l) {
    switch (l) {
        case Level::debug: return spdlog::level::debug;
        case Level::info: return spdlog::level::info;
        case Level::warn: return spdlog::level::warn;
        case Level::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

// Control characters in logged text (a hostile request id, say) are escaped.
std::string clean(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            out += '?';
        } else {
            out += c;
        }
    }
    return out;
}

void emit(Level l, dare::JsonObject fields, const std::string& text) {
    auto* logger = spdlog::default_logger_raw();
    if (!logger->should_log(to_spd(l))) return;
    if (g_format == LogFormat::json) {
        fields.insert(fields.begin(), {"level", dare::Json(level_name(l))});
        // the pattern opens the object with the time; the fields continue it
        logger->log(to_spd(l), "{}", dare::to_json(dare::Json(std::move(fields))).substr(1));
    } else {
        logger->log(to_spd(l), "{}", text);
    }
}
}  // namespace

void configure(LogFormat format, std::string_view level) {
    g_format = format;
    auto logger = std::make_shared<spdlog::logger>("recryptd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    if (format == LogFormat::json) {
        logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ",%v)", spdlog::pattern_time_type::utc);
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

void event(Level level, std::string_view message, std::string_view request_id) {
    if (!spdlog::default_logger_raw()->should_log(to_spd(level))) return;
    dare::JsonObject f{{"message", dare::Json(clean(message))}};
    if (!request_id.empty()) f.emplace_back("request_id", dare::Json(clean(request_id)));
    std::string text = clean(message);
    if (!request_id.empty()) text = "[" + clean(request_id) + "] " + text;
    emit(level, std::move(f), text);
}

void request(const RequestLine& r) {
    const Level l = r.status >= 500 ? Level::warn : Level::info;
    if (!spdlog::default_logger_raw()->should_log(to_spd(l))) return;  // before building anything
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(r.latency).count();
    dare::JsonObject f{{"request_id", dare::Json(clean(r.request_id))}, {"client", dare::Json(clean(r.client))},
                       {"method", dare::Json(clean(r.method))},         {"path", dare::Json(clean(r.path))},
                       {"status", dare::Json(static_cast<std::int64_t>(r.status))},
                       {"transaction", dare::Json(clean(r.transaction))},
                       {"requester", dare::Json(clean(r.requester))},   {"latency_us", dare::Json(static_cast<std::int64_t>(micros))},
                       {"bytes_in", dare::Json(static_cast<std::uint64_t>(r.bytes_in))},
                       {"bytes_out", dare::Json(static_cast<std::uint64_t>(r.bytes_out))}};
    const std::string text = "[" + clean(r.request_id) + "] " + clean(r.client) + " " + clean(r.method) + " " + clean(r.path) +
                             " " + std::to_string(r.status) + " " + clean(r.transaction.empty() ? "-" : r.transaction) + " " +
                             clean(r.requester.empty() ? "-" : r.requester) + " " + std::to_string(micros) + "us " +
                             std::to_string(r.bytes_in) + "/" + std::to_string(r.bytes_out) + "B";
    emit(l, std::move(f), text);
}

}  // namespace recryptd::log
