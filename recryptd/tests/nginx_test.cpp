// recryptd behind Debian's nginx with deploy/nginx/recryptd.conf: TLS termination on loopback,
// then a whole group scenario through it. Run by nginx_test.sh, which installs nginx; hidden
// from the default run ("[.nginx]").
#include <mesh_test/support.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>

#include <dare/container.hpp>

#include "daemon_harness.hpp"

using mesh::Errc;
using namespace recryptd_test;
using recrypt::Privilege;

namespace {
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("a group scenario through nginx with the deployment configuration", "[.nginx][integration]") {
    const char* nginx = std::getenv("NGINX_BIN");
    const char* deploy = std::getenv("RECRYPTD_NGINX_CONF");
    REQUIRE(nginx != nullptr);
    REQUIRE(deploy != nullptr);
    TempDir tmp;
    const std::string dir = tmp.path.string();
    REQUIRE(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 "
                         "-addext subjectAltName=IP:127.0.0.1 -keyout " + dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null").c_str()) == 0);
    Daemon d(tmp.sub("data"), {"--set", "proxy.trusted=127.0.0.1"});

    // the deployment file, with only addresses and paths changed
    std::string conf = read_text(deploy);
    const int port = free_port();
    conf = std::regex_replace(conf, std::regex("listen 443 ssl;"), "listen 127.0.0.1:" + std::to_string(port) + " ssl;");
    conf = std::regex_replace(conf, std::regex("server 127\\.0\\.0\\.1:8437;"), "server 127.0.0.1:" + std::to_string(d.port()) + ";");
    conf = std::regex_replace(conf, std::regex("/etc/ssl/certs/recrypt\\.example\\.com\\.pem"), dir + "/cert.pem");
    conf = std::regex_replace(conf, std::regex("/etc/ssl/private/recrypt\\.example\\.com\\.key"), dir + "/key.pem");
    REQUIRE(conf.find(std::to_string(d.port())) != std::string::npos);
    {
        std::ofstream(dir + "/recryptd.conf") << conf;
        std::ofstream main(dir + "/nginx.conf");
        if (::geteuid() == 0) main << "user root;\n";
        main << "daemon off;\nworker_processes 1;\npid " << dir << "/nginx.pid;\nerror_log " << dir << "/error.log;\n"
             << "events { worker_connections 64; }\nhttp {\n  access_log " << dir << "/access.log;\n"
             << "  client_body_temp_path " << dir << "/body;\n  proxy_temp_path " << dir << "/proxy;\n"
             << "  fastcgi_temp_path " << dir << "/fcgi;\n  uwsgi_temp_path " << dir << "/uwsgi;\n  scgi_temp_path " << dir << "/scgi;\n"
             << "  include " << dir << "/recryptd.conf;\n}\n";
    }
    REQUIRE(std::system((std::string(nginx) + " -t -q -p " + dir + " -c " + dir + "/nginx.conf").c_str()) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execl(nginx, nginx, "-p", dir.c_str(), "-c", (dir + "/nginx.conf").c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    struct Stop {
        pid_t pid;
        ~Stop() {
            ::kill(pid, SIGQUIT);
            ::waitpid(pid, nullptr, 0);
        }
    } stop{pid};
    for (int i = 0; i < 100 && connect_to(port) < 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));

    recrypt::HttpOptions tls;
    tls.ca_file = dir + "/cert.pem";
    auto transport = recrypt::HttpTransport::create("https://127.0.0.1:" + std::to_string(port), tls).value();
    mesh::RandomSource& rng = mesh::system_random();
    const Person alice(rng);
    const Person bob(rng);
    const GroupAdmin admin(rng);
    recrypt::Client as_alice(*transport, alice.auth, alice.udf);
    recrypt::Client as_bob(*transport, bob.auth, bob.udf);
    REQUIRE_OK(as_alice.hello());
    REQUIRE_OK(as_alice.create_group(admin.group(alice, rng)));
    const std::string gid = admin.signature.public_key().kid();
    const auto key = as_alice.get_key(gid);
    REQUIRE_OK(key);
    dare::EncodeOptions o;
    o.recipients = {key->encryption_key};
    const dare::Json env = dare::encode_value(o, rng, mesh::as_bytes("through the proxy")).value();
    CHECK_ERRC(as_bob.open(env, {&bob.device}), Errc::auth_failed);
    REQUIRE_OK(as_alice.add_member(gid, just(admin.member(bob, {Privilege::recrypt}, rng))));
    const auto opened = as_bob.open(env, {&bob.device});
    REQUIRE_OK(opened);
    CHECK(std::string(reinterpret_cast<const char*>(opened->payload.expose_secret().data()), opened->payload.size()) == "through the proxy");
    recrypt::MemberEntry revoke;
    const auto members = as_alice.get_group(gid);
    REQUIRE_OK(members);
    for (const auto& m : members->members) {
        if (m.member_udf == bob.udf) revoke = recrypt::clone(m);
    }
    revoke.status = recrypt::MemberStatus::revoked;
    REQUIRE_OK(as_alice.update_member(gid, just(std::move(revoke))));
    CHECK_ERRC(as_bob.open(env, {&bob.device}), Errc::permission_denied);

    // the tool through nginx over TLS: a group's life from the command line
    {
        const std::string vars = "RECRYPT_SERVICE=https://127.0.0.1:" + std::to_string(port) + " RECRYPT_CA_FILE=" + dir + "/cert.pem ";
        const std::string tool = vars + RECRYPT_BINARY;
        const auto sh = [&](const std::string& cmd) {
            std::string out;
            FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
            char buf[512];
            while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
            const int rc = p != nullptr ? ::pclose(p) : -1;
            return std::pair(rc, out);
        };
        const std::string a = tool + " --home " + dir + "/ca ";
        const std::string b = tool + " --home " + dir + "/cb ";
        REQUIRE(sh(a + "key generate --name carla").first == 0);
        REQUIRE(sh(b + "key generate --name ben").first == 0);
        REQUIRE(sh(b + "key export ben -o " + dir + "/ben.pub.json").first == 0);
        REQUIRE(sh(a + "key import " + dir + "/ben.pub.json").first == 0);
        const auto [rc, team] = sh(a + "group create team");
        REQUIRE(rc == 0);
        std::ofstream(dir + "/memo.txt") << "via nginx\n";
        CHECK(sh(b + "encrypt " + dir + "/memo.txt --group " + team.substr(0, team.find('\n')) + " -o " + dir + "/memo.dare").first == 0);
        CHECK(sh(b + "decrypt " + dir + "/memo.dare").first != 0);
        CHECK(sh(a + "member add team ben").first == 0);
        const auto [rc2, text] = sh(b + "decrypt " + dir + "/memo.dare");
        CHECK(rc2 == 0);
        CHECK(text == "via nginx\n");
        CHECK(sh(a + "member revoke team ben").first == 0);
        const auto [rc3, why] = sh(b + "decrypt " + dir + "/memo.dare");
        CHECK(rc3 != 0);
        CHECK(why.find("revoked") != std::string::npos);
    }

    // nginx's limit answers before the daemon; the daemon saw the real client and nginx's request id
    const std::string log = d.log_text();
    CHECK(log.find("RecryptData") != std::string::npos);
    const std::string access = read_text(dir + "/access.log");
    CHECK(access.find("POST /.well-known/recrypt") != std::string::npos);
    CHECK(d.stop(SIGTERM) == 0);
}
