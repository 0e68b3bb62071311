#include <mesh_test/support.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <meshprofile/store.hpp>

using mesh::Errc;
using namespace meshprofile;
namespace fs = std::filesystem;

namespace {
struct TempHome {
    TempHome() : path(fs::temp_directory_path() / ("meshprofile_" + std::to_string(::getpid()) + "_" + std::to_string(n++))) {
        ::setenv("RECRYPT_FAST_KDF", "1", 1);
    }
    ~TempHome() { fs::remove_all(path); }
    fs::path path;
    static inline int n = 0;
};

mesh::SecureBytes pass(std::string_view s) { return mesh::SecureBytes(mesh::as_bytes(s)); }

dare::Json value(int v) { return dare::Json(dare::JsonObject{{"Version", dare::Json(v)}, {"Pad", dare::Json(std::string(4000, 'p'))}}); }
}  // namespace

TEST_CASE("the store is private, atomic and refuses unsafe permissions", "[meshprofile][unit]") {
    TempHome h;
    auto store = ProfileStore::open(h.path.string());
    REQUIRE_OK(store);
    CHECK((fs::status(h.path).permissions() & fs::perms::all) == fs::perms::owner_all);
    REQUIRE_OK(store->write_secret("master.json", value(1), std::nullopt));
    CHECK((fs::status(h.path / "master.json").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(store->read_secret("master.json", std::nullopt).value() == value(1));
    CHECK_ERRC(store->read_secret("absent.json", std::nullopt), Errc::not_found);
    CHECK_ERRC(store->write_public("../escape.json", value(1)), Errc::invalid_argument);
    // a store others can read is refused; a secret file others can read is refused
    fs::permissions(h.path / "master.json", fs::perms::group_read, fs::perm_options::add);
    CHECK_ERRC(store->read_secret("master.json", std::nullopt), Errc::permission_denied);
    fs::permissions(h.path, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    const auto refused = ProfileStore::open(h.path.string());
    CHECK_ERRC(refused, Errc::permission_denied);
    CHECK(refused.error().message.find("chmod 700") != std::string::npos);
}

TEST_CASE("passphrase protection with Argon2id", "[meshprofile][unit]") {
    TempHome h;
    const auto store = ProfileStore::open(h.path.string()).value();
    REQUIRE_OK(store.write_secret("master.json", value(7), pass("correct horse")));
    CHECK(store.is_protected("master.json").value());
    const std::string text = [&] {
        std::ifstream in(h.path / "master.json");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    CHECK(text.find("Version") == std::string::npos);
    CHECK(text.find("argon2id13") != std::string::npos);
    CHECK(store.read_secret("master.json", pass("correct horse")).value() == value(7));
    const auto wrong = store.read_secret("master.json", pass("battery staple"));
    CHECK_ERRC(wrong, Errc::auth_failed);
    CHECK(wrong.error().message.find("wrong passphrase") != std::string::npos);
    CHECK_ERRC(store.read_secret("master.json", std::nullopt), Errc::invalid_argument);
}

TEST_CASE("a crash in the middle of a write leaves the old file or the new one", "[meshprofile][crash]") {
    TempHome h;
    const auto store = ProfileStore::open(h.path.string()).value();
    REQUIRE_OK(store.write_secret("device.json", value(0), std::nullopt));
    int kills = 0;
    for (int round = 0; round < 40; ++round) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            for (int v = 1;; ++v) {
                if (!store.write_secret("device.json", value(v), std::nullopt)) ::_exit(3);
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200 + (round * 379) % 3000));
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        ++kills;
        const auto v = store.read_secret("device.json", std::nullopt);
        REQUIRE_OK(v);  // whole: the old version or a new one, never a torn one
        CHECK(v->as_object()[1].second.as_string().size() == 4000);
    }
    CHECK(kills == 40);
}

TEST_CASE("two processes do not write at once: the second waits, then is told the store is busy", "[meshprofile][unit]") {
    TempHome h;
    const auto store = ProfileStore::open(h.path.string()).value();
    const int fd = ::open((h.path / "lock").c_str(), O_RDWR | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    const pid_t holder = ::fork();
    if (holder == 0) {
        ::flock(fd, LOCK_EX);
        ::pause();
        ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto busy = store.write_public("profile.json", value(1));
    CHECK_ERRC(busy, Errc::limit_exceeded);
    CHECK(busy.error().message.find("busy") != std::string::npos);
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    ::close(fd);
    REQUIRE_OK(store.write_public("profile.json", value(1)));
}
