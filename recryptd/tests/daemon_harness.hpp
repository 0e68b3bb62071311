// Starts the real recryptd binary on 127.0.0.1:0 and talks to it: through recrypt::Client, and
// with raw sockets for what a well-behaved client never sends.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <recrypt/client.hpp>
#include <recrypt/recryption.hpp>

namespace recryptd_test {
namespace fs = std::filesystem;

struct RawResponse {
    int status = 0;          ///< 0: no response (the connection closed or timed out)
    std::string headers;
    std::string body;
};

inline int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Reads one response (by Content-Length) or until the peer closes; `timeout_ms` in all.
inline RawResponse read_response(int fd, int timeout_ms = 5000) {
    std::string in;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto header_end = in.find("\r\n\r\n");
        if (header_end != std::string::npos) {
            RawResponse r;
            r.headers = in.substr(0, header_end);
            r.status = std::atoi(in.substr(9, 3).c_str());
            std::size_t length = 0;
            std::string lower = r.headers;
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (const auto cl = lower.find("content-length:"); cl != std::string::npos) length = std::stoul(lower.substr(cl + 15));
            if (in.size() >= header_end + 4 + length) {
                r.body = in.substr(header_end + 4, length);
                return r;
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return {};
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) return {};
        char buf[65536];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return {};
        in.append(buf, static_cast<std::size_t>(n));
    }
}

/// Whether the peer closed the connection within `timeout_ms`.
inline bool closed_within(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, 0) <= 0;
}

inline RawResponse raw_request(int port, const std::string& request, int timeout_ms = 5000) {
    const int fd = connect_to(port);
    if (fd < 0) return {};
    RawResponse r;
    if (send_all(fd, request)) r = read_response(fd, timeout_ms);
    ::close(fd);
    return r;
}

inline std::string http_request(std::string_view method, std::string_view path, const std::vector<std::string>& headers,
                                std::string_view body) {
    std::string out = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : headers) out += h + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    out += body;
    return out;
}

/// A signed POST of `body` to the service path.
inline std::string signed_post(const dare::SignaturePrivateKey& key, std::string_view body, std::int64_t created,
                               std::string content_type = "application/json") {
    const auto sig = recrypt::sign_request(key, "POST", "/.well-known/recrypt", mesh::as_bytes(body), created, mesh::system_random());
    return http_request("POST", "/.well-known/recrypt",
                        {"Content-Type: " + content_type, "Content-Digest: " + sig.content_digest,
                         "Signature-Input: " + sig.signature_input, "Signature: " + sig.signature},
                        body);
}

inline std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The real binary, started on 127.0.0.1:0 with a data directory; SIGTERM on destruction.
class Daemon {
public:
    explicit Daemon(std::string data_dir, std::vector<std::string> extra = {})
        : dir_(std::move(data_dir)), extra_(std::move(extra)) {
        start();
    }
    ~Daemon() {
        stop(SIGTERM);
        if (std::getenv("RECRYPTD_TEST_LOG") != nullptr) std::fprintf(stderr, "--- %s.log\n%s", dir_.c_str(), log_text().c_str());
    }
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    void start() {
        int out[2];
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            const std::string log = dir_ + ".log";
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (err >= 0) ::dup2(err, 2);
            std::vector<std::string> args = {RECRYPTD_BINARY, "--listen", "127.0.0.1:0", "--data-dir", dir_, "--threads", "2"};
            args.insert(args.end(), extra_.begin(), extra_.end());
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            pollfd p{out[0], POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        ::close(out[0]);
        const auto at = line.find("127.0.0.1:");
        INFO("recryptd said: " << line << " / log: " << log_text());
        REQUIRE(at != std::string::npos);
        port_ = std::atoi(line.c_str() + at + 10);
        // ready once the store is loaded
        for (int i = 0; i < 200; ++i) {
            if (raw_request(port_, http_request("GET", "/readyz", {}, "")).status == 200) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("recryptd did not become ready: " << log_text());
    }

    /// Sends `sig` and waits for the exit; returns the exit status (or 128+signal).
    int stop(int sig) {
        if (pid_ <= 0) return -1;
        ::kill(pid_, sig);
        int status = 0;
        for (int i = 0; i < 300; ++i) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -2;  // did not stop in time
    }

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string log_text() const {
        std::ifstream in(dir_ + ".log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    std::string dir_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
    int port_ = 0;
};

struct TempDir {
    TempDir() : path(fs::temp_directory_path() / ("recryptd_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++))) {
        fs::create_directories(path);
        fs::permissions(path, fs::perms::owner_all);
    }
    ~TempDir() { fs::remove_all(path); }
    [[nodiscard]] std::string sub(const std::string& name) const { return (path / name).string(); }
    fs::path path;
    static inline int counter = 0;
};

/// Someone with a profile: an authentication key and a device encryption key.
struct Person {
    explicit Person(mesh::RandomSource& rng)
        : auth(dare::SignaturePrivateKey::generate(rng)), device(dare::PrivateKey::generate(rng)), udf(auth.public_key().kid()) {}
    dare::SignaturePrivateKey auth;
    dare::PrivateKey device;
    std::string udf;
};

/// A group's administrator side: the group's signature and encryption keys.
struct GroupAdmin {
    explicit GroupAdmin(mesh::RandomSource& rng)
        : signature(dare::SignaturePrivateKey::generate(rng)), key(recrypt::GroupKey::generate(rng)) {}
    recrypt::RecryptionGroup group(const Person& creator, mesh::RandomSource& rng) const {
        recrypt::RecryptionGroup g;
        g.group_id = signature.public_key().kid();
        g.group_name = "accounting@example.com";
        g.signature_key = signature.public_key();
        g.signed_key = recrypt::sign_key_record(recrypt::KeyRecord{g.group_id, signature.public_key(), key.public_key(), ""},
                                                signature, rng).value();
        g.members.push_back(member(creator, {recrypt::Privilege::super, recrypt::Privilege::recrypt}, rng));
        return g;
    }
    recrypt::MemberEntry member(const Person& p, std::vector<recrypt::Privilege> privileges, mesh::RandomSource& rng) const {
        recrypt::MemberEntry m;
        m.member_udf = p.udf;
        m.account_name = "someone@example.com";
        m.privileges = std::move(privileges);
        m.authentication_key = p.auth.public_key();
        m.entries.push_back(recrypt::make_member_entry(key, p.device.public_key(), rng).value());
        return m;
    }
    dare::SignaturePrivateKey signature;
    recrypt::GroupKey key;
};

inline std::vector<recrypt::MemberEntry> just(recrypt::MemberEntry m) {
    std::vector<recrypt::MemberEntry> v;
    v.push_back(std::move(m));
    return v;
}

}  // namespace recryptd_test
