// Send-time optimization (docs/send-time.md): when, in a contact's week, are they most likely to
// read mail? Three parts, all pure (no I/O; time and timezones from the caller):
//
//  - The model. Each human open adds `open_weight` (1) and each human click `click_weight` (2: a
//    click is stronger evidence of attention than an open, which images-off readers and preview
//    panes blur) to the contact's count n_h for the hour of the week h (0 = Sunday 00:00-00:59
//    .. 167 = Saturday 23:00-23:59) in which it happened, in the contact's local time. Machine
//    opens and clicks (Apple Mail Privacy Protection, link scanners) add nothing.
//    The workspace's population pattern is the sum of every contact's counts, P_h, smoothed over
//    neighbouring hours (S_h = 1/4 P_{h-1} + 1/2 P_h + 1/4 P_{h+1}, around the week) and shrunk
//    towards uniform by `population_strength` b pseudo-events (168: one per hour):
//        pi_h = (S_h + b / 168) / (N_pop + b)
//    Each contact's hour is multinomial with a Dirichlet(a * pi) prior, a = `contact_strength`
//    (10 weighted events), so its posterior mean is
//        w_h = (n_h + a * pi_h) / (N + a)
//    A contact with no history follows the population (w = pi); with N >> a, their own pattern.
//    Their own evidence weighs as much as the population's once N = a.
//
//  - The fold (SendTimeBook): folds the log's events in order (contact.created/updated for the
//    contact's timezone, email_opened/email_clicked, contact.merged, contact.erased) into sparse
//    per-contact counts and per-workspace population counts, and says which entity states
//    changed (kinds "send_time" per contact and "send_time_population" per workspace, id 0, in
//    the analytics store). An event is placed in the local hour of the contact's timezone as the
//    log had it when the event happened (else the workspace's default), so a rebuild from the
//    log gives the same counts.
//
//  - The choice (BestInWindow): the candidate moments of a window are its start and every local
//    top of the hour after it; the one whose hour of the week has the highest weight wins
//    (ties: the earliest). Local hours come from the IANA zone's offsets at each instant, so DST
//    changes (a skipped or a repeated hour) are handled.
//
// Not thread-safe (SendTimeBook): the owner, AnalyticsService, serializes calls.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analytics/change_set.h"
#include "analytics/event_facts.h"
#include "analytics/id_index.h"
#include "analytics/slab.h"
#include "core/analytics_store.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "core/send_time.h"

namespace date {
class time_zone;
}

namespace rapport::analytics {

inline constexpr int kHoursPerWeek = 168;
inline constexpr std::string_view kSendTimeKind = "send_time";
inline constexpr std::string_view kSendTimePopulationKind = "send_time_population";

struct SendTimeOptions {
  double open_weight = 1;
  double click_weight = 2;
  double contact_strength = 10;      // a: the prior's weight in a contact's posterior, in events
  double population_strength = 168;  // b: uniform pseudo-events in the population's pattern
};

struct HourCounts {
  int64_t opens = 0;
  int64_t clicks = 0;
  bool operator==(const HourCounts&) const = default;
};
using WeekCounts = std::array<HourCounts, kHoursPerWeek>;
using WeekWeights = std::array<double, kHoursPerWeek>;  // sums to 1

double Weighted(const HourCounts& c, const SendTimeOptions& o);
// pi: the population's smoothed pattern (uniform when there are no events).
WeekWeights PopulationPrior(const WeekCounts& population, const SendTimeOptions& o);
// w: the contact's posterior mean given their own counts and the prior pi.
WeekWeights ContactPosterior(const WeekCounts& own, const WeekWeights& prior, const SendTimeOptions& o);

// The zone for an IANA name; UTC for an empty or unknown one. Never null.
const date::time_zone* ZoneOrUtc(std::string_view name);
// The local hour of the week of `t` in `zone`: 0 = Sunday 00:00-00:59 .. 167.
int HourOfWeek(Timestamp t, const date::time_zone& zone);
// The best moment in [start, end) for these weights (see above); the start when the window is
// shorter than an hour; kInvalid when it is empty. `personal` is copied into the choice.
Result<SendTimeChoice> BestInWindow(const WeekWeights& weights, const date::time_zone& zone, Timestamp start,
                                    Timestamp end, bool personal);

// What the API shows of one contact.
struct SendTimeProfile {
  std::string timezone;  // the zone used (the contact's, else the workspace's default)
  bool contact_timezone = false;
  WeekCounts own{};
  int64_t opens = 0, clicks = 0;
  double evidence = 0;        // N: the contact's weighted events
  double personal_share = 0;  // N / (N + a): how much the contact's own pattern weighs
  WeekWeights population{};   // pi
  WeekWeights posterior{};    // w
  SendTimeOptions options;    // the model's parameters
};

class SendTimeBook {
 public:
  using TimezoneFn = std::function<std::string(WorkspaceId)>;  // the workspace's default zone
  SendTimeBook(SendTimeOptions options, TimezoneFn workspace_timezone);

