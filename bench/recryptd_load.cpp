// RecryptData over loopback against the real recryptd, with keep-alive clients that sign every
// request, beside the library's per-request crypto cost (one Ed25519 verification and one
// ristretto255 scalar multiplication) measured in the same run. After the benchmarks it prints
// the latency percentiles and the server's CPU time per request (from /proc/PID/stat) as a
// ratio to that crypto cost; the target is at most 1.5.
//   recryptd_load [google benchmark flags]   (RECRYPTD_BINARY overrides the daemon's path;
//   RECRYPTD_LOAD_ARGS adds daemon flags; data in $MESH_BENCH_DIR, default /tmp)
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>

#include <benchmark/benchmark.h>

#include <recrypt/client.hpp>
#include <recrypt/recryption.hpp>
#include <recrypt/request_signature.hpp>
#include <recryptd_process.hpp>

namespace fs = std::filesystem;
using namespace recryptd_testing;

namespace {
struct Setup {
    std::unique_ptr<DaemonProcess> daemon;
    std::optional<dare::SignaturePrivateKey> member_auth;
    std::string body;  // the RecryptData request every client sends
    dare::SignaturePublicKey verify_key = dare::SignaturePrivateKey::generate(mesh::system_random()).public_key();
};
Setup g;
std::atomic<std::uint64_t> g_requests{0};
std::atomic<std::uint64_t> g_failures{0};
double g_crypto_us = 0;  // measured before the benchmarks
std::mutex g_latency_m;
std::vector<double> g_latency_us;

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string setup_service(const std::string& binary, const std::string& dir) {
    std::vector<std::string> extra = {"--log-level", "warn"};
    if (const char* a = std::getenv("RECRYPTD_LOAD_ARGS"); a != nullptr) {
        std::istringstream in(a);
        for (std::string w; in >> w;) extra.push_back(w);
    }
    g.daemon = std::make_unique<DaemonProcess>(binary, dir, extra);
    if (auto e = g.daemon->start(); !e.empty()) return e;
    mesh::RandomSource& rng = mesh::system_random();
    const auto admin_auth = dare::SignaturePrivateKey::generate(rng);
    const auto member_auth = dare::SignaturePrivateKey::generate(rng);
    const auto member_device = dare::PrivateKey::generate(rng);
    const auto group_sig = dare::SignaturePrivateKey::generate(rng);
    const auto group_key = recrypt::GroupKey::generate(rng);
    recrypt::RecryptionGroup group;
    group.group_id = group_sig.public_key().kid();
    group.group_name = "load@example.com";
    group.signature_key = group_sig.public_key();
    group.signed_key = recrypt::sign_key_record(recrypt::KeyRecord{group.group_id, group_sig.public_key(), group_key.public_key(), ""},
                                                group_sig, rng).value();
    recrypt::MemberEntry admin;
    admin.member_udf = admin_auth.public_key().kid();
    admin.privileges = {recrypt::Privilege::super};
    admin.authentication_key = admin_auth.public_key();
    group.members.push_back(std::move(admin));
    recrypt::MemberEntry member;
    member.member_udf = member_auth.public_key().kid();
    member.privileges = {recrypt::Privilege::recrypt};
    member.authentication_key = member_auth.public_key();
    member.entries.push_back(recrypt::make_member_entry(group_key, member_device.public_key(), rng).value());
    const std::string member_udf = member.member_udf;
    const std::string member_key = member.entries.front().member_key_udf;
    group.members.push_back(std::move(member));
    auto transport = recrypt::HttpTransport::create(g.daemon->url()).value();
    recrypt::Client client(*transport, admin_auth, admin_auth.public_key().kid());
    if (auto r = client.create_group(std::move(group)); !r) return "CreateGroup: " + r.error().message;
    const auto t = dare::PrivateKey::generate(rng).public_key();  // a sender's ephemeral key
    g.body = dare::to_json(recrypt::to_json(recrypt::Request{recrypt::RecryptDataRequest{member_udf, member_key, group_key.kid(), t}}));
    g.member_auth.emplace(member_auth.clone());
    return "";
}

// One keep-alive connection per benchmark thread; every request signed afresh.
void recrypt_data(benchmark::State& state) {
    const int fd = connect_to(g.daemon->port());
    if (fd < 0) {
        state.SkipWithError("connect failed");
        return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::vector<double> latencies;
    latencies.reserve(100000);
    // every thread waits at the loop's start and end: thread 0 reads the server's CPU around it
    const double cpu0 = state.thread_index() == 0 ? g.daemon->cpu_seconds() : 0;
    const std::uint64_t req0 = g_requests;
    for (auto _ : state) {
        const auto sig = recrypt::sign_request(*g.member_auth, "POST", "/.well-known/recrypt", mesh::as_bytes(g.body), now_s(),
                                               mesh::system_random());
        std::string req = "POST /.well-known/recrypt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
        req += "Content-Digest: " + sig.content_digest + "\r\nSignature-Input: " + sig.signature_input +
               "\r\nSignature: " + sig.signature + "\r\nContent-Length: " + std::to_string(g.body.size()) + "\r\n\r\n" + g.body;
        const auto t0 = std::chrono::steady_clock::now();
        if (!send_all(fd, req)) {
            state.SkipWithError("send failed");
            break;
        }
        const RawResponse r = read_response(fd, 10000);
        latencies.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        ++g_requests;
        if (r.status != 201) {
            ++g_failures;
            state.SkipWithError(("status " + std::to_string(r.status) + " " + r.body).c_str());
            break;
        }
    }
    if (state.thread_index() == 0) {
        const double cpu = g.daemon->cpu_seconds() - cpu0;
        const auto n = static_cast<double>(g_requests - req0);
        state.counters["server_cpu_us"] = n > 0 ? cpu * 1e6 / n : 0;
        state.counters["x_crypto"] = n > 0 && g_crypto_us > 0 ? cpu * 1e6 / n / g_crypto_us : 0;
    }
    ::close(fd);
    state.SetItemsProcessed(state.iterations());
    const std::lock_guard lock(g_latency_m);
    g_latency_us.insert(g_latency_us.end(), latencies.begin(), latencies.end());
}

// What the service must do per RecryptData at the least: verify the request's Ed25519
// signature and multiply the ephemeral point by the recryption key.
struct CryptoInputs {
    dare::SignaturePrivateKey signer = dare::SignaturePrivateKey::generate(mesh::system_random());
    std::array<std::uint8_t, 64> message{};
    std::array<std::uint8_t, 64> sig = signer.sign(message);
    recrypt::Scalar r = recrypt::Scalar::random(mesh::system_random());
    recrypt::Point t = dare::PrivateKey::generate(mesh::system_random()).public_key();
};

void crypto_cost(benchmark::State& state) {
    static const CryptoInputs in;
    for (auto _ : state) {
        benchmark::DoNotOptimize(in.signer.public_key().verify(in.message, in.sig));
        benchmark::DoNotOptimize(recrypt::service_partial(in.r, in.t));
    }
}

double measure_crypto_us() {
    static const CryptoInputs in;
    constexpr int n = 3000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        benchmark::DoNotOptimize(in.signer.public_key().verify(in.message, in.sig));
        benchmark::DoNotOptimize(recrypt::service_partial(in.r, in.t));
    }
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
}
}  // namespace

