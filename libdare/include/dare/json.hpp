// dare/json.hpp: the JSON data model of every layer (RapidJSON stays private to libdare).
//
// Json is a small owned DOM: null, bool, integer (int64/uint64), double, string, array, object
// (members in order). parse_json() is strict: a size limit checked before parsing, RapidJSON's
// iterative parser (no recursion on deep nesting) with UTF-8 validation, a depth limit,
// duplicate member names rejected, nothing after the value. to_json() writes compact JSON.
// ObjectReader reads a schema object member by member with typed getters; every error names
// the JSON path ("$.DareEnvelope[0].recipients[1].epk: expected object, got string") and
// unknown members are rejected by finish(). Binary fields are base64url; whitespace inside them
// is tolerated, as the reference writes line breaks there.
// Thread-safety: values are plain data; functions are thread-safe.
// Errors: malformed (syntax, types, duplicates, base64), limit_exceeded (size, depth, lengths).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <mesh/bytes.hpp>
#include <mesh/result.hpp>

namespace dare {

class Json;
using JsonArray = std::vector<Json>;
using JsonMember = std::pair<std::string, Json>;
using JsonObject = std::vector<JsonMember>;

class Json final {
public:
    enum class Kind : std::uint8_t {
        null, boolean, integer, unsigned_integer, number, string, array, object, big_integer
    };

    Json() = default;  // null
    /// Copies are deep: Json has value semantics.
    Json(const Json& other);
    Json& operator=(const Json& other);
    Json(Json&&) noexcept = default;
    Json& operator=(Json&&) noexcept = default;
    ~Json() = default;
    Json(std::nullptr_t) {}                                                  // NOLINT
    Json(bool b) : v_(b) {}                                                  // NOLINT
    Json(std::int64_t i) : v_(i) {}                                          // NOLINT
    Json(std::uint64_t u) : v_(u) {}                                         // NOLINT
    Json(int i) : v_(static_cast<std::int64_t>(i)) {}                        // NOLINT
    Json(unsigned u) : v_(static_cast<std::uint64_t>(u)) {}                  // NOLINT
    Json(double d) : v_(d) {}                                                // NOLINT
    Json(std::string s) : v_(std::move(s)) {}                                // NOLINT
    Json(std::string_view s) : v_(std::string(s)) {}                         // NOLINT
    Json(const char* s) : v_(std::string(s)) {}                              // NOLINT
    Json(JsonArray a) : v_(std::make_shared<JsonArray>(std::move(a))) {}     // NOLINT
    Json(JsonObject o) : v_(std::make_shared<JsonObject>(std::move(o))) {}   // NOLINT

    /// An integer beyond 64 bits, as decimal digits with an optional leading '-' (JSON-B A4-A6).
    static Json big_integer(std::string digits) {
        Json j;
        j.v_ = BigInteger{std::move(digits)};
        return j;
    }

    [[nodiscard]] Kind kind() const noexcept { return static_cast<Kind>(v_.index()); }
    [[nodiscard]] bool is_null() const noexcept { return kind() == Kind::null; }
    [[nodiscard]] bool is_string() const noexcept { return kind() == Kind::string; }
    [[nodiscard]] bool is_array() const noexcept { return kind() == Kind::array; }
    [[nodiscard]] bool is_object() const noexcept { return kind() == Kind::object; }
    [[nodiscard]] bool is_bool() const noexcept { return kind() == Kind::boolean; }
    [[nodiscard]] bool is_integer() const noexcept {
        return kind() == Kind::integer || kind() == Kind::unsigned_integer;
    }

