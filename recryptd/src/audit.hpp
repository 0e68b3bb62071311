// The audit log: every administrative change and every RecryptData, appended to a Merkle DARE
// container (DATA/audit.dare) whose apex the service signs every `sign_every` records, so an
// auditor holding the service's public key (DATA/service.pub.json) can check that no record was
// changed or removed (`recrypt audit verify`). A record is durable before the response that it
// describes is sent (group commit: concurrent requests share a sync).
// Records hold no secrets: times, UDFs, transaction names, results and request ids.
// Thread-safety: record() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <dare/container.hpp>
#include <dare/keys.hpp>
#include <mesh/result.hpp>

namespace recryptd {

struct AuditRecord {
    std::int64_t time = 0;      ///< seconds since the epoch
    std::string request_id;
    std::string requester;      ///< the authentication key's UDF
    std::string transaction;    ///< "CreateGroup", "RecryptData", ...
    std::string group_id;
    std::string key;            ///< the member (admin changes) or "group key/member key" (RecryptData)
    int status = 0;
    std::string result;         ///< the status description
};

class AuditLog {
public:
    static mesh::Result<std::unique_ptr<AuditLog>> open(const std::string& path, const dare::SignaturePrivateKey& signer,
                                                        std::uint64_t sign_every);
    mesh::Result<void> record(const AuditRecord& r);
    [[nodiscard]] std::uint64_t records() const { return container_.frames() - 1; }
    [[nodiscard]] bool healthy() const { return healthy_; }

    /// The JSON payload of a record (also what `recrypt audit` prints).
    static std::string to_text(const AuditRecord& r);

private:
    AuditLog(dare::Container c, std::unique_ptr<dare::SignaturePrivateKey> signer)
        : signer_(std::move(signer)), container_(std::move(c)) {}
    std::unique_ptr<dare::SignaturePrivateKey> signer_;
    dare::Container container_;
    std::atomic<bool> healthy_{true};
};

/// RFC 3339 UTC ("2026-11-22T04:05:06Z").
std::string rfc3339(std::int64_t seconds);

}  // namespace recryptd
