#include "analytics/report_book.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>

#include "analytics/state_writer.h"
#include "core/hash.h"
#include "core/json_parse.h"
#include "core/json_write.h"

namespace rapport::analytics {

namespace {

constexpr int64_t kUnstamped = std::numeric_limits<int64_t>::max();

enum Flag : uint16_t {
  kFlagOpenedHuman = 1 << 0,
  kFlagOpenedMachine = 1 << 1,
  kFlagClickedHuman = 1 << 2,
  kFlagClickedMachine = 1 << 3,
  kFlagBouncedHard = 1 << 4,
  kFlagBouncedSoft = 1 << 5,
  kFlagBlocked = 1 << 6,
  kFlagComplained = 1 << 7,
};
constexpr std::array<std::pair<uint16_t, std::string_view>, 8> kFlagNames = {{
    {kFlagOpenedHuman, "opened_human"},
    {kFlagOpenedMachine, "opened_machine"},
    {kFlagClickedHuman, "clicked_human"},
    {kFlagClickedMachine, "clicked_machine"},
    {kFlagBouncedHard, "bounced_hard"},
    {kFlagBouncedSoft, "bounced_soft"},
    {kFlagBlocked, "blocked"},
    {kFlagComplained, "complained"},
}};

std::optional<std::string> Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return std::nullopt;
}

std::optional<int64_t> Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

// A number, or a numeric string ("19.90"); 0 otherwise.
double Number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return std::isfinite(v->get_double()) ? v->get_double() : 0;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_string()) {
    std::string s(v->get_string());
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(d)) return d;
  }
  return 0;
}

// When the log received the event; an event built in memory without that time (tests, benches)
// counts at its own time.
int64_t ReceivedAt(const Event& e) {
  return e.received_at == Timestamp{} ? ToMicros(e.occurred_at) : ToMicros(e.received_at);
}

// Appends an integer (fmt's format_int: no locale, no parsing of a format string).
void AppendInt(std::string& out, int64_t v) {
  fmt::format_int f(v);
  out.append(f.data(), f.size());
}

// The key that orders customers for the fit's sample (splitmix64's finalizer: a bijection, so
// distinct ids have distinct keys, and a pseudo-random order that does not follow the ids).
uint64_t SampleKey(ContactId id) { return SplitMix64(static_cast<uint64_t>(id)); }

// A contact's touches kept for attribution (docs/analytics.md, "Conversions"). A run of touches of
// the same message and kind, with no other touch between them, is kept as its first and its last:
// the earliest and the latest of the run are all that any of the three models can tell apart
// (no other message's touch lies inside the run), so a pixel fetched ten thousand times costs two
// entries, not ten thousand (the fold was quadratic in them). Beyond that, at most kMaxTouches,
// the newest, bound what one contact can make the fold keep.
constexpr size_t kMaxTouches = 64;

void AddTouch(std::vector<Touch>& touches, const Touch& t) {
  const size_t n = touches.size();
  auto same = [&](const Touch& o) { return o.message_id == t.message_id && o.click == t.click; };
  if (n >= 2 && same(touches[n - 1]) && same(touches[n - 2]) && t.at_us >= touches[n - 1].at_us) {
    touches[n - 1].at_us = t.at_us;  // the run's last moves on
    return;
  }
  if (n >= kMaxTouches)
    touches.erase(touches.begin(), touches.begin() + static_cast<std::ptrdiff_t>(n - kMaxTouches + 1));
  touches.push_back(t);
}

double JsonNumber(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return 0;
}

}  // namespace

size_t ReportBook::DailyHash::operator()(const DailyKey& k) const {
  uint64_t h = static_cast<uint64_t>(k.ws) * 0x9E3779B97F4A7C15ull;
  h ^= (static_cast<uint64_t>(k.dim) << 56) ^ (static_cast<uint64_t>(static_cast<uint32_t>(k.key)) << 20) ^
       static_cast<uint64_t>(k.day);
  h *= 0xBF58476D1CE4E5B9ull;
  return static_cast<size_t>(h ^ (h >> 31));
}

size_t ReportBook::ComboHash::operator()(const Combo& c) const {
  uint64_t h = static_cast<uint64_t>(c.ws) * 0x9E3779B97F4A7C15ull;
  for (int32_t k : c.keys) h = (h ^ static_cast<uint32_t>(k)) * 0xBF58476D1CE4E5B9ull;
  return static_cast<size_t>(h ^ (h >> 31));
}

ReportBook::ReportBook(AnalyticsOptions options, TimezoneFn timezone)
    : options_(std::move(options)), timezone_(std::move(timezone)) {
  all_ = Intern("");
  unfitted_.first.reason = "the workspace's model is not fitted yet (its first fit runs in the background)";
  if (!options_.engagement_events.count(options_.goal_event))
    options_.engagement_events[options_.goal_event] = options_.engagement.goal_weight;
}

ReportBook::~ReportBook() = default;

int32_t ReportBook::Intern(std::string_view s) {
  auto it = name_ids_.find(s);
  if (it != name_ids_.end()) return it->second;
  int32_t id = static_cast<int32_t>(names_.size());
  names_.emplace_back(s);
  name_ids_.emplace(names_.back(), id);
  return id;
}

ReportBook::ZoneCache& ReportBook::ZoneOf(WorkspaceId ws) {
  if (last_zone_ && last_zone_ws_ == ws) return *last_zone_;
  auto it = zones_.find(ws);
  if (it == zones_.end()) {
    ZoneCache z;
    try {
      z.zone = date::locate_zone(timezone_ ? timezone_(ws) : "UTC");
    } catch (const std::exception&) {
      z.zone = date::locate_zone("UTC");
    }
    it = zones_.emplace(ws, z).first;
  }
  last_zone_ws_ = ws;
  last_zone_ = &it->second;
  return it->second;
}

int64_t ReportBook::DayOf(WorkspaceId ws, int64_t at_us) {
  ZoneCache& z = ZoneOf(ws);
  if (at_us < z.begin_us || at_us >= z.end_us) {  // outside the cached offset's span: look it up
    date::sys_info info = z.zone->get_info(std::chrono::sys_time<Micros>(Micros(at_us)));
    auto micros = [](auto t) { return std::chrono::duration_cast<Micros>(t.time_since_epoch()).count(); };
    z.begin_us = info.begin <= date::sys_seconds::min() ? INT64_MIN : micros(info.begin);
    z.end_us = info.end >= date::sys_seconds::max() ? INT64_MAX : micros(info.end);
    z.offset_us = std::chrono::duration_cast<Micros>(info.offset).count();
  }
  int64_t local = at_us + z.offset_us;
  return local >= 0 ? local / kMicrosPerDay : -((-local + kMicrosPerDay - 1) / kMicrosPerDay);
}

