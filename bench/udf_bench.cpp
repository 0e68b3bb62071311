// Digest UDF throughput: in memory (1 KiB, 1 MiB) and from a file (MESH_BENCH_FILE, 1 GiB in
// bench/run_udf_digest.sh) beside `sha512sum` on the same file in the same run.
#include <cstdlib>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <udf/digest.hpp>

extern char** environ;

namespace {

void memory_digest(benchmark::State& state, udf::DigestAlg alg) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint8_t> data(n, 0x5A);
    for (auto _ : state) {
        auto bin = udf::content_digest_binary(alg, "application/octet-stream", data);
        benchmark::DoNotOptimize(bin.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

const char* bench_file(benchmark::State& state, std::int64_t& size) {
    const char* path = std::getenv("MESH_BENCH_FILE");
    struct stat st {};
    if (path == nullptr || ::stat(path, &st) != 0) {
        state.SkipWithError("set MESH_BENCH_FILE to an existing file");
        return nullptr;
    }
    size = st.st_size;
    return path;
}

void file_digest(benchmark::State& state, udf::DigestAlg alg) {
    std::int64_t size = 0;
    const char* path = bench_file(state, size);
    if (path == nullptr) return;
    for (auto _ : state) {
        const int fd = ::open(path, O_RDONLY);
        udf::ContentDigester d(alg);
        if (!udf::digest_fd(fd, d)) state.SkipWithError("read failed");
        auto bin = d.finish("application/octet-stream");
        benchmark::DoNotOptimize(bin.data());
        ::close(fd);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size);
}

// The yardstick: coreutils sha512sum on the same file, as a child process.
void sha512sum_file(benchmark::State& state) {
    std::int64_t size = 0;
    const char* path = bench_file(state, size);
    if (path == nullptr) return;
    for (auto _ : state) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        std::string prog = "sha512sum";
        std::string arg = path;
        char* argv[] = {prog.data(), arg.data(), nullptr};
        pid_t pid = 0;
        if (posix_spawnp(&pid, "sha512sum", &fa, nullptr, argv, environ) != 0) {
            state.SkipWithError("cannot run sha512sum");
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        posix_spawn_file_actions_destroy(&fa);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) state.SkipWithError("sha512sum failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size);
}

}  // namespace

BENCHMARK_CAPTURE(memory_digest, sha2, udf::DigestAlg::sha2_512)->Name("Memory/sha2")->Arg(1024)->Arg(1 << 20);
BENCHMARK_CAPTURE(memory_digest, sha3, udf::DigestAlg::sha3_512)->Name("Memory/sha3")->Arg(1024)->Arg(1 << 20);
BENCHMARK_CAPTURE(file_digest, sha2, udf::DigestAlg::sha2_512)->Name("File/udf-sha2")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(file_digest, sha3, udf::DigestAlg::sha3_512)->Name("File/udf-sha3")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(sha512sum_file)->Name("File/sha512sum")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

BENCHMARK_MAIN();
