// Container appends per second under each sync policy (1 KiB payloads, Chain containers), and
// the time and memory to open a catalog of many entries. Files go to MESH_BENCH_DIR (default
// /tmp): the disk there decides the fsync figures.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <benchmark/benchmark.h>

#include <dare/container.hpp>

namespace fs = std::filesystem;

namespace {
std::string bench_path(const std::string& name) {
    const char* d = std::getenv("MESH_BENCH_DIR");
    return (fs::path(d != nullptr ? d : "/tmp") / ("mesh_bench_" + std::to_string(::getpid()) + "_" + name)).string();
}

double rss_mib() {
    std::ifstream statm("/proc/self/statm");
    long size = 0;
    long resident = 0;
    statm >> size >> resident;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

void appends(benchmark::State& state, dare::SyncPolicy policy) {
    static std::unique_ptr<dare::Container> shared;
    static std::string path;
    if (state.thread_index() == 0) {
        path = bench_path("append.dare");
        fs::remove(path);
        shared = std::make_unique<dare::Container>(
            dare::Container::create(path, dare::ContainerType::chain, dare::ContainerOptions{policy, 1 << 20}).value());
    }
    const mesh::Bytes payload(1024, 0x42);
    dare::ContentMeta meta = dare::ContentMeta::of_type("application/octet-stream");
    meta.unique_id = "object";
    for (auto _ : state) {
        if (!shared->append(payload, meta)) state.SkipWithError("append failed");
    }
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0) {
        shared.reset();
        fs::remove(path);
    }
}

void open_catalog(benchmark::State& state) {
    const auto entries = static_cast<std::uint64_t>(state.range(0));
    const std::string path = bench_path("catalog.dare");
    fs::remove(path);
    {
        auto c = dare::Container::create(path, dare::ContainerType::list, dare::ContainerOptions{dare::SyncPolicy::none, 1 << 20}).value();
        dare::Catalog cat(c);
        for (std::uint64_t i = 0; i < entries; ++i) {
            const std::string v = R"({"Member":")" + std::to_string(i) + R"(","Status":"ACTIVE"})";
            (void)cat.put("member-" + std::to_string(i % (entries / 2 + 1)), mesh::as_bytes(v));
        }
    }
    double rss_delta = 0;
    for (auto _ : state) {
        const double before = rss_mib();
        auto c = dare::Container::open(path, dare::ContainerOptions{dare::SyncPolicy::none, 1 << 20});
        if (!c) state.SkipWithError("open failed");
        rss_delta = std::max(rss_delta, rss_mib() - before);  // the first open shows the growth
        benchmark::DoNotOptimize(c);
    }
    state.counters["entries"] = static_cast<double>(entries);
    state.counters["file_MiB"] = static_cast<double>(fs::file_size(path)) / (1024.0 * 1024.0);
    state.counters["rss_growth_MiB"] = rss_delta;
    fs::remove(path);
}
}  // namespace

BENCHMARK_CAPTURE(appends, none, dare::SyncPolicy::none)->Name("Append/no-sync")->UseRealTime();
BENCHMARK_CAPTURE(appends, every, dare::SyncPolicy::every_append)->Name("Append/fsync-each")->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(appends, group, dare::SyncPolicy::group)->Name("Append/group-commit")->Threads(8)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(appends, every8, dare::SyncPolicy::every_append)->Name("Append/fsync-each")->Threads(8)->UseRealTime()->MinTime(2);
BENCHMARK(open_catalog)->Name("Open/catalog")->Arg(1000000)->Unit(benchmark::kMillisecond)->Iterations(2);

BENCHMARK_MAIN();
