#include <mesh_test/support.hpp>

#include <algorithm>
#include <random>

#include <udf/shamir.hpp>
#include <udf/udf.hpp>

using mesh::Errc;
using mesh::test::unhex;

namespace {
std::vector<mesh::SecureBytes> parse_all(const std::vector<std::string>& texts) {
    std::vector<mesh::SecureBytes> out;
    for (const auto& t : texts) out.push_back(udf::parse_share(t).value());
    return out;
}

// Big-endian bytes of a decimal string (test helper; values below 2^136).
mesh::Bytes decimal_to_bytes(const std::string& dec, std::size_t n) {
    mesh::Bytes out(n, 0);
    for (const char c : dec) {
        unsigned carry = static_cast<unsigned>(c - '0');
        for (std::size_t i = n; i-- > 0;) {
            const unsigned v = out[i] * 10U + carry;
            out[i] = static_cast<std::uint8_t>(v & 0xFF);
            carry = v >> 8;
        }
    }
    return out;
}
}  // namespace

TEST_CASE("the prime offsets are the published table", "[shamir][kat]") {
    const auto doc = mesh::test::load_vectors("shamir.json");
    const auto& offsets = doc["primes"]["offsets"];
    REQUIRE(offsets.Size() == 64);
    for (rapidjson::SizeType i = 0; i < offsets.Size(); ++i) {
        CHECK(udf::shamir_prime_offset(i + 1) == offsets[i].GetUint());
    }
    CHECK(udf::shamir_prime_offset(0) == 0);
    CHECK(udf::shamir_prime_offset(65) == 0);
}

TEST_CASE("published shares recover their secret from every subset of threshold size",
          "[shamir][kat]") {
    const auto doc = mesh::test::load_vectors("shamir.json");
    for (const auto& v : doc["splits"].GetArray()) {
        INFO(v["id"].GetString());
        std::vector<std::string> texts;
        for (const auto& m : v["share_udfs"].GetObject()) texts.emplace_back(m.value.GetString());
        const auto shares = parse_all(texts);
        const auto k = v["threshold"].GetUint();
        // every k-subset, via a selection mask
        std::vector<bool> mask(shares.size(), false);
        std::fill(mask.begin(), mask.begin() + k, true);
        int subsets = 0;
        do {
            std::vector<mesh::SecureBytes> pick;
            for (std::size_t i = 0; i < shares.size(); ++i) {
                if (mask[i]) pick.push_back(shares[i].clone());
            }
            const auto secret = udf::shamir_recover(pick);
            REQUIRE_OK(secret);
            CHECK(mesh::hex_encode_upper(secret->expose_secret()) == v["secret_hex"].GetString());
            ++subsets;
        } while (std::prev_permutation(mask.begin(), mask.end()));
        CHECK(subsets >= 3);
        // all shares together also agree
        CHECK(mesh::hex_encode_upper(udf::shamir_recover(shares).value().expose_secret()) ==
              v["secret_hex"].GetString());
    }
}

TEST_CASE("a split with the published coefficients gives the published shares",
          "[shamir][kat]") {
    const auto doc = mesh::test::load_vectors("shamir.json");
    for (const auto& v : doc["splits"].GetArray()) {
        if (!v.HasMember("a")) continue;
        INFO(v["id"].GetString());
        const mesh::Bytes secret = unhex(v["secret_hex"].GetString());
        // the source draws each coefficient as B+1 big-endian bytes below p
        mesh::test::FixedRandom rng;
        const auto& a = v["a"];
        CHECK(decimal_to_bytes(a[0].GetString(), secret.size()) == secret);
        for (rapidjson::SizeType i = 1; i < a.Size(); ++i) {
            rng.push(decimal_to_bytes(a[i].GetString(), secret.size() + 1));
        }
        const auto shares = udf::shamir_split(secret, v["threshold"].GetUint(), v["shares"].GetUint(), rng);
        REQUIRE_OK(shares);
        for (std::size_t i = 0; i < shares->size(); ++i) {
            const std::string x = std::to_string(i + 1);
            CHECK(mesh::hex_encode_upper((*shares)[i].expose_secret().subspan(1)) ==
                  v["share_bytes"][x.c_str()].GetString());
            CHECK(udf::present_full((*shares)[i].expose_secret()) == v["share_udfs"][x.c_str()].GetString());
        }
    }
}

