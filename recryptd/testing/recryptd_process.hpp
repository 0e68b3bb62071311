// A recryptd process on 127.0.0.1:0 and a raw HTTP/1.1 client over POSIX sockets, shared by the
// integration tests and the load generator (no test framework here).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <recrypt/request_signature.hpp>
#include <mesh/random.hpp>

namespace recryptd_testing {

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

/// The real binary, started on 127.0.0.1:0 with a data directory.
class DaemonProcess {
public:
    DaemonProcess(std::string binary, std::string data_dir, std::vector<std::string> extra = {})
        : binary_(std::move(binary)), dir_(std::move(data_dir)), extra_(std::move(extra)) {}
    ~DaemonProcess() { stop(SIGTERM); }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    /// Starts it and waits until /readyz answers 200; "" or what went wrong.
    std::string start() {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) return "pipe failed";
        pid_ = ::fork();
        if (pid_ < 0) return "fork failed";
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            const std::string log = dir_ + ".log";
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (err >= 0) ::dup2(err, 2);
            std::vector<std::string> args = {binary_, "--listen", "127.0.0.1:0", "--data-dir", dir_};
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
        if (at == std::string::npos) return "recryptd said '" + line + "'; log: " + log_text();
        port_ = std::atoi(line.c_str() + at + 10);
        for (int i = 0; i < 200; ++i) {
            if (raw_request(port_, http_request("GET", "/readyz", {}, "")).status == 200) return "";
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return "recryptd did not become ready; log: " + log_text();
    }

    /// Sends `sig` and waits for the exit; the exit status, 128+signal, or -2 if it had to be killed.
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
        return -2;
    }

    /// User plus system CPU time the process has used, in seconds (/proc/PID/stat).
    [[nodiscard]] double cpu_seconds() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), {});
        const auto close = stat.rfind(')');
        if (close == std::string::npos) return 0;
        std::vector<std::string> fields;
        std::string f;
        for (std::size_t i = close + 2; i <= stat.size(); ++i) {
            if (i == stat.size() || stat[i] == ' ') {
                fields.push_back(f);
                f.clear();
            } else {
                f += stat[i];
            }
        }
        if (fields.size() < 13) return 0;
        const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
        return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;  // utime, stime
    }

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string log_text() const {
        std::ifstream in(dir_ + ".log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    std::string binary_;
    std::string dir_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace recryptd_testing
