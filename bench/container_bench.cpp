// Container appends per second under each sync policy (1 KiB payloads, Chain containers), and
// the time and memory to open a catalog of many entries, scanning every frame or starting from
// an index frame. Files go to MESH_BENCH_DIR (default
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

dare::ContainerOptions options_of(dare::SyncPolicy policy) {
    dare::ContainerOptions o;
    o.sync = policy;
    o.max_frame_bytes = std::size_t{64} << 20;
    return o;
}

void appends(benchmark::State& state, dare::SyncPolicy policy, dare::ContainerType type) {
    static std::unique_ptr<dare::Container> shared;
    static std::string path;
    if (state.thread_index() == 0) {
        path = bench_path("append.dare");
        fs::remove(path);
        shared = std::make_unique<dare::Container>(
            dare::Container::create(path, type, options_of(policy)).value());
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
    const bool indexed = state.range(1) != 0;
    const std::string path = bench_path("catalog.dare");
    fs::remove(path);
    {
        auto c = dare::Container::create(path, dare::ContainerType::list, options_of(dare::SyncPolicy::none)).value();
        dare::Catalog cat(c);
        for (std::uint64_t i = 0; i < entries; ++i) {
            const std::string v = R"({"Member":")" + std::to_string(i) + R"(","Status":"ACTIVE"})";
            (void)cat.put("member-" + std::to_string(i % (entries / 2 + 1)), mesh::as_bytes(v));
        }
        if (indexed && !c.write_index()) state.SkipWithError("write_index failed");
    }
    double rss_delta = 0;
    for (auto _ : state) {
        const double before = rss_mib();
        dare::OpenReport report;
        auto c = dare::Container::open(path, options_of(dare::SyncPolicy::none), &report);
        if (indexed && report.index_frame == 0) state.SkipWithError("the index was not used");
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

using dare::ContainerType;
using dare::SyncPolicy;
BENCHMARK_CAPTURE(appends, none, SyncPolicy::none, ContainerType::chain)->Name("Append/no-sync")->UseRealTime();
BENCHMARK_CAPTURE(appends, merkle, SyncPolicy::none, ContainerType::merkle)->Name("Append/no-sync/merkle")->UseRealTime();
BENCHMARK_CAPTURE(appends, every, SyncPolicy::every_append, ContainerType::chain)->Name("Append/fsync-each")->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(appends, group, SyncPolicy::group, ContainerType::chain)->Name("Append/group-commit")->Threads(8)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(appends, every8, SyncPolicy::every_append, ContainerType::chain)->Name("Append/fsync-each")->Threads(8)->UseRealTime()->MinTime(2);
BENCHMARK(open_catalog)->Name("Open/catalog")->Args({1000000, 0})->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(open_catalog)->Name("Open/catalog-indexed")->Args({1000000, 1})->Unit(benchmark::kMillisecond)->Iterations(2);

BENCHMARK_MAIN();
