#include "campaign/campaign_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "campaign/campaign_outcomes.h"
#include "core/json_parse.h"
#include "core/json_write.h"
#include "core/thread_name.h"

namespace rapport::campaign {

namespace json = boost::json;

namespace {

// The earliest zone is UTC+14: a per-contact wall time happens at most 14 hours before the same
// wall time in UTC, so the audience is frozen then.
constexpr auto kEarliestOffset = std::chrono::hours(14);

// The throttle's window (throttle_per_minute).
constexpr Micros kThrottleMinute = std::chrono::duration_cast<Micros>(std::chrono::minutes(1));

std::string TickKey(CampaignId id) { return fmt::format("campaign:{}", id); }

uint64_t Seed(const Campaign& c) {
  // Per campaign (stable across its occurrences: the same contact stays in the holdout), mixed.
  uint64_t x = static_cast<uint64_t>(c.id) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(c.workspace_id);
  x ^= x >> 31;
  return x;
}

Result<CampaignDef> Parse(const Campaign& c) {
  json::value doc;
  try {
    doc = ParseJsonExact(c.definition);
  } catch (const std::exception& e) {
    return Error::Internal(fmt::format("campaign {}: stored settings do not parse: {}", c.id, e.what()));
  }
  return ParseCampaign(doc);
}

}  // namespace

std::string RecipientKey(CampaignId campaign, OccurrenceId occurrence, ContactId contact) {
  return fmt::format("campaign:{}:{}:{}", campaign, occurrence, contact);
}

CampaignService::CampaignService(Store& store, const Clock& clock, CampaignPorts ports,
                                 CampaignServiceOptions options)
    : store_(store), clock_(clock), ports_(ports), options_(std::move(options)) {}

CampaignService::~CampaignService() { Stop(); }

Status CampaignService::Start() {
  RAPPORT_TRY(store_.work().ReleaseOwner(options_.owner));
  running_ = true;
  worker_ = std::thread([this] {
    NameThisThread("campaigns");
    Run();
  });
  return {};
}

void CampaignService::Stop() {
  if (!running_.exchange(false)) return;
  alarm_.Ring();
  if (worker_.joinable()) worker_.join();
}

void CampaignService::Wake() { alarm_.Ring(); }

void CampaignService::Run() {
  while (running_) {
    auto done = Step();
    if (!done.ok()) {
      if (options_.on_error) options_.on_error(done.error());
      clock_.SleepUntil(clock_.Now() + std::chrono::milliseconds(500), alarm_);
      continue;
    }
    if (*done > 0) continue;
    Timestamp wake = clock_.Now() + std::chrono::seconds(1);
    auto next = store_.work().NextDue(kCampaignQueue);
    if (next.ok() && *next && **next < wake) wake = **next;
    if (wake > clock_.Now()) clock_.SleepUntil(wake, alarm_);
  }
}

Result<size_t> CampaignService::Step() {
  std::lock_guard lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(std::vector<WorkItem> items,
                           store_.work().Claim(kCampaignQueue, options_.claim_batch, options_.owner,
                                               clock_.Now(), options_.lease));
  for (const WorkItem& item : items) {
    Status st = Tick(item);
    if (!st.ok()) {
      if (options_.on_error) options_.on_error(st.error());
      Status retry = store_.work().Retry(item.id, options_.owner, clock_.Now() + options_.error_retry);
      if (!retry.ok() && retry.error().code != ErrorCode::kConflict &&
          retry.error().code != ErrorCode::kNotFound)
        return retry.error();
    }
  }
  return items.size();
}

Status CampaignService::ScheduleTick(const Campaign& c, Timestamp at) {
  WorkItem item;
  item.workspace_id = c.workspace_id;
  item.queue = std::string(kCampaignQueue);
  item.key = TickKey(c.id);
  item.payload = fmt::format(R"({{"campaign_id":{}}})", c.id);
  item.due_at = at;
  RAPPORT_TRY(store_.work().Schedule(item));
  alarm_.Ring();
  return {};
}

Status CampaignService::Tick(const WorkItem& item) {
  CampaignId id = 0;
  if (auto n = item.key.rfind(':'); n != std::string::npos) id = std::atoll(item.key.c_str() + n + 1);
  auto got = store_.campaigns().Get(item.workspace_id, id);
  if (!got.ok()) {
    if (got.error().code == ErrorCode::kNotFound) return store_.work().Complete(item.id, options_.owner);
    return got.error();
  }
  Campaign c = std::move(got).value();
  auto finish = [&]() -> Status {
    Status st = store_.work().Complete(item.id, options_.owner);
    if (!st.ok() && st.error().code == ErrorCode::kConflict) return {};  // rescheduled meanwhile
    return st;
  };
  if (c.state == CampaignState::kDraft || c.state == CampaignState::kDone ||
      c.state == CampaignState::kPaused)
    return finish();
  Timestamp now = clock_.Now();
  if (c.state == CampaignState::kCancelled) {
    RAPPORT_ASSIGN_OR_RETURN(auto occs, store_.campaigns().ListOccurrences(c.workspace_id, c.id));
    for (CampaignOccurrence& o : occs) {
      if (o.state == OccurrenceState::kDone || o.state == OccurrenceState::kCancelled) continue;
      o.state = OccurrenceState::kCancelled;
      o.finished_at = now;
      RAPPORT_TRY(store_.campaigns().UpdateOccurrence(o));
    }
    throttle_.erase(c.id);
    return finish();
  }
  RAPPORT_ASSIGN_OR_RETURN(CampaignDef def, Parse(c));
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Timestamp> wake, Reconcile(c, def, now));
  if (!wake) return finish();
  Status st = store_.work().Retry(item.id, options_.owner, *wake);
  if (!st.ok() && (st.error().code == ErrorCode::kConflict || st.error().code == ErrorCode::kNotFound))
    return {};
  return st;
}

