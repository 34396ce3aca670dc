// Journeys as the store keeps them (docs/journeys.md): a journey is a name, a status and a list
// of versions, each the JSON text of one journey document (automation/ parses and checks it); a
// run is one contact's way through one version, with its position (the step it is at), its
// state, and what it waits for. A run's timer is a work item of queue "journey.timer"
// (core/work_queue.h) keyed "run:<id>", written in the same transaction as the run.
//
// JourneyStore::Apply is the one write of the engine: run inserts and updates (each update
// checked against the sequence number it read, so a second worker that took over an expired lease
// cannot move a run twice), timers, step counters, timeline events and the feed consumer's
// position, all in one transaction. Thread-safe like every store facet (core/store.h).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/model.h"

namespace rapport {

using JourneyId = int64_t;
using RunId = int64_t;

inline constexpr size_t kMaxJourneyDocumentBytes = 256 * 1024;
inline constexpr std::string_view kJourneyTimerQueue = "journey.timer";

enum class JourneyStatus { kDraft, kActive, kPaused, kArchived };
std::string_view JourneyStatusName(JourneyStatus s);
std::optional<JourneyStatus> ParseJourneyStatus(std::string_view s);

struct Journey {
  JourneyId id = 0;
  WorkspaceId workspace_id = 0;
  std::string name;  // unique per workspace: [a-z0-9][a-z0-9_-]{0,63}
  JourneyStatus status = JourneyStatus::kDraft;
  int version = 1;         // the latest version: new runs start on it
  std::string definition;  // the latest version's document (JSON text)
  Timestamp created_at{};
  Timestamp updated_at{};
};

// kActive: between steps, due to run now; kWaiting: at a wait step until its timer or an event.
// The other three end a run: kCompleted (ran out of steps), kExited (an exit step, a skipped
// entry rule, the journey archived), kConverted (its goal event arrived).
enum class RunState { kActive, kWaiting, kCompleted, kExited, kConverted };
std::string_view RunStateName(RunState s);
std::optional<RunState> ParseRunState(std::string_view s);
inline bool RunEnded(RunState s) { return s != RunState::kActive && s != RunState::kWaiting; }

struct JourneyRun {
  RunId id = 0;
  WorkspaceId workspace_id = 0;
  JourneyId journey_id = 0;
  int version = 0;
  ContactId contact_id = 0;
  std::string run_key;  // the entry key's value (a cart id); "" when the journey has none
  RunState state = RunState::kActive;
  std::string step;     // the id of the step it is at (once ended: the step where it ended)
  int64_t seq = 0;      // bumped by every write of the run
  std::string context;  // JSON object text: the entry event, the last message, what it waits for
  int64_t revenue_cents = 0;
  std::string reason;  // why it ended (exit step, goal, archived ...)
  Timestamp entered_at{};
  Timestamp updated_at{};
};

// One run written by Apply: inserted when run.id == 0 (and its id filled in), else updated when
// its stored seq equals expect_seq (kConflict otherwise: nothing of the Apply is written).
// `timer` sets the run's timer (nullopt: none; an ended run's timer is always removed).
struct RunWrite {
  JourneyRun run;
  int64_t expect_seq = 0;
  std::optional<Timestamp> timer;
};

// A work item of the journey timer queue that is not a run's (anniversaries, inactivity).
struct TimerWrite {
  WorkspaceId workspace_id = 0;
  std::string key;
  std::string payload;
  std::optional<Timestamp> due;  // nullopt: delete it
};

// A timeline event of a journey; run_index names a run of the same Apply (its id is added to the
// properties as "run_id"), -1 none.
struct JourneyEvent {
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  std::string name;
  json::object properties;
  int run_index = -1;
};

// "Step `step` of `journey` version `version` was entered once more."
struct StepCount {
  WorkspaceId workspace_id = 0;
  JourneyId journey_id = 0;
  int version = 0;
  std::string step;
  int64_t entered = 0;
};

struct JourneyWrite {
  std::vector<RunWrite> runs;
  std::vector<TimerWrite> timers;
  std::vector<StepCount> counts;
  std::vector<JourneyEvent> events;
  // The feed consumer's name and position, committed with the rest.
  std::optional<std::pair<std::string, int64_t>> position;
};

// Counters of one version (step == "") or one step of it.
struct JourneyStatsRow {
  int version = 0;
  std::string step;
  int64_t entered = 0;
  int64_t completed = 0;
  int64_t waiting = 0;  // active or waiting runs at that step (or in that version)
  int64_t exited = 0;
  int64_t converted = 0;
  int64_t revenue_cents = 0;
};

class JourneyStore {
 public:
  virtual ~JourneyStore() = default;
  // Creates version 1 (status draft). kConflict (field "name") when the name is taken.
  virtual Result<Journey> Create(const Journey& journey) = 0;
  virtual Result<Journey> Get(WorkspaceId ws, JourneyId id) = 0;
  virtual Result<Journey> GetByName(WorkspaceId ws, std::string_view name) = 0;
  virtual Result<std::vector<Journey>> List(WorkspaceId ws) = 0;  // by name
  // Every journey of every workspace whose status is active or paused (the engine's set).
  virtual Result<std::vector<Journey>> ListLive() = 0;
  // Stores `definition` as a new version (the next number) and makes it the latest.
  virtual Result<Journey> AddVersion(WorkspaceId ws, JourneyId id, std::string_view definition) = 0;
  virtual Result<std::string> GetVersion(WorkspaceId ws, JourneyId id, int version) = 0;
  virtual Result<Journey> SetStatus(WorkspaceId ws, JourneyId id, JourneyStatus status) = 0;

  // The writes of one engine step (see the header comment). Fills in the ids of inserted runs.
  virtual Status Apply(JourneyWrite& write) = 0;
  virtual Result<JourneyRun> GetRun(RunId id) = 0;
  // The runs of `ids` that exist, in one read (a claim batch's), ordered by id.
  virtual Result<std::vector<JourneyRun>> GetRuns(std::span<const RunId> ids) = 0;
  // The contact's runs that have not ended, every journey (the feed consumer's goals and waits).
  virtual Result<std::vector<JourneyRun>> LiveRuns(WorkspaceId ws, ContactId contact) = 0;
  // The contact's runs, newest first, at most `limit`.
  virtual Result<std::vector<JourneyRun>> ContactRuns(WorkspaceId ws, ContactId contact, int limit) = 0;
  // The contact's latest run of the journey (with this key when given), for the entry rules.
  virtual Result<std::optional<JourneyRun>> LatestRun(WorkspaceId ws, JourneyId journey, ContactId contact,
                                                      const std::optional<std::string>& key) = 0;
  // Version rows (step "") then step rows, by version and step.
  virtual Result<std::vector<JourneyStatsRow>> Stats(WorkspaceId ws, JourneyId id) = 0;
};

}  // namespace rapport
