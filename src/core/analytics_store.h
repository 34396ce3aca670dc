// The analytics facet: the durable state of the analytics feed consumer (analytics/), committed
// with its feed position in one transaction, so a restart resumes exactly where it committed.
//
// Two tables (migration v13): daily values per (workspace, dimension, key, day, metric) and
// entity states per (workspace, kind, id) (a message's report flags, a contact's engagement,
// purchases and lifecycle), opaque text to the store. Thread-safe like every facet; errors as in
// core/store.h.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/model.h"

namespace rapport {

struct AnalyticsDailyValue {
  WorkspaceId workspace_id = 0;
  std::string dimension;  // "workspace", "template", "topic" ... (analytics/metrics.h)
  std::string key;        // "" for the workspace dimension
  int64_t day = 0;        // days since 1970-01-01 in the workspace's timezone
  std::string metric;     // "sent", "revenue" ...
  double value = 0;       // the absolute value (not a delta)
};

struct AnalyticsEntityWrite {
  WorkspaceId workspace_id = 0;
  std::string kind;  // "message", "contact"
  int64_t id = 0;
  std::optional<std::string> state;  // nullopt deletes
};

class AnalyticsStore {
 public:
  virtual ~AnalyticsStore() = default;
  // Upserts the values and entity states and commits the consumer's position, in one
  // transaction (the checks of FeedStore::Commit: kConflict when the position moves back).
  virtual Status Commit(std::string_view consumer, int64_t position,
                        const std::vector<AnalyticsDailyValue>& daily,
                        const std::vector<AnalyticsEntityWrite>& entities) = 0;
  // Every stored value / entity, in key order. Stops early when fn returns false.
  virtual Status ForEachDaily(const std::function<bool(const AnalyticsDailyValue&)>& fn) = 0;
  virtual Status ForEachEntity(const std::function<bool(WorkspaceId, std::string_view kind, int64_t id,
                                                        std::string_view state)>& fn) = 0;
  // Deletes every value and entity and the consumer's position (a rebuild from the feed follows).
  virtual Status Reset(std::string_view consumer) = 0;
};

}  // namespace rapport