std::string CampaignService::FallbackZone(const Campaign& c, const CampaignDef& def) {
  if (!def.schedule.timezone.empty()) return def.schedule.timezone;
  auto w = store_.workspaces().Get(c.workspace_id);
  return w.ok() ? w->default_timezone : "UTC";
}

std::string CampaignService::ContactZone(WorkspaceId ws, ContactId id, const std::string& fallback) {
  auto contact = store_.contacts().Get(ws, id);
  return contact.ok() && !contact->timezone.empty() ? contact->timezone : fallback;
}

Result<std::optional<CampaignService::OccurrenceStart>> CampaignService::NextStart(const Campaign& c,
                                                                                   const CampaignDef& def,
                                                                                   int64_t after_seq,
                                                                                   Timestamp now) const {
  const campaign::Schedule& s = def.schedule;
  std::optional<OccurrenceStart> out;
  if (s.kind != ScheduleKind::kRecurring) {
    if (after_seq >= 1) return out;
    OccurrenceStart st;
    st.seq = 1;
    switch (s.kind) {
      case ScheduleKind::kNow: st.nominal = st.freeze_at = std::min(now, c.updated_at); break;
      case ScheduleKind::kAt:
      case ScheduleKind::kSto: st.nominal = st.freeze_at = s.at; break;
      case ScheduleKind::kLocal:
        st.local = s.local;
        st.nominal = ToInstant(s.local, s.timezone.empty() ? "UTC" : s.timezone);
        st.freeze_at = ToInstant(s.local, "UTC") - kEarliestOffset;
        break;
      case ScheduleKind::kRecurring: break;
    }
    out = st;
    return out;
  }
  auto rec = Recurrence::Make(s.rrule, s.dtstart, s.timezone.empty() ? "UTC" : s.timezone);
  if (!rec.ok()) return rec.error();
  auto make = [&](const Recurrence::Occurrence& o) {
    OccurrenceStart st;
    st.seq = o.seq;
    st.nominal = o.at;
    st.local = o.local;
    st.freeze_at = s.per_contact ? ToInstant(o.local, "UTC") - kEarliestOffset : o.at;
    return st;
  };
  auto next = rec->Nth(after_seq + 1);
  if (!next) return out;
  OccurrenceStart st = make(*next);
  // The last moment it could still be sent on time: its nominal time, or the latest zone's.
  auto latest = [&](const OccurrenceStart& x) {
    return s.per_contact ? ToInstant(x.local, "UTC") + std::chrono::hours(12) : x.nominal;
  };
  if (now - latest(st) > options_.missed_after) {
    // Missed (the node was down): skip to the first occurrence that can still be sent.
    auto later =
        rec->Next(now - options_.missed_after - (s.per_contact ? std::chrono::hours(12) : Micros(0)));
    if (!later) return out;
    st = make(*later);
  }
  out = st;
  return out;
}

