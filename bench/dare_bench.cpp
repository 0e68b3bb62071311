// `recrypt dare encode/decode` against `age -r` / `age -d` on the same file in the same run,
// and the envelope library in memory. Set up by bench/run_dare_vs_age.sh (environment:
// MESH_BENCH_FILE, RECRYPT_BIN, RECRYPT_HOME, RECRYPT_TO, AGE_RECIPIENT, AGE_IDENTITY, MESH_BENCH_OUT).
#include <cstdlib>
#include <string>
#include <sys/stat.h>

#include <benchmark/benchmark.h>

#include <dare/envelope.hpp>
#include <mesh/crypto_init.hpp>

#include "spawn.hpp"

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

std::int64_t file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

void command(benchmark::State& state, const std::vector<std::string>& argv) {
    const std::int64_t size = file_size(env("MESH_BENCH_FILE"));
    if (size < 0 || env("RECRYPT_BIN").empty()) {
        state.SkipWithError("run through bench/run_dare_vs_age.sh");
        return;
    }
    long rss = 0;
    for (auto _ : state) {
        const auto r = mesh::bench::run_child(argv);
        if (r.exit_code != 0) state.SkipWithError(("failed: " + argv[0]).c_str());
        rss = std::max(rss, r.max_rss_kb);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size);
    state.counters["max_rss_MiB"] = static_cast<double>(rss) / 1024.0;
}

// Outputs go to /dev/null (standard output): the figures are the tools', not the disk's.
// The encrypted inputs of the decode runs are made once by the script.
void recrypt_encode(benchmark::State& state) {
    command(state, {env("RECRYPT_BIN"), "dare", "encode", env("MESH_BENCH_FILE"), "--to", env("RECRYPT_TO"), "-o", "-"});
}
void age_encrypt(benchmark::State& state) {
    command(state, {"age", "-r", env("AGE_RECIPIENT"), env("MESH_BENCH_FILE")});
}
void recrypt_decode(benchmark::State& state) {
    command(state, {env("RECRYPT_BIN"), "dare", "decode", env("MESH_BENCH_OUT") + ".dare", "-o", "-"});
}
void age_decrypt(benchmark::State& state) {
    command(state, {"age", "-d", "-i", env("AGE_IDENTITY"), env("MESH_BENCH_OUT") + ".age"});
}

// The library alone, in memory: one recipient, 1 MiB, both AEADs.
void library_seal(benchmark::State& state, dare::Aead aead) {
    mesh::crypto_init();
    if (aead == dare::Aead::aes256_gcm && !dare::aes256gcm_available()) {
        state.SkipWithError("no AES-GCM on this CPU");
        return;
    }
    const auto key = dare::PrivateKey::generate(mesh::system_random());
    dare::EncodeOptions o;
    o.recipients = {key.public_key()};
    o.aead = aead;
    const mesh::Bytes data(static_cast<std::size_t>(state.range(0)), 0x42);
    for (auto _ : state) {
        auto env = dare::encode_binary(o, mesh::system_random(), data);
        benchmark::DoNotOptimize(env->data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

}  // namespace

BENCHMARK(recrypt_encode)->Name("File/recrypt-encode")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(age_encrypt)->Name("File/age-encrypt")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(recrypt_decode)->Name("File/recrypt-decode")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(age_decrypt)->Name("File/age-decrypt")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(library_seal, xchacha, dare::Aead::xchacha20_poly1305)->Name("Memory/seal-XC20P")->Arg(1 << 20);
BENCHMARK_CAPTURE(library_seal, aesgcm, dare::Aead::aes256_gcm)->Name("Memory/seal-A256GCM")->Arg(1 << 20);

BENCHMARK_MAIN();
