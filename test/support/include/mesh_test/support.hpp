// Test helpers: known-answer vector files, a fixed random source, hex, and Result printing.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <mesh/bytes.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>

namespace mesh::test {

/// Parses test/vectors/<name> (JSON). Fails the test if the file is missing or not JSON.
rapidjson::Document load_vectors(std::string_view name);

/// Hex to bytes; fails the test on bad hex.
Bytes unhex(std::string_view hex);

/// A RandomSource that returns queued bytes, in order (Botan's Fixed_Output_RNG). Asking for
/// more than was queued fails the test.
class FixedRandom final : public RandomSource {
public:
    FixedRandom() = default;
    explicit FixedRandom(std::span<const std::uint8_t> bytes) { push(bytes); }
    void push(std::span<const std::uint8_t> bytes) { queue_.insert(queue_.end(), bytes.begin(), bytes.end()); }
    void fill(std::span<std::uint8_t> out) override;
    [[nodiscard]] std::size_t remaining() const noexcept { return queue_.size(); }

private:
    std::deque<std::uint8_t> queue_;
};

/// A deterministic pseudo-random source for property tests (seeded from Catch's rng seed).
class SeededRandom final : public RandomSource {
public:
    explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
    void fill(std::span<std::uint8_t> out) override;

private:
    std::uint64_t state_;
};

}  // namespace mesh::test

namespace Catch {
template <class T>
struct StringMaker<mesh::Result<T>> {
    static std::string convert(const mesh::Result<T>& r) {
        if (r.has_value()) return "ok";
        return std::string(mesh::errc_name(r.error().code)) + ": " + r.error().message;
    }
};
}  // namespace Catch

/// CHECK that a Result failed with exactly this Errc.
#define CHECK_ERRC(expr, errc)                                             \
    do {                                                                   \
        const auto& mesh_check_r_ = (expr);                                \
        CHECK_FALSE(mesh_check_r_.has_value());                            \
        if (!mesh_check_r_.has_value()) {                                  \
            INFO(mesh_check_r_.error().message);                           \
            CHECK(mesh::errc_name(mesh_check_r_.error().code) == mesh::errc_name(errc)); \
        }                                                                  \
    } while (false)

/// REQUIRE that a Result succeeded, printing its error otherwise.
#define REQUIRE_OK(expr)                                                   \
    do {                                                                   \
        const auto& mesh_req_r_ = (expr);                                  \
        if (!mesh_req_r_.has_value()) FAIL(mesh_req_r_.error().message);   \
    } while (false)