Result<std::optional<Timestamp>> CampaignService::Reconcile(Campaign& c, const CampaignDef& def,
                                                            Timestamp now) {
  CampaignStore& cs = store_.campaigns();
  RAPPORT_ASSIGN_OR_RETURN(auto occs, cs.ListOccurrences(c.workspace_id, c.id));
  int64_t last_seq = occs.empty() ? 0 : occs.back().seq;
  RAPPORT_ASSIGN_OR_RETURN(std::optional<OccurrenceStart> next, NextStart(c, def, last_seq, now));
  bool froze = false;
  while (next && next->freeze_at <= now) {
    RAPPORT_TRY(FreezeOccurrence(c, def, *next, now));
    froze = true;
    RAPPORT_ASSIGN_OR_RETURN(next, NextStart(c, def, next->seq, now));
  }
  if (froze) {
    RAPPORT_ASSIGN_OR_RETURN(occs, cs.ListOccurrences(c.workspace_id, c.id));
    if (c.state == CampaignState::kScheduled) {
      auto moved = cs.SetState(c.workspace_id, c.id, CampaignState::kRunning, {CampaignState::kScheduled});
      if (moved.ok()) c = std::move(moved).value();
    }
  }
  std::optional<Timestamp> wake;
  if (next) wake = next->freeze_at;
  // The throttle is the campaign's: its open occurrences (overlapping when a per-contact
  // recurring schedule sends the next before the last zone got the previous) share one minute's
  // budget, the oldest occurrence first.
  ThrottleWindow* throttle = nullptr;
  if (def.throttle_per_minute > 0) {
    auto it = throttle_.find(c.id);
    if (it == throttle_.end()) {
      // The first tick of this campaign in this process (a start, a restart after a kill, a node
      // taking it over): the minute is seeded from what the store says it queued in the last one.
      RAPPORT_ASSIGN_OR_RETURN(ThrottleWindow seeded, SeedThrottle(c, now));
      it = throttle_.emplace(c.id, seeded).first;
    }
    throttle = &it->second;
    if (now - throttle->start >= kThrottleMinute) *throttle = ThrottleWindow{now, 0};
  }
  bool open = false;
  for (CampaignOccurrence& o : occs) {
    if (o.state == OccurrenceState::kDone || o.state == OccurrenceState::kCancelled) continue;
    RAPPORT_ASSIGN_OR_RETURN(std::optional<Timestamp> w, Advance(c, def, o, now, throttle));
    if (o.state != OccurrenceState::kDone && o.state != OccurrenceState::kCancelled) open = true;
    if (w && (!wake || *w < *wake)) wake = w;
    // Paused or cancelled while sending: the next tick sees it.
    RAPPORT_ASSIGN_OR_RETURN(Campaign fresh, cs.Get(c.workspace_id, c.id));
    if (fresh.state != c.state) return std::optional<Timestamp>(clock_.Now());
  }
  if (!next && !open) {
    throttle_.erase(c.id);
    RAPPORT_TRY(cs.SetState(c.workspace_id, c.id, CampaignState::kDone,
                            {CampaignState::kScheduled, CampaignState::kRunning}));
    return std::optional<Timestamp>();
  }
  if (!wake) wake = now + std::chrono::hours(1);
  return wake;
}

Result<CampaignService::ThrottleWindow> CampaignService::SeedThrottle(const Campaign& c, Timestamp now) {
  RAPPORT_ASSIGN_OR_RETURN(CampaignSends sends,
                           store_.campaigns().SentSince(c.workspace_id, c.id, now - kThrottleMinute));
  // Nothing in the last 60 s: an expired window, which the caller replaces with a fresh one.
  if (sends.count == 0 || !sends.first) return ThrottleWindow{};
  // The window opens at the earliest of those sends and holds them all: the budget left is what
  // they did not use, and the next window starts when this one ends.
  return ThrottleWindow{*sends.first, sends.count};
}