ReportBook::CellRef ReportBook::CellOf(WorkspaceId ws, Dimension d, int32_t key, int64_t day) {
  DailyKey k{ws, static_cast<uint8_t>(d), key, day};
  auto [it, fresh] = daily_.try_emplace(k);
  if (fresh) keys_[{ws, k.dim}].insert(key);
  return &*it;
}

const std::array<ReportBook::CellRef, kDimensionCount>& ReportBook::CellsOf(uint32_t combo, int64_t day) {
  uint64_t k = (static_cast<uint64_t>(combo) << 32) | static_cast<uint32_t>(static_cast<int32_t>(day));
  auto [it, fresh] = combo_cells_.try_emplace(k);
  if (fresh) {
    const Combo& c = combos_[combo];
    for (size_t d = 0; d < kDimensionCount; ++d)
      it->second[d] = c.keys[d] >= 0 ? CellOf(c.ws, static_cast<Dimension>(d), c.keys[d], day) : nullptr;
  }
  return it->second;
}

void ReportBook::Add(CellRef cell, Metric m, double delta) {
  cell->second.counts[m] += delta;
  if (!cell->second.dirty) {
    cell->second.dirty = true;
    dirty_daily_.push_back(cell);
  }
}

void ReportBook::Add(WorkspaceId ws, Dimension d, int32_t key, int64_t day, Metric m, double delta) {
  Add(CellOf(ws, d, key, day), m, delta);
}

void ReportBook::AddForMessage(const MessageState& m, int64_t day, Metric metric, double delta) {
  for (CellRef cell : CellsOf(m.combo, day))
    if (cell) Add(cell, metric, delta);
}

void ReportBook::Once(MessageState& m, uint16_t flag, int64_t day, Metric metric) {
  if (m.flags & flag) return;
  m.flags |= flag;
  MarkDirty(m);
  AddForMessage(m, day, metric, 1);
}

ReportBook::MessageState* ReportBook::FindMessage(int64_t id) {
  const uint32_t slot = message_index_.Find(id);
  return slot == IdIndex::kNone ? nullptr : &message_slab_[slot];
}

ReportBook::ContactState* ReportBook::FindContact(ContactId id) {
  const uint32_t slot = contact_index_.Find(id);
  return slot == IdIndex::kNone ? nullptr : &contact_slab_[slot];
}

ReportBook::ContactState* ReportBook::ContactAt(const Due& d) {
  if (d.slot < contact_slab_.size() && contact_slab_[d.slot].id == d.id) return &contact_slab_[d.slot];
  return FindContact(d.id);  // removed (then nullptr), or back in another slot
}

void ReportBook::FreeMessage(uint32_t slot) {
  message_index_.Erase(message_slab_[slot].id);
  if (message_slab_[slot].credited) message_credit_.erase(message_slab_[slot].id);
  message_slab_.Free(slot);  // id 0, clean: a dirty-list entry for the slot is skipped
}

std::string ReportBook::ComboJson(const Combo& c) const {
  std::string out;
  for (size_t d = 1; d < kDimensionCount; ++d) {
    if (c.keys[d] < 0) continue;
    AppendJsonString(out, DimensionName(static_cast<Dimension>(d)));
    out += ':';
    AppendJsonString(out, Name(c.keys[d]));
    out += ',';
  }
  return out;
}

ReportBook::MessageState* ReportBook::MessageFor(const Event& e, const EventFacts& f) {
  if (!f.has_message_id) return nullptr;
  const int64_t id = f.message_id;
  uint32_t at = message_index_.Find(id);
  if (at == IdIndex::kNone) {
    // Past the horizon: an id at or below the greatest forgotten one is a forgotten message.
    if (auto fo = forgotten_through_.find(e.workspace_id); fo != forgotten_through_.end() && id <= fo->second)
      return nullptr;
    Combo c;
    c.ws = e.workspace_id;
    c.keys.fill(-1);
    c.keys[static_cast<size_t>(Dimension::kWorkspace)] = all_;
    // The dimension keys in one pass over the properties (strings, or integer ids as text).
    std::string_view step;
    for (const auto& kv : e.properties) {
      std::string_view k = kv.key();
      Dimension d;
      if (Is(k, "template"))
        d = Dimension::kTemplate;
      else if (Is(k, "topic"))
        d = Dimension::kTopic;
      else if (Is(k, "class"))
        d = Dimension::kClass;
      else if (Is(k, "journey_id"))
        d = Dimension::kJourney;
      else if (Is(k, "campaign_id"))
        d = Dimension::kCampaign;
      else if (Is(k, "journey_step")) {
        if (kv.value().is_string()) step = kv.value().get_string();
        continue;
      } else
        continue;
      const json::value& v = kv.value();
      char buf[24];
      std::string_view text;
      if (v.is_string()) {
        text = v.get_string();
      } else if (v.is_int64()) {
        text = std::string_view(
            buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, v.get_int64()).ptr - buf));
      } else if (v.is_uint64()) {
        text = std::string_view(
            buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, v.get_uint64()).ptr - buf));
      }
      if (!text.empty()) c.keys[static_cast<size_t>(d)] = Intern(text);
    }
    // A journey's step: "<journey id>:<step id>" (AddSourceProperties, core/outbox.h).
    if (const int32_t journey = c.keys[static_cast<size_t>(Dimension::kJourney)];
        journey >= 0 && !step.empty())
      c.keys[static_cast<size_t>(Dimension::kJourneyStep)] =
          Intern(fmt::format("{}:{}", Name(journey), step));
    auto [ci, fresh_combo] = combo_ids_.try_emplace(c, static_cast<uint32_t>(combos_.size()));
    if (fresh_combo) {
      combos_.push_back(c);
      combo_json_.push_back(ComboJson(c));
    }
    const uint32_t slot = message_slab_.Add();
    MessageState& m = message_slab_[slot];
    m.home = slot;
    m.id = id;
    m.ws = e.workspace_id;
    m.first_us = ReceivedAt(e);  // the horizon's start (EvictMessages)
    m.combo = ci->second;
    message_index_.TryEmplace(id, slot);
    at = slot;
    message_order_.emplace_back(m.first_us, id);
    MarkDirty(m);  // then only when a flag is set (Once)
  }
  MessageState& m = message_slab_[at];
  if (m.ws != e.workspace_id) return nullptr;  // another workspace's id: never trust it
  return &m;
}

