#include <mesh_test/support.hpp>

#include <algorithm>
#include <functional>

#include <recrypt/agent.hpp>
#include <recrypt/recryption.hpp>

using mesh::Errc;
using recrypt::GroupKey;
using recrypt::MemberAgent;
using recrypt::RecryptionService;
using recrypt::Scalar;

namespace {
std::string text_of(const mesh::SecureBytes& b) {
    const auto s = b.expose_secret();
    return {reinterpret_cast<const char*>(s.data()), s.size()};
}

std::string encrypt_to(const dare::PublicKey& key, std::string_view message, mesh::RandomSource& rng,
                       std::vector<std::string> conjunction = {}) {
    dare::EncodeOptions o;
    o.recipients = {key};
    if (!conjunction.empty()) o.conjunctions = {std::move(conjunction)};
    return dare::encode_json(o, rng, mesh::as_bytes(message)).value();
}

mesh::Result<std::string> open_with(dare::KeyAgreement& keys, const std::string& envelope) {
    MESH_ASSIGN_OR_RETURN(const dare::Decoded d, dare::decode_json(envelope, dare::OpenOptions{&keys, {}, false}));
    return text_of(d.payload);
}

dare::RecipientEntry first_recipient(const std::string& envelope) {
    const auto j = dare::parse_json(envelope).value();
    return dare::header_from_json(j.find("DareEnvelope")->as_array()[0], "$").value().recipients.at(0);
}

// Passes calls through, optionally changing what comes back.
class Wrap final : public recrypt::Service {
public:
    explicit Wrap(recrypt::Service& inner) : inner_(inner) {}
    std::function<mesh::Result<void>(std::string_view group, recrypt::RecryptReply&)> change;
    mesh::Result<recrypt::RecryptReply> recrypt(std::string_view g, std::string_view m, const recrypt::Point& t) override {
        MESH_ASSIGN_OR_RETURN(recrypt::RecryptReply r, inner_.recrypt(g, m, t));
        if (change) MESH_TRY(change(g, r));
        return r;
    }

private:
    recrypt::Service& inner_;
};

void add_member(RecryptionService& service, const GroupKey& group, const dare::PublicKey& member, mesh::RandomSource& rng) {
    REQUIRE_OK(service.add_entry(group.public_key(), recrypt::make_member_entry(group, member, rng).value()));
}
}  // namespace

TEST_CASE("every member's agreement equals the administrator's, in random groups", "[recrypt][property]") {
    mesh::test::SeededRandom rng(Catch::rngSeed() * 31 + static_cast<std::uint64_t>(GENERATE(range(0, 6))));
    RecryptionService service;
    const GroupKey group = GroupKey::generate(rng);
    std::vector<dare::PrivateKey> members;
    std::uint8_t count = 0;
    rng.fill(std::span(&count, 1));
    for (int i = 0; i < 2 + count % 5; ++i) {
        members.push_back(dare::PrivateKey::generate(rng));
        add_member(service, group, members.back().public_key(), rng);
    }
    const std::string env = encrypt_to(group.public_key(), "to the group", rng);
    const auto r = first_recipient(env);
    const auto admin = group.agree(r.epk).value();
    for (const auto& m : members) {
        MemberAgent agent(service);
        agent.add_private_key(m);
        const auto a = agent.agree(r);
        REQUIRE_OK(a);
        CHECK(a->shared == admin);
        CHECK(a->recipient == group.public_key());
        CHECK(open_with(agent, env).value() == "to the group");
    }
    // the administrator reads directly with the group key
    dare::PrivateKeyAgreement admin_keys;
    admin_keys.add(group.secret().to_private_key().value());
    CHECK(open_with(admin_keys, env).value() == "to the group");
}