Status CampaignService::FreezeOccurrence(const Campaign& c, const CampaignDef& def,
                                         const OccurrenceStart& start, Timestamp now) {
  if (!ports_.audience)
    return Error::Unavailable("no audience source: campaigns cannot start in this process");
  RAPPORT_ASSIGN_OR_RETURN(std::vector<ContactId> ids,
                           ports_.audience->Resolve(c.workspace_id, def.audience));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const bool experiment = def.experiment.enabled && def.variants.size() > 1;
  SplitPlan plan;
  plan.seed = Seed(c);
  plan.holdout_share = def.holdout_share;
  plan.test_share = experiment ? def.experiment.test_share : 1.0;
  plan.variants = experiment ? static_cast<int>(def.variants.size()) : 1;
  const campaign::Schedule& s = def.schedule;
  const bool local = s.kind == ScheduleKind::kLocal || (s.kind == ScheduleKind::kRecurring && s.per_contact);
  const bool time_of_day = std::any_of(def.variants.begin(), def.variants.end(),
                                       [](const Variant& v) { return v.local_send_time.has_value(); });
  const std::string fallback_tz = (local || time_of_day) ? FallbackZone(c, def) : std::string();
  std::vector<CampaignRecipient> recipients;
  recipients.reserve(ids.size());
  for (ContactId id : ids) {
    std::optional<std::string> zone;  // the contact's, read once and only when needed
    auto zone_of = [&]() -> const std::string& {
      if (!zone) zone = ContactZone(c.workspace_id, id, fallback_tz);
      return *zone;
    };
    CampaignRecipient r;
    r.contact_id = id;
    Arm arm = Assign(plan, id);
    r.arm = arm.kind == ArmKind::kHoldout ? RecipientArm::kHoldout
            : arm.kind == ArmKind::kTest  ? RecipientArm::kTest
                                          : RecipientArm::kRest;
    r.variant = r.arm == RecipientArm::kTest ? arm.variant : -1;
    if (!experiment && r.arm == RecipientArm::kRest) {  // no test: everyone not held out gets variant 0
      r.arm = RecipientArm::kTest;
      r.variant = 0;
    }
    r.status = r.arm == RecipientArm::kHoldout ? RecipientStatus::kHeld : RecipientStatus::kPending;
    r.due_at = start.nominal;
    if (local) {
      r.due_at = ToInstant(start.local, zone_of());
    } else if (s.kind == ScheduleKind::kSto && ports_.send_time) {
      auto best = ports_.send_time->BestTime(c.workspace_id, id, s.at, s.until);
      if (best.ok()) r.due_at = best->at;
    }
    if (r.arm == RecipientArm::kTest) {
      const Variant& v = def.variants[static_cast<size_t>(r.variant)];
      if (v.optimized_send_time && ports_.send_time) {
        // An optimized send time: the contact's best hour after its scheduled moment.
        auto best = ports_.send_time->BestTime(c.workspace_id, id, r.due_at, r.due_at + def.send_time_window);
        if (best.ok()) r.due_at = best->at;
      } else if (v.local_send_time) {
        // A time of day: the first one in the contact's zone at or after its scheduled moment.
        r.due_at = NextWallTime(r.due_at, *v.local_send_time, zone_of());
      }
    }
    recipients.push_back(std::move(r));
  }
  CampaignOccurrence occ;
  occ.workspace_id = c.workspace_id;
  occ.campaign_id = c.id;
  occ.seq = start.seq;
  occ.scheduled_at = start.nominal;
  occ.state = OccurrenceState::kSending;
  occ.send_variant = experiment ? -1 : 0;
  occ.started_at = now;
  RAPPORT_TRY(store_.campaigns().Freeze(occ, recipients));
  return {};
}

