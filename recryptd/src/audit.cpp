#include "audit.hpp"

#include <ctime>

#include <dare/json.hpp>

namespace recryptd {
using mesh::Result;

std::string rfc3339(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string AuditLog::to_text(const AuditRecord& r) {
    dare::JsonObject o{{"Time", dare::Json(rfc3339(r.time))}, {"RequestId", dare::Json(r.request_id)},
                       {"Requester", dare::Json(r.requester)}, {"Transaction", dare::Json(r.transaction)}};
    if (!r.group_id.empty()) o.emplace_back("GroupID", dare::Json(r.group_id));
    if (!r.key.empty()) o.emplace_back("Key", dare::Json(r.key));
    o.emplace_back("Status", dare::Json(static_cast<std::int64_t>(r.status)));
    o.emplace_back("Result", dare::Json(r.result));
    return dare::to_json(dare::Json(std::move(o)));
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path, const dare::SignaturePrivateKey& signer,
                                                  std::uint64_t sign_every) {
    auto owned = std::make_unique<dare::SignaturePrivateKey>(signer.clone());
    dare::ContainerOptions o;
    o.sync = dare::SyncPolicy::group;
    o.signer = owned.get();
    o.sign_interval = sign_every;
    o.index_interval = 100'000;  // opening reads at most this many records
    auto c = dare::Container::open(path, o);
    if (!c && c.error().code == mesh::Errc::not_found) c = dare::Container::create(path, dare::ContainerType::merkle, o);
    if (!c) return std::move(c).error();
    if (c->type() != dare::ContainerType::merkle) {
        return mesh::fail(mesh::Errc::malformed, path + ": the audit log must be a Merkle container");
    }
    return std::unique_ptr<AuditLog>(new AuditLog(std::move(c).value(), std::move(owned)));
}

Result<void> AuditLog::record(const AuditRecord& r) {
    const std::string text = to_text(r);
    auto n = container_.append(mesh::as_bytes(text), dare::ContentMeta::of_type("application/mmm-recrypt-audit+json"));
    if (!n) {
        healthy_ = false;
        return std::move(n).error();
    }
    return mesh::ok();
}

}  // namespace recryptd
