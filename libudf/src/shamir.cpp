#include <udf/shamir.hpp>

#include <array>
#include <string>

#include <udf/udf.hpp>

#include "bignum.hpp"

namespace udf {
using detail::Bn;
using detail::bn_ctx;
using detail::bn_from;
using detail::bn_new;
using detail::bn_to;
using detail::bn_word;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
// p(B) = 2^(8B) + offset[B-1]: draft-hallambaker-mesh-udf-13 Appendix A (vectors/shamir.json).
constexpr std::array<unsigned, 64> kPrimeOffsets = {
    1,   1,   43,  15,  15,  21,  81,  13,  15,  13,  7,   61,  111, 25,  451, 51,
    85,  175, 253, 7,   87,  427, 27,  133, 235, 375, 423, 735, 357, 115, 81,  297,
    175, 57,  45,  127, 61,  37,  91,  27,  15,  241, 231, 55,  105, 127, 115, 231,
    207, 181, 37,  235, 163, 1093, 187, 211, 21, 841, 445, 165, 777, 583, 133, 75};

constexpr std::uint8_t kShareType = static_cast<std::uint8_t>(Type::shamir_share);

Bn prime_for(std::size_t secret_bytes) {
    Bn p = bn_new();
    MESH_ASSERT(BN_set_bit(p.get(), static_cast<int>(8 * secret_bytes)) == 1);
    MESH_ASSERT(BN_add_word(p.get(), kPrimeOffsets[secret_bytes - 1]) == 1);
    return p;
}

// A uniform value below p by rejection: draw B+1 bytes, keep the lowest 8B+1 bits.
Bn random_below(const BIGNUM* p, std::size_t secret_bytes, mesh::RandomSource& rng) {
    mesh::SecureBytes buf(secret_bytes + 1);
    for (;;) {
        rng.fill(buf.expose_secret_mut());
        buf.expose_secret_mut()[0] &= 0x01;
        Bn v = bn_from(buf.expose_secret());
        if (BN_cmp(v.get(), p) < 0) return v;
    }
}

struct ParsedShare {
    unsigned threshold;
    unsigned x;
    std::span<const std::uint8_t> value;
};

Result<ParsedShare> parse_binary(std::span<const std::uint8_t> b, std::size_t index) {
    const std::string where = "shamir: share " + std::to_string(index + 1);
    if (b.size() < 3) return fail(Errc::malformed, where + ": too short");
    if (b[0] != kShareType) {
        return fail(Errc::unsupported, where + ": type " + std::to_string(b[0]) + " (" +
                                           type_name(b[0]) + ") is not a share");
    }
    if (b.size() - 2 > kMaxSecretBytes) {
        return fail(Errc::malformed, where + ": value longer than 64 bytes");
    }
    const unsigned threshold = b[1] >> 4U;
    if (threshold < 2) {
        return fail(Errc::malformed, where + ": threshold " + std::to_string(threshold) +
                                         " is below 2");
    }
    return ParsedShare{threshold, (b[1] & 0x0FU) + 1U, b.subspan(2)};
}
}  // namespace

unsigned shamir_prime_offset(std::size_t secret_bytes) noexcept {
    return secret_bytes >= 1 && secret_bytes <= kMaxSecretBytes ? kPrimeOffsets[secret_bytes - 1]
                                                                : 0;
}

Result<std::vector<mesh::SecureBytes>> shamir_split(std::span<const std::uint8_t> secret,
                                                    unsigned threshold, unsigned shares,
                                                    mesh::RandomSource& rng) {
    const std::size_t nbytes = secret.size();
    if (nbytes == 0 || nbytes > kMaxSecretBytes) {
        return fail(Errc::invalid_argument, "shamir: secret of " + std::to_string(nbytes) +
                                                " bytes (1..64 allowed)");
    }
    if (threshold < 2 || threshold > kMaxThreshold) {
        return fail(Errc::invalid_argument,
                    "shamir: threshold " + std::to_string(threshold) + " outside 2..15");
    }
    if (shares < threshold || shares > kMaxShares) {
        return fail(Errc::invalid_argument, "shamir: " + std::to_string(shares) +
                                                " shares outside " + std::to_string(threshold) +
                                                "..15 (threshold.." + "15)");
    }
    auto ctx = bn_ctx();
    const Bn p = prime_for(nbytes);
    for (;;) {
        std::vector<Bn> a;
        a.push_back(bn_from(secret));
        for (unsigned i = 1; i < threshold; ++i) a.push_back(random_below(p.get(), nbytes, rng));

        std::vector<mesh::SecureBytes> out;
        bool fits = true;
        for (unsigned x = 1; x <= shares && fits; ++x) {
            // Horner: f(x) = (...(a[k-1] x + a[k-2]) x + ...) + a0 mod p
            Bn y = bn_new();
            MESH_ASSERT(BN_copy(y.get(), a.back().get()) != nullptr);
            const Bn bx = bn_word(x);
            for (std::size_t i = a.size() - 1; i-- > 0;) {
                MESH_ASSERT(BN_mod_mul(y.get(), y.get(), bx.get(), p.get(), ctx.get()) == 1);
                MESH_ASSERT(BN_mod_add(y.get(), y.get(), a[i].get(), p.get(), ctx.get()) == 1);
            }
            mesh::SecureBytes share(2 + nbytes);
            auto s = share.expose_secret_mut();
            s[0] = kShareType;
            s[1] = static_cast<std::uint8_t>(threshold * 16 + (x - 1));
            fits = bn_to(y.get(), s.subspan(2));  // f(x) >= 2^(8B): redraw the coefficients
            out.push_back(std::move(share));
        }
        if (fits) return out;
    }
}

