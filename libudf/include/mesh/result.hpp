// mesh/result.hpp: the error model of every library (STYLE.md §4).
//
// Result<T> is the subset of std::expected<T, Error> the project uses: has_value(), explicit
// operator bool, value(), error(), operator*, operator->; implicit from T and from Error.
// Accessing the wrong alternative is a programmer error and aborts (MESH_ASSERT).
// Thread-safety: a Result is a value; the usual rules for values apply.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <mesh/assert.hpp>

namespace mesh {

/// The closed set of failure kinds. Each maps to one HTTP status and one exit code.
enum class Errc : std::uint8_t {
    invalid_argument,   ///< caller passed a bad value                  400
    malformed,          ///< bytes / JSON / Base32 do not parse         400
    unsupported,        ///< unknown algorithm, version, content type   400
    auth_failed,        ///< tag, MAC, signature or proof check failed  400, generic text
    not_found,          ///< 404
    already_exists,     ///< 409
    permission_denied,  ///< 403
    limit_exceeded,     ///< size / count / depth limit                 413
    io,                 ///< operating-system failure                   500
    internal,           ///< libsodium failure or broken invariant      500
};

/// The name of an Errc as written in vectors, logs and JSON error bodies ("malformed").
std::string_view errc_name(Errc code) noexcept;

/// Parses an Errc name; returns false if the name is unknown.
bool errc_from_name(std::string_view name, Errc& out) noexcept;

struct Error {
    Errc code;
    std::string message;  ///< lower case, component first, never secret material
};

/// Builds an Error; the usual way to fail: `return mesh::fail(Errc::malformed, "udf: ...")`.
inline Error fail(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;

    Result(const T& v) : v_(std::in_place_index<0>, v) {}            // NOLINT: implicit by design
    Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}      // NOLINT
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}    // NOLINT
    template <class U>
        requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
                 !std::is_same_v<std::remove_cvref_t<U>, Error> &&
                 !std::is_same_v<std::remove_cvref_t<U>, Result>)
    Result(U&& u) : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        MESH_ASSERT(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        MESH_ASSERT(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        MESH_ASSERT(has_value());
        return std::get<0>(std::move(v_));
    }
    const Error& error() const& {
        MESH_ASSERT(!has_value());
        return std::get<1>(v_);
    }
    Error&& error() && {
        MESH_ASSERT(!has_value());
        return std::get<1>(std::move(v_));
    }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Error e) : error_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design

    [[nodiscard]] bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const { MESH_ASSERT(ok_); }
    const Error& error() const& {
        MESH_ASSERT(!ok_);
        return error_;
    }
    Error&& error() && {
        MESH_ASSERT(!ok_);
        return std::move(error_);
    }

private:
    Error error_{Errc::internal, {}};
    bool ok_ = true;
};

/// The success value of Result<void>.
inline Result<void> ok() { return {}; }

}  // namespace mesh

#define MESH_CONCAT_INNER_(a, b) a##b
#define MESH_CONCAT_(a, b) MESH_CONCAT_INNER_(a, b)

/// Returns the error of `expr` (a Result) from the enclosing function if it failed.
#define MESH_TRY(expr)                                              \
    do {                                                            \
        auto&& mesh_try_result_ = (expr);                           \
        if (!mesh_try_result_) return std::move(mesh_try_result_).error(); \
    } while (false)

#define MESH_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
    auto tmp = (expr);                               \
    if (!tmp) return std::move(tmp).error();         \
    decl = std::move(tmp).value()

/// `MESH_ASSIGN_OR_RETURN(auto x, f())`: declares x from f()'s value or returns its error.
#define MESH_ASSIGN_OR_RETURN(decl, expr) \
    MESH_ASSIGN_OR_RETURN_IMPL_(MESH_CONCAT_(mesh_aor_, __LINE__), decl, expr)
