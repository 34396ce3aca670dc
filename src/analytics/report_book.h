// ReportBook: the analytics fold (pure). Takes the log's events in feed order and keeps
//   - daily values per (workspace, dimension, key, day in the workspace's timezone, metric),
//   - per message: its dimension keys, which unique outcomes it has had (first human open...),
//     and the conversions and revenue credited to it by each attribution model,
//   - per contact: recent touches (for attribution), engagement, purchases, lifecycle stage,
// and says what changed since the last TakeChanges (to persist) and which lifecycle changes to
// append as `lifecycle_changed` events. docs/analytics.md lists the event -> metric rules.
//
// No I/O: the workspace's timezone comes from a callback, time from the caller. Not thread-safe:
// the owner (AnalyticsService) serializes calls.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "analytics/attribution.h"
#include "analytics/change_set.h"
#include "analytics/clv_model.h"
#include "analytics/due_queue.h"
#include "analytics/engagement.h"
#include "analytics/event_facts.h"
#include "analytics/id_index.h"
#include "analytics/lifecycle.h"
#include "analytics/metrics.h"
#include "analytics/send_time.h"
#include "analytics/slab.h"
#include "core/analytics_store.h"
#include "core/model.h"

namespace date {
class time_zone;
}

namespace rapport::analytics {

struct AnalyticsOptions {
  std::string goal_event = "order_placed";
  std::string revenue_property = "total";
  AttributionWindows windows;
  EngagementOptions engagement;
  // Events that add to the engagement score besides opens and clicks, with their weight
  // (the goal event is added with engagement.goal_weight unless named here).
  std::map<std::string, double> engagement_events;
  LifecycleOptions lifecycle;
  ClvOptions clv;
  SendTimeOptions send_time;  // send_time.h
  // How long a message's report state (its dimension keys and unique-outcome flags) is kept
  // after the log received its first event: the bound of the per-message map (and of its rows in
  // the store).
  // An event of a message forgotten this way is not counted (docs/analytics.md).
  int64_t message_horizon_us = 60 * kMicrosPerDay;
  // How long after its time a lifecycle threshold or a score's decay step fires: an event up to
  // this late (an order a shop posts minutes after it was placed, with the time it was placed)
  // is folded before a threshold it would have prevented, instead of the customer flapping to
  // `at_risk` and back. The change keeps its own time; it is published this much later.
  int64_t late_event_grace_us = 10 * 60'000'000LL;
  // AnalyticsService only: whether a CLV model due (ReportBook::ModelsDue) is fitted on a thread
  // of the service's own, started by the consumer without waiting for it (true), or only when
  // AnalyticsService::RefitNow() is called (false: for fake-clock tests that step everything).
  bool fit_in_background = true;
  // Called on the thread that is about to fit a workspace's CLV model, whoever fits it
  // (ReportBook::FitModel, the service's background fit, Model(), RefitNow()): a test hook. It
  // must be thread-safe; empty: nothing.
  std::function<void(WorkspaceId)> before_fit;
};

// A workspace's CLV model older than this is due for a refit (ReportBook::ModelsDue).
inline constexpr int64_t kClvModelMaxAgeUs = 3'600'000'000;  // an hour

inline constexpr std::string_view kLifecycleChanged = "lifecycle_changed";
inline constexpr std::string_view kEngagementChanged = "engagement_changed";
inline constexpr std::string_view kClvChanged = "clv_changed";

// The engagement score published to the contact moved by EngagementOptions::publish_step or more
// (or first became non-zero, or fell to 0): appended as `engagement_changed`, setting the
// contact's attribute `engagement_score`.
struct EngagementChange {
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  int from = -1;  // -1: never published
  int to = 0;
  int64_t at_us = 0;
  std::string idempotency_key;
};

// A goal event changed the contact's historic CLV: the consumer appends `clv_changed` with the
// historic and predicted values (ContactView), setting the attributes `clv` and `predicted_clv`.
struct ClvChange {
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  int64_t at_us = 0;
  std::string idempotency_key;
};

struct LifecycleChange {
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  Stage from = Stage::kSubscriber;
  Stage to = Stage::kSubscriber;
  int64_t at_us = 0;            // when it happened (the order, or the passing of a threshold)
  std::string idempotency_key;  // the same change replayed gets the same key
};

// The conversions and revenue credited to one message, by each attribution model
// (attribution.h): the sums of its credits over the goal events it was credited for.
struct MessageCredit {
  double last = 0, first = 0, linear = 0;                          // conversions
  double revenue_last = 0, revenue_first = 0, revenue_linear = 0;  // revenue
  bool operator==(const MessageCredit&) const = default;
};

struct ContactView {
  bool known = false;
  int engagement_score = 0;
  Stage lifecycle = Stage::kSubscriber;
  int64_t lifecycle_since_us = 0;
  int64_t orders = 0;
  double revenue = 0;  // historic CLV
  int64_t first_order_us = 0, last_order_us = 0;
  int64_t human_opens = 0, human_clicks = 0;
  ClvPrediction predicted;
  bool model_fitted = false;
  std::string model_reason;
  int64_t model_fitted_at_us = 0;  // when the sample of the model predicting was taken; 0: none yet
};

struct Overview {
  std::vector<std::pair<int64_t, Counts>> series;  // the workspace's days
  Counts totals;
  std::array<int64_t, kStageCount> lifecycle{};
  std::array<int64_t, 10> engagement{};                       // contacts by score: 0-9, 10-19, ..., 90-100
  std::vector<std::pair<std::string, Counts>> top_templates;  // by revenue, then conversions
};

class ReportBook {
 public:
  using TimezoneFn = std::function<std::string(WorkspaceId)>;
  ReportBook(AnalyticsOptions options, TimezoneFn timezone);
  ~ReportBook();

