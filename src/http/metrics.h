// The API's Prometheus metrics, rendered in the text exposition format (version 0.0.4):
//   http_requests_total{route,method,status}            counter
//   http_request_duration_seconds{route,method}         histogram
//   events_ingested_total                               counter (accepted events)
//   messages_queued_total                               counter (messages queued through the API)
//   store_errors_total                                  counter (internal/unavailable store results)
//   rapport_feed_lag_seconds{consumer}                  histogram (RenderFeedLag: event accepted ->
//                                                       applied by the consumer)
//   feedback_reports_total{kind,provider}               counter (bounces, blocks, complaints recorded;
//                                                       provider: a known mailbox provider or "other";
//                                                       the API and the inbound maildir and SMTP paths)
//   rapport_complaint_rate{provider}                    gauge (RenderDeliverabilityRates: last 7 days,
//   rapport_bounce_rate{provider}                       gauge  all workspaces; rendered by /metrics)
// `route` is the route pattern ("/api/v1/contacts/{id}"), "unmatched" for unknown paths, so
// label cardinality stays bounded. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/feed_lag.h"
#include "core/feedback.h"

namespace rapport::http {

class Metrics {
 public:
  Metrics();
  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);
  void AddEventsIngested(int64_t n) { events_ingested_.fetch_add(n, std::memory_order_relaxed); }
  void AddMessagesQueued(int64_t n) { messages_queued_.fetch_add(n, std::memory_order_relaxed); }
  void AddStoreError() { store_errors_.fetch_add(1, std::memory_order_relaxed); }
  // One recorded report (core/feedback.h FeedbackKindName, the provider group). At most 32
  // providers get their own label; the rest count as "other".
  void AddFeedback(std::string_view kind, std::string_view provider);
  // How many AddFeedback calls so far (a cache of the rates refreshes when it changes).
  uint64_t feedback_recorded() const { return feedback_recorded_.load(std::memory_order_relaxed); }
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative at render time; per bucket here
    uint64_t count = 0;
    double sum = 0;
  };
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::pair<std::string, std::string>, Histogram> latency_;        // GUARDED_BY(mu_)
  std::map<std::pair<std::string, std::string>, uint64_t> feedback_;        // GUARDED_BY(mu_)
  std::atomic<int64_t> events_ingested_{0};
  std::atomic<int64_t> messages_queued_{0};
  std::atomic<int64_t> store_errors_{0};
  std::atomic<uint64_t> feedback_recorded_{0};
};

// rapport_feed_lag_seconds{consumer}: each feed consumer's FeedLag (core/feed_lag.h) as one
// Prometheus histogram, in the text exposition format.
std::string RenderFeedLag(const std::vector<std::pair<std::string, FeedLag::Snapshot>>& consumers);

// Mailbox providers with a label of their own in RenderDeliverabilityRates; the rest are "other".
inline constexpr size_t kMaxRateProviders = 32;

// rapport_complaint_rate{provider} and rapport_bounce_rate{provider}: FeedbackStore::Deliverability
// rows (of any workspaces and days; /metrics passes the last 7 days', which the HELP text names)
// summed per mailbox provider over all of them, with the rates of tracking/deliverability_health.h
// (complaints / delivered; bounces and SMTP rejections / attempted). The kMaxRateProviders
// providers with the most attempted deliveries get their own label, the rest (and any provider
// that is not a plain domain) are summed as "other". Empty when there are no rows. Pure.
std::string RenderDeliverabilityRates(const std::vector<DeliverabilityCounts>& rows);

}  // namespace rapport::http