    // Accessors assert the kind (check it first, or use ObjectReader).
    [[nodiscard]] bool as_bool() const { return std::get<bool>(v_); }
    [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(v_); }
    [[nodiscard]] const JsonArray& as_array() const { return *std::get<std::shared_ptr<JsonArray>>(v_); }
    [[nodiscard]] const JsonObject& as_object() const { return *std::get<std::shared_ptr<JsonObject>>(v_); }
    [[nodiscard]] JsonArray& as_array() { return *std::get<std::shared_ptr<JsonArray>>(v_); }
    [[nodiscard]] JsonObject& as_object() { return *std::get<std::shared_ptr<JsonObject>>(v_); }
    [[nodiscard]] double as_double() const;
    [[nodiscard]] const std::string& big_digits() const { return std::get<BigInteger>(v_).digits; }
    /// The integer value if it fits in int64 (unsigned above INT64_MAX does not).
    [[nodiscard]] std::optional<std::int64_t> as_int64() const noexcept;
    [[nodiscard]] std::optional<std::uint64_t> as_uint64() const noexcept;

    /// A member of an object, or nullptr (also for non-objects).
    [[nodiscard]] const Json* find(std::string_view name) const noexcept;

    friend bool operator==(const Json& a, const Json& b);

private:
    struct BigInteger {
        std::string digits;
        bool operator==(const BigInteger&) const = default;
    };
    std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string,
                 std::shared_ptr<JsonArray>, std::shared_ptr<JsonObject>, BigInteger>
        v_{nullptr};
};

/// "null", "boolean", "integer", "number", "string", "array", "object".
std::string_view kind_name(Json::Kind k) noexcept;

struct JsonLimits {
    std::size_t max_bytes = std::size_t{1} << 20;  ///< checked before parsing
    std::size_t max_depth = 32;
};

/// Strict parse of one JSON value (the whole text).
mesh::Result<Json> parse_json(std::string_view text, const JsonLimits& limits = {});
/// Compact JSON text.
std::string to_json(const Json& value);
/// Indented JSON text (two spaces), for people.
std::string to_json_pretty(const Json& value);

/// Base64url with whitespace (space, tab, CR, LF) removed first, as the reference writes it.
mesh::Result<mesh::Bytes> base64url_decode_lenient(std::string_view text);

/// Reads one schema object: typed getters record which members were used; finish() rejects
/// the rest. Errors name the path of the member.
class ObjectReader final {
public:
    /// Fails if `value` is not an object.
    static mesh::Result<ObjectReader> open(const Json& value, std::string path);

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string member_path(std::string_view name) const;
    [[nodiscard]] bool has(std::string_view name) const noexcept;

    mesh::Result<std::string> string(std::string_view name, std::size_t max_len = 4096);
    mesh::Result<std::optional<std::string>> optional_string(std::string_view name,
                                                             std::size_t max_len = 4096);
    mesh::Result<mesh::Bytes> bytes(std::string_view name, std::size_t max_len = 1 << 20);
    mesh::Result<std::optional<mesh::Bytes>> optional_bytes(std::string_view name,
                                                            std::size_t max_len = 1 << 20);
    /// Exactly `len` decoded bytes.
    mesh::Result<mesh::Bytes> fixed_bytes(std::string_view name, std::size_t len);
    mesh::Result<std::uint64_t> uint(std::string_view name, std::uint64_t max = UINT64_MAX);
    mesh::Result<std::optional<std::uint64_t>> optional_uint(std::string_view name,
                                                             std::uint64_t max = UINT64_MAX);
    mesh::Result<bool> boolean(std::string_view name);
    mesh::Result<std::optional<bool>> optional_boolean(std::string_view name);
    /// Any value (object, array...), for nested readers.
    mesh::Result<const Json*> value(std::string_view name);
    mesh::Result<const Json*> optional_value(std::string_view name);
    /// An array with at most `max_items` elements (absent: empty).
    mesh::Result<const JsonArray*> optional_array(std::string_view name, std::size_t max_items = 1024);

    /// Rejects members that no getter asked for.
    mesh::Result<void> finish() const;

private:
    ObjectReader(const JsonObject& object, std::string path)
        : object_(&object), path_(std::move(path)) {}
    const Json* lookup(std::string_view name);
    const JsonObject* object_;
    std::string path_;
    std::vector<std::string> used_;
};

/// A type error message: "<path>: expected <what>, got <kind>".
mesh::Error type_error(std::string_view path, std::string_view expected, const Json& got);

}  // namespace dare