ReportBook::ContactState& ReportBook::ContactFor(WorkspaceId ws, ContactId id, bool changes) {
  const auto [slot, fresh] = contact_index_.FindOrAdd(id, [this] { return contact_slab_.Add(); });
  if (fresh) {
    ContactState& c = contact_slab_[slot];
    c.id = id;
    c.ws = ws;
    c.home = slot;
    auto& dense = dense_[ws];
    c.slot = static_cast<uint32_t>(dense.size());
    dense.push_back(DenseEngagement{-std::numeric_limits<double>::infinity(), 0});
    stages_[ws][static_cast<size_t>(Stage::kSubscriber)]++;
    if (!removed_contacts_.empty()) removed_contacts_.erase(id);
  }
  ContactState& c = contact_slab_[slot];
  if (fresh || changes) MarkDirty(c);
  return c;
}

void ReportBook::MarkDirty(MessageState& m) {
  if (m.dirty) return;
  m.dirty = true;
  dirty_messages_.push_back(m.home);
}

void ReportBook::MarkDirty(ContactState& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_contacts_.push_back(c.home);
}

void ReportBook::EvictMessages(int64_t at_us) {
  if (!unstamped_.empty()) {  // states loaded without a time: their horizon starts now
    for (int64_t id : unstamped_)
      if (MessageState* m = FindMessage(id); m && m->first_us == kUnstamped) {
        m->first_us = at_us;
        message_order_.emplace_back(at_us, id);
      }
    unstamped_.clear();
  }
  while (!message_order_.empty() && message_order_.front().first < at_us - options_.message_horizon_us) {
    auto [first_us, id] = message_order_.front();
    message_order_.pop_front();
    const uint32_t slot = message_index_.Find(id);
    if (slot == IdIndex::kNone || message_slab_[slot].first_us != first_us) continue;
    WorkspaceId ws = message_slab_[slot].ws;
    int64_t& through = forgotten_through_[ws];
    if (id > through) {
      through = id;
      dirty_forgotten_.insert(ws);
    }
    evicted_messages_.emplace_back(ws, id);
    FreeMessage(slot);
  }
}

void ReportBook::SetStage(ContactId id, ContactState& c, Stage to, int64_t at, std::string basis) {
  if (c.stage == to) return;
  auto& counts = stages_[c.ws];
  counts[static_cast<size_t>(c.stage)]--;
  counts[static_cast<size_t>(to)]++;
  changes_.push_back(LifecycleChange{c.ws, id, c.stage, to, at,
                                     fmt::format("lifecycle:{}:{}:{}", id, StageName(to), basis)});
  c.stage = to;
  c.stage_since = at;
  MarkDirty(c);
}

void ReportBook::Schedule(ContactId id, const ContactState& c, int64_t now) {
  if (auto next = NextChangeAt(c.purchases, now, options_.lifecycle)) deadlines_.push(Due{*next, id, c.home});
}

void ReportBook::PublishScore(ContactId id, ContactState& c, int64_t at, char kind, int64_t basis) {
  const EngagementOptions& o = options_.engagement;
  int step = std::max(1, o.publish_step);
  int score = c.engagement.ScoreAt(at, o);
  int was = c.published_score;
  if (was < 0 ? score > 0 : (std::abs(score - was) >= step || (score == 0 && was > 0))) {
    // The key built by appends: this runs on many opens and clicks, where a format string's
    // parse was a tenth of the fold's time.
    std::string key;
    key.reserve(64);
    key += "engagement:";
    AppendInt(key, id);
    key += ':';
    AppendInt(key, score);
    key += ':';
    key += kind;
    AppendInt(key, basis);
    score_changes_.push_back(EngagementChange{c.ws, id, was, score, at, std::move(key)});
    c.published_score = score;
    MarkDirty(c);
  } else if (c.score_due_us != 0) {
    // A due time already set is never late: new weight only delays the decay, so the moment is
    // then or later (checked again when it comes). Saves the logarithms on most events.
    return;
  }
  // Decay alone moves it a step down (or to 0) at a known moment: wake then.
  int64_t due = 0;
  if (c.published_score > 0)
    if (auto t = c.engagement.WhenScoreAtMost(std::max(0, c.published_score - step), o))
      due = std::max(*t, at);
  if (due != c.score_due_us) {
    c.score_due_us = due;
    if (due) score_deadlines_.push(Due{due, id, c.home});
    MarkDirty(c);
  }
}

std::optional<int64_t> ReportBook::Advance(int64_t now_us) {
  // Due at or before now_us: an event earlier than one folded before (a history imported after
  // today's events, a client's late event) fires nothing that the events between have not.
  // The contacts a pop wakes have not been touched for days (a cache miss each at a million),
  // and pops come in runs when the clock moves on: the contacts of the next kAhead pops are
  // kept fetched (`fetched`: how many after the top are).
  constexpr size_t kAhead = 8;
  auto fetch_next = [this](const DueQueue<Due>& q, size_t& fetched) {
    for (; fetched < kAhead; ++fetched)
      if (const Due* next = q.Ahead(fetched + 1); next && next->slot < contact_slab_.size())
        __builtin_prefetch(&contact_slab_[next->slot]);
    --fetched;  // the top is about to be popped
  };
  size_t fetched = 0;
  while (!score_deadlines_.empty() && score_deadlines_.top().at <= now_us) {
    fetch_next(score_deadlines_, fetched);
    const Due d = score_deadlines_.top();
    score_deadlines_.pop();
    const int64_t at = d.at;
    const ContactId id = d.id;
    ContactState* c = ContactAt(d);
    if (!c || c->score_due_us != at) continue;  // gone, or stale
    c->score_due_us = 0;
    PublishScore(id, *c, at, 't', at);
  }
  fetched = 0;
  while (!deadlines_.empty() && deadlines_.top().at <= now_us) {
    fetch_next(deadlines_, fetched);
    const Due d = deadlines_.top();
    deadlines_.pop();
    const int64_t at = d.at;
    const ContactId id = d.id;
    ContactState* found = ContactAt(d);
    if (!found) continue;
    ContactState& c = *found;
    Stage s = StageAt(c.purchases, at, options_.lifecycle);
    if (s != c.stage) {
      SetStage(id, c, s, at, std::to_string(at));
      // Time made the customer at risk or lapsed: the probability of being alive, and so the
      // predicted CLV, has fallen since the last order; publish it again (docs/analytics.md).
      if (c.purchases.orders > 0)
        clv_changes_.push_back(ClvChange{c.ws, id, at, fmt::format("clv:{}:t{}", id, at)});
    }
    Schedule(id, c, at);
  }
  std::optional<int64_t> next;
  if (!deadlines_.empty()) next = deadlines_.top().at;
  if (!score_deadlines_.empty() && (!next || score_deadlines_.top().at < *next))
    next = score_deadlines_.top().at;
  return next;
}