Result<std::optional<Timestamp>> CampaignService::Advance(const Campaign& c, const CampaignDef& def,
                                                          CampaignOccurrence& occ, Timestamp now,
                                                          ThrottleWindow* throttle) {
  CampaignStore& cs = store_.campaigns();
  const Timestamp started = clock_.Now();
  auto left = [&]() -> int64_t { return throttle ? def.throttle_per_minute - throttle->sent : 0; };
  for (;;) {
    const bool include_rest = occ.send_variant >= 0;
    int limit = options_.batch;
    if (throttle) {
      if (left() <= 0) break;
      limit = static_cast<int>(std::min<int64_t>(limit, left()));
    }
    RAPPORT_ASSIGN_OR_RETURN(std::vector<CampaignRecipient> due, cs.Due(occ.id, now, include_rest, limit));
    if (due.empty()) break;
    std::map<int, std::vector<CampaignRecipient>> groups;
    for (CampaignRecipient& r : due) {
      int variant = r.arm == RecipientArm::kRest ? occ.send_variant : r.variant;
      groups[variant].push_back(std::move(r));
    }
    for (const auto& [variant, group] : groups) RAPPORT_TRY(SendGroup(c, def, occ, variant, group));
    if (throttle) throttle->sent += static_cast<int64_t>(due.size());
    RAPPORT_ASSIGN_OR_RETURN(Campaign fresh, cs.Get(c.workspace_id, c.id));
    if (fresh.state != CampaignState::kRunning && fresh.state != CampaignState::kScheduled) break;
    if (clock_.Now() - started > options_.tick_budget) return std::optional<Timestamp>(clock_.Now());
  }
  // The campaign's minute is used up (by this occurrence or an older one): come back in the next.
  if (throttle && left() <= 0) return std::optional<Timestamp>(throttle->start + kThrottleMinute);

  if (occ.send_variant < 0) {  // an experiment still testing
    RAPPORT_ASSIGN_OR_RETURN(std::optional<Timestamp> test_due, cs.NextDue(occ.id, false));
    if (test_due) return test_due;
    if (!occ.decide_at) {
      occ.decide_at = now + def.experiment.wait;
      occ.state = OccurrenceState::kDeciding;
      RAPPORT_TRY(cs.UpdateOccurrence(occ));
    }
    if (now < *occ.decide_at) return occ.decide_at;
    RAPPORT_TRY(Decide(c, def, occ, now));
    return std::optional<Timestamp>(now);  // the rest is due: send it next tick
  }
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Timestamp> next, cs.NextDue(occ.id, true));
  if (next) return next;
  occ.state = OccurrenceState::kDone;
  occ.finished_at = now;
  RAPPORT_TRY(cs.UpdateOccurrence(occ));
  return std::optional<Timestamp>();
}

Status CampaignService::SendGroup(const Campaign& c, const CampaignDef& def, const CampaignOccurrence& occ,
                                  int variant, const std::vector<CampaignRecipient>& group) {
  if (!ports_.mailer) return Error::Unavailable("no mailer: campaigns cannot send in this process");
  if (variant < 0 || variant >= static_cast<int>(def.variants.size())) variant = 0;
  CampaignBatch batch;
  batch.workspace_id = c.workspace_id;
  batch.campaign_id = c.id;
  batch.occurrence_id = occ.id;
  batch.variant = def.variants[static_cast<size_t>(variant)];
  batch.topic = def.topic;
  batch.data = def.data;
  batch.data["campaign"] =
      json::object{{"id", c.id}, {"name", c.name}, {"occurrence", occ.seq}, {"variant", batch.variant.name}};
  // Sender identity and governance: carried to the send (app/campaign_setup.cpp puts them on
  // send::BulkSend); a message the governor skips comes back as a skipped recipient.
  batch.sender_id = def.sender_id;
  batch.governance = def.governance;
  for (const CampaignRecipient& r : group)
    batch.recipients.push_back({r.contact_id, RecipientKey(c.id, occ.id, r.contact_id)});
  RAPPORT_ASSIGN_OR_RETURN(std::vector<BatchItem> items, ports_.mailer->SendBatch(batch));
  if (items.size() != group.size())
    return Error::Internal("the mailer answered for another number of recipients");
  std::vector<RecipientOutcome> marks;
  marks.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    RecipientOutcome m;
    m.contact_id = group[i].contact_id;
    m.status = items[i].queued ? RecipientStatus::kQueued : RecipientStatus::kSkipped;
    m.variant = variant;
    m.message_id = items[i].message_id;
    m.reason = items[i].reason;
    marks.push_back(std::move(m));
  }
  return store_.campaigns().Mark(occ.id, marks);
}

