#include <dare/jsonb.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace dare {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace jsonb {

void put_tagged_length(mesh::Bytes& out, std::uint8_t base, std::uint64_t length) {
    unsigned code = 0;
    if (length >= (std::uint64_t{1} << 32)) {
        code = 3;
    } else if (length >= 0x10000) {
        code = 2;
    } else if (length >= 0x100) {
        code = 1;
    }
    out.push_back(static_cast<std::uint8_t>(base + code));
    const unsigned n = 1U << code;
    for (unsigned i = n; i-- > 0;) out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
}

Result<std::uint64_t> get_tagged_length(std::span<const std::uint8_t> in, std::size_t& pos,
                                        std::uint8_t tag) {
    const std::size_t n = std::size_t{1} << (tag & 0x03U);
    if (in.size() - pos < n) {
        return fail(Errc::malformed, "jsonb: truncated length at offset " + std::to_string(pos));
    }
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[pos + i];
    pos += n;
    if (len > in.size() - pos) {
        return fail(Errc::malformed, "jsonb: length " + std::to_string(len) + " at offset " +
                                         std::to_string(pos - n - 1) + " runs past the end");
    }
    return len;
}
}  // namespace jsonb

namespace {

// ---- big integers as decimal strings <-> big-endian magnitudes -------------------------------

// Decimal digits to a big-endian magnitude; false if not digits.
bool decimal_to_magnitude(std::string_view digits, mesh::Bytes& out) {
    if (digits.empty() || digits.size() > 200) return false;
    out.assign(1, 0);
    for (const char c : digits) {
        if (c < '0' || c > '9') return false;
        unsigned carry = static_cast<unsigned>(c - '0');
        for (std::size_t i = out.size(); i-- > 0;) {
            const unsigned v = out[i] * 10U + carry;
            out[i] = static_cast<std::uint8_t>(v & 0xFF);
            carry = v >> 8;
        }
        if (carry != 0) out.insert(out.begin(), static_cast<std::uint8_t>(carry));
    }
    const auto nz = std::find_if(out.begin(), out.end(), [](std::uint8_t b) { return b != 0; });
    out.erase(out.begin(), nz);
    return true;
}

std::string magnitude_to_decimal(std::span<const std::uint8_t> mag) {
    mesh::Bytes n(mag.begin(), mag.end());
    std::string digits;
    while (std::any_of(n.begin(), n.end(), [](std::uint8_t b) { return b != 0; })) {
        unsigned rem = 0;
        for (auto& b : n) {
            const unsigned cur = (rem << 8) | b;
            b = static_cast<std::uint8_t>(cur / 10);
            rem = cur % 10;
        }
        digits.push_back(static_cast<char>('0' + rem));
    }
    if (digits.empty()) digits = "0";
    std::reverse(digits.begin(), digits.end());
    return digits;
}

bool valid_utf8(std::span<const std::uint8_t> s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::uint8_t c = s[i];
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1FU;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0FU;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07U;
        } else {
            return false;
        }
        if (s.size() - i <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3FU);
        }
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

double half_to_double(std::uint16_t h) {
    const int exp = (h >> 10) & 0x1F;
    const int mant = h & 0x3FF;
    double v = 0;
    if (exp == 0) {
        v = std::ldexp(mant, -24);
    } else if (exp == 31) {
        v = mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    } else {
        v = std::ldexp(mant + 1024, exp - 25);
    }
    return (h & 0x8000) != 0 ? -v : v;
}

class Parser {
public:
    Parser(std::span<const std::uint8_t> in, std::size_t& pos, const JsonbLimits& limits)
        : in_(in), pos_(pos), limits_(limits) {}