void ReportBook::Goal(const Event& e, ContactState& c, int64_t day) {
  int64_t at = ToMicros(e.occurred_at);
  double value = Number(e.properties, options_.revenue_property);
  WorkspaceId ws = e.workspace_id;
  CellRef all = CellOf(ws, Dimension::kWorkspace, all_, day);
  Add(all, Metric::kOrders, 1);
  Add(all, Metric::kOrderRevenue, value);
  // Attribution over the contact's touches.
  std::vector<Credit> credits = Attribute(c.touches, at, options_.windows);
  // Workspace totals once per conversion; message dimensions per credited message.
  for (const Credit& cr : credits) {
    MessageState* m = FindMessage(cr.message_id);
    if (!m || m->ws != ws) continue;
    // Kept per message too (the route of one message answers it), by each model.
    MessageCredit& kept = message_credit_[m->id];
    kept.last += cr.last;
    kept.first += cr.first;
    kept.linear += cr.linear;
    kept.revenue_last += cr.last * value;
    kept.revenue_first += cr.first * value;
    kept.revenue_linear += cr.linear * value;
    m->credited = true;
    MarkDirty(*m);
    for (CellRef cell : CellsOf(m->combo, day)) {
      if (!cell) continue;
      if (cr.last > 0) {
        Add(cell, Metric::kConversions, cr.last);
        Add(cell, Metric::kRevenue, cr.last * value);
      }
      if (cr.first > 0) {
        Add(cell, Metric::kConversionsFirst, cr.first);
        Add(cell, Metric::kRevenueFirst, cr.first * value);
      }
      Add(cell, Metric::kConversionsLinear, cr.linear);
      Add(cell, Metric::kRevenueLinear, cr.linear * value);
    }
  }
  // Purchases and lifecycle.
  ContactId id = e.contact_id;
  Stage before = StageAt(c.purchases, at, options_.lifecycle);
  if (before != c.stage) SetStage(id, c, before, at, fmt::format("t{}", at));
  if (c.purchases.orders == 0) c.first_value = value;
  c.purchases.AddOrder(at, before);
  c.revenue += value;
  Stage after = StageAt(c.purchases, at, options_.lifecycle);
  SetStage(id, c, after, at, fmt::format("e{}", e.id));
  Schedule(id, c, at);
  clv_changes_.push_back(ClvChange{ws, id, at, fmt::format("clv:{}:e{}", id, e.id)});
}

void ReportBook::Sync(const ContactState& c) {
  DenseEngagement& d = dense_[c.ws][c.slot];
  d.log2_sum = c.engagement.sum > 0 ? std::log2(c.engagement.sum) : -std::numeric_limits<double>::infinity();
  d.at_us = c.engagement.at_us;
}

void ReportBook::RemoveContact(ContactId id) {
  const uint32_t slot = contact_index_.Find(id);
  if (slot == IdIndex::kNone) return;
  ContactState& c = contact_slab_[slot];
  dense_[c.ws][c.slot].at_us = -1;
  stages_[c.ws][static_cast<size_t>(c.stage)]--;
  removed_contacts_[id] = c.ws;
  contact_index_.Erase(id);
  contact_slab_.Free(slot);  // id 0, clean: its entry in dirty_contacts_ is skipped
}

void ReportBook::PrefetchIndex(const Event& e, const EventFacts& f) const {
  if (f.has_message_id) message_index_.Prefetch(f.message_id);
  contact_index_.Prefetch(e.contact_id);
}

void ReportBook::PrefetchState(const Event& e, const EventFacts& f) const {
  if (f.has_message_id) {
    if (uint32_t slot = message_index_.Find(f.message_id); slot != IdIndex::kNone) {
      __builtin_prefetch(&message_slab_[slot]);
    } else if (!e.properties.empty()) {
      // A new message: MessageFor reads its keys from the properties (read by ReadFacts a
      // batch ago, and out of the cache since). Their first entries.
      const char* table = reinterpret_cast<const char*>(&*e.properties.begin());
      __builtin_prefetch(table);
      __builtin_prefetch(table + 64);
      __builtin_prefetch(table + 128);
    }
  }
  if (uint32_t slot = contact_index_.Find(e.contact_id); slot != IdIndex::kNone)
    __builtin_prefetch(&contact_slab_[slot]);  // its first cache line: what an open reads first
}

void ReportBook::Apply(const Event& e, int64_t now_us) { Apply(e, ReadFacts(e), now_us); }