  // Folds one event. `now_us` is the caller's clock: lifecycle thresholds that passed before
  // min(event time, now) are applied first.
  void Apply(const Event& e, int64_t now_us);
  // The same, with the event's facts read already (ReadFacts: the consumer reads them once for
  // both folds).
  void Apply(const Event& e, const EventFacts& facts, int64_t now_us);
  // Fetching ahead, for a caller that folds a batch (a hint: no effect on the results). At a
  // million contacts an event's message and contact states are cache misses, two dependent ones
  // each (the index entry, then the state). Call PrefetchIndex for the event kIndexAhead after the
  // one applied and PrefetchState for the one kStateAhead after it, and the misses overlap the work between.
  static constexpr size_t kIndexAhead = 16, kStateAhead = 8;
  void PrefetchIndex(const Event& e, const EventFacts& facts) const;
  void PrefetchState(const Event& e, const EventFacts& facts) const;
  // Applies the lifecycle thresholds due at or before now_us; returns the next one (or nullopt).
  std::optional<int64_t> Advance(int64_t now_us);

  // What changed since the last call: values and entity states to write (absolute).
  // Into a ChangeSet (appended; its buffers reused: what the consumer does), or appended to
  // plain vectors.
  void TakeChanges(ChangeSet& out);
  void TakeChanges(std::vector<AnalyticsDailyValue>& daily, std::vector<AnalyticsEntityWrite>& entities);
  std::vector<LifecycleChange> TakeLifecycleChanges();
  std::vector<EngagementChange> TakeEngagementChanges();
  std::vector<ClvChange> TakeClvChanges();
  // Loads persisted state (after a restart), in any order; call Rebuilt() after.
  void LoadDaily(const AnalyticsDailyValue& v);
  void LoadEntity(WorkspaceId ws, std::string_view kind, int64_t id, std::string_view state);
  void Rebuilt();

