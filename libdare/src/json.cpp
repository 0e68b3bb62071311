#include <dare/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rapidjson_private.hpp"

namespace dare {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

Json::Json(const Json& other) : v_(other.v_) {
    if (is_array()) {
        v_ = std::make_shared<JsonArray>(other.as_array());
    } else if (is_object()) {
        v_ = std::make_shared<JsonObject>(other.as_object());
    }
}

Json& Json::operator=(const Json& other) {
    if (this != &other) *this = Json(other);
    return *this;
}

double Json::as_double() const {
    switch (kind()) {
        case Kind::integer: return static_cast<double>(std::get<std::int64_t>(v_));
        case Kind::unsigned_integer: return static_cast<double>(std::get<std::uint64_t>(v_));
        default: return std::get<double>(v_);
    }
}

std::optional<std::int64_t> Json::as_int64() const noexcept {
    if (kind() == Kind::integer) return std::get<std::int64_t>(v_);
    if (kind() == Kind::unsigned_integer) {
        const auto u = std::get<std::uint64_t>(v_);
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(u);
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> Json::as_uint64() const noexcept {
    if (kind() == Kind::unsigned_integer) return std::get<std::uint64_t>(v_);
    if (kind() == Kind::integer && std::get<std::int64_t>(v_) >= 0) {
        return static_cast<std::uint64_t>(std::get<std::int64_t>(v_));
    }
    return std::nullopt;
}

const Json* Json::find(std::string_view name) const noexcept {
    if (!is_object()) return nullptr;
    for (const auto& [k, v] : as_object()) {
        if (k == name) return &v;
    }
    return nullptr;
}

bool operator==(const Json& a, const Json& b) {
    if (a.is_integer() && b.is_integer()) {
        return a.as_int64() == b.as_int64() && a.as_uint64() == b.as_uint64();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Json::Kind::null: return true;
        case Json::Kind::boolean: return a.as_bool() == b.as_bool();
        case Json::Kind::number: return a.as_double() == b.as_double();
        case Json::Kind::string: return a.as_string() == b.as_string();
        case Json::Kind::array: return a.as_array() == b.as_array();
        case Json::Kind::object: return a.as_object() == b.as_object();
        case Json::Kind::big_integer: return a.big_digits() == b.big_digits();
        default: return false;
    }
}

std::string_view kind_name(Json::Kind k) noexcept {
    switch (k) {
        case Json::Kind::null: return "null";
        case Json::Kind::boolean: return "boolean";
        case Json::Kind::integer:
        case Json::Kind::unsigned_integer: return "integer";
        case Json::Kind::number: return "number";
        case Json::Kind::string: return "string";
        case Json::Kind::array: return "array";
        case Json::Kind::object: return "object";
        case Json::Kind::big_integer: return "integer";
    }
    return "unknown";
}

// ---- parsing: RapidJSON SAX into our DOM --------------------------------------------------

namespace {
// RapidJSON 1.1 decodes a lone low-surrogate escape (\uDC00-\uDFFF) into the three bytes of the
// surrogate (ED B0-BF xx), which is not UTF-8 (a pair becomes four bytes; raw input is validated).
bool has_surrogate(std::string_view s) {
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
    }
    return false;
}

class Builder final : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
public:
    explicit Builder(std::size_t max_depth) : max_depth_(max_depth) {}

    bool Null() { return add(Json()); }
    bool Bool(bool b) { return add(Json(b)); }
    bool Int(int i) { return add(Json(static_cast<std::int64_t>(i))); }
    bool Uint(unsigned u) { return add(Json(static_cast<std::uint64_t>(u))); }
    bool Int64(std::int64_t i) { return add(Json(i)); }
    bool Uint64(std::uint64_t u) { return add(Json(u)); }
    bool Double(double d) {
        if (!std::isfinite(d)) return fail_with(Errc::malformed, "number out of range");
        return add(Json(d));
    }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (has_surrogate({s, n})) return fail_with(Errc::malformed, "string with a lone surrogate escape");
        return add(Json(std::string(s, n)));
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        Frame& f = stack_.back();
        const std::string_view name(s, n);
        if (has_surrogate(name)) return fail_with(Errc::malformed, "member name with a lone surrogate escape");
        for (const auto& m : f.object) {
            if (m.first == name) {
                return fail_with(Errc::malformed, "duplicate member \"" + printable(name) + "\"");
            }
        }
        f.key.assign(s, n);
        return true;
    }
    bool StartObject() { return push(true); }
    bool EndObject(rapidjson::SizeType) { return pop(); }
    bool StartArray() { return push(false); }
    bool EndArray(rapidjson::SizeType) { return pop(); }

    Json result;
    std::optional<mesh::Error> error;

private:
    struct Frame {
        bool is_object;
        JsonObject object;
        JsonArray array;
        std::string key;
    };

    static std::string printable(std::string_view s) {
        std::string out;
        for (const char c : s.substr(0, 64)) {
            out.push_back(static_cast<unsigned char>(c) < 0x20 || c == '"' ? '?' : c);
        }
        return out;
    }

    bool fail_with(Errc code, std::string message) {
        error = mesh::Error{code, std::move(message)};
        return false;
    }
    bool push(bool is_object) {
        if (stack_.size() >= max_depth_) {
            return fail_with(Errc::limit_exceeded,
                             "nesting deeper than " + std::to_string(max_depth_));
        }
        stack_.push_back(Frame{is_object, {}, {}, {}});
        return true;
    }
    bool pop() {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        return add(f.is_object ? Json(std::move(f.object)) : Json(std::move(f.array)));
    }
    bool add(Json v) {
        if (stack_.empty()) {
            result = std::move(v);
            return true;
        }
        Frame& f = stack_.back();
        if (f.is_object) {
            f.object.emplace_back(std::move(f.key), std::move(v));
        } else {
            f.array.push_back(std::move(v));
        }
        return true;
    }

    std::size_t max_depth_;
    std::vector<Frame> stack_;
};
}  // namespace

