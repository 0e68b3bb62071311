// mesh/secure.hpp: containers for secret bytes (STYLE.md §5).
//
// SecureBytes is a vector whose storage is wiped (sodium_memzero) when released, including on
// reallocation. SecretArray<N> is a fixed-size secret that wipes itself. Both are move-only:
// copies need clone(). The bytes are reached only through expose_secret(), so every use is
// greppable. There is deliberately no operator<<, formatter or to_string().
// Equality is constant time (secure_equal).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mesh {

/// Wipes memory so that the compiler cannot elide it (sodium_memzero).
void secure_wipe(void* p, std::size_t n) noexcept;

/// Constant-time comparison of two equal-length byte ranges; false when lengths differ.
bool secure_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

template <class T>
struct ZeroizingAllocator {
    using value_type = T;
    ZeroizingAllocator() noexcept = default;
    template <class U>
    ZeroizingAllocator(const ZeroizingAllocator<U>&) noexcept {}  // NOLINT: allocator rebind
    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept {
        secure_wipe(p, n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }
    template <class U>
    bool operator==(const ZeroizingAllocator<U>&) const noexcept {
        return true;
    }
};

/// A growable secret byte buffer.
class SecureBytes final {
public:
    SecureBytes() = default;
    explicit SecureBytes(std::size_t n) : v_(n) {}
    explicit SecureBytes(std::span<const std::uint8_t> bytes) : v_(bytes.begin(), bytes.end()) {}
    SecureBytes(const SecureBytes&) = delete;
    SecureBytes& operator=(const SecureBytes&) = delete;
    SecureBytes(SecureBytes&& o) noexcept : v_(std::move(o.v_)) { o.v_.clear(); }
    SecureBytes& operator=(SecureBytes&& o) noexcept {
        if (this != &o) {
            v_ = std::move(o.v_);
            o.v_.clear();
        }
        return *this;
    }
    ~SecureBytes() = default;  // the allocator wipes

    [[nodiscard]] SecureBytes clone() const { return SecureBytes(expose_secret()); }
    [[nodiscard]] std::size_t size() const noexcept { return v_.size(); }
    [[nodiscard]] bool empty() const noexcept { return v_.empty(); }
    void resize(std::size_t n) { v_.resize(n); }
    void append(std::span<const std::uint8_t> bytes) { v_.insert(v_.end(), bytes.begin(), bytes.end()); }

    [[nodiscard]] std::span<const std::uint8_t> expose_secret() const noexcept { return v_; }
    [[nodiscard]] std::span<std::uint8_t> expose_secret_mut() noexcept { return v_; }

    friend bool operator==(const SecureBytes& a, const SecureBytes& b) noexcept {
        return secure_equal(a.expose_secret(), b.expose_secret());
    }

private:
    std::vector<std::uint8_t, ZeroizingAllocator<std::uint8_t>> v_;
};

/// A fixed-size secret that wipes itself on destruction and when moved from.
template <std::size_t N>
class SecretArray final {
public:
    SecretArray() noexcept { a_.fill(0); }
    explicit SecretArray(std::span<const std::uint8_t, N> bytes) noexcept {
        std::copy(bytes.begin(), bytes.end(), a_.begin());
    }
    SecretArray(const SecretArray&) = delete;
    SecretArray& operator=(const SecretArray&) = delete;
    SecretArray(SecretArray&& o) noexcept : a_(o.a_) { secure_wipe(o.a_.data(), N); }
    SecretArray& operator=(SecretArray&& o) noexcept {
        if (this != &o) {
            a_ = o.a_;
            secure_wipe(o.a_.data(), N);
        }
        return *this;
    }
    ~SecretArray() { secure_wipe(a_.data(), N); }

    [[nodiscard]] SecretArray clone() const noexcept { return SecretArray(expose_secret()); }
    static constexpr std::size_t size() noexcept { return N; }
    [[nodiscard]] std::span<const std::uint8_t, N> expose_secret() const noexcept { return a_; }
    [[nodiscard]] std::span<std::uint8_t, N> expose_secret_mut() noexcept { return a_; }

    friend bool operator==(const SecretArray& a, const SecretArray& b) noexcept {
        return secure_equal(a.expose_secret(), b.expose_secret());
    }

private:
    std::array<std::uint8_t, N> a_;
};

/// Wipes a stack buffer when the scope ends, error paths included.
class WipeOnExit final {
public:
    WipeOnExit(void* p, std::size_t n) noexcept : p_(p), n_(n) {}
    template <class T, std::size_t N>
    explicit WipeOnExit(std::array<T, N>& a) noexcept : p_(a.data()), n_(sizeof(T) * N) {}
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;
    ~WipeOnExit() { secure_wipe(p_, n_); }

private:
    void* p_;
    std::size_t n_;
};

}  // namespace mesh