Status CampaignService::Decide(const Campaign& c, const CampaignDef& def, CampaignOccurrence& occ,
                               Timestamp now) {
  std::vector<GroupTotals> totals(def.variants.size());
  OutcomeOptions oo;
  oo.goal_event = options_.goal_event;
  oo.revenue_property = options_.revenue_property;
  oo.topic = def.topic;
  ContactId after = 0;
  for (;;) {
    RAPPORT_ASSIGN_OR_RETURN(auto page, store_.campaigns().Recipients(occ.id, after, 1000));
    if (page.empty()) break;
    after = page.back().contact_id;
    for (const CampaignRecipient& r : page) {
      if (r.arm != RecipientArm::kTest || r.variant < 0 || r.variant >= static_cast<int>(totals.size()))
        continue;
      // Equal exposure: each test recipient is measured over the wait after its own due time, so
      // a variant sent later (an optimized send time, a later time zone) is not judged on less.
      oo.from = r.due_at;
      oo.to = std::min(now + std::chrono::seconds(1), r.due_at + def.experiment.wait);
      RAPPORT_ASSIGN_OR_RETURN(RecipientResult x,
                               ReadRecipientResult(store_.events(), c.workspace_id, r, oo));
      totals[static_cast<size_t>(r.variant)].Add(r, x);
    }
  }
  std::vector<ArmOutcome> arms;
  for (const GroupTotals& t : totals) arms.push_back(t.Outcome(def.experiment.metric));
  DecisionRules rules;
  rules.min_recipients_per_variant = def.experiment.min_recipients;
  rules.min_probability = def.experiment.probability;
  rules.fallback_variant = def.experiment.fallback;
  for (const Variant& v : def.variants) rules.variant_names.push_back(v.name);
  campaign::Decision d = campaign::Decide(def.experiment.metric, arms, rules);
  json::object o;
  o["metric"] = WinnerMetricName(def.experiment.metric);
  o["winner"] =
      d.winner ? json::value(def.variants[static_cast<size_t>(*d.winner)].name) : json::value(nullptr);
  o["send_variant"] = def.variants[static_cast<size_t>(d.send_variant)].name;
  json::object probs;
  for (size_t i = 0; i < d.probability_best.size() && i < def.variants.size(); ++i)
    probs[def.variants[i].name] = d.probability_best[i];
  o["probability_best"] = std::move(probs);
  o["srm_p_value"] = d.srm_p_value;
  o["srm_warning"] = d.srm_warning;
  o["reason"] = d.reason;
  o["decided_at"] = FormatTimestamp(now);
  occ.decision = json::serialize(o);
  // A winner with an optimized send time sends the rest at each contact's best hour after now; one
  // with a time of day at the first such time in each contact's zone at or after now (or after
  // the contact's own scheduled moment, when that is later). Planned before the decision is
  // stored: a crash in between plans again.
  const Variant& chosen = def.variants[static_cast<size_t>(d.send_variant)];
  if ((chosen.optimized_send_time && ports_.send_time) || chosen.local_send_time) {
    const std::string fallback_tz = chosen.local_send_time ? FallbackZone(c, def) : std::string();
    std::vector<std::pair<ContactId, Timestamp>> moves;
    after = 0;
    for (;;) {
      RAPPORT_ASSIGN_OR_RETURN(auto page, store_.campaigns().Recipients(occ.id, after, 1000));
      if (page.empty()) break;
      after = page.back().contact_id;
      moves.clear();
      for (const CampaignRecipient& r : page) {
        if (r.arm != RecipientArm::kRest || r.status != RecipientStatus::kPending) continue;
        if (chosen.local_send_time) {
          moves.emplace_back(r.contact_id,
                             NextWallTime(std::max(now, r.due_at), *chosen.local_send_time,
                                          ContactZone(c.workspace_id, r.contact_id, fallback_tz)));
          continue;
        }
        auto best = ports_.send_time->BestTime(c.workspace_id, r.contact_id, now, now + def.send_time_window);
        if (best.ok()) moves.emplace_back(r.contact_id, best->at);
      }
      RAPPORT_TRY(store_.campaigns().Reschedule(occ.id, moves));
    }
  }
  occ.send_variant = d.send_variant;
  occ.state = OccurrenceState::kSending;
  return store_.campaigns().UpdateOccurrence(occ);
}

