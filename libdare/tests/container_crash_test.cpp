// Crash consistency: a child appends frames with fsync and reports each acknowledged index on
// a pipe; the parent kills it with SIGKILL at a random moment, reopens the container and checks
// that every acknowledged frame is there, intact. Hundreds of rounds, bounded in time.
#include <mesh_test/support.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dare/container.hpp>

namespace fs = std::filesystem;

namespace {
mesh::Bytes payload_for(std::uint64_t index) {
    std::string s = "frame " + std::to_string(index) + " ";
    s.append(static_cast<std::size_t>(index % 97) * 13, static_cast<char>('a' + index % 26));
    return mesh::Bytes(s.begin(), s.end());
}

[[noreturn]] void child_appends(const std::string& path, int out) {
    auto c = dare::Container::open(path);
    if (!c) _exit(3);
    for (;;) {
        const std::uint64_t n = c->frames();
        dare::ContentMeta m = dare::ContentMeta::of_type("text/plain");
        m.unique_id = "obj-" + std::to_string(n % 10);
        auto r = c->append(payload_for(n), m);
        if (!r || *r != n) _exit(4);
        if (::write(out, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) _exit(5);  // acknowledged
    }
}
}  // namespace

TEST_CASE("SIGKILL during fsynced appends never loses an acknowledged frame", "[container][crash][slow]") {
    const fs::path dir = fs::temp_directory_path() / ("dare_crash_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "crash.dare").string();
    REQUIRE_OK(dare::Container::create(path, dare::ContainerType::chain));
    std::mt19937_64 rng(Catch::rngSeed());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    int rounds = 0;
    int truncations = 0;
    std::uint64_t acknowledged = 0;  // the highest index any child acknowledged
    while (rounds < 300 && std::chrono::steady_clock::now() < deadline) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            child_appends(path, fds[1]);
        }
        ::close(fds[1]);
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFSIGNALED(status));  // it was still appending, not failing
        std::uint64_t n = 0;
        while (::read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) acknowledged = std::max(acknowledged, n);
        ::close(fds[0]);

        dare::OpenReport report;
        auto c = dare::Container::open(path, {}, &report);
        REQUIRE_OK(c);
        if (report.truncated_bytes > 0) ++truncations;
        INFO("round " << rounds << " acknowledged " << acknowledged << " frames " << report.frames);
        REQUIRE(report.frames > acknowledged);
        // the last acknowledged frame and a few before it are intact
        for (std::uint64_t i = acknowledged; i > 0 && i + 5 > acknowledged; --i) {
            const auto f = c->read(i);
            REQUIRE_OK(f);
            CHECK(f->payload == payload_for(i));
        }
        ++rounds;
    }
    auto c = dare::Container::open(path);
    REQUIRE_OK(c);
    REQUIRE_OK(c->verify());
    CHECK(rounds >= 100);
    WARN("crash rounds: " << rounds << ", torn tails repaired: " << truncations << ", frames: " << c->frames());
    fs::remove_all(dir);
}