  int64_t DayOf(WorkspaceId ws, int64_t at_us);
  std::vector<std::pair<int64_t, Counts>> Series(WorkspaceId ws, Dimension d, std::string_view key,
                                                 int64_t from_day, int64_t to_day) const;
  std::vector<std::pair<std::string, Counts>> Breakdown(WorkspaceId ws, Dimension d, int64_t from_day,
                                                        int64_t to_day) const;
  // A message's keys, flags and credit; nullopt when unknown.
  struct MessageView {
    WorkspaceId workspace_id = 0;
    std::array<std::string, kDimensionCount> keys;
    std::vector<std::string> outcomes;  // "opened_human", ...
    MessageCredit credit;               // all 0 when no conversion was credited to it
  };
  std::optional<MessageView> Message(WorkspaceId ws, int64_t message_id) const;
  // The contact's values now. The prediction uses the workspace's installed model however old
  // (see ModelsDue). A workspace without one is fitted here, once, when it is small (fewer than
  // clv.max_fit_customers / 10 customers: under about 0.3 s, bench/RESULTS.md); a larger one
  // gets the fallback, with model_reason saying the model is not fitted yet, until its owner
  // installs the first fit.
  ContactView Contact(WorkspaceId ws, ContactId id, int64_t now_us);
  Overview OverviewOf(WorkspaceId ws, int64_t from_day, int64_t to_day, int64_t now_us, size_t top = 10);

  // The workspace's CLV model (clv_model.h) is fitted in three steps, so that its owner can run
  // the middle one, the only costly one, on another thread without holding its lock:
  //   1. CustomerSample(): the customers' summaries as of now (cheap: one pass over the contacts);
  //   2. FitClv(sample, options().clv): pure, touches nothing of the book;
  //   3. InstallModel(): the model Contact() predicts with from then on.
  // The sample: the workspace's customers (contacts with an order), all of them, or when there
  // are more than clv.max_fit_customers that many, those whose contact id hashes lowest: a stable
  // pseudo-random choice. In the order of that hash, so the same customers give the same sample
  // and the same model whatever the order they were folded or loaded in.
  std::vector<CustomerSummary> CustomerSample(WorkspaceId ws, int64_t now_us) const;
  // `model` becomes the workspace's, as fitted on a sample taken at fitted_at_us.
  void InstallModel(WorkspaceId ws, ClvModel model, int64_t fitted_at_us);
  // The three steps on the caller's thread (the sample bounds its time); returns the model.
  const ClvModel& FitModel(WorkspaceId ws, int64_t now_us);
  // The workspaces with customers whose model is missing or at least kClvModelMaxAgeUs old at
  // now_us, the missing and then the oldest first: the owner refits them (AnalyticsService does,
  // off its consumer's thread). The book never refits a model it has.
  std::vector<WorkspaceId> ModelsDue(int64_t now_us) const;
  // Contacts of the workspace with at least one order.
  int64_t Customers(WorkspaceId ws) const;
  const AnalyticsOptions& options() const { return options_; }
  size_t contacts() const { return contact_index_.size(); }
  size_t messages() const { return message_index_.size(); }