// --- Operations -------------------------------------------------------------------------------

namespace {

Result<std::string> NameOf(const json::value& doc) {
  const json::value* n = doc.is_object() ? doc.get_object().if_contains("name") : nullptr;
  if (!n || !n->is_string()) return Error::Invalid("name", "a campaign needs a name");
  std::string name(n->get_string());
  RAPPORT_TRY(ValidateSlug(name, "name", "a campaign name"));
  return name;
}

}  // namespace

Result<Campaign> CampaignService::Create(WorkspaceId ws, const json::value& document) {
  RAPPORT_ASSIGN_OR_RETURN(std::string name, NameOf(document));
  RAPPORT_ASSIGN_OR_RETURN(CampaignDef def, ParseCampaign(document));
  Campaign c;
  c.workspace_id = ws;
  c.name = std::move(name);
  c.definition = json::serialize(CampaignToJson(def));
  c.archive = def.archive;
  return store_.campaigns().Create(c);
}

Result<Campaign> CampaignService::Update(WorkspaceId ws, CampaignId id, const json::value& document) {
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, store_.campaigns().Get(ws, id));
  if (c.state != CampaignState::kDraft && c.state != CampaignState::kScheduled &&
      c.state != CampaignState::kPaused)
    return Error::Conflict(fmt::format("a {} campaign cannot be edited", CampaignStateName(c.state)),
                           "state");
  json::value doc = document;
  if (doc.is_object() && !doc.get_object().contains("name")) doc.get_object()["name"] = c.name;
  RAPPORT_ASSIGN_OR_RETURN(c.name, NameOf(doc));
  RAPPORT_ASSIGN_OR_RETURN(CampaignDef def, ParseCampaign(doc));
  c.definition = json::serialize(CampaignToJson(def));
  c.archive = def.archive;
  return store_.campaigns().Update(c);
}

Result<Campaign> CampaignService::Get(WorkspaceId ws, CampaignId id) {
  return store_.campaigns().Get(ws, id);
}

Result<std::vector<Campaign>> CampaignService::List(WorkspaceId ws) { return store_.campaigns().List(ws); }