    Result<Json> value(std::size_t depth) {
        if (depth > limits_.max_depth) {
            return fail(Errc::limit_exceeded, "jsonb: nesting deeper than " + std::to_string(limits_.max_depth));
        }
        MESH_ASSIGN_OR_RETURN(const std::uint8_t tag, next());
        if (tag == '{') return object(depth);
        if (tag == '[') return array(depth);
        if (tag >= 0x80 && tag <= 0x87) return chunked(tag, false);
        if (tag >= 0x88 && tag <= 0x8F) return chunked(tag, true);
        if ((tag >= 0xA0 && tag <= 0xA3) || (tag >= 0xA8 && tag <= 0xAB)) return small_integer(tag);
        if (tag == 0xA4 || tag == 0xA5 || tag == 0xA6 || tag == 0xAC) return big_integer(tag);
        if (tag == 0x90 || tag == 0x91 || tag == 0x92) return floating(tag);
        if (tag == jsonb::kTrue) return Json(true);
        if (tag == jsonb::kFalse) return Json(false);
        if (tag == jsonb::kNull) return Json();
        return bad_tag(tag);
    }

private:
    Result<std::uint8_t> next() {
        if (pos_ >= in_.size()) return fail(Errc::malformed, "jsonb: truncated at offset " + std::to_string(pos_));
        return in_[pos_++];
    }

    Result<Json> bad_tag(std::uint8_t tag) const {
        const std::string at = " at offset " + std::to_string(pos_ - 1);
        if (tag >= 0xC0 && tag <= 0xD0) return fail(Errc::unsupported, "jsonb: JSON-C tag" + at);
        if (tag == 0x94 || tag == 0x95 || (tag >= 0x96 && tag <= 0x98)) {
            return fail(Errc::unsupported, "jsonb: float format not supported" + at);
        }
        if (tag == 0xA7 || tag == 0xAD || tag == 0xAE || tag == 0xAF) {
            return fail(Errc::unsupported, "jsonb: bignum" + at);
        }
        if (tag >= 0xF0 && tag <= 0xF7) return fail(Errc::malformed, "jsonb: frame inside a value" + at);
        if (tag >= 0xF8) return fail(Errc::malformed, "jsonb: reserved tag" + at);
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02X", tag);
        return fail(Errc::malformed, std::string("jsonb: unknown tag ") + hex + at);
    }

    Result<Json> chunked(std::uint8_t tag, bool binary) {
        mesh::Bytes data;
        for (;;) {
            MESH_ASSIGN_OR_RETURN(const std::uint64_t len, jsonb::get_tagged_length(in_, pos_, tag));
            if (data.size() + len > limits_.max_bytes) {
                return fail(Errc::limit_exceeded, "jsonb: item longer than " + std::to_string(limits_.max_bytes));
            }
            data.insert(data.end(), in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                        in_.begin() + static_cast<std::ptrdiff_t>(pos_ + len));
            pos_ += len;
            const bool final_chunk = (tag & 0x04) == 0;
            if (final_chunk) break;
            MESH_ASSIGN_OR_RETURN(tag, next());
            const std::uint8_t base = binary ? jsonb::kBinary : jsonb::kString;
            if ((tag & 0xF8) != base) {
                return fail(Errc::malformed, "jsonb: chunk not followed by a chunk of the same kind at offset " +
                                                 std::to_string(pos_ - 1));
            }
        }
        if (binary) return Json(mesh::base64url_encode(data));
        if (!valid_utf8(data)) return fail(Errc::malformed, "jsonb: string is not UTF-8");
        return Json(std::string(data.begin(), data.end()));
    }

    Result<Json> small_integer(std::uint8_t tag) {
        const std::size_t n = std::size_t{1} << (tag & 0x03U);
        if (in_.size() - pos_ < n) return fail(Errc::malformed, "jsonb: truncated integer");
        std::uint64_t mag = 0;
        for (std::size_t i = 0; i < n; ++i) mag = (mag << 8) | in_[pos_ + i];
        pos_ += n;
        if (tag < 0xA8) return Json(mag);
        if (mag == 0) return Json(std::int64_t{0});
        if (mag <= std::uint64_t{1} << 63) {
            return Json(mag == std::uint64_t{1} << 63 ? std::numeric_limits<std::int64_t>::min()
                                                      : -static_cast<std::int64_t>(mag));
        }
        std::uint8_t b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(mag >> (56 - 8 * i));
        return Json::big_integer("-" + magnitude_to_decimal(b));
    }