Result<mesh::SecureBytes> shamir_recover(std::span<const mesh::SecureBytes> shares) {
    if (shares.empty()) return fail(Errc::invalid_argument, "shamir: no shares");
    std::vector<ParsedShare> parsed;
    for (std::size_t i = 0; i < shares.size(); ++i) {
        MESH_ASSIGN_OR_RETURN(ParsedShare s, parse_binary(shares[i].expose_secret(), i));
        if (!parsed.empty()) {
            if (s.threshold != parsed[0].threshold) {
                return fail(Errc::invalid_argument,
                            "shamir: share " + std::to_string(i + 1) + " has threshold " +
                                std::to_string(s.threshold) + ", share 1 has " +
                                std::to_string(parsed[0].threshold));
            }
            if (s.value.size() != parsed[0].value.size()) {
                return fail(Errc::invalid_argument,
                            "shamir: share " + std::to_string(i + 1) +
                                " is for a secret of another length");
            }
        }
        for (const auto& q : parsed) {
            if (q.x == s.x) {
                return fail(Errc::already_exists, "shamir: share " + std::to_string(i + 1) +
                                                      " repeats share number " +
                                                      std::to_string(s.x));
            }
        }
        parsed.push_back(s);
    }
    const unsigned k = parsed[0].threshold;
    if (parsed.size() < k) {
        return fail(Errc::invalid_argument, "shamir: " + std::to_string(parsed.size()) +
                                                " shares given, threshold is " +
                                                std::to_string(k));
    }
    const std::size_t nbytes = parsed[0].value.size();
    auto ctx = bn_ctx();
    const Bn p = prime_for(nbytes);

    // Lagrange interpolation of the first k shares at `at`.
    const auto interpolate = [&](unsigned at) {
        Bn sum = bn_word(0);
        const Bn bat = bn_word(at);
        for (unsigned i = 0; i < k; ++i) {
            Bn num = bn_word(1);
            Bn den = bn_word(1);
            for (unsigned j = 0; j < k; ++j) {
                if (j == i) continue;
                // term (at - xj) / (xi - xj)
                Bn t = bn_new();
                const Bn xj = bn_word(parsed[j].x);
                const Bn xi = bn_word(parsed[i].x);
                MESH_ASSERT(BN_mod_sub(t.get(), bat.get(), xj.get(), p.get(), ctx.get()) == 1);
                MESH_ASSERT(BN_mod_mul(num.get(), num.get(), t.get(), p.get(), ctx.get()) == 1);
                MESH_ASSERT(BN_mod_sub(t.get(), xi.get(), xj.get(), p.get(), ctx.get()) == 1);
                MESH_ASSERT(BN_mod_mul(den.get(), den.get(), t.get(), p.get(), ctx.get()) == 1);
            }
            Bn inv = bn_new();
            MESH_ASSERT(BN_mod_inverse(inv.get(), den.get(), p.get(), ctx.get()) != nullptr);
            const Bn y = bn_from(parsed[i].value);
            Bn term = bn_new();
            MESH_ASSERT(BN_mod_mul(term.get(), y.get(), num.get(), p.get(), ctx.get()) == 1);
            MESH_ASSERT(BN_mod_mul(term.get(), term.get(), inv.get(), p.get(), ctx.get()) == 1);
            MESH_ASSERT(BN_mod_add(sum.get(), sum.get(), term.get(), p.get(), ctx.get()) == 1);
        }
        return sum;
    };

    // Shares beyond the threshold must lie on the same polynomial: a wrong share is caught.
    for (std::size_t e = k; e < parsed.size(); ++e) {
        const Bn expect = interpolate(parsed[e].x);
        const Bn given = bn_from(parsed[e].value);
        if (BN_cmp(expect.get(), given.get()) != 0) {
            return fail(Errc::auth_failed, "shamir: share " + std::to_string(e + 1) +
                                               " does not agree with the others");
        }
    }
    const Bn secret = interpolate(0);
    mesh::SecureBytes out(nbytes);
    if (!bn_to(secret.get(), out.expose_secret_mut())) {
        return fail(Errc::auth_failed, "shamir: the shares do not belong together");
    }
    return out;
}

Result<mesh::SecureBytes> parse_share(std::string_view text) {
    MESH_ASSIGN_OR_RETURN(mesh::SecureBytes bin, decode(text));
    MESH_TRY(parse_binary(bin.expose_secret(), 0));
    return bin;
}

}  // namespace udf
