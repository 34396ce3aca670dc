// ChangeSet: what a batch of the analytics fold changed, to commit (AnalyticsStore::Commit).
//
// The fold writes a state string for every message and contact a batch touched: about one per
// event. Built as fresh strings in fresh vectors, those were most of the fold's allocations, and
// in a heap churned by the feed's JSON they cost more than the fold itself. A ChangeSet keeps
// its elements and their strings' buffers from batch to batch: Clear() forgets the values, not
// the memory, so a steady stream of batches allocates nothing here.
//
// Not thread-safe. References returned by Daily() and Write() are valid until the next call of
// any member.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/analytics_store.h"

namespace rapport::analytics {

class ChangeSet {
 public:
  void Clear();
  // A new daily value (its strings keep their buffers; every field is to be set).
  AnalyticsDailyValue& Daily();
  // A new entity write; returns its state, empty, to append the state to.
  std::string& Write(WorkspaceId ws, std::string_view kind, int64_t id);
  // A new entity delete (state nullopt).
  void Delete(WorkspaceId ws, std::string_view kind, int64_t id);

  // What was added since Clear(), in order. Trims the vectors (the rest is kept aside).
  const std::vector<AnalyticsDailyValue>& daily();
  const std::vector<AnalyticsEntityWrite>& entities();
  size_t daily_size() const { return daily_used_; }
  size_t entities_size() const { return entities_used_; }

 private:
  AnalyticsEntityWrite& NextEntity(WorkspaceId ws, std::string_view kind, int64_t id);

  std::vector<AnalyticsDailyValue> daily_;
  size_t daily_used_ = 0;
  std::vector<AnalyticsEntityWrite> entities_;
  size_t entities_used_ = 0;
  std::vector<AnalyticsDailyValue> spare_daily_;      // trimmed off, buffers kept
  std::vector<AnalyticsEntityWrite> spare_entities_;  // trimmed off, buffers kept
  std::vector<std::string> spare_states_;             // the buffers of states now deletes
};

}  // namespace rapport::analytics
