// mesh/random.hpp: injected randomness (STYLE.md §5).
//
// Every randomized operation takes a RandomSource&, so tests can replay known answers with a
// fixed source (test/support) and production uses SystemRandom (randombytes_buf).
// SystemRandom is thread-safe; other sources document their own rules.
#pragma once

#include <cstdint>
#include <span>

namespace mesh {

class RandomSource {
public:
    virtual ~RandomSource() = default;
    /// Fills `out` with random bytes. Cannot fail (a failing source aborts).
    virtual void fill(std::span<std::uint8_t> out) = 0;
};

/// The operating system's CSPRNG through libsodium.
class SystemRandom final : public RandomSource {
public:
    void fill(std::span<std::uint8_t> out) override;
};

/// A process-wide SystemRandom.
RandomSource& system_random() noexcept;

}  // namespace mesh
