// The pure rules of journeys, shared by the service (journey_service.h) and the simulator
// (journey_simulator.h): whether an event triggers a journey, ends a run as its goal or ends a
// run's wait, and Advance, which runs a run's steps from where it is until it waits or ends.
// No I/O but through the JourneyEnv; time is given. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "automation/journey_env.h"
#include "automation/journey_model.h"
#include "core/journey.h"

namespace rapport::automation {

inline constexpr int kMaxStepsPerAdvance = 100;

// The trigger of `def` that `e` fires (event and segment triggers), or nullptr.
const Trigger* EventTrigger(const JourneyDef& def, const Event& e);
// The run's key for an entry by `properties`: entry.key's value as text; nullopt when the
// journey has a key and the properties lack it (no entry).
std::optional<std::string> RunKey(const JourneyDef& def, const json::object& properties);
// Why the entry rules refuse a new run when `latest` is the latest run of its key (of the contact
// when the journey has no key) at `now`: it is live ("already in the journey"), re-entry is
// never, or the cool-down since its entry has not passed; nullopt when a run may start.
std::optional<std::string_view> ReentryRefusal(const JourneyDef& def, const JourneyRun& latest,
                                               Timestamp now);
// Why the journey's entry filter refuses the contact now: entry.segment (a saved segment it must
// be in) and entry.expression (a segment expression it must match), both when both are given.
// Checked at entry and again before every marketing send; `again` words the reason for the
// second ("left the entry segment vip", "no longer matches the entry expression") rather than
// the first ("not in the entry segment vip", "does not match the entry expression"). nullopt
// when it admits the contact; an error when the env cannot tell (the run is tried again).
Result<std::optional<std::string>> EntryFilterRefusal(const JourneyDef& def, WorkspaceId ws,
                                                      ContactId contact, JourneyEnv& env, bool again);
// The revenue in cents when `e` is the goal of `run`, nullopt when it is not.
std::optional<int64_t> GoalReached(const JourneyDef& def, const JourneyRun& run, const Event& e);
// True when `run` waits for an event (wait_for_event) and `e` is it.
bool WaitMatched(const JourneyRun& run, const Event& e);

// A fresh run at the journey's start: state active, context {"entry": {...}, "visits": {start: 1}}.
JourneyRun NewRun(const JourneyDef& def, const Journey& journey, ContactId contact, const std::string& key,
                  std::string_view entry_event, const json::object& entry_properties, Timestamp now);

struct AdvanceResult {
  std::optional<Timestamp> timer;                             // when to wake the run
  std::vector<std::pair<std::string, json::object>> events;   // timeline events of the run
  std::vector<std::string> entered;                           // steps entered (for the counters)
  std::vector<std::pair<std::string, std::string>> messages;  // template, subject
  std::vector<std::string> path;                              // every step run, in order
};

// Runs `run` (state active or waiting, whose timer fired or whose event came) from its step.
// Updates the run (state, step, context, reason). On error nothing that was done is undone: a
// retry runs the same steps with the same idempotency keys.
Result<AdvanceResult> Advance(const JourneyDef& def, JourneyRun& run, Timestamp now, JourneyEnv& env);

// Context helpers.
json::object ParseContext(std::string_view text);
std::string StepIdempotencyKey(const JourneyRun& run, std::string_view step, int64_t visit);

}  // namespace rapport::automation