 private:
  struct DailyKey {
    WorkspaceId ws;
    uint8_t dim;
    int32_t key;
    int64_t day;
    bool operator==(const DailyKey&) const = default;
  };
  struct DailyHash {
    size_t operator()(const DailyKey& k) const;
  };
  // A daily cell: its values and whether they changed since the last TakeChanges.
  struct Cell {
    Counts counts;
    bool dirty = false;
  };
  using DailyMap = std::unordered_map<DailyKey, Cell, DailyHash>;  // nodes: stable addresses
  using CellRef = DailyMap::value_type*;
  // A message's dimension keys, interned once per distinct combination (there are few: one per
  // template x topic x class x journey x campaign in use), so a message event finds its daily
  // cells with one lookup of (combination, day) instead of one per dimension.
  struct Combo {
    WorkspaceId ws = 0;
    std::array<int32_t, kDimensionCount> keys{};  // interned; -1 none
    bool operator==(const Combo&) const = default;
  };
  struct ComboHash {
    size_t operator()(const Combo& c) const;
  };
  // Messages and contacts live in slabs (slab.h: chunks of states, a free list) indexed by a
  // flat map id -> slot: the map's entries stay small (cheap probes and rehashes), and the
  // dirty lists hold slots, so TakeChanges looks nothing up. A freed slot has id 0 and is clean.
  struct MessageState {
    int64_t id = 0;
    WorkspaceId ws = 0;
    int64_t first_us = 0;  // its first event (the horizon runs from there)
    uint32_t combo = 0;
    uint32_t home = 0;  // its slot in message_slab_
    uint16_t flags = 0;
    bool dirty = false;
    bool credited = false;  // it has an entry in message_credit_ (in the padding: still 40 bytes)
  };
  struct ContactState {  // what a human open reads and writes first (a cache line), then the rest
    ContactId id = 0;
    WorkspaceId ws = 0;
    uint32_t slot = 0;         // index in dense_[ws]
    uint32_t home = 0;         // index in contact_slab_
    int published_score = -1;  // the engagement score last published to the contact; -1 none
    bool dirty = false;
    Stage stage = Stage::kSubscriber;
    Engagement engagement;
    int64_t score_due_us = 0;  // when decay moves the score a publish step from it; 0 none
    int64_t opens = 0, clicks = 0;
    std::vector<Touch> touches;
    PurchaseHistory purchases;
    double revenue = 0;
    double first_value = 0;
    int64_t stage_since = 0;
  };

  // The engagement of a workspace's contacts laid out for the overview's distribution: log2 of
  // the sum at its time (-inf for 0; at_us -1 for a removed contact).
  struct DenseEngagement {
    double log2_sum = 0;
    int64_t at_us = 0;
  };
  void Sync(const ContactState& c);
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct ZoneCache {
    const date::time_zone* zone = nullptr;
    int64_t begin_us = 1, end_us = 0;  // where `offset_us` holds
    int64_t offset_us = 0;
  };
  int32_t Intern(std::string_view s);
  const std::array<int32_t, kDimensionCount>& Keys(const MessageState& m) const {
    return combos_[m.combo].keys;
  }
  CellRef CellOf(WorkspaceId ws, Dimension d, int32_t key, int64_t day);
  const std::array<CellRef, kDimensionCount>& CellsOf(uint32_t combo, int64_t day);
  void MarkDirty(ContactState& c);
  void MarkDirty(MessageState& m);
  ZoneCache& ZoneOf(WorkspaceId ws);
  void EvictMessages(int64_t at_us);
  const std::string& Name(int32_t id) const { return names_[static_cast<size_t>(id)]; }
  MessageState* MessageFor(const Event& e, const EventFacts& f);
  MessageState* FindMessage(int64_t id);
  ContactState* FindContact(ContactId id);
  void FreeMessage(uint32_t slot);
  // The contact's state, created when new; `changes`: the caller changes it (to be written).
  ContactState& ContactFor(WorkspaceId ws, ContactId id, bool changes = true);
  void Add(WorkspaceId ws, Dimension d, int32_t key, int64_t day, Metric m, double delta);
  void Add(CellRef cell, Metric m, double delta);
  void AddForMessage(const MessageState& m, int64_t day, Metric metric, double delta);
  void Once(MessageState& m, uint16_t flag, int64_t day, Metric metric);
  void Goal(const Event& e, ContactState& c, int64_t day);
  void SetStage(ContactId id, ContactState& c, Stage to, int64_t at, std::string basis);
  void Schedule(ContactId id, const ContactState& c, int64_t now);
  // basis: what moved it, kind 'e' (event id) or 't' (time); it makes the idempotency key.
  void PublishScore(ContactId id, ContactState& c, int64_t at, char kind, int64_t basis);
  void RemoveContact(ContactId id);
  // Append the state's JSON to `out`.
  void Serialize(const MessageState& m, std::string& out) const;
  void Serialize(const ContactState& c, std::string& out) const;
  // The contact's purchase summary as of now_us (it has an order).
  CustomerSummary SummaryOf(const ContactState& c, int64_t now_us) const;
  // The model Contact() predicts with and the time of its sample (see there).
  const std::pair<ClvModel, int64_t>& ModelFor(WorkspaceId ws, int64_t now_us);
  std::string ComboJson(const Combo& c) const;