TEST_CASE("the math: r + d = a, partial + completion = a·T", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(1);
    const GroupKey g = GroupKey::generate(rng);
    const auto split = recrypt::split_key(g.secret(), rng);
    CHECK(split.recryption.add(split.decryption) == g.secret());
    const auto t = dare::PrivateKey::generate(rng).public_key();
    const auto p1 = recrypt::service_partial(split.recryption, t).value();
    const auto s = recrypt::complete(p1, split.decryption, t).value();
    CHECK(s == g.agree(t).value());
    // co-generation: (s1 + s2)·G = s1·G + s2·G
    const Scalar s1 = Scalar::random(rng);
    const Scalar s2 = Scalar::random(rng);
    CHECK(s1.add(s2).public_point().value() == s1.public_point().value().add(s2.public_point().value()).value());
    CHECK(s1.mul(s1.invert().value()) == Scalar::from_uint(1));
    CHECK_ERRC(Scalar::from_bytes(mesh::Bytes(32, 0)), Errc::malformed);
    CHECK_ERRC(Scalar::from_bytes(mesh::Bytes(32, 0xFF)), Errc::malformed);
}

TEST_CASE("non-members, tampered partials and partials of another group fail", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(2);
    RecryptionService service;
    const GroupKey a = GroupKey::generate(rng);
    const GroupKey b = GroupKey::generate(rng);
    const auto mallet = dare::PrivateKey::generate(rng);
    const auto bob = dare::PrivateKey::generate(rng);
    add_member(service, a, bob.public_key(), rng);
    add_member(service, b, bob.public_key(), rng);
    const std::string env = encrypt_to(a.public_key(), "secret", rng);

    MemberAgent outsider(service);
    outsider.add_private_key(mallet);
    CHECK_ERRC(open_with(outsider, env), Errc::not_found);

    Wrap tamper(service);
    tamper.change = [&](std::string_view, recrypt::RecryptReply& r) -> mesh::Result<void> {
        // add G to the partial
        const auto g = Scalar::from_uint(1).public_point().value();
        MESH_ASSIGN_OR_RETURN(r.partial, recrypt::add_points(r.partial, dare::SharedPoint(g.bytes())));
        return mesh::ok();
    };
    MemberAgent fooled(tamper);
    fooled.add_private_key(bob);
    CHECK_ERRC(open_with(fooled, env), Errc::auth_failed);

    Wrap swap(service);
    swap.change = [&](std::string_view, recrypt::RecryptReply& r) -> mesh::Result<void> {
        const auto t = first_recipient(env).epk;  // the partial of group B's entry for the same T
        MESH_ASSIGN_OR_RETURN(auto other, service.recrypt(b.kid(), bob.public_key().kid(), t));
        r.partial = std::move(other.partial);
        return mesh::ok();
    };
    MemberAgent crossed(swap);
    crossed.add_private_key(bob);
    CHECK_ERRC(open_with(crossed, env), Errc::auth_failed);

    MemberAgent ok(service);
    ok.add_private_key(bob);
    CHECK(open_with(ok, env).value() == "secret");
}

TEST_CASE("suspension, revocation and rollover", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(3);
    RecryptionService service;
    const GroupKey old_key = GroupKey::generate(rng);
    const auto alice = dare::PrivateKey::generate(rng);
    const auto mallet = dare::PrivateKey::generate(rng);
    add_member(service, old_key, alice.public_key(), rng);
    add_member(service, old_key, mallet.public_key(), rng);
    const std::string before = encrypt_to(old_key.public_key(), "old news", rng);
    MemberAgent m(service);
    m.add_private_key(mallet);
    CHECK(open_with(m, before).value() == "old news");

    REQUIRE_OK(service.set_status(old_key.kid(), mallet.public_key().kid(), recrypt::MemberStatus::suspended));
    CHECK_ERRC(open_with(m, before), Errc::permission_denied);
    REQUIRE_OK(service.set_status(old_key.kid(), mallet.public_key().kid(), recrypt::MemberStatus::active));
    CHECK(open_with(m, before).value() == "old news");
    REQUIRE_OK(service.set_status(old_key.kid(), mallet.public_key().kid(), recrypt::MemberStatus::revoked));
    CHECK_ERRC(open_with(m, before), Errc::permission_denied);
    CHECK_ERRC(service.set_status(old_key.kid(), mallet.public_key().kid(), recrypt::MemberStatus::active),
               Errc::permission_denied);

    // rollover: a new key, entries for continuing members only; old data stays readable by them
    const GroupKey new_key = GroupKey::generate(rng);
    add_member(service, new_key, alice.public_key(), rng);
    const std::string after = encrypt_to(new_key.public_key(), "new plans", rng);
    MemberAgent a(service);
    a.add_private_key(alice);
    CHECK(open_with(a, before).value() == "old news");
    CHECK(open_with(a, after).value() == "new plans");
    // Mallet's old entry is of no use for the new key, even were it reinstated
    CHECK_ERRC(open_with(m, after), Errc::not_found);
}

