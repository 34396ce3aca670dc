// Routes without a key: /healthz, /metrics, /api/v1/openapi.json.
#include <chrono>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "core/report_period.h"
#include "http/error_response.h"
#include "http/handlers.h"
#include "segment/segment_service.h"

namespace rapport::http {

namespace {

constexpr std::chrono::seconds kRatesTtl{60};

// The deliverability rows of every workspace over the last 7 days (GET /api/v1/deliverability's
// default period).
Result<std::vector<DeliverabilityCounts>> RecentDeliverability(Store& store, int64_t today) {
  RAPPORT_ASSIGN_OR_RETURN(DayPeriod period, ReportPeriod(today, std::nullopt, std::nullopt,
                                                          /*default_days=*/7, /*max_days=*/367));
  std::vector<DeliverabilityCounts> all;
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Workspace> workspaces, store.workspaces().List());
  for (const Workspace& ws : workspaces) {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<DeliverabilityCounts> rows,
                             store.feedback().Deliverability(ws.id, period.from, period.to));
    all.insert(all.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  }
  return all;
}

// rapport_complaint_rate and rapport_bounce_rate (metrics.h RenderDeliverabilityRates), read from
// the store at most every kRatesTtl, or at the next scrape once a report was recorded
// (Metrics::feedback_recorded). A failed read keeps the last text. Thread-safe: one scrape reads,
// concurrent ones wait for it.
class DeliverabilityRatesCache {
 public:
  std::string Get(Services& s) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    const uint64_t recorded = s.metrics.feedback_recorded();
    if (!read_at_ || now - *read_at_ >= kRatesTtl || recorded != recorded_) {
      const int64_t today = ToMicros(s.clock.Now()) / 86'400'000'000;
      Result<std::vector<DeliverabilityCounts>> rows = RecentDeliverability(s.store, today);
      if (rows.ok()) {
        text_ = RenderDeliverabilityRates(*rows);
        read_at_ = now;
        recorded_ = recorded;
      } else if (rows.error().code == ErrorCode::kInternal || rows.error().code == ErrorCode::kUnavailable) {
        s.metrics.AddStoreError();
      }
    }
    return text_;
  }

 private:
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> read_at_;  // GUARDED_BY(mu_)
  uint64_t recorded_ = 0;                                         // GUARDED_BY(mu_)
  std::string text_;                                              // GUARDED_BY(mu_)
};

}  // namespace

void AddSystemRoutes(Router& router, Services& s) {
  router.Add("GET", "/healthz", Access::kPublic, [&s](CallContext&) -> Result<Response> {
    Status ping = s.store.Ping();
    if (!ping.ok()) {
      s.metrics.AddStoreError();
      return ErrorResponse(Error::Unavailable("store ping failed"));
    }
    return JsonResponse(200, json::object{{"status", "ok"}, {"store", s.store.Backend()}});
  });

  auto rates = std::make_shared<DeliverabilityRatesCache>();
  router.Add("GET", "/metrics", Access::kPublic, [&s, rates](CallContext&) -> Result<Response> {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = s.metrics.Render();
    // Per mailbox provider, the last 7 days of every workspace (cached, see above).
    r.body += rates->Get(s);
    // The tracking hits' group commit (hit_batcher.h) and link-table cache.
    HitBatcher::Stats hits = s.hits.stats();
    r.body += fmt::format(
        "# HELP rapport_tracking_hit_commits_total Transactions that stored open and click events.\n"
        "# TYPE rapport_tracking_hit_commits_total counter\nrapport_tracking_hit_commits_total {}\n"
        "# HELP rapport_tracking_hits_stored_total Open and click events handed to those transactions.\n"
        "# TYPE rapport_tracking_hits_stored_total counter\nrapport_tracking_hits_stored_total {}\n"
        "# HELP rapport_tracking_hits_refused_total Hits refused because too many waited to be stored.\n"
        "# TYPE rapport_tracking_hits_refused_total counter\nrapport_tracking_hits_refused_total {}\n"
        "# HELP rapport_tracking_link_cache_messages Sent messages whose links are cached for the hits.\n"
        "# TYPE rapport_tracking_link_cache_messages gauge\nrapport_tracking_link_cache_messages {}\n",
        hits.batches, hits.hits, hits.refused, s.link_cache.size());
    if (s.hit_log && s.hit_loader) {
      // The hit log (hit_log.h) and its loader (hit_loader.h).
      HitLog::Stats log = s.hit_log->stats();
      HitLoader::Stats loader = s.hit_loader->stats();
      r.body += fmt::format(
          "# HELP rapport_tracking_hit_log_written_total Hits written to the hit log.\n"
          "# TYPE rapport_tracking_hit_log_written_total counter\nrapport_tracking_hit_log_written_total {}\n"
          "# HELP rapport_tracking_hit_log_write_errors_total Hits the hit log could not write.\n"
          "# TYPE rapport_tracking_hit_log_write_errors_total "
          "counter\nrapport_tracking_hit_log_write_errors_total {}\n"
          "# HELP rapport_tracking_hit_log_loaded_total Hits loaded into events.\n"
          "# TYPE rapport_tracking_hit_log_loaded_total counter\nrapport_tracking_hit_log_loaded_total {}\n"
          "# HELP rapport_tracking_hit_log_dropped_total Hits dropped when loaded (their contact was gone).\n"
          "# TYPE rapport_tracking_hit_log_dropped_total counter\nrapport_tracking_hit_log_dropped_total {}\n"
          "# HELP rapport_tracking_hit_log_load_errors_total Loader turns that failed (retried).\n"
          "# TYPE rapport_tracking_hit_log_load_errors_total "
          "counter\nrapport_tracking_hit_log_load_errors_total {}\n"
          "# HELP rapport_tracking_hit_log_pending_bytes Bytes of hits written and not yet deleted "
          "(loaded or not).\n"
          "# TYPE rapport_tracking_hit_log_pending_bytes gauge\nrapport_tracking_hit_log_pending_bytes {}\n"
          "# HELP rapport_tracking_hit_log_unloaded_bytes Bytes of hits written and not yet loaded into "
          "events.\n"
          "# TYPE rapport_tracking_hit_log_unloaded_bytes gauge\nrapport_tracking_hit_log_unloaded_bytes "
          "{}\n",
          log.hits, log.failed, loader.loaded, loader.dropped, loader.errors, log.pending_bytes,
          std::max<int64_t>(0, s.hit_log->end() - loader.position));
    }
    std::vector<std::pair<std::string, FeedLag::Snapshot>> lags;
    if (s.segments) lags.emplace_back("segments", s.segments->lag().Take());
    r.body += RenderFeedLag(lags);
    return r;
  });

  router.Add("GET", "/api/v1/openapi.json", Access::kPublic, [](CallContext&) -> Result<Response> {
    Response r;
    r.body = std::string(OpenApiDocument());
    return r;
  });
}

}  // namespace rapport::http