    Result<Json> big_integer(std::uint8_t tag) {
        const std::size_t n = tag == 0xA4 || tag == 0xAC ? 16 : tag == 0xA5 ? 32 : 64;
        if (in_.size() - pos_ < n) return fail(Errc::malformed, "jsonb: truncated integer");
        const auto mag = in_.subspan(pos_, n);
        pos_ += n;
        std::string digits = magnitude_to_decimal(mag);
        if (tag == 0xAC && digits != "0") digits.insert(digits.begin(), '-');
        return Json::big_integer(std::move(digits));
    }

    Result<Json> floating(std::uint8_t tag) {
        const std::size_t n = tag == 0x90 ? 2 : tag == 0x91 ? 4 : 8;
        if (in_.size() - pos_ < n) return fail(Errc::malformed, "jsonb: truncated float");
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < n; ++i) bits = (bits << 8) | in_[pos_ + i];
        pos_ += n;
        double v = 0;
        if (n == 2) {
            v = half_to_double(static_cast<std::uint16_t>(bits));
        } else if (n == 4) {
            v = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
        } else {
            v = std::bit_cast<double>(bits);
        }
        if (!std::isfinite(v)) return fail(Errc::malformed, "jsonb: infinite or NaN number");
        return Json(v);
    }

    Result<Json> array(std::size_t depth) {
        JsonArray items;
        for (;;) {
            if (pos_ >= in_.size()) return fail(Errc::malformed, "jsonb: unterminated array");
            const std::uint8_t c = in_[pos_];
            if (c == ']') {
                ++pos_;
                return Json(std::move(items));
            }
            if (c == ',') {
                ++pos_;
                continue;
            }
            MESH_ASSIGN_OR_RETURN(Json v, value(depth + 1));
            items.push_back(std::move(v));
        }
    }

    Result<Json> object(std::size_t depth) {
        JsonObject members;
        for (;;) {
            MESH_ASSIGN_OR_RETURN(const std::uint8_t tag, next());
            if (tag == '}') return Json(std::move(members));
            if (tag == ',') continue;
            const bool name_tag = (tag >= jsonb::kTagString && tag <= jsonb::kTagString + 3) ||
                                  (tag >= jsonb::kString && tag <= jsonb::kString + 3);
            if (!name_tag) {
                if (tag >= 0xF8) return bad_tag(tag);
                return fail(Errc::malformed, "jsonb: expected a member name at offset " + std::to_string(pos_ - 1));
            }
            MESH_ASSIGN_OR_RETURN(const std::uint64_t len, jsonb::get_tagged_length(in_, pos_, tag));
            const auto raw = in_.subspan(pos_, len);
            pos_ += len;
            if (!valid_utf8(raw)) return fail(Errc::malformed, "jsonb: member name is not UTF-8");
            std::string name(raw.begin(), raw.end());
            for (const auto& m : members) {
                if (m.first == name) return fail(Errc::malformed, "jsonb: duplicate member \"" + name.substr(0, 64) + "\"");
            }
            if (pos_ < in_.size() && in_[pos_] == ':') ++pos_;
            MESH_ASSIGN_OR_RETURN(Json v, value(depth + 1));
            members.emplace_back(std::move(name), std::move(v));
        }
    }

    std::span<const std::uint8_t> in_;
    std::size_t& pos_;
    const JsonbLimits& limits_;
};
}  // namespace

void JsonbWriter::name(std::string_view n) {
    jsonb::put_tagged_length(out_, jsonb::kTagString, n.size());
    out_.insert(out_.end(), n.begin(), n.end());
}

void JsonbWriter::string(std::string_view s) {
    jsonb::put_tagged_length(out_, jsonb::kString, s.size());
    out_.insert(out_.end(), s.begin(), s.end());
}

void JsonbWriter::binary(std::span<const std::uint8_t> b) {
    jsonb::put_tagged_length(out_, jsonb::kBinary, b.size());
    out_.insert(out_.end(), b.begin(), b.end());
}

void JsonbWriter::binary_chunk(std::span<const std::uint8_t> b) {
    jsonb::put_tagged_length(out_, jsonb::kBinaryChunk, b.size());
    out_.insert(out_.end(), b.begin(), b.end());
}

