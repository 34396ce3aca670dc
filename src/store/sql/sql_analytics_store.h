// The analytics facet over a sql::Database (core/analytics_store.h; tables of migration v13).
#pragma once

#include "core/analytics_store.h"
#include "core/clock.h"
#include "store/sql/database.h"

namespace rapport::sql {

class SqlAnalyticsStore final : public AnalyticsStore {
 public:
  SqlAnalyticsStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Status Commit(std::string_view consumer, int64_t position, const std::vector<AnalyticsDailyValue>& daily,
                const std::vector<AnalyticsEntityWrite>& entities) override;
  Status ForEachDaily(const std::function<bool(const AnalyticsDailyValue&)>& fn) override;
  Status ForEachEntity(const std::function<bool(WorkspaceId, std::string_view kind, int64_t id,
                                                std::string_view state)>& fn) override;
  Status Reset(std::string_view consumer) override;

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