TEST_CASE("conjunction needs both groups, disjunction either", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(4);
    RecryptionService service;
    const GroupKey accounting = GroupKey::generate(rng);
    const GroupKey executive = GroupKey::generate(rng);
    const auto both = dare::PrivateKey::generate(rng);
    const auto one = dare::PrivateKey::generate(rng);
    add_member(service, accounting, both.public_key(), rng);
    add_member(service, executive, both.public_key(), rng);
    add_member(service, accounting, one.public_key(), rng);
    const auto sum = accounting.public_key().add(executive.public_key()).value();
    const std::string env = encrypt_to(sum, "for accounting AND executive", rng, {accounting.kid(), executive.kid()});

    MemberAgent b(service);
    b.add_private_key(both);
    CHECK(open_with(b, env).value() == "for accounting AND executive");
    MemberAgent o(service);
    o.add_private_key(one);
    CHECK_ERRC(open_with(o, env), Errc::not_found);

    // a conjunction list that does not sum to the recipient key is refused
    const std::string lying = encrypt_to(sum, "x", rng, {accounting.kid(), accounting.kid()});
    CHECK_FALSE(open_with(b, lying).has_value());

    // disjunction: one recipient entry per group
    dare::EncodeOptions either;
    either.recipients = {accounting.public_key(), executive.public_key()};
    const std::string env2 = dare::encode_json(either, rng, mesh::as_bytes("either")).value();
    CHECK(open_with(o, env2).value() == "either");
    CHECK(open_with(b, env2).value() == "either");
}

TEST_CASE("nested groups to depth 3, with loop and depth guards", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(5);
    RecryptionService service;
    const auto device = dare::PrivateKey::generate(rng);
    const GroupKey personal = GroupKey::generate(rng);  // Bob's devices
    const GroupKey team = GroupKey::generate(rng);
    const GroupKey org = GroupKey::generate(rng);
    add_member(service, personal, device.public_key(), rng);
    add_member(service, team, personal.public_key(), rng);
    add_member(service, org, team.public_key(), rng);
    const std::string env = encrypt_to(org.public_key(), "all hands", rng);

    MemberAgent agent(service);
    agent.add_private_key(device);
    agent.add_membership(personal.kid());
    agent.add_membership(team.kid());
    CHECK(open_with(agent, env).value() == "all hands");

    // the lost device: Bob revokes it in his personal group, and it stops working everywhere
    REQUIRE_OK(service.set_status(personal.kid(), device.public_key().kid(), recrypt::MemberStatus::revoked));
    MemberAgent lost(service);
    lost.add_private_key(device);
    lost.add_membership(personal.kid());
    lost.add_membership(team.kid());
    CHECK_FALSE(open_with(lost, env).has_value());

    MemberAgent shallow(service, 2);  // depth limit
    const auto d2 = dare::PrivateKey::generate(rng);
    add_member(service, personal, d2.public_key(), rng);
    shallow.add_private_key(d2);
    shallow.add_membership(personal.kid());
    shallow.add_membership(team.kid());
    CHECK_ERRC(open_with(shallow, env), Errc::limit_exceeded);

    // a loop: g1 is a member of g2 and g2 of g1
    const GroupKey g1 = GroupKey::generate(rng);
    const GroupKey g2 = GroupKey::generate(rng);
    add_member(service, g1, g2.public_key(), rng);
    add_member(service, g2, g1.public_key(), rng);
    MemberAgent looping(service);
    looping.add_membership(g1.kid());
    looping.add_membership(g2.kid());
    const auto r = open_with(looping, encrypt_to(g1.public_key(), "x", rng));
    REQUIRE_FALSE(r.has_value());
    CHECK((r.error().code == Errc::malformed || r.error().code == Errc::not_found));
}

