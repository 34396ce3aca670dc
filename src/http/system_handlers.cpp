// Routes without a key: /healthz, /metrics, /api/v1/openapi.json.
#include <fmt/format.h>

#include "http/error_response.h"
#include "http/handlers.h"
#include "segment/segment_service.h"

namespace rapport::http {

void AddSystemRoutes(Router& router, Services& s) {
  router.Add("GET", "/healthz", Access::kPublic, [&s](CallContext&) -> Result<Response> {
    Status ping = s.store.Ping();
    if (!ping.ok()) {
      s.metrics.AddStoreError();
      return ErrorResponse(Error::Unavailable("store ping failed"));
    }
    return JsonResponse(200, json::object{{"status", "ok"}, {"store", s.store.Backend()}});
  });

  router.Add("GET", "/metrics", Access::kPublic, [&s](CallContext&) -> Result<Response> {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = s.metrics.Render();
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
          "# HELP rapport_tracking_hit_log_pending_bytes Bytes of hits written and not yet loaded and "
          "deleted.\n"
          "# TYPE rapport_tracking_hit_log_pending_bytes gauge\nrapport_tracking_hit_log_pending_bytes {}\n",
          log.hits, log.failed, loader.loaded, loader.dropped, loader.errors, log.pending_bytes);
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
