// Private: RAII for OpenSSL BIGNUM in constant-time mode, wiped when freed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <openssl/bn.h>

#include <mesh/assert.hpp>
#include <mesh/secure.hpp>

namespace udf::detail {

struct BnFree {
    void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
};
struct BnCtxFree {
    void operator()(BN_CTX* c) const noexcept { BN_CTX_free(c); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using BnCtx = std::unique_ptr<BN_CTX, BnCtxFree>;

inline Bn bn_new() {
    Bn b(BN_secure_new());
    MESH_ASSERT(b != nullptr);
    BN_set_flags(b.get(), BN_FLG_CONSTTIME);
    return b;
}

inline BnCtx bn_ctx() {
    BnCtx c(BN_CTX_secure_new());
    MESH_ASSERT(c != nullptr);
    return c;
}

inline Bn bn_from(std::span<const std::uint8_t> big_endian) {
    Bn b = bn_new();
    MESH_ASSERT(BN_bin2bn(big_endian.data(), static_cast<int>(big_endian.size()), b.get()) != nullptr);
    return b;
}

inline Bn bn_word(unsigned long w) {
    Bn b = bn_new();
    MESH_ASSERT(BN_set_word(b.get(), w) == 1);
    return b;
}

/// Writes b as exactly out.size() big-endian bytes; false if it does not fit.
inline bool bn_to(const BIGNUM* b, std::span<std::uint8_t> out) {
    return BN_bn2binpad(b, out.data(), static_cast<int>(out.size())) == static_cast<int>(out.size());
}

}  // namespace udf::detail