  AnalyticsOptions options_;
  TimezoneFn timezone_;
  std::unordered_map<WorkspaceId, ZoneCache> zones_;  // node-based: last_zone_ stays valid
  WorkspaceId last_zone_ws_ = 0;
  ZoneCache* last_zone_ = nullptr;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> name_ids_;
  std::unordered_map<WorkspaceId, std::vector<DenseEngagement>> dense_;
  DailyMap daily_;
  std::map<std::pair<WorkspaceId, uint8_t>, std::set<int32_t>> keys_;
  std::vector<Combo> combos_;
  std::vector<std::string> combo_json_;  // per combination: its keys as JSON members, for Serialize
  boost::unordered_flat_map<Combo, uint32_t, ComboHash> combo_ids_;
  // (combination << 32 | day) -> its cells per dimension (null where it has no key).
  boost::unordered_flat_map<uint64_t, std::array<CellRef, kDimensionCount>> combo_cells_;
  IdIndex message_index_;  // id -> slot in message_slab_
  Slab<MessageState> message_slab_;
  // The credit of the messages that have some (few do: kept apart, so the others pay nothing).
  boost::unordered_flat_map<int64_t, MessageCredit> message_credit_;  // id -> credit
  // Messages in the order of their first event, for the horizon; and per workspace the greatest
  // id forgotten (ids grow with time: an unknown id at or below it was forgotten, not new).
  std::deque<std::pair<int64_t, int64_t>> message_order_;  // (first_us, id)
  std::unordered_map<WorkspaceId, int64_t> forgotten_through_;
  std::unordered_set<WorkspaceId> dirty_forgotten_;
  std::vector<std::pair<WorkspaceId, int64_t>> evicted_messages_;
  std::vector<int64_t> unstamped_;   // loaded without a first time (see EvictMessages)
  IdIndex contact_index_;            // id -> slot in contact_slab_
  Slab<ContactState> contact_slab_;  // references stay valid as it grows
  std::unordered_map<WorkspaceId, std::array<int64_t, kStageCount>> stages_;
  // The installed model and the time of its sample, per workspace.
  std::unordered_map<WorkspaceId, std::pair<ClvModel, int64_t>> models_;
  std::pair<ClvModel, int64_t> unfitted_;  // what a large workspace predicts with before its first fit
  // A timer of a contact, ordered by (time, contact); `slot` is where the contact was when it
  // was set (a hint: checked against the id, looked up again when it moved), so most pops find
  // the state without a probe of the index.
  struct Due {
    int64_t at = 0;
    ContactId id = 0;
    uint32_t slot = 0;
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : id > o.id; }
  };
  ContactState* ContactAt(const Due& d);
  // (time, contact): lifecycle thresholds; stale entries are skipped when popped.
  DueQueue<Due> deadlines_;
  int64_t arrival_ = 0;  // the greatest received_at folded: the message horizon's clock
  int32_t all_ = 0;      // Intern("")
  std::vector<CellRef> dirty_daily_;
  std::vector<uint32_t> dirty_messages_;  // slots
  std::vector<uint32_t> dirty_contacts_;  // slots
  std::unordered_map<ContactId, WorkspaceId> removed_contacts_;
  std::vector<LifecycleChange> changes_;
  // (time, contact): when a contact's score decays a publish step; stale ones (not the contact's
  // score_due_us) are skipped.
  DueQueue<Due> score_deadlines_;
  std::vector<EngagementChange> score_changes_;
  std::vector<ClvChange> clv_changes_;
};

}  // namespace rapport::analytics