BENCHMARK(crypto_cost)->Name("Crypto/ed25519-verify+scalarmult")->Unit(benchmark::kMicrosecond);
BENCHMARK(recrypt_data)->Name("RecryptData/loopback")->Threads(1)->Threads(4)->Threads(16)->UseRealTime()->MinTime(3)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    const char* bin = std::getenv("RECRYPTD_BINARY");
    const char* bench_dir = std::getenv("MESH_BENCH_DIR");
    const std::string dir = (fs::path(bench_dir != nullptr ? bench_dir : "/tmp") / ("recryptd_load_" + std::to_string(::getpid()))).string();
    if (auto e = setup_service(bin != nullptr ? bin : RECRYPTD_BINARY, dir); !e.empty()) {
        std::fprintf(stderr, "recryptd_load: %s\n", e.c_str());
        return 1;
    }
    const double crypto_before = measure_crypto_us();
    g_crypto_us = crypto_before;
    const double cpu0 = g.daemon->cpu_seconds();
    const std::uint64_t req0 = g_requests;
    benchmark::RunSpecifiedBenchmarks();
    const double cpu1 = g.daemon->cpu_seconds();
    const std::uint64_t requests = g_requests - req0;
    const double crypto_after = measure_crypto_us();
    g.daemon->stop(SIGTERM);
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove(dir + ".log", ec);
    if (requests == 0) return 0;  // filtered out
    std::sort(g_latency_us.begin(), g_latency_us.end());
    const auto pct = [](double p) { return g_latency_us[static_cast<std::size_t>(p * static_cast<double>(g_latency_us.size() - 1))]; };
    const double crypto = (crypto_before + crypto_after) / 2;
    const double server_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(requests);
    std::printf("\nRecryptData over loopback: %llu requests, %llu failed; latency p50 %.0f us, p99 %.0f us\n",
                static_cast<unsigned long long>(requests), static_cast<unsigned long long>(g_failures.load()), pct(0.50), pct(0.99));
    std::printf("library crypto cost per request (Ed25519 verify + scalar multiplication): %.1f us\n", crypto);
    std::printf("server CPU per request (user+system, /proc): %.1f us = %.2f x the crypto cost (target <= 1.50)\n", server_us,
                server_us / crypto);
    return g_failures == 0 ? 0 : 1;
}
