#include <dare/sequence.hpp>

#include <algorithm>

namespace dare::sequence {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
constexpr std::uint8_t kFrameTag = 0xF4;
constexpr std::uint8_t kRecordTag = 0xF0;

unsigned length_code(std::uint64_t len) noexcept {
    if (len < 0x100) return 0;
    if (len < 0x10000) return 1;
    if (len < (std::uint64_t{1} << 32)) return 2;
    return 3;
}

void put_length(mesh::Bytes& out, std::uint64_t len, unsigned code, bool reversed) {
    const unsigned n = 1U << code;
    for (unsigned i = 0; i < n; ++i) {
        const unsigned shift = reversed ? 8 * i : 8 * (n - 1 - i);
        out.push_back(static_cast<std::uint8_t>(len >> shift));
    }
}

mesh::Error bad(std::string what, std::uint64_t at) {
    return mesh::Error{Errc::malformed, "sequence: " + std::move(what) + " at offset " + std::to_string(at)};
}

// Records inside a frame's content: two or three.
Result<void> split_records(std::span<const std::uint8_t> content, std::uint64_t base, FrameView& f) {
    std::vector<std::span<const std::uint8_t>> recs;
    std::size_t pos = 0;
    while (pos < content.size()) {
        const std::uint8_t tag = content[pos];
        if ((tag & 0xFC) != kRecordTag) return bad("expected a record tag", base + pos);
        const std::size_t n = std::size_t{1} << (tag & 3U);
        if (content.size() - pos - 1 < n) return bad("record length runs past the frame", base + pos);
        std::uint64_t len = 0;
        for (std::size_t i = 0; i < n; ++i) len = (len << 8) | content[pos + 1 + i];
        pos += 1 + n;
        if (len > content.size() - pos) return bad("record runs past the frame", base + pos);
        recs.push_back(content.subspan(pos, static_cast<std::size_t>(len)));
        pos += static_cast<std::size_t>(len);
        if (recs.size() > 3) return bad("more than three records", base + pos);
    }
    if (recs.size() < 2) return bad("fewer than two records", base);
    f.header = recs[0];
    f.payload = recs[1];
    if (recs.size() == 3) f.trailer = recs[2];
    return mesh::ok();
}
}  // namespace

mesh::Bytes encode_frame(std::span<const std::span<const std::uint8_t>> records) {
    MESH_ASSERT(records.size() == 2 || records.size() == 3);
    mesh::Bytes content;
    for (const auto& r : records) {
        const unsigned code = length_code(r.size());
        content.push_back(static_cast<std::uint8_t>(kRecordTag + code));
        put_length(content, r.size(), code, false);
        content.insert(content.end(), r.begin(), r.end());
    }
    const unsigned code = length_code(content.size());
    const auto tag = static_cast<std::uint8_t>(kFrameTag + code);
    mesh::Bytes out;
    out.reserve(content.size() + 2 + 2 * (std::size_t{1} << code));
    out.push_back(tag);
    put_length(out, content.size(), code, false);
    out.insert(out.end(), content.begin(), content.end());
    put_length(out, content.size(), code, true);
    out.push_back(tag);
    return out;
}

Result<FrameView> read_frame(std::span<const std::uint8_t> data, std::uint64_t pos) {
    if (pos >= data.size()) return bad("no frame", pos);
    const std::uint8_t tag = data[pos];
    if ((tag & 0xFC) != kFrameTag) return bad("expected a frame tag", pos);
    const std::size_t n = std::size_t{1} << (tag & 3U);
    if (data.size() - pos - 1 < n) return bad("truncated frame length", pos);
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | data[pos + 1 + i];
    const std::uint64_t body = pos + 1 + n;
    if (len > data.size() - body || data.size() - body - len < n + 1) return bad("frame runs past the end", pos);
    const std::uint64_t tail = body + len;
    for (std::size_t i = 0; i < n; ++i) {
        if (data[tail + i] != data[pos + n - i]) return bad("trailing length does not match", tail);
    }
    if (data[tail + n] != tag) return bad("trailing tag does not match", tail + n);
    FrameView f;
    f.start = pos;
    f.end = tail + n + 1;
    MESH_TRY(split_records(data.subspan(body, static_cast<std::size_t>(len)), body, f));
    return f;
}

