// Route: POST /api/v1/events (one event, or a batch of up to max_events_per_request).
#include <algorithm>

#include "http/error_response.h"
#include "http/handlers.h"

namespace rapport::http {

void AddEventRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/events", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(DecodedEventBatch batch,
                             DecodeEventBatch(body, s.options.max_events_per_request));
    // One event object that does not validate is a failed request, not a batch report.
    if (batch.single && !batch.errors.empty()) return std::move(batch.errors.front().second);

    std::vector<std::pair<size_t, Error>> errors = std::move(batch.errors);
    size_t accepted = 0, duplicates = 0;
    if (!batch.events.empty()) {
      RAPPORT_ASSIGN_OR_RETURN(std::vector<AppendResult> results,
                               s.store.events().Append(call.key.workspace_id, batch.events, s.clock.Now()));
      if (results.size() != batch.events.size())
        return Error::Internal("EventStore::Append returned " + std::to_string(results.size()) +
                               " results for " + std::to_string(batch.events.size()) + " events");
      for (size_t i = 0; i < results.size(); ++i) {
        switch (results[i].outcome) {
          case AppendOutcome::kAccepted: ++accepted; break;
          case AppendOutcome::kDuplicate: ++duplicates; break;
          case AppendOutcome::kFailed:
            if (results[i].error.code == ErrorCode::kInternal ||
                results[i].error.code == ErrorCode::kUnavailable)
              s.metrics.AddStoreError();
            if (batch.single) return results[i].error;
            errors.emplace_back(batch.indexes[i], results[i].error);
            break;
        }
      }
    }
    s.metrics.AddEventsIngested(static_cast<int64_t>(accepted));
    if (accepted > 0)
      Audit(s, call, "events.ingest", "event", "",
            json::object{{"accepted", accepted}, {"duplicates", duplicates}, {"failed", errors.size()}});

    std::sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    json::array errs;
    errs.reserve(errors.size());
    for (const auto& [index, err] : errors) {
      Error shown{err.code, PublicMessage(err), err.field};
      errs.push_back(EncodeItemError(index, shown));
    }
    return JsonResponse(
        202, json::object{{"accepted", accepted}, {"duplicates", duplicates}, {"errors", std::move(errs)}});
  });
}

}  // namespace rapport::http