void ReportBook::Apply(const Event& e, const EventFacts& f, int64_t now_us) {
  int64_t at = ToMicros(e.occurred_at);
  Advance(std::min(at, now_us) - options_.late_event_grace_us);
  const EventKind kind = f.kind;
  if (kind == EventKind::kOwnOutput) return;
  if (kind == EventKind::kContactErased) {
    RemoveContact(e.contact_id);
    return;
  }
  if (kind == EventKind::kContactMerged) {
    auto from = Int(e.properties, "merged_contact_id");
    if (!from) return;
    ContactState* found = FindContact(*from);
    if (!found) return;
    ContactState gone = std::move(*found);
    RemoveContact(*from);
    ContactState& into = ContactFor(e.workspace_id, e.contact_id);
    into.engagement.Add(
        gone.engagement.SumAt(std::max(into.engagement.at_us, gone.engagement.at_us), options_.engagement),
        std::max(into.engagement.at_us, gone.engagement.at_us), options_.engagement);
    Sync(into);
    PublishScore(e.contact_id, into, at, 'e', e.id);
    into.opens += gone.opens;
    into.clicks += gone.clicks;
    into.touches.insert(into.touches.end(), gone.touches.begin(), gone.touches.end());
    if (into.touches.size() > kMaxTouches) {  // the newest kept (any order: sort by time first)
      std::sort(into.touches.begin(), into.touches.end(),
                [](const Touch& a, const Touch& b) { return a.at_us < b.at_us; });
      into.touches.erase(into.touches.begin(), into.touches.end() - kMaxTouches);
    }
    if (gone.purchases.orders > 0) {
      PurchaseHistory& h = into.purchases;
      if (h.orders == 0) {
        h = gone.purchases;
        into.first_value = gone.first_value;
      } else {
        if (gone.purchases.first_us < h.first_us) {
          h.first_us = gone.purchases.first_us;
          into.first_value = gone.first_value;
        }
        h.last_us = std::max(h.last_us, gone.purchases.last_us);
        h.orders += gone.purchases.orders;
      }
      into.revenue += gone.revenue;
    }
    SetStage(e.contact_id, into, StageAt(into.purchases, at, options_.lifecycle), at,
             fmt::format("e{}", e.id));
    Schedule(e.contact_id, into, at);
    return;
  }

  int64_t day = DayOf(e.workspace_id, at);
  // The horizon runs on the log's clock, when it received the events: set by the server (never by
  // a client, as an event's own time is), and it follows the log when the consumer folds a
  // backlog (a restart behind, a rebuild, a history imported today with last year's times).
  if (int64_t received = ReceivedAt(e); received > arrival_) arrival_ = received;
  EvictMessages(arrival_);
  if (IsMessageKind(kind)) {
    MessageState* m = MessageFor(e, f);
    if (!m) return;
    switch (kind) {
      case EventKind::kMessageQueued: AddForMessage(*m, day, Metric::kSent, 1); break;
      case EventKind::kMessageSuppressed: AddForMessage(*m, day, Metric::kSuppressed, 1); break;
      case EventKind::kMessageSent: AddForMessage(*m, day, Metric::kDelivered, 1); break;
      case EventKind::kMessageDeferred: AddForMessage(*m, day, Metric::kDeferred, 1); break;
      case EventKind::kMessageBounced: Once(*m, kFlagBouncedHard, day, Metric::kBouncedHard); break;
      case EventKind::kMessageSoftBounced: Once(*m, kFlagBouncedSoft, day, Metric::kBouncedSoft); break;
      case EventKind::kMessageBlocked: Once(*m, kFlagBlocked, day, Metric::kBlocked); break;
      case EventKind::kMessageFailed: AddForMessage(*m, day, Metric::kFailed, 1); break;
      case EventKind::kMessageComplained: Once(*m, kFlagComplained, day, Metric::kComplained); break;
      default: break;
    }
    ContactFor(e.workspace_id, e.contact_id, /*changes=*/false);  // known; its state is unchanged
    return;
  }
  if (kind == EventKind::kOpened || kind == EventKind::kClicked) {
    MessageState* m = MessageFor(e, f);
    // Known from here on; written only when a human open or click changes it below (a machine
    // open, or one of a forgotten message, leaves its state as it was).
    ContactState& c = ContactFor(e.workspace_id, e.contact_id, /*changes=*/false);
    if (!m) return;
    bool click = kind == EventKind::kClicked;
    if (f.machine) {
      Once(*m, click ? kFlagClickedMachine : kFlagOpenedMachine, day,
           click ? Metric::kClickedMachine : Metric::kOpenedMachine);
      return;
    }
    MarkDirty(c);
    // A human click counts as a human open too (images were off): CTOR stays within 100%.
    Once(*m, kFlagOpenedHuman, day, Metric::kOpenedHuman);
    if (click) Once(*m, kFlagClickedHuman, day, Metric::kClickedHuman);
    const int64_t mid = f.message_id;
    std::erase_if(c.touches, [&](const Touch& t) { return !TouchMayMatter(t, at, options_.windows); });
    AddTouch(c.touches, Touch{mid, at, click});
    c.engagement.Add(click ? options_.engagement.click_weight : options_.engagement.open_weight, at,
                     options_.engagement);
    Sync(c);
    PublishScore(e.contact_id, c, at, 'e', e.id);
    (click ? c.clicks : c.opens)++;
    return;
  }
  if (kind == EventKind::kStatusChanged) {
    auto to = Text(e.properties, "new");
    if (to && *to == "unsubscribed") {
      Add(e.workspace_id, Dimension::kWorkspace, all_, day, Metric::kUnsubscribed, 1);
      const json::value* origin = e.properties.if_contains("origin");
      if (origin && origin->is_object()) {
        if (auto mid = Int(origin->get_object(), "message_id")) {
          const MessageState* om = FindMessage(*mid);
          if (om && om->ws == e.workspace_id) {
            const auto& cells = CellsOf(om->combo, day);
            for (size_t d = 1; d < kDimensionCount; ++d)
              if (cells[d]) Add(cells[d], Metric::kUnsubscribed, 1);
          }
        }
      }
    }
    ContactFor(e.workspace_id, e.contact_id, /*changes=*/false);
    return;
  }
  if (kind == EventKind::kTopicUnsubscribed) {
    if (auto topic = Text(e.properties, "topic"))
      Add(e.workspace_id, Dimension::kTopic, Intern(*topic), day, Metric::kUnsubscribed, 1);
    return;
  }
  const std::string& n = e.name;
  auto w = options_.engagement_events.find(n);
  bool goal = n == options_.goal_event;
  ContactState& c = ContactFor(e.workspace_id, e.contact_id, w != options_.engagement_events.end() || goal);
  if (w != options_.engagement_events.end()) {
    c.engagement.Add(w->second, at, options_.engagement);
    Sync(c);
    PublishScore(e.contact_id, c, at, 'e', e.id);
  }
  if (goal) Goal(e, c, day);
}

// The entity states are streamed (no JSON value built per changed entity: this runs for every
// contact and message a batch touched); LoadEntity reads them back with the JSON parser.
// A message's keys are its combination's, written once per combination (combo_json_).
void ReportBook::Serialize(const MessageState& m, std::string& out) const {
  StateWriter w(out);
  w.Char('{').Str(combo_json_[m.combo]).Lit("\"flags\":").Int(m.flags).Lit(",\"at\":").Int(m.first_us);
  if (m.credited) {  // [conversions last, first, linear, revenue last, first, linear]
    const MessageCredit& k = message_credit_.find(m.id)->second;
    w.Lit(",\"credit\":[").Num(k.last).Char(',').Num(k.first).Char(',').Num(k.linear).Char(',');
    w.Num(k.revenue_last).Char(',').Num(k.revenue_first).Char(',').Num(k.revenue_linear).Char(']');
  }
  w.Char('}');
}