Result<FrameView> read_frame_before(std::span<const std::uint8_t> data, std::uint64_t end) {
    if (end == 0 || end > data.size()) return bad("no frame before", end);
    const std::uint8_t tag = data[end - 1];
    if ((tag & 0xFC) != kFrameTag) return bad("expected a trailing frame tag", end - 1);
    const std::size_t n = std::size_t{1} << (tag & 3U);
    if (end - 1 < n) return bad("truncated trailing length", end - 1);
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | data[end - 2 - i];  // reversed
    const std::uint64_t overhead = 2 + 2 * n;
    if (len > end || end - len < overhead) return bad("frame runs before the start", end);
    return read_frame(data, end - len - overhead);
}

// ---- the reference's JSON layout -------------------------------------------------------------

namespace {
void write_string(std::string& out, const std::string& s) {
    out.push_back('"');
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

// Base64url broken with "\n  " whenever the running column would pass 63.
void write_wrapped(std::string& out, const std::string& s, std::size_t column) {
    out.push_back('"');
    for (const char c : s) {
        if (column > 63) {
            out += "\n  ";
            column = 2;
        }
        out.push_back(c);
        ++column;
    }
    out.push_back('"');
}

void write_ref(std::string& out, const Json& v, std::size_t depth, const std::vector<std::string>& wrap) {
    switch (v.kind()) {
        case Json::Kind::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& [k, e] : v.as_object()) {
                if (!first) out.push_back(',');
                first = false;
                out.push_back('\n');
                out.append(2 * (depth + 1), ' ');
                write_string(out, k);
                out += ": ";
                if (e.is_string() && std::find(wrap.begin(), wrap.end(), k) != wrap.end()) {
                    write_wrapped(out, e.as_string(), 1 + 4 + k.size());
                } else {
                    write_ref(out, e, depth + 1, wrap);
                }
            }
            out.push_back('}');
            break;
        }
        case Json::Kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& e : v.as_array()) {
                if (!first) {
                    out.push_back(',');
                    out.push_back('\n');
                    out.append(2 * (depth + 1), ' ');
                }
                first = false;
                write_ref(out, e, depth + 1, wrap);
            }
            out.push_back(']');
            break;
        }
        case Json::Kind::string: write_string(out, v.as_string()); break;
        default: out += to_json(v); break;
    }
}
}  // namespace

std::string reference_json(const Json& value, const std::vector<std::string>& wrap_binary) {
    std::string out;
    write_ref(out, value, 0, wrap_binary);
    return out;
}

Result<Json> parse_reference_json(std::string_view text, const JsonLimits& limits) {
    std::string clean;
    clean.reserve(text.size());
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string && c == '\\' && i + 1 < text.size()) {
            clean.push_back(c);
            clean.push_back(text[++i]);
            continue;
        }
        if (c == '"') in_string = !in_string;
        if (in_string && (c == '\n' || c == '\r')) {
            while (i + 1 < text.size() && text[i + 1] == ' ') ++i;  // the indent after the break
            continue;
        }
        clean.push_back(c);
    }
    return parse_json(clean, limits);
}

mesh::Digest512 combine_digest(const std::optional<mesh::Digest512>& a, const std::optional<mesh::Digest512>& b) {
    const mesh::Digest512 zero{};
    return mesh::sha512({a ? std::span<const std::uint8_t>(*a) : std::span<const std::uint8_t>(zero),
                         b ? std::span<const std::uint8_t>(*b) : std::span<const std::uint8_t>(zero)});
}

std::uint64_t previous_frame(std::uint64_t n) {
    if (n == 0) return 0;
    std::uint64_t x2 = n + 1;
    std::uint64_t d = 1;
    for (;;) {
        if ((x2 & 1U) == 1U) return x2 == 1 ? d / 2 - 1 : n - d;
        d *= 2;
        x2 /= 2;
    }
}

}  // namespace dare::sequence