TEST_CASE("threshold administration: any k administrators make an entry, k-1 cannot", "[recrypt][property]") {
    mesh::test::SeededRandom rng(6 + Catch::rngSeed());
    const auto [k, n] = GENERATE(std::pair{2U, 3U}, std::pair{3U, 5U});
    const GroupKey group = GroupKey::generate(rng);
    const auto shares = recrypt::split_group_key(group.secret(), k, n, rng).value();
    const auto member = dare::PrivateKey::generate(rng);
    const std::string env = encrypt_to(group.public_key(), "threshold", rng);

    const auto entry_from = [&](const std::vector<unsigned>& who, const std::vector<unsigned>& claimed) {
        std::vector<recrypt::EntryContribution> parts;
        for (const unsigned i : who) parts.push_back(recrypt::contribute(shares[i - 1], claimed, member.public_key(), rng).value());
        return recrypt::combine_contributions(std::move(parts), group.public_key(), member.public_key()).value();
    };
    // every quorum of size k works
    std::vector<bool> mask(n, false);
    std::fill(mask.begin(), mask.begin() + k, true);
    int quorums = 0;
    do {
        std::vector<unsigned> q;
        for (unsigned i = 0; i < n; ++i) {
            if (mask[i]) q.push_back(i + 1);
        }
        RecryptionService service;
        REQUIRE_OK(service.add_entry(group.public_key(), entry_from(q, q)));
        MemberAgent agent(service);
        agent.add_private_key(member);
        CHECK(open_with(agent, env).value() == "threshold");
        ++quorums;
    } while (std::prev_permutation(mask.begin(), mask.end()));
    CHECK(quorums >= 3);
    // k-1 administrators claiming a quorum of k: the entry does not work
    std::vector<unsigned> claimed;
    for (unsigned i = 1; i <= k; ++i) claimed.push_back(i);
    std::vector<unsigned> present(claimed.begin(), claimed.end() - 1);
    RecryptionService service;
    REQUIRE_OK(service.add_entry(group.public_key(), entry_from(present, claimed)));
    MemberAgent agent(service);
    agent.add_private_key(member);
    CHECK_ERRC(open_with(agent, env), Errc::auth_failed);
    // and k-1 as a quorum of their own interpolate the wrong key
    if (k - 1 >= 2) {
        RecryptionService s2;
        REQUIRE_OK(s2.add_entry(group.public_key(), entry_from(present, present)));
        MemberAgent a2(s2);
        a2.add_private_key(member);
        CHECK_ERRC(open_with(a2, env), Errc::auth_failed);
    } else {
        CHECK_ERRC(recrypt::lagrange_at_zero(1, {1}), Errc::invalid_argument);
    }
    CHECK_ERRC(recrypt::split_group_key(group.secret(), 1, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(recrypt::split_group_key(group.secret(), 4, 3, rng), Errc::invalid_argument);
    CHECK_ERRC(recrypt::lagrange_at_zero(2, {1, 3}), Errc::invalid_argument);
    CHECK_ERRC(recrypt::lagrange_at_zero(1, {1, 2, 2}), Errc::invalid_argument);
}

TEST_CASE("ristretto255 vectors through the recryption types", "[recrypt][kat]") {
    const auto doc = mesh::test::load_vectors("ristretto255.json");
    for (const auto& v : doc["generator_multiples"].GetArray()) {
        const int m = v["multiple"].GetInt();
        if (m == 0) {
            CHECK_ERRC(recrypt::shared_from_bytes(mesh::test::unhex(v["encoding"].GetString())), Errc::malformed);
            continue;
        }
        CHECK(mesh::hex_encode(Scalar::from_uint(static_cast<std::uint64_t>(m)).public_point().value().bytes()) ==
              v["encoding"].GetString());
    }
    for (const auto& v : doc["invalid_encodings"].GetArray()) {
        CHECK_ERRC(recrypt::shared_from_bytes(mesh::test::unhex(v["encoding"].GetString())), Errc::malformed);
    }
    // 2·G + 3·G = 5·G through point addition
    const auto two = Scalar::from_uint(2).public_point().value();
    const auto three = Scalar::from_uint(3).public_point().value();
    CHECK(two.add(three).value() == Scalar::from_uint(5).public_point().value());
}

TEST_CASE("the service refuses duplicates and entries for another key", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(7);
    RecryptionService service;
    const GroupKey g = GroupKey::generate(rng);
    const GroupKey other = GroupKey::generate(rng);
    const auto m = dare::PrivateKey::generate(rng);
    add_member(service, g, m.public_key(), rng);
    CHECK_ERRC(service.add_entry(g.public_key(), recrypt::make_member_entry(g, m.public_key(), rng).value()), Errc::already_exists);
    CHECK_ERRC(service.add_entry(other.public_key(), recrypt::make_member_entry(g, m.public_key(), rng).value()),
               Errc::invalid_argument);
    CHECK_ERRC(recrypt::make_member_entry(g, g.public_key(), rng), Errc::invalid_argument);
    CHECK_ERRC(service.set_status(g.kid(), "MAAA-AAAA", recrypt::MemberStatus::revoked), Errc::not_found);
    CHECK(service.size() == 1);
    REQUIRE_OK(service.add_entry(other.public_key(), recrypt::make_member_entry(other, m.public_key(), rng).value(),
                                 "MGROUP-ID", "MPROFILE"));
    const auto idx = service.combined(other.kid(), m.public_key().kid()).value();
    CHECK(idx.group_id == "MGROUP-ID");
    CHECK(idx.member_udf == "MPROFILE");
    CHECK(idx.encryption_key_udf == other.kid());
    CHECK_ERRC(service.combined(g.kid(), other.kid()), Errc::not_found);
    const recrypt::CombinedToGroup* in_place = service.find(other.kid(), m.public_key().kid());
    REQUIRE(in_place != nullptr);
    CHECK(in_place->group_id == "MGROUP-ID");
    CHECK(in_place->member_key_udf == m.public_key().kid());
    CHECK(service.find(g.kid(), other.kid()) == nullptr);
    CHECK(service.find(other.kid(), "") == nullptr);
}

TEST_CASE("the service's partial on T as received refuses what is not a group element, naming EphemeralKey", "[recrypt][unit]") {
    mesh::test::SeededRandom rng(17);
    RecryptionService service;
    const GroupKey group = GroupKey::generate(rng);
    const auto member = dare::PrivateKey::generate(rng);
    auto entry = recrypt::make_member_entry(group, member.public_key(), rng).value();
    const std::string member_kid = entry.member_key_udf;
    REQUIRE_OK(service.add_entry(group.public_key(), std::move(entry)));
    const auto t = dare::PrivateKey::generate(rng).public_key();
    const auto good = service.partial(group.kid(), member_kid, recrypt::to_array(t));
    REQUIRE_OK(good);
    // the same as on the checked point
    const auto checked = service.partial(group.kid(), member_kid, t);
    REQUIRE_OK(checked);
    CHECK(std::ranges::equal(good->partial.expose_secret(), checked->partial.expose_secret()));
    recrypt::PointBytes identity{};
    recrypt::PointBytes all_ff{};
    all_ff.fill(0xff);
    for (const auto& bad : {identity, all_ff}) {
        const auto r = service.partial(group.kid(), member_kid, bad);
        CHECK_ERRC(r, mesh::Errc::malformed);
        CHECK(r.error().message.starts_with("EphemeralKey: "));
    }
    CHECK_ERRC(service.partial(group.kid(), "MAAA-AAAA", recrypt::to_array(t)), mesh::Errc::not_found);
}
