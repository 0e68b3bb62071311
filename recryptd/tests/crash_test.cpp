// Crash consistency of recryptd: a client streams AddMember and RecryptData requests while the
// daemon is killed with SIGKILL at a random moment, many times. After each restart every
// acknowledged member is there, a member added before the kill still decrypts, and the audit
// log verifies with the service's key. Bounded in time.
#include <mesh_test/support.hpp>

#include <atomic>
#include <random>
#include <thread>

#include <dare/container.hpp>

#include "audit.hpp"

#include "daemon_harness.hpp"

using namespace recryptd_test;
using recrypt::Privilege;

namespace {
dare::SignaturePublicKey service_signing_key(const std::string& data) {
    const std::string text = [&] {
        std::ifstream in(data + "/service.pub.json");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    const auto j = dare::parse_json(text).value();
    for (const auto& [k, v] : j.as_object()[0].second.as_object()) {
        if (k == "SigningKey") return dare::SignaturePublicKey::from_bytes(mesh::base64url_decode(v.as_string()).value()).value();
    }
    FAIL("no SigningKey");
    throw std::logic_error("unreachable");
}
}  // namespace

TEST_CASE("SIGKILL during admin writes and recryptions never loses an acknowledged write", "[recryptd][crash][slow]") {
    TempDir tmp;
    mesh::RandomSource& rng = mesh::system_random();
    const Person alice(rng);
    const GroupAdmin admin(rng);
    const std::string data = tmp.sub("data");
    const std::string gid = admin.signature.public_key().kid();
    std::vector<std::unique_ptr<Person>> acknowledged;  // members whose AddMember was answered 201
    std::mt19937 pick(12345);
    const dare::Json env = [&] {
        dare::EncodeOptions o;
        o.recipients = {admin.key.public_key()};
        return dare::encode_value(o, rng, mesh::as_bytes("kept")).value();
    }();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    int rounds = 0;
    std::size_t recryptions = 0;
    for (; rounds < 12 && std::chrono::steady_clock::now() < deadline; ++rounds) {
        Daemon d(data);
        auto transport = recrypt::HttpTransport::create(d.url()).value();
        recrypt::Client as_alice(*transport, alice.auth, alice.udf);
        if (rounds == 0) REQUIRE_OK(as_alice.create_group(admin.group(alice, rng)));
        // everything acknowledged before is there
        const auto g = as_alice.get_group(gid);
        REQUIRE_OK(g);
        for (const auto& p : acknowledged) {
            const bool present = std::any_of(g->members.begin(), g->members.end(), [&](const auto& m) { return m.member_udf == p->udf; });
            INFO("round " << rounds << " member " << p->udf);
            CHECK(present);
        }
        if (!acknowledged.empty()) {
            const auto& p = *acknowledged[pick() % acknowledged.size()];
            recrypt::Client as_member(*transport, p.auth, p.udf);
            CHECK(as_member.open(env, {&p.device}).has_value());
        }
        // a stream of writes and recryptions, killed at a random moment
        std::atomic<bool> stop{false};
        std::mutex m;
        std::thread writer([&] {
            auto t = recrypt::HttpTransport::create(d.url()).value();
            recrypt::Client c(*t, alice.auth, alice.udf);
            while (!stop) {
                auto p = std::make_unique<Person>(mesh::system_random());
                if (!c.add_member(gid, just(admin.member(*p, {Privilege::recrypt}, mesh::system_random())))) break;
                const std::lock_guard lock(m);
                acknowledged.push_back(std::move(p));
            }
        });
        std::thread reader([&] {
            auto t = recrypt::HttpTransport::create(d.url()).value();
            recrypt::Client c(*t, alice.auth, alice.udf);
            while (!stop) {
                if (!c.open(env, {&alice.device})) break;
                ++recryptions;
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + pick() % 400));
        CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
        stop = true;
        writer.join();
        reader.join();
    }
    INFO("rounds " << rounds << ", members acknowledged " << acknowledged.size() << ", recryptions " << recryptions);
    CHECK(rounds >= 3);
    CHECK(acknowledged.size() > 0);
    // the audit log of all those rounds verifies, signatures included
    const auto signer = service_signing_key(data);
    auto audit = dare::Container::open(data + "/audit.dare").value();
    const auto report = audit.verify([&](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        if (kid == signer.kid()) return signer;
        return std::nullopt;
    });
    REQUIRE_OK(report);
    std::size_t records = 0;
    for (std::uint64_t i = 1; i < audit.frames(); ++i) {
        const auto f = audit.read(i).value();
        if (!f.is_meta) records += recryptd::AuditLog::records_of(std::string_view(reinterpret_cast<const char*>(f.payload.data()), f.payload.size())).size();
    }
    CHECK(records >= acknowledged.size() + recryptions);
    WARN("crash rounds " << rounds << ", members acknowledged " << acknowledged.size() << ", recryptions " << recryptions
                         << ", audit records " << records << " in " << audit.frames() - 1 << " frames");
}
