#include <mesh_test/support.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config.hpp"

using mesh::Errc;

TEST_CASE("configuration: file, then environment, then flags, and errors name the setting and the place", "[recryptd][unit]") {
    const std::string path = std::filesystem::temp_directory_path() / ("recryptd_config_" + std::to_string(::getpid()) + ".toml");
    {
        std::ofstream f(path);
        f << "listen = \"0.0.0.0:9000\"\nthreads = 3\n[limits]\nmax_body_bytes = 65536\nheader_timeout = 5\n"
             "[auth]\ngroup_creation = \"allowlist\"\ncreators = [\"MAAA\", \"MBBB\"]\n[log]\nformat = \"json\"\n"
             "[proxy]\ntrusted = [\"127.0.0.1\"]\n";
    }
    recryptd::Config c;
    REQUIRE_OK(recryptd::apply_file(c, path));
    CHECK(c.listen == "0.0.0.0:9000");
    CHECK(c.threads == 3);
    CHECK(c.max_body_bytes == 65536);
    CHECK(c.header_timeout == std::chrono::seconds(5));
    CHECK(c.group_creation == recryptd::CreationPolicy::allowlist);
    CHECK(c.creators == std::vector<std::string>{"MAAA", "MBBB"});
    CHECK(c.log_format == recryptd::LogFormat::json);
    CHECK(c.trusted_proxies == std::vector<std::string>{"127.0.0.1"});
    REQUIRE_OK(recryptd::apply_environment(c, {"RECRYPTD_LISTEN=127.0.0.1:0", "RECRYPTD_LIMITS_MAX_BODY_BYTES=4096", "HOME=/x",
                                               "RECRYPTD_CONFIG=/ignored"}));
    CHECK(c.listen == "127.0.0.1:0");
    CHECK(c.max_body_bytes == 4096);
    REQUIRE_OK(recryptd::set_value(c, "threads", "1", "--threads"));
    CHECK(c.threads == 1);
    REQUIRE_OK(recryptd::finish(c));

    const auto bad = recryptd::set_value(c, "limits.max_body_bytes", "12x", "--set limits.max_body_bytes");
    CHECK_ERRC(bad, Errc::invalid_argument);
    CHECK(bad.error().message.find("--set limits.max_body_bytes") != std::string::npos);
    CHECK_ERRC(recryptd::set_value(c, "limits.nonsense", "1", "x"), Errc::invalid_argument);
    CHECK_ERRC(recryptd::apply_environment(c, {"RECRYPTD_THREADS=many"}), Errc::invalid_argument);
    {
        std::ofstream f(path);
        f << "listen = \"127.0.0.1:1\"\n[limits]\nmax_body_bytes = \"lots\"\n";
    }
    recryptd::Config d;
    const auto e = recryptd::apply_file(d, path);
    CHECK_ERRC(e, Errc::invalid_argument);
    CHECK(e.error().message.find(":3: limits.max_body_bytes") != std::string::npos);
    {
        std::ofstream f(path);
        f << "listen = \n";
    }
    CHECK_ERRC(recryptd::apply_file(d, path), Errc::invalid_argument);
    recryptd::Config allow;
    REQUIRE_OK(recryptd::set_value(allow, "auth.group_creation", "allowlist", "x"));
    CHECK_ERRC(recryptd::finish(allow), Errc::invalid_argument);  // an allowlist needs creators
    std::filesystem::remove(path);
}