Result<Json> parse_json(std::string_view text, const JsonLimits& limits) {
    if (text.size() > limits.max_bytes) {
        return fail(Errc::limit_exceeded, "json: " + std::to_string(text.size()) +
                                              " bytes exceeds the limit of " +
                                              std::to_string(limits.max_bytes));
    }
    Builder builder(limits.max_depth);
    rapidjson::Reader reader;
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                                rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseStopWhenDoneFlag;
    const rapidjson::ParseResult r = reader.Parse<kFlags>(is, builder);
    if (builder.error) {
        return fail(builder.error->code, "json: " + builder.error->message + " at offset " +
                                             std::to_string(r.Offset()));
    }
    if (r.IsError()) {
        return fail(Errc::malformed, std::string("json: ") + rapidjson::GetParseError_En(r.Code()) +
                                         " at offset " + std::to_string(r.Offset()));
    }
    // Only whitespace may follow the value.
    for (std::size_t i = is.Tell(); i < text.size(); ++i) {
        const char c = text[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return fail(Errc::malformed, "json: data after the value at offset " + std::to_string(i));
        }
    }
    return std::move(builder.result);
}

// ---- writing ---------------------------------------------------------------------------------

namespace {
template <class Writer>
void write_value(Writer& w, const Json& v) {
    switch (v.kind()) {
        case Json::Kind::null: w.Null(); break;
        case Json::Kind::boolean: w.Bool(v.as_bool()); break;
        case Json::Kind::integer: w.Int64(*v.as_int64()); break;
        case Json::Kind::unsigned_integer: w.Uint64(*v.as_uint64()); break;
        case Json::Kind::number: w.Double(v.as_double()); break;
        case Json::Kind::string:
            w.String(v.as_string().data(), static_cast<rapidjson::SizeType>(v.as_string().size()));
            break;
        case Json::Kind::array:
            w.StartArray();
            for (const auto& e : v.as_array()) write_value(w, e);
            w.EndArray();
            break;
        case Json::Kind::big_integer:
            w.RawValue(v.big_digits().data(), v.big_digits().size(), rapidjson::kNumberType);
            break;
        case Json::Kind::object:
            w.StartObject();
            for (const auto& [k, e] : v.as_object()) {
                w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
                write_value(w, e);
            }
            w.EndObject();
            break;
    }
}
}  // namespace

std::string to_json(const Json& value) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    write_value(w, value);
    return {sb.GetString(), sb.GetSize()};
}

std::string to_json_pretty(const Json& value) {
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 2);
    write_value(w, value);
    return {sb.GetString(), sb.GetSize()};
}

Result<mesh::Bytes> base64url_decode_lenient(std::string_view text) {
    std::string compact;
    compact.reserve(text.size());
    for (const char c : text) {
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact.push_back(c);
    }
    return mesh::base64url_decode(compact);
}

// ---- ObjectReader ----------------------------------------------------------------------------

mesh::Error type_error(std::string_view path, std::string_view expected, const Json& got) {
    return mesh::Error{Errc::malformed, std::string(path) + ": expected " + std::string(expected) +
                                            ", got " + std::string(kind_name(got.kind()))};
}

Result<ObjectReader> ObjectReader::open(const Json& value, std::string path) {
    if (!value.is_object()) return type_error(path, "object", value);
    return ObjectReader(value.as_object(), std::move(path));
}

std::string ObjectReader::member_path(std::string_view name) const {
    return path_ + "." + std::string(name);
}

bool ObjectReader::has(std::string_view name) const noexcept {
    return std::any_of(object_->begin(), object_->end(), [&](const auto& m) { return m.first == name; });
}

const Json* ObjectReader::lookup(std::string_view name) {
    for (const auto& [k, v] : *object_) {
        if (k == name) {
            used_.emplace_back(name);
            return &v;
        }
    }
    return nullptr;
}

