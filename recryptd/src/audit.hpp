// The audit log: every administrative change and every RecryptData, appended to a Merkle DARE
// container (DATA/audit.dare) whose apex the service signs every `sign_every` frames, so an
// auditor holding the service's public key (DATA/service.pub.json) can check that no record was
// changed or removed (`recrypt audit verify`). A record is durable before the response that it
// describes is sent: record_async() queues the record; the syncer thread writes the records
// queued meanwhile as one frame (JSON Lines, content type kRecordsType: one JSON object a line),
// then one fdatasync, and hands the batch's completions back at once (group commit without
// blocking the server's threads; a failed batch leaves nothing on disk). Logs written before
// batching hold one record per frame (kRecordType); records_of() reads both.
// Records hold no secrets: times, UDFs, transaction names, results and request ids.
// Thread-safety: record() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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
    /// `commit_delay`: the longest the syncer waits for more records before a sync (trades a
    /// little latency for fewer syncs under load; it waits less after small batches; 0: sync at
    /// once).
    static mesh::Result<std::unique_ptr<AuditLog>> open(const std::string& path, const dare::SignaturePrivateKey& signer,
                                                        std::uint64_t sign_every,
                                                        std::chrono::microseconds commit_delay = std::chrono::microseconds(0));
    ~AuditLog();
    /// Queues the record; `done(true)` once it is durable, `done(false)` if it cannot be written
    /// or synced. The callbacks run through the completer (see set_completer), else on the
    /// syncer thread.
    void record_async(const AuditRecord& r, std::function<void(bool)> done);
    /// Where a batch's callbacks run: the server posts them to its threads in one hand-over.
    using Completer = std::function<void(std::function<void()>)>;
    void set_completer(Completer c);
    /// record_async, waiting for the sync.
    mesh::Result<void> record(const AuditRecord& r);
    /// Frames in the log (each holds the records of one sync).
    [[nodiscard]] std::uint64_t frames() const { return container_.frames() - 1; }
    /// Records written since the log was opened.
    [[nodiscard]] std::uint64_t records_written() const { return records_written_; }
    [[nodiscard]] bool healthy() const { return healthy_; }

    /// The JSON text of a record (also what `recrypt audit list` prints).
    static std::string to_text(const AuditRecord& r);
    /// The records in a frame's payload: its lines (one record for frames of kRecordType).
    static std::vector<std::string_view> records_of(std::string_view payload);
    static constexpr const char* kRecordsType = "application/mmm-recrypt-audit+jsonl";
    static constexpr const char* kRecordType = "application/mmm-recrypt-audit+json";

private:
    AuditLog(dare::Container c, std::unique_ptr<dare::SignaturePrivateKey> signer, std::chrono::microseconds commit_delay);
    void syncer();
    void queue(const AuditRecord& r, std::function<void(bool)> done, bool direct);
    std::unique_ptr<dare::SignaturePrivateKey> signer_;
    dare::Container container_;
    std::atomic<bool> healthy_{true};
    std::atomic<std::uint64_t> records_written_{0};
    // Every request thread takes m_ for a moment to queue its record: a mutex that spins briefly
    // before sleeping keeps those moments out of the kernel.
    class AdaptiveMutex {
    public:
        AdaptiveMutex();
        ~AdaptiveMutex();
        AdaptiveMutex(const AdaptiveMutex&) = delete;
        AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;
        void lock();
        void unlock();

    private:
        pthread_mutex_t m_;
    };
    AdaptiveMutex m_;
    std::condition_variable_any cv_;
    struct Waiting {
        std::string text;                 // the record's JSON
        std::function<void(bool)> done;
        bool direct;                      // called on the syncer thread, not through the completer
    };
    std::vector<Waiting> waiting_;  // queued for the next write and sync
    Completer completer_;
    bool stop_ = false;
    std::chrono::microseconds commit_delay_;
    static constexpr std::chrono::microseconds kDelayPerRecord{200};
    std::size_t last_batch_ = 1;  // records in the previous sync (under m_)
    std::thread syncer_;
};

/// RFC 3339 UTC ("2026-11-22T04:05:06Z").
std::string rfc3339(std::int64_t seconds);

}  // namespace recryptd