  void Apply(const Event& e);
  // The same, with the event's facts read already (event_facts.h).
  void Apply(const Event& e, const EventFacts& facts);
  // Fetching ahead (as ReportBook's: a hint for a caller folding a batch; an open or a click
  // reads the contact's state, a cache miss at a million contacts): PrefetchIndex for the event
  // ReportBook::kIndexAhead after the one applied, PrefetchState for the one kStateAhead after.
  void PrefetchIndex(const Event& e, const EventFacts& facts) const;
  void PrefetchState(const Event& e, const EventFacts& facts) const;
  // Entity states changed since the last call (absolute; nullopt deletes), appended.
  void TakeChanges(ChangeSet& out);
  void TakeChanges(std::vector<AnalyticsEntityWrite>& entities);
  // Loads one persisted entity; ignores kinds that are not its own.
  void LoadEntity(WorkspaceId ws, std::string_view kind, int64_t id, std::string_view state);

  // `timezone`: the contact's zone now (empty: the workspace's default).
  SendTimeProfile Profile(WorkspaceId ws, ContactId id, std::string_view timezone);
  const SendTimeOptions& options() const { return options_; }

 private:
  struct Entry {
    uint8_t hour = 0;
    HourCounts counts;
  };
  // Contacts live in a slab (slab.h) indexed by an IdIndex (id_index.h) id -> slot; the dirty
  // list holds slots (a freed slot has id 0 and is clean), so TakeChanges looks nothing up.
  struct ContactState {
    ContactId id = 0;
    WorkspaceId ws = 0;
    const date::time_zone* zone = nullptr;  // as the log has it now; null: the workspace's default
    std::vector<Entry> hours;               // sparse, by hour
    uint32_t home = 0;                      // its slot
    bool dirty = false;
  };
  struct Population {
    WeekCounts counts{};
    bool dirty = false;  // changed since the last TakeChanges
    bool has_prior = false;
    WeekWeights prior{};  // pi, while has_prior (until the counts change)
  };
  const date::time_zone* ZoneOf(WorkspaceId ws, const date::time_zone* contact_zone);
  void Count(ContactState& c, int hour, const HourCounts& delta);  // to the contact and population
  void Serialize(const ContactState& c, std::string& out) const;
  Population& PopulationOf(WorkspaceId ws);
  void PopulationChanged(WorkspaceId ws);
  ContactState* Find(ContactId id);
  ContactState& FindOrAdd(ContactId id, WorkspaceId ws_if_new);
  void Free(ContactState& c);  // erases it from the index; the slot is reused
  void MarkDirty(ContactState& c);
  // HourOfWeek with the zone's current offset span cached (the log is in time order, so one tzdb
  // lookup per zone and offset change rather than per event).
  int LocalHourOfWeek(Timestamp t, const date::time_zone* zone);
  struct ZoneSpan {
    int64_t begin_us = 1, end_us = 0;  // where offset_us holds
    int64_t offset_us = 0;
  };

  SendTimeOptions options_;
  TimezoneFn workspace_timezone_;
  std::unordered_map<WorkspaceId, const date::time_zone*> workspace_zones_;  // cached defaults
  WorkspaceId last_zone_ws_ = 0;
  const date::time_zone* last_zone_ = nullptr;  // workspace_zones_[last_zone_ws_]
  IdIndex index_;                               // id -> slot in slab_
  Slab<ContactState> slab_;
  std::vector<uint32_t> dirty_contacts_;  // slots
  std::unordered_map<ContactId, WorkspaceId> removed_contacts_;
  std::unordered_map<WorkspaceId, Population> populations_;  // node-based: last_population_ stays valid
  WorkspaceId last_population_ws_ = 0;
  Population* last_population_ = nullptr;
  std::vector<WorkspaceId> dirty_population_;
  std::unordered_map<const date::time_zone*, ZoneSpan> spans_;
  const date::time_zone* last_span_zone_ = nullptr;
  ZoneSpan* last_span_ = nullptr;  // spans_[last_span_zone_]
};

}  // namespace rapport::analytics