Result<Campaign> CampaignService::Schedule(WorkspaceId ws, CampaignId id) {
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, store_.campaigns().Get(ws, id));
  RAPPORT_ASSIGN_OR_RETURN(CampaignDef def, Parse(c));
  for (size_t i = 0; i < def.variants.size(); ++i) {
    auto t = store_.templates().GetByName(ws, def.variants[i].template_name);
    if (!t.ok() && t.error().code == ErrorCode::kNotFound)
      return Error::Invalid(i == 0 ? "template" : fmt::format("variants[{}].template", i),
                            fmt::format("no template named '{}'", def.variants[i].template_name));
    if (!t.ok()) return t.error();
  }
  // The audience's segments and topics must exist (a tick could not resolve it otherwise).
  auto segments = [&](const std::vector<std::string>& names, std::string_view key) -> Status {
    for (size_t i = 0; i < names.size(); ++i) {
      auto g = store_.segments().GetByName(ws, names[i]);
      if (!g.ok() && g.error().code == ErrorCode::kNotFound)
        return Error::Invalid(fmt::format("audience.{}[{}]", key, i),
                              fmt::format("no segment named '{}'", names[i]));
      if (!g.ok()) return g.error();
    }
    return {};
  };
  auto topics = [&](const std::vector<std::string>& keys, std::string_view key) -> Status {
    for (size_t i = 0; i < keys.size(); ++i) {
      auto t = store_.topics().GetByKey(ws, keys[i]);
      if (!t.ok() && t.error().code == ErrorCode::kNotFound)
        return Error::Invalid(fmt::format("audience.{}[{}]", key, i), fmt::format("no topic '{}'", keys[i]));
      if (!t.ok()) return t.error();
    }
    return {};
  };
  RAPPORT_TRY(segments(def.audience.include_segments, "include_segments"));
  RAPPORT_TRY(segments(def.audience.exclude_segments, "exclude_segments"));
  RAPPORT_TRY(topics(def.audience.include_topics, "include_topics"));
  RAPPORT_TRY(topics(def.audience.exclude_topics, "exclude_topics"));
  if (def.topic) {
    auto t = store_.topics().GetByKey(ws, *def.topic);
    if (!t.ok() && t.error().code == ErrorCode::kNotFound)
      return Error::Invalid("topic", fmt::format("no topic '{}'", *def.topic));
    if (!t.ok()) return t.error();
  }
  // The sender must be one the send service accepts for marketing mail: every batch would be
  // refused otherwise, and retried for ever.
  if (ports_.mailer) {
    Status sender = ports_.mailer->CheckSender(ws, def.sender_id, MessageClass::kMarketing);
    if (!sender.ok()) {
      Error e = sender.error();
      if (e.code == ErrorCode::kInvalid) e.field = "sender_id";
      return e;
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(
      c, store_.campaigns().SetState(ws, id, CampaignState::kScheduled, {CampaignState::kDraft}));
  RAPPORT_TRY(ScheduleTick(c, clock_.Now()));
  return c;
}

Result<Campaign> CampaignService::Pause(WorkspaceId ws, CampaignId id) {
  return store_.campaigns().SetState(ws, id, CampaignState::kPaused,
                                     {CampaignState::kScheduled, CampaignState::kRunning});
}

Result<Campaign> CampaignService::Resume(WorkspaceId ws, CampaignId id) {
  RAPPORT_ASSIGN_OR_RETURN(auto occs, store_.campaigns().ListOccurrences(ws, id));
  CampaignState to = occs.empty() ? CampaignState::kScheduled : CampaignState::kRunning;
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, store_.campaigns().SetState(ws, id, to, {CampaignState::kPaused}));
  RAPPORT_TRY(ScheduleTick(c, clock_.Now()));
  return c;
}

Result<Campaign> CampaignService::Cancel(WorkspaceId ws, CampaignId id) {
  RAPPORT_ASSIGN_OR_RETURN(Campaign c,
                           store_.campaigns().SetState(ws, id, CampaignState::kCancelled,
                                                       {CampaignState::kDraft, CampaignState::kScheduled,
                                                        CampaignState::kRunning, CampaignState::kPaused}));
  RAPPORT_TRY(ScheduleTick(c, clock_.Now()));
  return c;
}

Result<std::vector<BatchItem>> CampaignService::SendProof(WorkspaceId ws, CampaignId id,
                                                          const std::vector<std::string>& emails,
                                                          int variant) {
  if (emails.empty() || emails.size() > 20) return Error::Invalid("to", "give 1 to 20 addresses");
  if (!ports_.mailer) return Error::Unavailable("no mailer: proofs cannot be sent in this process");
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, store_.campaigns().Get(ws, id));
  RAPPORT_ASSIGN_OR_RETURN(CampaignDef def, Parse(c));
  if (variant < 0 || variant >= static_cast<int>(def.variants.size()))
    return Error::Invalid("variant", "names no variant of this campaign");
  CampaignBatch batch;
  batch.workspace_id = ws;
  batch.campaign_id = c.id;
  batch.variant = def.variants[static_cast<size_t>(variant)];
  batch.data = def.data;
  batch.data["campaign"] =
      json::object{{"id", c.id}, {"name", c.name}, {"variant", batch.variant.name}, {"proof", true}};
  batch.sender_id = def.sender_id;
  batch.proof = true;
  return ports_.mailer->SendProof(batch, emails);
}

json::object CampaignService::ToJson(const Campaign& c) {
  json::object o;
  o["id"] = c.id;
  o["name"] = c.name;
  o["state"] = CampaignStateName(c.state);
  o["archive"] = c.archive;
  o["created_at"] = FormatTimestamp(c.created_at);
  o["updated_at"] = FormatTimestamp(c.updated_at);
  try {
    o["settings"] = ParseJsonExact(c.definition);
  } catch (const std::exception&) {
    o["settings"] = nullptr;
  }
  return o;
}

}  // namespace rapport::campaign
