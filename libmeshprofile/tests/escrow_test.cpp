#include <mesh_test/support.hpp>

#include <functional>

#include <meshprofile/escrow.hpp>

using mesh::Errc;
using namespace meshprofile;

namespace {
// Every subset of `k` of the shares.
void for_each_subset(const std::vector<std::string>& all, std::size_t k, const std::function<void(const std::vector<std::string>&)>& f) {
    const std::size_t n = all.size();
    for (unsigned mask = 0; mask < (1U << n); ++mask) {
        if (static_cast<std::size_t>(__builtin_popcount(mask)) != k) continue;
        std::vector<std::string> pick;
        for (std::size_t i = 0; i < n; ++i) {
            if ((mask >> i) & 1U) pick.push_back(all[i]);
        }
        f(pick);
    }
}
}  // namespace

TEST_CASE("escrow round trips: any k of n shares recover the master profile", "[meshprofile][unit]") {
    mesh::test::SeededRandom rng(3);
    const auto master = create_master(rng, "2026-11-22T00:00:00Z").value();
    for (const auto& [k, n] : {std::pair{2U, 3U}, std::pair{3U, 5U}}) {
        const auto e = escrow_master(master.secrets, master.profile.udf(), k, n, rng).value();
        REQUIRE(e.shares.size() == n);
        int recovered = 0;
        for_each_subset(e.shares, k, [&](const std::vector<std::string>& pick) {
            const auto s = recover_master(e.recovery_record, pick);
            REQUIRE_OK(s);
            CHECK(s->offline_signature.public_key() == master.secrets.offline_signature.public_key());
            ++recovered;
        });
        CHECK(recovered == (k == 2 ? 3 : 10));
        // too few
        std::vector<std::string> few(e.shares.begin(), e.shares.begin() + static_cast<std::ptrdiff_t>(k - 1));
        CHECK_ERRC(recover_master(e.recovery_record, few), Errc::invalid_argument);
    }
    // after recovery the profile can be signed again and verifies
    const auto e = escrow_master(master.secrets, master.profile.udf(), 2, 3, rng).value();
    const auto s = recover_master(e.recovery_record, {e.shares[0], e.shares[2]}).value();
    const auto device = create_device("new laptop", rng).value();
    const auto c = connect_device(master.profile, s, device.profile, rng).value();
    const auto personal = sign_personal(master.signed_profile, {{device.signed_profile, c.signed_connection}}, {}, s, rng).value();
    REQUIRE_OK(verify_personal(personal));
}

TEST_CASE("recovery refuses wrong shares and a tampered record", "[meshprofile][unit]") {
    mesh::test::SeededRandom rng(4);
    const auto master = create_master(rng, "2026-11-22T00:00:00Z").value();
    const auto e = escrow_master(master.secrets, master.profile.udf(), 2, 3, rng).value();
    const auto other = escrow_master(master.secrets, master.profile.udf(), 2, 3, rng).value();
    // shares of another escrow: they recover a secret, but not this record's
    const auto wrong = recover_master(e.recovery_record, {other.shares[0], other.shares[1]});
    CHECK_ERRC(wrong, Errc::auth_failed);
    CHECK(wrong.error().message.find("not for this recovery record") != std::string::npos);
    // a mix of both does not fit together (or gives the wrong key)
    CHECK_FALSE(recover_master(e.recovery_record, {e.shares[0], other.shares[1]}).has_value());
    // not a share at all
    CHECK_FALSE(recover_master(e.recovery_record, {e.shares[0], "MAAA-AAAA-AAAA"}).has_value());
    // the record's envelope changed: it does not decrypt
    dare::Json tampered = e.recovery_record;
    auto& env = tampered.as_object()[0].second.as_object()[4].second.as_array();
    std::string body = env[1].as_string();
    body[body.size() / 2] = body[body.size() / 2] == 'A' ? 'B' : 'A';
    env[1] = dare::Json(body);
    CHECK_ERRC(recover_master(tampered, {e.shares[0], e.shares[1]}), Errc::auth_failed);
    // escrow checks its arguments
    CHECK_ERRC(escrow_master(master.secrets, master.profile.udf(), 1, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(escrow_master(master.secrets, "MAAA-BBBB-CCCC", 2, 3, rng), Errc::invalid_argument);
}
