#include "metrics.hpp"

#include <map>
#include <mutex>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace recryptd {

struct Metrics::Impl {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                            .Name("recryptd_requests_total")
                                                            .Help("Requests by transaction and HTTP status")
                                                            .Register(*registry);
    prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                             .Name("recryptd_request_duration_seconds")
                                                             .Help("Time from a whole request to its response, by transaction")
                                                             .Register(*registry);
    prometheus::Counter& recryptions = prometheus::BuildCounter()
                                           .Name("recryptd_recryptions_total")
                                           .Help("RecryptData requests answered with a partial result")
                                           .Register(*registry)
                                           .Add({});
    prometheus::Gauge& appends = prometheus::BuildGauge()
                                     .Name("recryptd_store_appends_total")
                                     .Help("Objects written to the store since start")
                                     .Register(*registry)
                                     .Add({});
    prometheus::Gauge& audit_frames = prometheus::BuildGauge()
                                          .Name("recryptd_audit_frames")
                                          .Help("Frames in the audit log (a frame holds the records of one sync)")
                                          .Register(*registry)
                                          .Add({});
    prometheus::Gauge& audit_records = prometheus::BuildGauge()
                                           .Name("recryptd_audit_records_written")
                                           .Help("Records written to the audit log since the service started")
                                           .Register(*registry)
                                           .Add({});
    prometheus::Gauge& open = prometheus::BuildGauge()
                                  .Name("recryptd_connections")
                                  .Help("Open client connections")
                                  .Register(*registry)
                                  .Add({});
    // Family::Add takes a lock and hashes the labels; the metrics of each label set are cached.
    std::mutex m;
    std::map<std::pair<std::string, int>, prometheus::Counter*> request_counters;
    std::map<std::string, prometheus::Histogram*, std::less<>> histograms;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::request(std::string_view transaction, int status, std::chrono::nanoseconds latency) {
    prometheus::Counter* c = nullptr;
    prometheus::Histogram* h = nullptr;
    {
        const std::lock_guard lock(impl_->m);
        auto& slot = impl_->request_counters[{std::string(transaction), status}];
        if (slot == nullptr) {
            slot = &impl_->requests.Add({{"transaction", std::string(transaction)}, {"status", std::to_string(status)}});
        }
        c = slot;
        auto it = impl_->histograms.find(transaction);
        if (it == impl_->histograms.end()) {
            static const prometheus::Histogram::BucketBoundaries buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                                           0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
            it = impl_->histograms.emplace(std::string(transaction),
                                           &impl_->latency.Add({{"transaction", std::string(transaction)}}, buckets)).first;
        }
        h = it->second;
    }
    c->Increment();
    h->Observe(std::chrono::duration<double>(latency).count());
}

void Metrics::recryption() { impl_->recryptions.Increment(); }
void Metrics::store_appends(std::uint64_t total) { impl_->appends.Set(static_cast<double>(total)); }
void Metrics::audit(std::uint64_t frames, std::uint64_t records_written) {
    impl_->audit_frames.Set(static_cast<double>(frames));
    impl_->audit_records.Set(static_cast<double>(records_written));
}
void Metrics::connections(std::int64_t open) { impl_->open.Set(static_cast<double>(open)); }

std::string Metrics::serialize() const {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
    return out.str();
}

}  // namespace recryptd
