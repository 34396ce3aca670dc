// JourneyService: journeys kept running from the store's feed and the journey timers, and the
// operations the API and the CLI call (create, edit as a new version, activate, pause, resume,
// archive, enter by API, a contact's runs, stats).
//
// How it runs (docs/journeys.md, "Execution"):
//   - a feed consumer ("journeys") reads every event in order: an event that is a run's goal ends
//     it as converted; one that a waiting run waits for wakes it; one that triggers a journey
//     starts a run (entry rules checked) with its timer due now; activity moves inactivity
//     timers, contact changes move anniversary timers. A feed batch's writes and the consumer's
//     position commit in one transaction (JourneyStore::Apply); within the batch, an event sees
//     the runs as the batch's earlier events left them (the pending write, not the store). A
//     first start begins at the head of the log: history does not trigger journeys.
//   - a scheduler claims due timers of queue "journey.timer" with leases, as the outbox claims
//     messages, and advances each run (journey_engine.h) until it waits or ends, then writes the
//     run, its next timer, the step counters and the timeline events in one transaction checked
//     against the run's sequence number; a whole claim batch (claim_batch timers) commits in one
//     such transaction, and its runs' first sends are queued together (batch_send.h). A step that
//     runs again after a crash sends with the same idempotency key, so the send service queues
//     nothing twice.
//   - a paused journey holds its runs where they are: their timers are put back by 30 s until it
//     resumes (no message is skipped); goals still end runs. An archived journey ends each run as
//     its timer fires (exited, "journey archived") and starts no new ones.
//
// Thread-safety: every public method is thread-safe. Start() runs one worker thread; tests call
// Step() themselves on a FakeClock. The Store, Clock and ports must outlive the service.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "automation/batch_send.h"
#include "automation/journey_engine.h"
#include "automation/journey_env.h"
#include "automation/journey_model.h"
#include "automation/journey_simulator.h"
#include "automation/step_registry.h"
#include "core/clock.h"
#include "core/send_time.h"
#include "core/store.h"

namespace rapport::automation {

struct JourneyPorts {
  Mailer* mailer = nullptr;  // required to send
  // Null: segment rules and expressions answer kUnavailable when a run meets them, and
  // expressions are not checked when a journey is saved.
  SegmentMembership* segments = nullptr;
  WebhookClient* webhooks = nullptr;  // null: webhooks fail
  // Send-time optimization for wait_best_time; null: the window's start.
  const SendTimeAdvisor* send_time = nullptr;
};

struct JourneyServiceOptions {
  std::string owner = "journeys";  // the lease owner (node name)
  Micros lease = std::chrono::seconds(60);
  Micros paused_recheck = std::chrono::seconds(30);
  Micros error_retry = std::chrono::seconds(30);
  // Timers claimed (and their runs advanced and written in one transaction) at a time, 1..1000.
  int claim_batch = 1000;
  // Told of each failure the service retries by itself (a store error, a step that failed and is
  // tried again in error_retry), so the operator sees it; null: not told. Called on the worker
  // thread; must not call back into the service.
  std::function<void(const Error&)> on_error;
};

struct SimulationRequest {
  std::vector<ContactId> contacts;  // replay each one's recorded history (newest 1000 events)
  std::vector<SimEvent> events;     // and/or these events
  std::optional<int> version;       // default: the latest
  SimOptions options;
};

struct EnterResult {
  bool entered = false;
  std::string reason;  // why not
  RunId run_id = 0;
};

class JourneyService {
 public:
  JourneyService(Store& store, const Clock& clock, const StepRegistry& registry, JourneyPorts ports,
                 JourneyServiceOptions options = {});
  ~JourneyService();
  JourneyService(const JourneyService&) = delete;
  JourneyService& operator=(const JourneyService&) = delete;

  Status Start();
  void Stop();
  void Wake();
  // One pass: the feed up to its head, then every due timer. Returns the work done (events read
  // plus timers handled).
  Result<size_t> Step();

