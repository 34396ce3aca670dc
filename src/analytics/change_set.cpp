#include "analytics/change_set.h"

#include <utility>

namespace rapport::analytics {

void ChangeSet::Clear() {
  daily_used_ = 0;
  entities_used_ = 0;
}

AnalyticsDailyValue& ChangeSet::Daily() {
  if (daily_used_ == daily_.size()) {
    if (!spare_daily_.empty()) {
      daily_.push_back(std::move(spare_daily_.back()));
      spare_daily_.pop_back();
    } else {
      daily_.emplace_back();
    }
  }
  return daily_[daily_used_++];
}

AnalyticsEntityWrite& ChangeSet::NextEntity(WorkspaceId ws, std::string_view kind, int64_t id) {
  if (entities_used_ == entities_.size()) {
    if (!spare_entities_.empty()) {
      entities_.push_back(std::move(spare_entities_.back()));
      spare_entities_.pop_back();
    } else {
      entities_.emplace_back();
    }
  }
  AnalyticsEntityWrite& w = entities_[entities_used_++];
  w.workspace_id = ws;
  w.kind.assign(kind);
  w.id = id;
  return w;
}

std::string& ChangeSet::Write(WorkspaceId ws, std::string_view kind, int64_t id) {
  AnalyticsEntityWrite& w = NextEntity(ws, kind, id);
  if (!w.state) {
    if (!spare_states_.empty()) {
      w.state.emplace(std::move(spare_states_.back()));
      spare_states_.pop_back();
    } else {
      w.state.emplace();
    }
  }
  w.state->clear();
  return *w.state;
}

void ChangeSet::Delete(WorkspaceId ws, std::string_view kind, int64_t id) {
  AnalyticsEntityWrite& w = NextEntity(ws, kind, id);
  if (w.state) {
    spare_states_.push_back(std::move(*w.state));
    w.state.reset();
  }
}

const std::vector<AnalyticsDailyValue>& ChangeSet::daily() {
  while (daily_.size() > daily_used_) {
    spare_daily_.push_back(std::move(daily_.back()));
    daily_.pop_back();
  }
  return daily_;
}

const std::vector<AnalyticsEntityWrite>& ChangeSet::entities() {
  while (entities_.size() > entities_used_) {
    spare_entities_.push_back(std::move(entities_.back()));
    entities_.pop_back();
  }
  return entities_;
}

}  // namespace rapport::analytics