void JsonbWriter::unsigned_integer(std::uint64_t v) {
    unsigned code = 0;
    if (v > 0xFFFFFFFFULL) {
        code = 3;
    } else if (v > 0xFFFF) {
        code = 2;
    } else if (v > 0xFF) {
        code = 1;
    }
    out_.push_back(static_cast<std::uint8_t>(jsonb::kPositive + code));
    for (unsigned i = 1U << code; i-- > 0;) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void JsonbWriter::integer(std::int64_t v) {
    if (v >= 0) {
        unsigned_integer(static_cast<std::uint64_t>(v));
        return;
    }
    const std::uint64_t mag = v == std::numeric_limits<std::int64_t>::min()
                                  ? std::uint64_t{1} << 63
                                  : static_cast<std::uint64_t>(-v);
    const std::size_t at = out_.size();
    unsigned_integer(mag);
    out_[at] = static_cast<std::uint8_t>(out_[at] - jsonb::kPositive + jsonb::kNegative);
}

Result<void> JsonbWriter::big_integer(std::string_view digits) {
    const bool negative = !digits.empty() && digits[0] == '-';
    mesh::Bytes mag;
    if (!decimal_to_magnitude(negative ? digits.substr(1) : digits, mag)) {
        return fail(Errc::invalid_argument, "jsonb: not an integer");
    }
    if (mag.size() <= 8) {
        std::uint64_t v = 0;
        for (const auto b : mag) v = (v << 8) | b;
        const std::size_t at = out_.size();
        unsigned_integer(v);
        if (negative && v != 0) out_[at] = static_cast<std::uint8_t>(out_[at] - jsonb::kPositive + jsonb::kNegative);
        return mesh::ok();
    }
    std::size_t n = 16;
    std::uint8_t tag = negative ? 0xAC : 0xA4;
    if (mag.size() > 16) {
        if (negative) return fail(Errc::invalid_argument, "jsonb: negative integer beyond 128 bits");
        n = mag.size() <= 32 ? 32 : 64;
        tag = n == 32 ? 0xA5 : 0xA6;
    }
    if (mag.size() > n) return fail(Errc::invalid_argument, "jsonb: integer beyond 512 bits");
    out_.push_back(tag);
    out_.insert(out_.end(), n - mag.size(), 0);
    out_.insert(out_.end(), mag.begin(), mag.end());
    return mesh::ok();
}

void JsonbWriter::number(double v) {
    out_.push_back(jsonb::kFloat64);
    const auto bits = std::bit_cast<std::uint64_t>(v);
    for (int i = 7; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

Result<void> JsonbWriter::value(const Json& v) {
    switch (v.kind()) {
        case Json::Kind::null: null(); break;
        case Json::Kind::boolean: boolean(v.as_bool()); break;
        case Json::Kind::integer: integer(*v.as_int64()); break;
        case Json::Kind::unsigned_integer: unsigned_integer(*v.as_uint64()); break;
        case Json::Kind::number: number(v.as_double()); break;
        case Json::Kind::string: string(v.as_string()); break;
        case Json::Kind::big_integer: return big_integer(v.big_digits());
        case Json::Kind::array:
            begin_array();
            for (const auto& e : v.as_array()) MESH_TRY(value(e));
            end_array();
            break;
        case Json::Kind::object:
            begin_object();
            for (const auto& [k, e] : v.as_object()) {
                name(k);
                MESH_TRY(value(e));
            }
            end_object();
            break;
    }
    return mesh::ok();
}

Result<mesh::Bytes> to_jsonb(const Json& value) {
    JsonbWriter w;
    MESH_TRY(w.value(value));
    return w.take();
}

Result<Json> parse_jsonb_item(std::span<const std::uint8_t> in, std::size_t& pos,
                              const JsonbLimits& limits) {
    Parser p(in, pos, limits);
    return p.value(0);
}

Result<Json> parse_jsonb(std::span<const std::uint8_t> in, const JsonbLimits& limits) {
    if (in.size() > limits.max_bytes) {
        return fail(Errc::limit_exceeded, "jsonb: " + std::to_string(in.size()) + " bytes exceeds the limit");
    }
    std::size_t pos = 0;
    MESH_ASSIGN_OR_RETURN(Json v, parse_jsonb_item(in, pos, limits));
    if (pos != in.size()) return fail(Errc::malformed, "jsonb: data after the value at offset " + std::to_string(pos));
    return v;
}

}  // namespace dare
