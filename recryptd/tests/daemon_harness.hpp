// Starts the real recryptd binary on 127.0.0.1:0 and talks to it: through recrypt::Client, and
// with raw sockets for what a well-behaved client never sends.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <mesh_test/support.hpp>
#include <recrypt/client.hpp>
#include <recrypt/recryption.hpp>
#include <recryptd_process.hpp>

namespace recryptd_test {
namespace fs = std::filesystem;
using namespace recryptd_testing;

/// The daemon for a test: started in the constructor (the test fails if it does not start).
class Daemon : public DaemonProcess {
public:
    explicit Daemon(std::string data_dir, std::vector<std::string> extra = {})
        : DaemonProcess(RECRYPTD_BINARY, std::move(data_dir), with_threads(std::move(extra))) {
        restart();
    }
    ~Daemon() {
        stop(SIGTERM);
        if (std::getenv("RECRYPTD_TEST_LOG") != nullptr) std::fprintf(stderr, "--- %s.log\n%s", dir().c_str(), log_text().c_str());
    }
    void restart() {
        const std::string error = start();
        INFO(error);
        REQUIRE(error.empty());
    }

private:
    static std::vector<std::string> with_threads(std::vector<std::string> extra) {
        extra.insert(extra.begin(), {"--threads", "2"});
        return extra;
    }
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