  // Checks the document (kInvalid with the JSON path in field: a missing template, a segment
  // expression that does not compile with the parser's message) and stores it as version 1, draft.
  Result<Journey> Create(WorkspaceId ws, const json::value& document);
  // A new version; runs in flight finish on the version they started on.
  Result<Journey> Update(WorkspaceId ws, JourneyId id, const json::value& document);
  // Checks the version's segment expressions again (kInvalid with their JSON path).
  Result<Journey> Activate(WorkspaceId ws, JourneyId id);
  Result<Journey> Pause(WorkspaceId ws, JourneyId id);
  Result<Journey> Resume(WorkspaceId ws, JourneyId id);
  Result<Journey> Archive(WorkspaceId ws, JourneyId id);
  // POST /api/v1/journeys/{id}/enter: the journey must be active and have an "api" trigger.
  Result<EnterResult> Enter(WorkspaceId ws, JourneyId id, ContactId contact, const json::object& properties);
  // Replays history or given events against a version on a virtual clock; sends nothing.
  Result<std::vector<SimPath>> Simulate(WorkspaceId ws, JourneyId id, const SimulationRequest& request);
  // Checks a document without storing it.
  Result<JourneyDef> Check(WorkspaceId ws, const json::value& document);
  // The parsed definition of a stored version (cached).
  Result<std::shared_ptr<const JourneyDef>> Definition(WorkspaceId ws, JourneyId id, int version);

  JourneyEnv& env() { return *env_; }
  const StepRegistry& registry() const { return registry_; }
  Store& store() { return store_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Live {
    Journey journey;
    std::shared_ptr<const JourneyDef> def;
  };
  // A workspace's active and paused journeys, and the event names a run of any of their versions
  // listens for (goals, wait_for_event): any other event needs no read of the contact's runs.
  struct LiveSet {
    std::vector<Live> journeys;
    std::set<std::string, std::less<>> heard;
    bool hear_all = false;  // a version that does not parse, or a wait whose event is not a name
    bool Heard(std::string_view name) const { return hear_all || heard.contains(name); }
  };
  using LiveList = std::shared_ptr<const LiveSet>;
  // What a claim batch reads once: its journeys, its runs (read before their sends are queued
  // together) and the env its steps run on.
  struct Batch {
    std::map<std::pair<WorkspaceId, JourneyId>, Journey> journeys;
    std::map<RunId, JourneyRun> runs;
    JourneyEnv* env = nullptr;
  };
  using JourneyCache = Batch;
  Result<LiveList> LiveJourneys(WorkspaceId ws);
  void Invalidate();
  Result<size_t> Consume();
  Status ConsumeBatch(const std::vector<Event>& batch);
  Result<size_t> RunTimers();
  void AdvanceBatch(const std::vector<WorkItem>& items);
  // Queues the first send of every due run of the batch in one go (see AdvanceBatch).
  void PrefetchSends(const std::vector<WorkItem>& items, Batch& batch, SendReplies& replies);
  // Adds the writes of one due timer to `w` (a claim batch's pending write, whose runs it sees);
  // items with nothing to write are completed or put back at once.
  Status HandleItem(const WorkItem& item, JourneyWrite& w, JourneyCache& journeys);
  Result<Journey> CachedJourney(WorkspaceId ws, JourneyId id, JourneyCache& journeys);
  Status HandleEvent(const Event& e, JourneyWrite& w);
  Result<EnterResult> TryEnter(const Journey& j, const JourneyDef& def, ContactId contact,
                               std::string_view event, const json::object& properties, Timestamp now,
                               JourneyWrite& w);
  Status HandleRunTimer(const WorkItem& item, RunId id, JourneyWrite& w, JourneyCache& journeys);
  Status HandleEntryTimer(const WorkItem& item, JourneyWrite& w, JourneyCache& journeys);
  Status ScheduleContactTimers(const Journey& j, const JourneyDef& def, const Contact& c, JourneyWrite& w);
  Status BackfillTimers(const Journey& j);
  Result<Journey> SetStatus(WorkspaceId ws, JourneyId id, JourneyStatus status);
  // The check of segment expressions through the segments port (null when there is none).
  ExpressionCheck ExpressionChecker(WorkspaceId ws);
  void Run();

  Store& store_;
  const Clock& clock_;
  const StepRegistry& registry_;
  JourneyServiceOptions options_;
  JourneyPorts ports_;
  std::unique_ptr<JourneyEnv> env_;
  std::mutex mu_;  // one engine pass at a time (the consumer, the scheduler, API entries)
  std::mutex cache_mu_;
  std::map<std::pair<JourneyId, int>, std::shared_ptr<const JourneyDef>> defs_;  // guarded by cache_mu_
  std::map<WorkspaceId, LiveList> live_;                                         // guarded by cache_mu_
  bool live_loaded_ = false;                                                     // guarded by cache_mu_
  Timestamp live_loaded_at_{};                                                   // guarded by cache_mu_
  std::atomic<bool> running_{false};
  Alarm alarm_;
  std::thread worker_;
  std::thread watcher_;
};

// The JourneyEnv of the service: the store's facets and the ports.
std::unique_ptr<JourneyEnv> MakeStoreEnv(Store& store, const Clock& clock, JourneyPorts ports);

inline constexpr std::string_view kJourneyConsumer = "journeys";

}  // namespace rapport::automation
