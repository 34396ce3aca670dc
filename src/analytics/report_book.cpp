#include "analytics/report_book.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/json_write.h"

namespace rapport::analytics {

namespace {

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

bool IsMachine(const json::object& o) {
  const json::value* v = o.if_contains("machine");
  return v && v->is_bool() && v->get_bool();
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

ReportBook::ReportBook(AnalyticsOptions options, TimezoneFn timezone)
    : options_(std::move(options)), timezone_(std::move(timezone)) {
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

int64_t ReportBook::DayOf(WorkspaceId ws, int64_t at_us) {
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
  ZoneCache& z = it->second;
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

void ReportBook::Add(WorkspaceId ws, Dimension d, int32_t key, int64_t day, Metric m, double delta) {
  DailyKey k{ws, static_cast<uint8_t>(d), key, day};
  auto [it, fresh] = daily_.try_emplace(k);
  if (fresh) keys_[{ws, k.dim}].insert(key);
  it->second[m] += delta;
  dirty_daily_.insert(k);
}

void ReportBook::AddForMessage(const MessageState& m, int64_t day, Metric metric, double delta) {
  for (size_t d = 0; d < kDimensionCount; ++d)
    if (m.keys[d] >= 0) Add(m.ws, static_cast<Dimension>(d), m.keys[d], day, metric, delta);
}

void ReportBook::Once(MessageState& m, uint16_t flag, int64_t day, Metric metric) {
  if (m.flags & flag) return;
  m.flags |= flag;
  AddForMessage(m, day, metric, 1);
}

ReportBook::MessageState* ReportBook::MessageFor(const Event& e) {
  std::optional<int64_t> id = Int(e.properties, "message_id");
  if (!id) return nullptr;
  auto [it, fresh] = messages_.try_emplace(*id);
  MessageState& m = it->second;
  if (fresh) {
    m.ws = e.workspace_id;
    m.keys.fill(-1);
    m.keys[static_cast<size_t>(Dimension::kWorkspace)] = Intern("");
    auto set = [&](Dimension d, std::string_view prop) {
      if (auto v = Text(e.properties, prop); v && !v->empty()) m.keys[static_cast<size_t>(d)] = Intern(*v);
    };
    set(Dimension::kTemplate, "template");
    set(Dimension::kTopic, "topic");
    set(Dimension::kClass, "class");
    set(Dimension::kJourney, "journey_id");
    set(Dimension::kCampaign, "campaign_id");
  }
  if (m.ws != e.workspace_id) return nullptr;  // another workspace's id: never trust it
  dirty_messages_.insert(*id);
  return &m;
}

ReportBook::ContactState& ReportBook::ContactFor(WorkspaceId ws, ContactId id) {
  auto [it, fresh] = contacts_.try_emplace(id);
  if (fresh) {
    it->second.ws = ws;
    auto& dense = dense_[ws];
    it->second.slot = static_cast<uint32_t>(dense.size());
    dense.push_back(DenseEngagement{-std::numeric_limits<double>::infinity(), 0});
    stages_[ws][static_cast<size_t>(Stage::kSubscriber)]++;
  }
  dirty_contacts_.insert(id);
  removed_contacts_.erase(id);
  return it->second;
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
  dirty_contacts_.insert(id);
}

void ReportBook::Schedule(ContactId id, const ContactState& c, int64_t now) {
  if (auto next = NextChangeAt(c.purchases, now, options_.lifecycle)) deadlines_.emplace(*next, id);
}

std::optional<int64_t> ReportBook::Advance(int64_t now_us) {
  if (now_us > now_) now_ = now_us;
  while (!deadlines_.empty() && deadlines_.top().first <= now_) {
    auto [at, id] = deadlines_.top();
    deadlines_.pop();
    auto it = contacts_.find(id);
    if (it == contacts_.end()) continue;
    ContactState& c = it->second;
    Stage s = StageAt(c.purchases, at, options_.lifecycle);
    if (s != c.stage) SetStage(id, c, s, at, std::to_string(at));
    Schedule(id, c, at);
  }
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.top().first;
}

void ReportBook::Goal(const Event& e, ContactState& c, int64_t day) {
  int64_t at = ToMicros(e.occurred_at);
  double value = Number(e.properties, options_.revenue_property);
  WorkspaceId ws = e.workspace_id;
  int32_t all = Intern("");
  Add(ws, Dimension::kWorkspace, all, day, Metric::kOrders, 1);
  Add(ws, Dimension::kWorkspace, all, day, Metric::kOrderRevenue, value);
  // Attribution over the contact's touches.
  std::vector<Credit> credits = Attribute(c.touches, at, options_.windows);
  // Workspace totals once per conversion; message dimensions per credited message.
  for (const Credit& cr : credits) {
    auto it = messages_.find(cr.message_id);
    if (it == messages_.end()) continue;
    MessageState& m = it->second;
    for (size_t d = 0; d < kDimensionCount; ++d) {
      if (m.keys[d] < 0) continue;
      auto dim = static_cast<Dimension>(d);
      if (cr.last > 0) {
        Add(ws, dim, m.keys[d], day, Metric::kConversions, cr.last);
        Add(ws, dim, m.keys[d], day, Metric::kRevenue, cr.last * value);
      }
      if (cr.first > 0) {
        Add(ws, dim, m.keys[d], day, Metric::kConversionsFirst, cr.first);
        Add(ws, dim, m.keys[d], day, Metric::kRevenueFirst, cr.first * value);
      }
      Add(ws, dim, m.keys[d], day, Metric::kConversionsLinear, cr.linear);
      Add(ws, dim, m.keys[d], day, Metric::kRevenueLinear, cr.linear * value);
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
}

void ReportBook::Sync(const ContactState& c) {
  DenseEngagement& d = dense_[c.ws][c.slot];
  d.log2_sum = c.engagement.sum > 0 ? std::log2(c.engagement.sum) : -std::numeric_limits<double>::infinity();
  d.at_us = c.engagement.at_us;
}

void ReportBook::RemoveContact(ContactId id) {
  auto it = contacts_.find(id);
  if (it == contacts_.end()) return;
  dense_[it->second.ws][it->second.slot].at_us = -1;
  stages_[it->second.ws][static_cast<size_t>(it->second.stage)]--;
  removed_contacts_[id] = it->second.ws;
  dirty_contacts_.erase(id);
  contacts_.erase(it);
}

void ReportBook::Apply(const Event& e, int64_t now_us) {
  int64_t at = ToMicros(e.occurred_at);
  Advance(std::min(at, now_us));
  const std::string& n = e.name;
  if (n == kLifecycleChanged) return;  // our own output
  if (n == "contact.erased") {
    RemoveContact(e.contact_id);
    return;
  }
  if (n == "contact.merged") {
    auto from = Int(e.properties, "merged_contact_id");
    if (!from) return;
    auto it = contacts_.find(*from);
    if (it == contacts_.end()) return;
    ContactState gone = std::move(it->second);
    RemoveContact(*from);
    ContactState& into = ContactFor(e.workspace_id, e.contact_id);
    into.engagement.Add(
        gone.engagement.SumAt(std::max(into.engagement.at_us, gone.engagement.at_us), options_.engagement),
        std::max(into.engagement.at_us, gone.engagement.at_us), options_.engagement);
    Sync(into);
    into.opens += gone.opens;
    into.clicks += gone.clicks;
    into.touches.insert(into.touches.end(), gone.touches.begin(), gone.touches.end());
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
  if (n.starts_with("message.")) {
    MessageState* m = MessageFor(e);
    if (!m) return;
    if (n == "message.queued") {
      AddForMessage(*m, day, Metric::kSent, 1);
    } else if (n == "message.suppressed") {
      AddForMessage(*m, day, Metric::kSuppressed, 1);
    } else if (n == "message.sent") {
      AddForMessage(*m, day, Metric::kDelivered, 1);
    } else if (n == "message.deferred") {
      AddForMessage(*m, day, Metric::kDeferred, 1);
    } else if (n == "message.bounced") {
      Once(*m, kFlagBouncedHard, day, Metric::kBouncedHard);
    } else if (n == "message.soft_bounced") {
      Once(*m, kFlagBouncedSoft, day, Metric::kBouncedSoft);
    } else if (n == "message.blocked") {
      Once(*m, kFlagBlocked, day, Metric::kBlocked);
    } else if (n == "message.failed") {
      AddForMessage(*m, day, Metric::kFailed, 1);
    } else if (n == "message.complained") {
      Once(*m, kFlagComplained, day, Metric::kComplained);
    }
    ContactFor(e.workspace_id, e.contact_id);
    return;
  }
  if (n == "email_opened" || n == "email_clicked") {
    MessageState* m = MessageFor(e);
    ContactState& c = ContactFor(e.workspace_id, e.contact_id);
    if (!m) return;
    bool click = n == "email_clicked";
    if (IsMachine(e.properties)) {
      Once(*m, click ? kFlagClickedMachine : kFlagOpenedMachine, day,
           click ? Metric::kClickedMachine : Metric::kOpenedMachine);
      return;
    }
    // A human click counts as a human open too (images were off): CTOR stays within 100%.
    Once(*m, kFlagOpenedHuman, day, Metric::kOpenedHuman);
    if (click) Once(*m, kFlagClickedHuman, day, Metric::kClickedHuman);
    auto mid = *Int(e.properties, "message_id");
    std::erase_if(c.touches, [&](const Touch& t) { return !TouchMayMatter(t, at, options_.windows); });
    c.touches.push_back(Touch{mid, at, click});
    c.engagement.Add(click ? options_.engagement.click_weight : options_.engagement.open_weight, at,
                     options_.engagement);
    Sync(c);
    (click ? c.clicks : c.opens)++;
    return;
  }
  if (n == "contact.status_changed") {
    auto to = Text(e.properties, "new");
    if (to && *to == "unsubscribed") {
      Add(e.workspace_id, Dimension::kWorkspace, Intern(""), day, Metric::kUnsubscribed, 1);
      const json::value* origin = e.properties.if_contains("origin");
      if (origin && origin->is_object()) {
        if (auto mid = Int(origin->get_object(), "message_id")) {
          auto it = messages_.find(*mid);
          if (it != messages_.end() && it->second.ws == e.workspace_id) {
            for (size_t d = 1; d < kDimensionCount; ++d)
              if (it->second.keys[d] >= 0)
                Add(e.workspace_id, static_cast<Dimension>(d), it->second.keys[d], day, Metric::kUnsubscribed,
                    1);
          }
        }
      }
    }
    ContactFor(e.workspace_id, e.contact_id);
    return;
  }
  if (n == "topic.unsubscribed") {
    if (auto topic = Text(e.properties, "topic"))
      Add(e.workspace_id, Dimension::kTopic, Intern(*topic), day, Metric::kUnsubscribed, 1);
    return;
  }
  ContactState& c = ContactFor(e.workspace_id, e.contact_id);
  auto w = options_.engagement_events.find(n);
  if (w != options_.engagement_events.end()) {
    c.engagement.Add(w->second, at, options_.engagement);
    Sync(c);
  }
  if (n == options_.goal_event) Goal(e, c, day);
}

std::string ReportBook::Serialize(const MessageState& m) const {
  json::object o;
  for (size_t d = 1; d < kDimensionCount; ++d)
    if (m.keys[d] >= 0) o[DimensionName(static_cast<Dimension>(d))] = Name(m.keys[d]);
  o["flags"] = m.flags;
  return json::serialize(o);
}

std::string ReportBook::Serialize(const ContactState& c) const {
  json::array touches;
  for (const Touch& t : c.touches) touches.push_back(json::array{t.message_id, t.at_us, t.click});
  json::object o{{"engagement", json::array{c.engagement.sum, c.engagement.at_us}},
                 {"orders", c.purchases.orders},
                 {"first_order", c.purchases.first_us},
                 {"last_order", c.purchases.last_us},
                 {"won_back", c.purchases.won_back},
                 {"revenue", c.revenue},
                 {"first_value", c.first_value},
                 {"stage", StageName(c.stage)},
                 {"stage_since", c.stage_since},
                 {"opens", c.opens},
                 {"clicks", c.clicks},
                 {"touches", std::move(touches)}};
  return json::serialize(o);
}

void ReportBook::TakeChanges(std::vector<AnalyticsDailyValue>& daily,
                             std::vector<AnalyticsEntityWrite>& entities) {
  for (const DailyKey& k : dirty_daily_) {
    const Counts& c = daily_.at(k);
    for (size_t i = 0; i < kMetricCount; ++i) {
      if (c.v[i] == 0) continue;
      daily.push_back(AnalyticsDailyValue{k.ws, std::string(DimensionName(static_cast<Dimension>(k.dim))),
                                          Name(k.key), k.day, std::string(MetricName(static_cast<Metric>(i))),
                                          c.v[i]});
    }
  }
  dirty_daily_.clear();
  for (int64_t id : dirty_messages_) {
    const MessageState& m = messages_.at(id);
    entities.push_back(AnalyticsEntityWrite{m.ws, "message", id, Serialize(m)});
  }
  dirty_messages_.clear();
  for (ContactId id : dirty_contacts_) {
    const ContactState& c = contacts_.at(id);
    entities.push_back(AnalyticsEntityWrite{c.ws, "contact", id, Serialize(c)});
  }
  dirty_contacts_.clear();
  for (auto [id, ws] : removed_contacts_)
    entities.push_back(AnalyticsEntityWrite{ws, "contact", id, std::nullopt});
  removed_contacts_.clear();
}

std::vector<LifecycleChange> ReportBook::TakeLifecycleChanges() { return std::exchange(changes_, {}); }

void ReportBook::LoadDaily(const AnalyticsDailyValue& v) {
  auto d = ParseDimension(v.dimension);
  auto m = ParseMetric(v.metric);
  if (!d || !m) return;
  DailyKey k{v.workspace_id, static_cast<uint8_t>(*d), Intern(v.key), v.day};
  auto [it, fresh] = daily_.try_emplace(k);
  if (fresh) keys_[{k.ws, k.dim}].insert(k.key);
  it->second[*m] = v.value;
}

void ReportBook::LoadEntity(WorkspaceId ws, std::string_view kind, int64_t id, std::string_view state) {
  boost::system::error_code ec;
  json::value v = json::parse(state, ec);
  if (ec || !v.is_object()) return;
  const json::object& o = v.get_object();
  if (kind == "message") {
    MessageState& m = messages_[id];
    m.ws = ws;
    m.keys.fill(-1);
    m.keys[0] = Intern("");
    for (size_t d = 1; d < kDimensionCount; ++d)
      if (auto t = Text(o, DimensionName(static_cast<Dimension>(d)))) m.keys[d] = Intern(*t);
    m.flags = static_cast<uint16_t>(Int(o, "flags").value_or(0));
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
    if (const json::value* t = o.if_contains("touches"); t && t->is_array())
      for (const json::value& x : t->get_array())
        if (x.is_array() && x.get_array().size() == 3)
          c.touches.push_back(Touch{static_cast<int64_t>(JsonNumber(x.get_array()[0])),
                                    static_cast<int64_t>(JsonNumber(x.get_array()[1])),
                                    x.get_array()[2].is_bool() && x.get_array()[2].get_bool()});
    contacts_[id] = std::move(c);
  }
}

void ReportBook::Rebuilt() {
  stages_.clear();
  dense_.clear();
  for (auto& [id, c] : contacts_) {
    auto& dense = dense_[c.ws];
    c.slot = static_cast<uint32_t>(dense.size());
    dense.push_back({});
    Sync(c);
    stages_[c.ws][static_cast<size_t>(c.stage)]++;
    Schedule(id, c, std::max(c.stage_since, c.purchases.last_us));
  }
  dirty_daily_.clear();
  dirty_messages_.clear();
  dirty_contacts_.clear();
}

std::vector<std::pair<int64_t, Counts>> ReportBook::Series(WorkspaceId ws, Dimension d, std::string_view key,
                                                           int64_t from_day, int64_t to_day) const {
  std::vector<std::pair<int64_t, Counts>> out;
  auto id = name_ids_.find(key);
  for (int64_t day = from_day; day <= to_day; ++day) {
    Counts c;
    if (id != name_ids_.end()) {
      auto it = daily_.find(DailyKey{ws, static_cast<uint8_t>(d), id->second, day});
      if (it != daily_.end()) c = it->second;
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
      if (it != daily_.end()) sum += it->second, any = true;
    }
    if (any) out.emplace_back(Name(key), sum);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::optional<ReportBook::MessageView> ReportBook::Message(WorkspaceId ws, int64_t message_id) const {
  auto it = messages_.find(message_id);
  if (it == messages_.end() || it->second.ws != ws) return std::nullopt;
  MessageView v;
  v.workspace_id = ws;
  for (size_t d = 0; d < kDimensionCount; ++d)
    if (it->second.keys[d] >= 0) v.keys[d] = Name(it->second.keys[d]);
  for (auto [flag, name] : kFlagNames)
    if (it->second.flags & flag) v.outcomes.emplace_back(name);
  return v;
}

const ClvModel& ReportBook::FitModel(WorkspaceId ws, int64_t now_us) {
  std::vector<CustomerSummary> customers;
  double day = static_cast<double>(kMicrosPerDay);
  for (const auto& [id, c] : contacts_) {
    if (c.ws != ws || c.purchases.orders == 0) continue;
    CustomerSummary s;
    s.x = static_cast<double>(c.purchases.orders - 1);
    s.t_x = static_cast<double>(c.purchases.last_us - c.purchases.first_us) / day;
    s.T = std::max(s.t_x, static_cast<double>(now_us - c.purchases.first_us) / day);
    s.m = s.x > 0 ? (c.revenue - c.first_value) / s.x : 0;
    customers.push_back(s);
  }
  auto& slot = models_[ws];
  slot = {FitClv(customers, options_.clv), now_us};
  return slot.first;
}

ContactView ReportBook::Contact(WorkspaceId ws, ContactId id, int64_t now_us) {
  ContactView v;
  auto it = contacts_.find(id);
  if (it == contacts_.end() || it->second.ws != ws) return v;
  const ContactState& c = it->second;
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
  auto m = models_.find(ws);
  constexpr int64_t kRefitUs = 3'600'000'000;
  const ClvModel& model =
      m != models_.end() && now_us - m->second.second < kRefitUs ? m->second.first : FitModel(ws, now_us);
  v.model_fitted = model.fitted;
  v.model_reason = model.reason;
  if (c.purchases.orders > 0) {
    double day = static_cast<double>(kMicrosPerDay);
    CustomerSummary s;
    s.x = static_cast<double>(c.purchases.orders - 1);
    s.t_x = static_cast<double>(c.purchases.last_us - c.purchases.first_us) / day;
    s.T = std::max(s.t_x, static_cast<double>(now_us - c.purchases.first_us) / day);
    s.m = s.x > 0 ? (c.revenue - c.first_value) / s.x : 0;
    v.predicted = PredictClv(model, s, c.revenue, static_cast<double>(c.purchases.orders), options_.clv);
  }
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