Result<std::optional<std::string>> ObjectReader::optional_string(std::string_view name,
                                                                 std::size_t max_len) {
    const Json* v = lookup(name);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return type_error(member_path(name), "string", *v);
    if (v->as_string().size() > max_len) {
        return fail(Errc::limit_exceeded, member_path(name) + ": longer than " + std::to_string(max_len));
    }
    return std::optional<std::string>(v->as_string());
}

Result<std::string> ObjectReader::string(std::string_view name, std::size_t max_len) {
    MESH_ASSIGN_OR_RETURN(auto s, optional_string(name, max_len));
    if (!s) return fail(Errc::malformed, member_path(name) + ": missing");
    if (s->empty()) return fail(Errc::malformed, member_path(name) + ": empty");
    return std::move(*s);
}

Result<std::optional<mesh::Bytes>> ObjectReader::optional_bytes(std::string_view name,
                                                                std::size_t max_len) {
    const Json* v = lookup(name);
    if (v == nullptr) return std::optional<mesh::Bytes>();
    if (!v->is_string()) return type_error(member_path(name), "base64url string", *v);
    if (v->as_string().size() > (max_len / 3 + 1) * 4 + v->as_string().size() / 8) {
        return fail(Errc::limit_exceeded, member_path(name) + ": longer than " + std::to_string(max_len) + " bytes");
    }
    auto b = base64url_decode_lenient(v->as_string());
    if (!b) return fail(Errc::malformed, member_path(name) + ": " + b.error().message);
    if (b->size() > max_len) {
        return fail(Errc::limit_exceeded, member_path(name) + ": longer than " + std::to_string(max_len) + " bytes");
    }
    return std::optional<mesh::Bytes>(std::move(b).value());
}

Result<mesh::Bytes> ObjectReader::bytes(std::string_view name, std::size_t max_len) {
    MESH_ASSIGN_OR_RETURN(auto b, optional_bytes(name, max_len));
    if (!b) return fail(Errc::malformed, member_path(name) + ": missing");
    if (b->empty()) return fail(Errc::malformed, member_path(name) + ": empty");
    return std::move(*b);
}

Result<mesh::Bytes> ObjectReader::fixed_bytes(std::string_view name, std::size_t len) {
    MESH_ASSIGN_OR_RETURN(auto b, bytes(name, len + 1));
    if (b.size() != len) {
        return fail(Errc::malformed, member_path(name) + ": " + std::to_string(b.size()) +
                                         " bytes, expected " + std::to_string(len));
    }
    return b;
}

Result<std::optional<std::uint64_t>> ObjectReader::optional_uint(std::string_view name,
                                                                 std::uint64_t max) {
    const Json* v = lookup(name);
    if (v == nullptr) return std::optional<std::uint64_t>();
    const auto u = v->as_uint64();
    if (!u) return type_error(member_path(name), "non-negative integer", *v);
    if (*u > max) {
        return fail(Errc::malformed, member_path(name) + ": " + std::to_string(*u) +
                                         " exceeds " + std::to_string(max));
    }
    return std::optional<std::uint64_t>(*u);
}

Result<std::uint64_t> ObjectReader::uint(std::string_view name, std::uint64_t max) {
    MESH_ASSIGN_OR_RETURN(auto u, optional_uint(name, max));
    if (!u) return fail(Errc::malformed, member_path(name) + ": missing");
    return *u;
}

Result<std::optional<bool>> ObjectReader::optional_boolean(std::string_view name) {
    const Json* v = lookup(name);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_bool()) return type_error(member_path(name), "boolean", *v);
    return std::optional<bool>(v->as_bool());
}

Result<bool> ObjectReader::boolean(std::string_view name) {
    MESH_ASSIGN_OR_RETURN(auto b, optional_boolean(name));
    if (!b) return fail(Errc::malformed, member_path(name) + ": missing");
    return *b;
}

Result<const Json*> ObjectReader::optional_value(std::string_view name) { return lookup(name); }

Result<const Json*> ObjectReader::value(std::string_view name) {
    const Json* v = lookup(name);
    if (v == nullptr) return fail(Errc::malformed, member_path(name) + ": missing");
    return v;
}

Result<const JsonArray*> ObjectReader::optional_array(std::string_view name, std::size_t max_items) {
    static const JsonArray kEmpty;
    const Json* v = lookup(name);
    if (v == nullptr) return &kEmpty;
    if (!v->is_array()) return type_error(member_path(name), "array", *v);
    if (v->as_array().size() > max_items) {
        return fail(Errc::limit_exceeded, member_path(name) + ": more than " +
                                              std::to_string(max_items) + " items");
    }
    return &v->as_array();
}

Result<void> ObjectReader::finish() const {
    for (const auto& [k, v] : *object_) {
        if (std::find(used_.begin(), used_.end(), k) == used_.end()) {
            return fail(Errc::malformed, member_path(k) + ": unknown member");
        }
    }
    return mesh::ok();
}

}  // namespace dare