void ReportBook::Serialize(const ContactState& c, std::string& out) const {
  StateWriter w(out);
  w.Lit("{\"engagement\":[").Num(c.engagement.sum).Char(',').Int(c.engagement.at_us);
  w.Lit("],\"orders\":").Int(c.purchases.orders);
  w.Lit(",\"first_order\":").Int(c.purchases.first_us);
  w.Lit(",\"last_order\":").Int(c.purchases.last_us);
  w.Lit(",\"won_back\":").Bool(c.purchases.won_back);
  w.Lit(",\"revenue\":").Num(c.revenue);
  w.Lit(",\"first_value\":").Num(c.first_value);
  w.Lit(",\"stage\":\"").Str(StageName(c.stage));
  w.Lit("\",\"stage_since\":").Int(c.stage_since);
  w.Lit(",\"opens\":").Int(c.opens);
  w.Lit(",\"clicks\":").Int(c.clicks);
  w.Lit(",\"published_score\":").Int(c.published_score);
  w.Lit(",\"score_due\":").Int(c.score_due_us);
  w.Lit(",\"touches\":[");
  for (size_t i = 0; i < c.touches.size(); ++i) {
    if (i) w.Char(',');
    w.Char('[').Int(c.touches[i].message_id).Char(',').Int(c.touches[i].at_us).Char(',');
    w.Bool(c.touches[i].click).Char(']');
  }
  w.Lit("]}");
}

void ReportBook::TakeChanges(ChangeSet& out) {
  for (CellRef cell : dirty_daily_) {
    const DailyKey& k = cell->first;
    const Counts& c = cell->second.counts;
    cell->second.dirty = false;
    for (size_t i = 0; i < kMetricCount; ++i) {
      if (c.v[i] == 0) continue;
      AnalyticsDailyValue& v = out.Daily();
      v.workspace_id = k.ws;
      v.dimension.assign(DimensionName(static_cast<Dimension>(k.dim)));
      v.key.assign(Name(k.key));
      v.day = k.day;
      v.metric.assign(MetricName(static_cast<Metric>(i)));
      v.value = c.v[i];
    }
  }
  dirty_daily_.clear();
  // The states were touched in this batch but have often left the cache since (a batch's events
  // are larger than it): each is fetched a few entries ahead, so the misses overlap.
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < dirty_messages_.size(); ++i) {
    if (i + kAhead < dirty_messages_.size()) __builtin_prefetch(&message_slab_[dirty_messages_[i + kAhead]]);
    MessageState& m = message_slab_[dirty_messages_[i]];
    if (!m.dirty) continue;  // forgotten meanwhile (a freed slot is clean), or taken already
    m.dirty = false;
    Serialize(m, out.Write(m.ws, "message", m.id));
  }
  dirty_messages_.clear();
  for (auto [ws, id] : evicted_messages_) out.Delete(ws, "message", id);
  evicted_messages_.clear();
  for (WorkspaceId ws : dirty_forgotten_) {
    std::string& state = out.Write(ws, "horizon", 0);
    state += "{\"forgotten_through\":";
    AppendInt(state, forgotten_through_[ws]);
    state += '}';
  }
  dirty_forgotten_.clear();
  for (size_t i = 0; i < dirty_contacts_.size(); ++i) {
    if (i + kAhead < dirty_contacts_.size()) {  // a state spans three cache lines
      const char* ahead = reinterpret_cast<const char*>(&contact_slab_[dirty_contacts_[i + kAhead]]);
      for (size_t line = 0; line < sizeof(ContactState); line += 64) __builtin_prefetch(ahead + line);
    }
    if (i + kAhead / 2 < dirty_contacts_.size())  // its touches, once the state is near
      __builtin_prefetch(contact_slab_[dirty_contacts_[i + kAhead / 2]].touches.data());
    ContactState& c = contact_slab_[dirty_contacts_[i]];
    if (!c.dirty) continue;  // removed (a freed slot is clean), or taken already
    c.dirty = false;
    Serialize(c, out.Write(c.ws, "contact", c.id));
  }
  dirty_contacts_.clear();
  for (auto [id, ws] : removed_contacts_) out.Delete(ws, "contact", id);
  removed_contacts_.clear();
}

void ReportBook::TakeChanges(std::vector<AnalyticsDailyValue>& daily,
                             std::vector<AnalyticsEntityWrite>& entities) {
  ChangeSet set;
  TakeChanges(set);
  daily.insert(daily.end(), set.daily().begin(), set.daily().end());
  entities.insert(entities.end(), set.entities().begin(), set.entities().end());
}

std::vector<LifecycleChange> ReportBook::TakeLifecycleChanges() { return std::exchange(changes_, {}); }
std::vector<EngagementChange> ReportBook::TakeEngagementChanges() {
  return std::exchange(score_changes_, {});
}
std::vector<ClvChange> ReportBook::TakeClvChanges() { return std::exchange(clv_changes_, {}); }

void ReportBook::LoadDaily(const AnalyticsDailyValue& v) {
  auto d = ParseDimension(v.dimension);
  auto m = ParseMetric(v.metric);
  if (!d || !m) return;
  CellOf(v.workspace_id, *d, Intern(v.key), v.day)->second.counts[*m] = v.value;
}

