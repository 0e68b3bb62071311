// recryptd's request handling in process, without sockets: every input is a POST body, sent
// once unsigned and once signed by the administrator of a group made at start, so the
// transaction handlers see it after authentication.
#include <filesystem>
#include <string_view>

#include <unistd.h>

#include <recrypt/recryption.hpp>
#include <recrypt/request_signature.hpp>

#include "audit.hpp"
#include "service.hpp"
#include "store.hpp"

namespace {
class MemoryStore final : public recryptd::Store {
public:
    mesh::Result<void> load(const Visitor&) override { return mesh::ok(); }
    mesh::Result<void> save(const recryptd::Batch& b) override {
        appends_ += b.groups.size() + b.members.size() + b.entries.size();
        return mesh::ok();
    }
    [[nodiscard]] bool healthy() const override { return true; }
    [[nodiscard]] std::uint64_t appends() const override { return appends_; }

private:
    std::uint64_t appends_ = 0;
};

struct Service {
    std::string dir = std::filesystem::temp_directory_path() / ("fuzz_daemon_" + std::to_string(::getpid()));
    recryptd::Config config;
    MemoryStore store;
    dare::SignaturePrivateKey signer = dare::SignaturePrivateKey::from_seed(std::vector<std::uint8_t>(32, 3)).value();
    std::unique_ptr<recryptd::AuditLog> audit;
    recryptd::Metrics metrics;
    std::unique_ptr<recryptd::ServiceCore> core;
    dare::SignaturePrivateKey admin = dare::SignaturePrivateKey::from_seed(std::vector<std::uint8_t>(32, 5)).value();

    Service() {
        std::filesystem::create_directories(dir);
        std::filesystem::remove(dir + "/audit.dare");
        config.audit_commit_delay = std::chrono::microseconds(0);
        audit = recryptd::AuditLog::open(dir + "/audit.dare", signer, 64).value();
        core = std::make_unique<recryptd::ServiceCore>(config, store, *audit, metrics);
        // a group whose SUPER is `admin`, so signed inputs reach the handlers
        mesh::RandomSource& rng = mesh::system_random();
        const auto group_sig = dare::SignaturePrivateKey::generate(rng);
        const auto key = recrypt::GroupKey::generate(rng);
        recrypt::RecryptionGroup g;
        g.group_id = group_sig.public_key().kid();
        g.signature_key = group_sig.public_key();
        g.signed_key = recrypt::sign_key_record(recrypt::KeyRecord{g.group_id, group_sig.public_key(), key.public_key(), ""}, group_sig, rng).value();
        recrypt::MemberEntry m;
        m.member_udf = admin.public_key().kid();
        m.privileges = {recrypt::Privilege::super, recrypt::Privilege::recrypt};
        m.authentication_key = admin.public_key();
        m.entries.push_back(recrypt::make_member_entry(key, dare::PrivateKey::generate(rng).public_key(), rng).value());
        g.members.push_back(std::move(m));
        post(dare::to_json(recrypt::to_json(recrypt::Request{recrypt::CreateGroupRequest{std::move(g)}})), true);
    }
    void post(std::string_view body, bool sign) {
        recryptd::HttpRequestInfo info;
        info.method = "POST";
        info.target = recryptd::kServicePath;
        info.content_type = "application/json";
        if (sign) {
            const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
            info.signature = recrypt::sign_request(admin, "POST", recryptd::kServicePath, mesh::as_bytes(body), now, mesh::system_random());
        }
        info.request_id = "fuzz";
        core->handle(info, body, [](recryptd::HttpReply) {});
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Service service;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    service.post(body, false);
    service.post(body, true);
    return 0;
}
