// Each recryption operation beside the bare libsodium scalar multiplication in the same run
// (DESIGN §8: the service partial should cost within 10 % of one scalar multiplication).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <mesh/crypto_init.hpp>
#include <recrypt/agent.hpp>
#include <recrypt/recryption.hpp>

namespace {

struct Fixture {
    Fixture() {
        mesh::crypto_init();
        member_entry_split = recrypt::split_key(group.secret(), mesh::system_random());
        t = dare::PrivateKey::generate(mesh::system_random()).public_key();
        partial.emplace(recrypt::service_partial(member_entry_split->recryption, t).value());
    }
    recrypt::GroupKey group = recrypt::GroupKey::generate(mesh::system_random());
    dare::PrivateKey member = dare::PrivateKey::generate(mesh::system_random());
    std::optional<recrypt::Split> member_entry_split;
    dare::PublicKey t = dare::PrivateKey::generate(mesh::system_random()).public_key();
    std::optional<dare::SharedPoint> partial;
};

Fixture& fx() {
    static Fixture f;
    return f;
}

void bare_scalarmult(benchmark::State& state) {
    const auto& f = fx();
    unsigned char out[32];
    for (auto _ : state) {
        benchmark::DoNotOptimize(crypto_scalarmult_ristretto255(out, f.group.secret().expose_secret().data(), f.t.bytes().data()));
        benchmark::ClobberMemory();
    }
}

void service_partial(benchmark::State& state) {
    const auto& f = fx();
    for (auto _ : state) {
        auto p = recrypt::service_partial(f.member_entry_split->recryption, f.t);
        benchmark::DoNotOptimize(p);
    }
}

void member_completion(benchmark::State& state) {
    const auto& f = fx();
    for (auto _ : state) {
        auto s = recrypt::complete(*f.partial, f.member_entry_split->decryption, f.t);
        benchmark::DoNotOptimize(s);
    }
}

void group_creation(benchmark::State& state) {
    for (auto _ : state) {
        auto g = recrypt::GroupKey::generate(mesh::system_random());
        benchmark::DoNotOptimize(g);
    }
}

void member_entry(benchmark::State& state) {
    const auto& f = fx();
    for (auto _ : state) {
        auto e = recrypt::make_member_entry(f.group, f.member.public_key(), mesh::system_random());
        benchmark::DoNotOptimize(e);
    }
}

void encrypt_to_group(benchmark::State& state) {
    const auto& f = fx();
    dare::EncodeOptions o;
    o.recipients = {f.group.public_key()};
    const mesh::Bytes msg(1024, 0x42);
    for (auto _ : state) {
        auto env = dare::encode_value(o, mesh::system_random(), msg);
        benchmark::DoNotOptimize(env);
    }
}

// The service's whole RecryptData core: lookup in a 100,000-entry service plus the partial.
void service_recrypt_lookup(benchmark::State& state) {
    const auto& f = fx();
    static recrypt::RecryptionService service;
    static std::vector<std::string> kids;
    if (kids.empty()) {
        for (int i = 0; i < state.range(0); ++i) {
            const auto m = dare::PrivateKey::generate(mesh::system_random()).public_key();
            recrypt::UserDecryptionEntry e{f.group.kid(), m.kid(), recrypt::Scalar::random(mesh::system_random()), {dare::Json()}};
            (void)service.add_entry(f.group.public_key(), std::move(e));
            kids.push_back(m.kid());
        }
    }
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = service.recrypt(f.group.kid(), kids[i++ % kids.size()], f.t);
        benchmark::DoNotOptimize(r);
    }
}

}  // namespace

BENCHMARK(bare_scalarmult)->Name("ristretto255/bare-scalarmult");
BENCHMARK(service_partial)->Name("recrypt/service-partial");
BENCHMARK(member_completion)->Name("recrypt/member-completion");
BENCHMARK(group_creation)->Name("recrypt/group-creation");
BENCHMARK(member_entry)->Name("recrypt/member-entry");
BENCHMARK(encrypt_to_group)->Name("recrypt/encrypt-1KiB-to-group");
BENCHMARK(service_recrypt_lookup)->Name("recrypt/service-recrypt-in-group")->Arg(100000);

BENCHMARK_MAIN();