void ReportBook::LoadEntity(WorkspaceId ws, std::string_view kind, int64_t id, std::string_view state) {
  boost::system::error_code ec;
  json::value v = ParseJsonExact(state, ec);
  if (ec || !v.is_object()) return;
  const json::object& o = v.get_object();
  if (kind == "horizon") {
    int64_t& through = forgotten_through_[ws];
    through = std::max(through, Int(o, "forgotten_through").value_or(0));
  } else if (kind == "message") {
    Combo c;
    c.ws = ws;
    c.keys.fill(-1);
    c.keys[0] = all_;
    for (size_t d = 1; d < kDimensionCount; ++d)
      if (auto t = Text(o, DimensionName(static_cast<Dimension>(d)))) c.keys[d] = Intern(*t);
    auto [ci, fresh_combo] = combo_ids_.try_emplace(c, static_cast<uint32_t>(combos_.size()));
    if (fresh_combo) {
      combos_.push_back(c);
      combo_json_.push_back(ComboJson(c));
    }
    const uint32_t slot = message_index_.FindOrAdd(id, [this] { return message_slab_.Add(); }).first;
    MessageState& m = message_slab_[slot];
    m.home = slot;
    m.id = id;
    m.ws = ws;
    m.combo = ci->second;
    m.flags = static_cast<uint16_t>(Int(o, "flags").value_or(0));
    // Its credit (absent from a state written before it was kept, or of a message never credited).
    m.credited = false;
    message_credit_.erase(id);
    if (const json::value* k = o.if_contains("credit"); k && k->is_array() && k->get_array().size() == 6) {
      const json::array& a = k->get_array();
      MessageCredit& credit = message_credit_[id];
      credit.last = JsonNumber(a[0]);
      credit.first = JsonNumber(a[1]);
      credit.linear = JsonNumber(a[2]);
      credit.revenue_last = JsonNumber(a[3]);
      credit.revenue_first = JsonNumber(a[4]);
      credit.revenue_linear = JsonNumber(a[5]);
      m.credited = true;
    }
    // A state written before the horizon existed has no time: its horizon starts now.
    m.first_us = Int(o, "at").value_or(kUnstamped);
  } else if (kind == "contact") {
    ContactState c;
    c.ws = ws;
    if (const json::value* e = o.if_contains("engagement");
        e && e->is_array() && e->get_array().size() == 2) {
      c.engagement.sum = JsonNumber(e->get_array()[0]);
      c.engagement.at_us = static_cast<int64_t>(JsonNumber(e->get_array()[1]));
    }
    c.purchases.orders = Int(o, "orders").value_or(0);
    c.purchases.first_us = Int(o, "first_order").value_or(0);
    c.purchases.last_us = Int(o, "last_order").value_or(0);
    const json::value* wb = o.if_contains("won_back");
    c.purchases.won_back = wb && wb->is_bool() && wb->get_bool();
    c.revenue = Number(o, "revenue");
    c.first_value = Number(o, "first_value");
    c.stage = ParseStage(Text(o, "stage").value_or("subscriber")).value_or(Stage::kSubscriber);
    c.stage_since = Int(o, "stage_since").value_or(0);
    c.opens = Int(o, "opens").value_or(0);
    c.clicks = Int(o, "clicks").value_or(0);
    c.published_score = static_cast<int>(Int(o, "published_score").value_or(-1));
    c.score_due_us = Int(o, "score_due").value_or(0);
    if (const json::value* t = o.if_contains("touches"); t && t->is_array())
      for (const json::value& x : t->get_array())
        if (x.is_array() && x.get_array().size() == 3)
          c.touches.push_back(Touch{static_cast<int64_t>(JsonNumber(x.get_array()[0])),
                                    static_cast<int64_t>(JsonNumber(x.get_array()[1])),
                                    x.get_array()[2].is_bool() && x.get_array()[2].get_bool()});
    const uint32_t slot = contact_index_.FindOrAdd(id, [this] { return contact_slab_.Add(); }).first;
    c.id = id;
    c.home = slot;
    contact_slab_[slot] = std::move(c);
  }
}

void ReportBook::Rebuilt() {
  stages_.clear();
  dense_.clear();
  message_order_.clear();
  {
    std::vector<std::pair<int64_t, int64_t>> order;
    order.reserve(message_index_.size());
    message_index_.ForEach([&](int64_t id, uint32_t slot) {
      if (const MessageState& m = message_slab_[slot]; m.first_us == kUnstamped)
        unstamped_.push_back(id);
      else
        order.emplace_back(m.first_us, id);
    });
    std::sort(order.begin(), order.end());
    message_order_.assign(order.begin(), order.end());
  }
  contact_index_.ForEach([&](ContactId id, uint32_t slot) {
    ContactState& c = contact_slab_[slot];
    auto& dense = dense_[c.ws];
    c.slot = static_cast<uint32_t>(dense.size());
    dense.push_back({});
    Sync(c);
    stages_[c.ws][static_cast<size_t>(c.stage)]++;
    Schedule(id, c, std::max(c.stage_since, c.purchases.last_us));
    if (c.score_due_us) score_deadlines_.push(Due{c.score_due_us, id, c.home});
  });
  for (CellRef cell : dirty_daily_) cell->second.dirty = false;
  dirty_daily_.clear();
  message_slab_.ForEach([](MessageState& m) { m.dirty = false; });
  dirty_messages_.clear();
  contact_slab_.ForEach([](ContactState& c) { c.dirty = false; });
  dirty_contacts_.clear();
  evicted_messages_.clear();
  dirty_forgotten_.clear();
}

std::vector<std::pair<int64_t, Counts>> ReportBook::Series(WorkspaceId ws, Dimension d, std::string_view key,
                                                           int64_t from_day, int64_t to_day) const {
  std::vector<std::pair<int64_t, Counts>> out;
  auto id = name_ids_.find(key);
  for (int64_t day = from_day; day <= to_day; ++day) {
    Counts c;
    if (id != name_ids_.end()) {
      auto it = daily_.find(DailyKey{ws, static_cast<uint8_t>(d), id->second, day});
      if (it != daily_.end()) c = it->second.counts;
    }
    out.emplace_back(day, c);
  }
  return out;
}

