#include "audit.hpp"

#include <algorithm>
#include <ctime>
#include <optional>

#include <dare/json.hpp>

namespace recryptd {
using mesh::Result;

std::string rfc3339(std::int64_t seconds) {
    // Every audit record asks for the current second: the last one's text is kept per thread
    // (gmtime_r takes the C library's time-zone lock).
    thread_local std::int64_t last = -1;
    thread_local std::string text;
    if (seconds != last) {
        const std::time_t t = static_cast<std::time_t>(seconds);
        std::tm tm{};
        ::gmtime_r(&t, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        text = buf;
        last = seconds;
    }
    return text;
}

namespace {
// A JSON string token; plain printable ASCII (UDFs, names, ids) is copied as it is.
void put_string(std::string& out, std::string_view s) {
    const bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; });
    if (plain) {
        out += '"';
        out += s;
        out += '"';
    } else {
        out += dare::to_json(dare::Json(std::string(s)));
    }
}
}  // namespace

std::string AuditLog::to_text(const AuditRecord& r) {
    std::string out;
    out.reserve(256 + r.key.size() + r.result.size());
    out += "{\"Time\":";
    put_string(out, rfc3339(r.time));
    out += ",\"RequestId\":";
    put_string(out, r.request_id);
    out += ",\"Requester\":";
    put_string(out, r.requester);
    out += ",\"Transaction\":";
    put_string(out, r.transaction);
    if (!r.group_id.empty()) {
        out += ",\"GroupID\":";
        put_string(out, r.group_id);
    }
    if (!r.key.empty()) {
        out += ",\"Key\":";
        put_string(out, r.key);
    }
    out += ",\"Status\":" + std::to_string(r.status) + ",\"Result\":";
    put_string(out, r.result);
    out += '}';
    return out;
}

AuditLog::AdaptiveMutex::AdaptiveMutex() {
    pthread_mutexattr_t a;
    ::pthread_mutexattr_init(&a);
    ::pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    ::pthread_mutex_init(&m_, &a);
    ::pthread_mutexattr_destroy(&a);
}
AuditLog::AdaptiveMutex::~AdaptiveMutex() { ::pthread_mutex_destroy(&m_); }
void AuditLog::AdaptiveMutex::lock() { ::pthread_mutex_lock(&m_); }
void AuditLog::AdaptiveMutex::unlock() { ::pthread_mutex_unlock(&m_); }

std::vector<std::string_view> AuditLog::records_of(std::string_view payload) {
    std::vector<std::string_view> out;
    while (!payload.empty()) {
        const auto nl = payload.find('\n');
        const std::string_view line = payload.substr(0, nl);
        if (!line.empty()) out.push_back(line);
        if (nl == std::string_view::npos) break;
        payload.remove_prefix(nl + 1);
    }
    return out;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path, const dare::SignaturePrivateKey& signer,
                                                  std::uint64_t sign_every, std::chrono::microseconds commit_delay) {
    auto owned = std::make_unique<dare::SignaturePrivateKey>(signer.clone());
    dare::ContainerOptions o;
    o.sync = dare::SyncPolicy::none;  // the syncer thread writes and syncs once for the records queued meanwhile
    o.signer = owned.get();
    o.sign_interval = sign_every;
    o.index_interval = 100'000;  // opening reads at most this many records
    auto c = dare::Container::open(path, o);
    if (!c && c.error().code == mesh::Errc::not_found) c = dare::Container::create(path, dare::ContainerType::merkle, o);
    if (!c) return std::move(c).error();
    if (c->type() != dare::ContainerType::merkle) {
        return mesh::fail(mesh::Errc::malformed, path + ": the audit log must be a Merkle container");
    }
    return std::unique_ptr<AuditLog>(new AuditLog(std::move(c).value(), std::move(owned), commit_delay));
}

AuditLog::AuditLog(dare::Container c, std::unique_ptr<dare::SignaturePrivateKey> signer, std::chrono::microseconds commit_delay)
    : signer_(std::move(signer)), container_(std::move(c)), commit_delay_(commit_delay), syncer_([this] { syncer(); }) {}

AuditLog::~AuditLog() {
    {
        const std::lock_guard lock(m_);
        stop_ = true;
    }
    cv_.notify_all();
    syncer_.join();
}

void AuditLog::set_completer(Completer c) {
    const std::lock_guard lock(m_);
    completer_ = std::move(c);
}

void AuditLog::syncer() {
    std::unique_lock lock(m_);
    for (;;) {
        cv_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
        if (waiting_.empty()) return;  // stopping, nothing left
        if (commit_delay_.count() > 0 && !stop_) {
            // Let the requests arriving meanwhile share this write and sync (record_async does
            // not wake this thread while records are waiting). How long follows the load:
            // kDelayPerRecord per record of the previous batch, at most commit_delay_, so a lone
            // request waits little and a busy service writes large batches.
            const auto delay = std::min(commit_delay_, kDelayPerRecord * static_cast<std::int64_t>(last_batch_));
            cv_.wait_for(lock, delay, [this] { return stop_; });
        }
        std::vector<Waiting> batch;
        batch.swap(waiting_);
        last_batch_ = batch.size();
        const Completer completer = completer_;
        lock.unlock();
        // One frame for the batch: its records as JSON Lines. One write, then one fdatasync.
        std::string lines;
        for (const auto& w : batch) {
            lines += w.text;
            lines += '\n';
        }
        // (a failed append cuts the file back, so no part of the frame stays)
        const bool ok = container_.append(mesh::as_bytes(lines), dare::ContentMeta::of_type(kRecordsType)).has_value() &&
                        container_.sync().has_value();
        if (ok) records_written_ += batch.size();
        healthy_ = ok;  // healthy again once a write and sync work
        std::vector<std::function<void(bool)>> later;
        for (auto& w : batch) {
            if (w.direct || !completer) {
                w.done(ok);  // record() waits on a server thread: never through the server's queue
            } else {
                later.push_back(std::move(w.done));
            }
        }
        if (!later.empty()) {
            completer([later = std::move(later), ok]() mutable {  // one hand-over for the batch
                for (auto& done : later) done(ok);
            });
        }
        lock.lock();
    }
}

void AuditLog::record_async(const AuditRecord& r, std::function<void(bool)> done) { queue(r, std::move(done), false); }

void AuditLog::queue(const AuditRecord& r, std::function<void(bool)> done, bool direct) {
    std::string text = to_text(r);
    bool wake = false;
    {
        const std::lock_guard lock(m_);
        wake = waiting_.empty();  // otherwise the syncer is already counting down to a write
        waiting_.push_back(Waiting{std::move(text), std::move(done), direct});
    }
    if (wake) cv_.notify_one();
}

Result<void> AuditLog::record(const AuditRecord& r) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<bool> result;
    queue(
        r,
        [&](bool ok) {
            const std::lock_guard lock(m);
            result = ok;
            cv.notify_one();
        },
        true);
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return result.has_value(); });
    if (!*result) return mesh::fail(mesh::Errc::io, "audit log: write or sync failed");
    return mesh::ok();
}

}  // namespace recryptd
