// The journeys facet (core/journey.h) over SQL: tables journeys, journey_versions, journey_runs
// and journey_step_counts (migration v14); run timers in work_items (v7), events in the log.
#pragma once

#include "core/clock.h"
#include "core/journey.h"
#include "store/sql/database.h"

namespace rapport::sql {

class SqlJourneyStore final : public JourneyStore {
 public:
  SqlJourneyStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<Journey> Create(const Journey& journey) override;
  Result<Journey> Get(WorkspaceId ws, JourneyId id) override;
  Result<Journey> GetByName(WorkspaceId ws, std::string_view name) override;
  Result<std::vector<Journey>> List(WorkspaceId ws) override;
  Result<std::vector<Journey>> ListLive() override;
  Result<Journey> AddVersion(WorkspaceId ws, JourneyId id, std::string_view definition) override;
  Result<std::string> GetVersion(WorkspaceId ws, JourneyId id, int version) override;
  Result<Journey> SetStatus(WorkspaceId ws, JourneyId id, JourneyStatus status) override;
  Status Apply(JourneyWrite& write) override;
  Result<JourneyRun> GetRun(RunId id) override;
  Result<std::vector<JourneyRun>> GetRuns(std::span<const RunId> ids) override;
  Result<std::vector<JourneyRun>> LiveRuns(WorkspaceId ws, ContactId contact) override;
  Result<std::vector<JourneyRun>> ContactRuns(WorkspaceId ws, ContactId contact, int limit) override;
  Result<std::optional<JourneyRun>> LatestRun(WorkspaceId ws, JourneyId journey, ContactId contact,
                                              const std::optional<std::string>& key) override;
  Result<std::vector<JourneyStatsRow>> Stats(WorkspaceId ws, JourneyId id) override;

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
