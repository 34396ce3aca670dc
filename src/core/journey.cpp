#include "core/journey.h"

namespace rapport {

std::string_view JourneyStatusName(JourneyStatus s) {
  switch (s) {
    case JourneyStatus::kDraft: return "draft";
    case JourneyStatus::kActive: return "active";
    case JourneyStatus::kPaused: return "paused";
    case JourneyStatus::kArchived: return "archived";
  }
  return "draft";
}

std::optional<JourneyStatus> ParseJourneyStatus(std::string_view s) {
  for (auto st :
       {JourneyStatus::kDraft, JourneyStatus::kActive, JourneyStatus::kPaused, JourneyStatus::kArchived})
    if (JourneyStatusName(st) == s) return st;
  return std::nullopt;
}

std::string_view RunStateName(RunState s) {
  switch (s) {
    case RunState::kActive: return "active";
    case RunState::kWaiting: return "waiting";
    case RunState::kCompleted: return "completed";
    case RunState::kExited: return "exited";
    case RunState::kConverted: return "converted";
  }
  return "active";
}

std::optional<RunState> ParseRunState(std::string_view s) {
  for (auto st :
       {RunState::kActive, RunState::kWaiting, RunState::kCompleted, RunState::kExited, RunState::kConverted})
    if (RunStateName(st) == s) return st;
  return std::nullopt;
}

}  // namespace rapport
