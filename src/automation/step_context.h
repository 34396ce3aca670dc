// What a step kind sees when it runs (StepKind::Run, step_registry.h) and what it answers.
// The run's context is a JSON object kept with the run: "entry" (the entry event's name and
// properties), "last_message_id", "visits" (per step), "wait" (what a wait_for_event waits for),
// "matched" (the event that ended that wait), "attempts" (webhook tries).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "automation/journey_env.h"
#include "core/journey.h"

namespace rapport::automation {

struct JourneyDef;
struct StepDef;

struct StepContext {
  const JourneyDef& journey;
  const StepDef& step;
  JourneyRun& run;
  boost::json::object& context;  // the run's context, parsed
  Timestamp now{};
  JourneyEnv& env;
  // True when the run was waiting at this step and its timer fired or its event came.
  bool resumed = false;
  // Deterministic for this run, step and visit: "journey:<run>:<step>:<visit>".
  std::string idempotency_key;
  // Properties for the step's timeline event ("journey.step").
  boost::json::object detail;
  // Extra timeline events (a skipped send, a webhook's outcome).
  std::vector<std::pair<std::string, boost::json::object>> events;
  // Messages queued (or, in a simulation, that would be): template and subject.
  std::vector<std::pair<std::string, std::string>> messages;
};

struct StepOutcome {
  enum class Kind { kNext, kWait, kExit };
  Kind kind = Kind::kNext;
  std::string next;  // kNext: the next step ("" ends the run as completed)
  // kWait: hold the run at this step until `until` (then it is resumed); a wait for an event
  // writes "wait" into the context before it answers.
  Timestamp until{};
  std::string reason;  // kExit: why

  static StepOutcome Next(std::string next) { return StepOutcome{Kind::kNext, std::move(next), {}, {}}; }
  static StepOutcome WaitUntil(Timestamp t) { return StepOutcome{Kind::kWait, {}, t, {}}; }
  static StepOutcome Exit(std::string reason) { return StepOutcome{Kind::kExit, {}, {}, std::move(reason)}; }
};

}  // namespace rapport::automation