TEST_CASE("split then recover round trips for every length and threshold", "[shamir][property]") {
    mesh::test::SeededRandom rng(Catch::rngSeed());
    const auto len = static_cast<std::size_t>(GENERATE(1, 2, 3, 16, 31, 32, 33, 63, 64));
    const auto k = static_cast<unsigned>(GENERATE(2, 3, 5, 15));
    const unsigned n = std::min(15U, k + 2);
    mesh::Bytes secret(len);
    rng.fill(secret);
    const auto shares = udf::shamir_split(secret, k, n, rng).value();
    REQUIRE(shares.size() == n);
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 shuffle(Catch::rngSeed());
    std::shuffle(order.begin(), order.end(), shuffle);
    std::vector<mesh::SecureBytes> pick;
    for (std::size_t i = 0; i < k; ++i) pick.push_back(shares[order[i]].clone());
    const auto back = udf::shamir_recover(pick);
    REQUIRE_OK(back);
    CHECK(mesh::hex_encode(back->expose_secret()) == mesh::hex_encode(secret));
    // one share too few does not give the secret
    pick.pop_back();
    CHECK_ERRC(udf::shamir_recover(pick), Errc::invalid_argument);
}

TEST_CASE("shamir rejects bad parameters and bad share sets", "[shamir][unit]") {
    auto& rng = mesh::system_random();
    const mesh::Bytes secret(16, 7);
    CHECK_ERRC(udf::shamir_split({}, 2, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(udf::shamir_split(mesh::Bytes(65), 2, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(udf::shamir_split(secret, 1, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(udf::shamir_split(secret, 4, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(udf::shamir_split(secret, 2, 16, rng), Errc::invalid_argument);
    CHECK_ERRC(udf::shamir_split(secret, 16, 16, rng), Errc::invalid_argument);

    const auto a = udf::shamir_split(secret, 2, 3, rng).value();
    const auto b = udf::shamir_split(secret, 3, 3, rng).value();
    const auto c = udf::shamir_split(mesh::Bytes(17, 7), 2, 3, rng).value();
    std::vector<mesh::SecureBytes> set;
    set.push_back(a[0].clone());
    set.push_back(b[1].clone());
    CHECK_ERRC(udf::shamir_recover(set), Errc::invalid_argument);  // mixed thresholds
    set.clear();
    set.push_back(a[0].clone());
    set.push_back(a[0].clone());
    CHECK_ERRC(udf::shamir_recover(set), Errc::already_exists);  // duplicate share
    set.clear();
    set.push_back(a[0].clone());
    set.push_back(c[1].clone());
    CHECK_ERRC(udf::shamir_recover(set), Errc::invalid_argument);  // different lengths
    set.clear();
    CHECK_ERRC(udf::shamir_recover(set), Errc::invalid_argument);  // none
    // a changed extra share is caught
    set.push_back(a[0].clone());
    set.push_back(a[1].clone());
    set.push_back(a[2].clone());
    set[2].expose_secret_mut()[5] ^= 1;
    CHECK_ERRC(udf::shamir_recover(set), Errc::auth_failed);

    CHECK_ERRC(udf::parse_share("NDZZ-KNXV-IWNN-ZPN3-CIZY-YJUF-XMBA"), Errc::unsupported);
    CHECK_ERRC(udf::parse_share("SA"), Errc::malformed);
    CHECK_ERRC(udf::parse_share("SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-!"), Errc::malformed);
    CHECK_ERRC(udf::parse_share("SAAA-AAAA-AAAA-AAAA"), Errc::malformed);  // threshold 0
}