std::vector<std::pair<std::string, Counts>> ReportBook::Breakdown(WorkspaceId ws, Dimension d,
                                                                  int64_t from_day, int64_t to_day) const {
  std::vector<std::pair<std::string, Counts>> out;
  auto keys = keys_.find({ws, static_cast<uint8_t>(d)});
  if (keys == keys_.end()) return out;
  for (int32_t key : keys->second) {
    Counts sum;
    bool any = false;
    for (int64_t day = from_day; day <= to_day; ++day) {
      auto it = daily_.find(DailyKey{ws, static_cast<uint8_t>(d), key, day});
      if (it != daily_.end()) sum += it->second.counts, any = true;
    }
    if (any) out.emplace_back(Name(key), sum);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::optional<ReportBook::MessageView> ReportBook::Message(WorkspaceId ws, int64_t message_id) const {
  const uint32_t slot = message_index_.Find(message_id);
  if (slot == IdIndex::kNone || message_slab_[slot].ws != ws) return std::nullopt;
  const MessageState& m = message_slab_[slot];
  MessageView v;
  v.workspace_id = ws;
  for (size_t d = 0; d < kDimensionCount; ++d)
    if (Keys(m)[d] >= 0) v.keys[d] = Name(Keys(m)[d]);
  for (auto [flag, name] : kFlagNames)
    if (m.flags & flag) v.outcomes.emplace_back(name);
  if (m.credited) v.credit = message_credit_.find(message_id)->second;
  return v;
}

CustomerSummary ReportBook::SummaryOf(const ContactState& c, int64_t now_us) const {
  const double day = static_cast<double>(kMicrosPerDay);
  CustomerSummary s;
  s.x = static_cast<double>(c.purchases.orders - 1);
  s.t_x = static_cast<double>(c.purchases.last_us - c.purchases.first_us) / day;
  s.T = std::max(s.t_x, static_cast<double>(now_us - c.purchases.first_us) / day);
  s.m = s.x > 0 ? (c.revenue - c.first_value) / s.x : 0;
  return s;
}

std::vector<CustomerSummary> ReportBook::CustomerSample(WorkspaceId ws, int64_t now_us) const {
  struct Keyed {
    uint64_t key = 0;
    CustomerSummary summary;
  };
  std::vector<Keyed> all;
  contact_index_.ForEach([&](ContactId id, uint32_t slot) {
    const ContactState& c = contact_slab_[slot];
    if (c.ws != ws || c.purchases.orders == 0) return;
    all.push_back(Keyed{SampleKey(id), SummaryOf(c, now_us)});
  });
  auto by_key = [](const Keyed& a, const Keyed& b) { return a.key < b.key; };
  const int64_t cap = options_.clv.max_fit_customers;
  if (cap > 0 && all.size() > static_cast<size_t>(cap)) {
    auto end = all.begin() + static_cast<std::ptrdiff_t>(cap);
    std::nth_element(all.begin(), end, all.end(), by_key);  // the cap lowest keys before `end`
    all.erase(end, all.end());
  }
  std::sort(all.begin(), all.end(), by_key);
  std::vector<CustomerSummary> out;
  out.reserve(all.size());
  for (const Keyed& k : all) out.push_back(k.summary);
  return out;
}

void ReportBook::InstallModel(WorkspaceId ws, ClvModel model, int64_t fitted_at_us) {
  models_[ws] = {std::move(model), fitted_at_us};
}

const ClvModel& ReportBook::FitModel(WorkspaceId ws, int64_t now_us) {
  if (options_.before_fit) options_.before_fit(ws);
  InstallModel(ws, FitClv(CustomerSample(ws, now_us), options_.clv), now_us);
  return models_.find(ws)->second.first;
}

int64_t ReportBook::Customers(WorkspaceId ws) const {
  auto it = stages_.find(ws);
  if (it == stages_.end()) return 0;
  int64_t n = 0;
  for (size_t s = 0; s < kStageCount; ++s)
    if (s != static_cast<size_t>(Stage::kSubscriber)) n += it->second[s];
  return n;
}

std::vector<WorkspaceId> ReportBook::ModelsDue(int64_t now_us) const {
  std::vector<std::pair<int64_t, WorkspaceId>> due;  // (fitted at, or min when missing; workspace)
  for (const auto& entry : stages_) {
    const WorkspaceId ws = entry.first;
    if (Customers(ws) == 0) continue;
    auto m = models_.find(ws);
    if (m == models_.end())
      due.emplace_back(std::numeric_limits<int64_t>::min(), ws);
    else if (now_us - m->second.second >= kClvModelMaxAgeUs)
      due.emplace_back(m->second.second, ws);
  }
  std::sort(due.begin(), due.end());
  std::vector<WorkspaceId> out;
  out.reserve(due.size());
  for (const auto& d : due) out.push_back(d.second);
  return out;
}

const std::pair<ClvModel, int64_t>& ReportBook::ModelFor(WorkspaceId ws, int64_t now_us) {
  auto m = models_.find(ws);
  if (m == models_.end() && Customers(ws) < options_.clv.max_fit_customers / 10) {
    FitModel(ws, now_us);  // the first fit of a small workspace, once
    m = models_.find(ws);
  }
  return m != models_.end() ? m->second : unfitted_;
}

ContactView ReportBook::Contact(WorkspaceId ws, ContactId id, int64_t now_us) {
  ContactView v;
  const ContactState* found = FindContact(id);
  if (!found || found->ws != ws) return v;
  const ContactState& c = *found;
  v.known = true;
  v.engagement_score = c.engagement.ScoreAt(now_us, options_.engagement);
  v.lifecycle = c.stage;
  v.lifecycle_since_us = c.stage_since;
  v.orders = c.purchases.orders;
  v.revenue = c.revenue;
  v.first_order_us = c.purchases.first_us;
  v.last_order_us = c.purchases.last_us;
  v.human_opens = c.opens;
  v.human_clicks = c.clicks;
  const auto& [model, fitted_at] = ModelFor(ws, now_us);
  v.model_fitted = model.fitted;
  v.model_reason = model.reason;
  v.model_fitted_at_us = fitted_at;
  if (c.purchases.orders > 0)
    v.predicted = PredictClv(model, SummaryOf(c, now_us), c.revenue, static_cast<double>(c.purchases.orders),
                             options_.clv);
  return v;
}

Overview ReportBook::OverviewOf(WorkspaceId ws, int64_t from_day, int64_t to_day, int64_t now_us,
                                size_t top) {
  Overview o;
  o.series = Series(ws, Dimension::kWorkspace, "", from_day, to_day);
  for (const auto& [day, c] : o.series) o.totals += c;
  if (auto it = stages_.find(ws); it != stages_.end()) o.lifecycle = it->second;
  // Score bands by thresholds on log2 S: score >= 10k  <=>  S >= -K ln(1 - (10k - 0.5) / 100)
  // (the score is rounded), so one subtraction and a few comparisons per contact.
  std::array<double, 10> bound{};  // bound[k]: log2 of the least S scoring at least 10k
  for (size_t k = 1; k < 10; ++k)
    bound[k] = std::log2(-options_.engagement.scale * std::log(1 - (10.0 * k - 0.5) / 100));
  double per_us = 1.0 / (options_.engagement.half_life_days * static_cast<double>(kMicrosPerDay));
  if (auto d = dense_.find(ws); d != dense_.end()) {
    for (const DenseEngagement& e : d->second) {
      if (e.at_us < 0) continue;
      double v = e.log2_sum - static_cast<double>(std::max<int64_t>(0, now_us - e.at_us)) * per_us;
      size_t band = 0;
      while (band < 9 && v >= bound[band + 1]) ++band;
      o.engagement[band]++;
    }
  }
  o.top_templates = Breakdown(ws, Dimension::kTemplate, from_day, to_day);
  std::sort(o.top_templates.begin(), o.top_templates.end(), [](const auto& a, const auto& b) {
    if (a.second[Metric::kRevenue] != b.second[Metric::kRevenue])
      return a.second[Metric::kRevenue] > b.second[Metric::kRevenue];
    if (a.second[Metric::kConversions] != b.second[Metric::kConversions])
      return a.second[Metric::kConversions] > b.second[Metric::kConversions];
    return a.first < b.first;
  });
  if (o.top_templates.size() > top) o.top_templates.resize(top);
  return o;
}

}  // namespace rapport::analytics
