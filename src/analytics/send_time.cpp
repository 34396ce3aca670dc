#include "analytics/send_time.h"
#include "core/json_parse.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "core/json_write.h"

namespace rapport::analytics {

namespace {

constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

int64_t OffsetMicros(Timestamp t, const date::time_zone& zone) {
  const date::sys_info info = zone.get_info(std::chrono::floor<std::chrono::seconds>(t));
  return std::chrono::duration_cast<Micros>(info.offset).count();
}

std::optional<std::string> String(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

int64_t Integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) return static_cast<int64_t>(v.get_double());
  return 0;
}

void AppendInt(std::string& out, int64_t v) {
  fmt::format_int f(v);
  out.append(f.data(), f.size());
}

// One [hour, opens, clicks] row of "hours" (as json::serialize wrote them before).
void AppendHour(std::string& out, bool first, int hour, const HourCounts& c) {
  out += first ? "[" : ",[";
  AppendInt(out, hour);
  out += ',';
  AppendInt(out, c.opens);
  out += ',';
  AppendInt(out, c.clicks);
  out += ']';
}

// [[hour, opens, clicks], ...] -> (hour, counts); malformed rows are skipped.
std::vector<std::pair<int, HourCounts>> Decode(const json::object& o) {
  std::vector<std::pair<int, HourCounts>> out;
  const json::value* h = o.if_contains("hours");
  if (!h || !h->is_array()) return out;
  for (const json::value& row : h->get_array()) {
    if (!row.is_array() || row.get_array().size() != 3) continue;
    const auto& r = row.get_array();
    const int64_t hour = Integer(r[0]);
    if (hour < 0 || hour >= kHoursPerWeek) continue;
    out.emplace_back(static_cast<int>(hour), HourCounts{Integer(r[1]), Integer(r[2])});
  }
  return out;
}

}  // namespace

double Weighted(const HourCounts& c, const SendTimeOptions& o) {
  return o.open_weight * static_cast<double>(c.opens) + o.click_weight * static_cast<double>(c.clicks);
}

WeekWeights PopulationPrior(const WeekCounts& population, const SendTimeOptions& o) {
  WeekWeights raw{};
  double total = 0;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    raw[static_cast<size_t>(h)] = std::max(0.0, Weighted(population[static_cast<size_t>(h)], o));
    total += raw[static_cast<size_t>(h)];
  }
  const double b = std::max(o.population_strength, 0.0);
  WeekWeights pi{};
  if (total + b <= 0) {
    pi.fill(1.0 / kHoursPerWeek);
    return pi;
  }
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const double prev = raw[static_cast<size_t>((h + kHoursPerWeek - 1) % kHoursPerWeek)];
    const double next = raw[static_cast<size_t>((h + 1) % kHoursPerWeek)];
    const double smoothed = 0.25 * prev + 0.5 * raw[static_cast<size_t>(h)] + 0.25 * next;
    pi[static_cast<size_t>(h)] = (smoothed + b / kHoursPerWeek) / (total + b);
  }
  return pi;
}

WeekWeights ContactPosterior(const WeekCounts& own, const WeekWeights& prior, const SendTimeOptions& o) {
  double n = 0;
  for (const HourCounts& c : own) n += std::max(0.0, Weighted(c, o));
  const double a = std::max(o.contact_strength, 0.0);
  WeekWeights w{};
  if (n <= 0) return prior;  // exactly the population's pattern
  for (size_t h = 0; h < w.size(); ++h) w[h] = (std::max(0.0, Weighted(own[h], o)) + a * prior[h]) / (n + a);
  return w;
}

const date::time_zone* ZoneOrUtc(std::string_view name) {
  if (!name.empty()) {
    try {
      return date::locate_zone(name);
    } catch (const std::exception&) {
    }
  }
  return date::locate_zone("UTC");
}

int HourOfWeek(Timestamp t, const date::time_zone& zone) {
  const int64_t local = ToMicros(t) + OffsetMicros(t, zone);
  const int64_t day = FloorDiv(local, kMicrosPerDay);
  const int64_t hour = FloorMod(local, kMicrosPerDay) / kMicrosPerHour;
  const int64_t weekday = FloorMod(day + 4, 7);  // 1970-01-01 was a Thursday; 0 = Sunday
  return static_cast<int>(weekday * 24 + hour);
}

Result<SendTimeChoice> BestInWindow(const WeekWeights& weights, const date::time_zone& zone, Timestamp start,
                                    Timestamp end, bool personal) {
  if (end <= start) return Error::Invalid("window", "the send-time window is empty");
  // The zone's offset holds over [begin_us, end_us): one tzdb lookup per offset change, not per hour.
  int64_t begin_us = 1, end_us = 0, offset_us = 0;
  auto local_of = [&](int64_t us) {
    if (us < begin_us || us >= end_us) {
      const date::sys_info info = zone.get_info(std::chrono::floor<std::chrono::seconds>(FromMicros(us)));
      auto micros = [](auto tp) { return std::chrono::duration_cast<Micros>(tp.time_since_epoch()).count(); };
      begin_us = info.begin <= date::sys_seconds::min() ? INT64_MIN : micros(info.begin);
      end_us = info.end >= date::sys_seconds::max() ? INT64_MAX : micros(info.end);
      offset_us = std::chrono::duration_cast<Micros>(info.offset).count();
    }
    return us + offset_us;
  };
  auto choice_at = [&](int64_t us) {
    const int64_t local = local_of(us);
    const auto h = static_cast<int>(FloorMod(FloorDiv(local, kMicrosPerDay) + 4, 7) * 24 +
                                    FloorMod(local, kMicrosPerDay) / kMicrosPerHour);
    return SendTimeChoice{.at = FromMicros(us),
                          .hour_of_week = h,
                          .expected = weights[static_cast<size_t>(h)],
                          .personal = personal};
  };
  const int64_t start_us = ToMicros(start), end_us_window = ToMicros(end);
  SendTimeChoice best = choice_at(start_us);
  if (end - start < std::chrono::hours(1)) return best;
  // Every hour of the week comes up within 8 days, even across a DST change: a longer window
  // only repeats them, and the earliest wins ties.
  int64_t t = start_us;
  for (int i = 0; i < 8 * 24 + 2; ++i) {
    t += kMicrosPerHour - FloorMod(local_of(t), kMicrosPerHour);  // the next local top of the hour
    if (t >= end_us_window) break;
    const SendTimeChoice c = choice_at(t);
    if (c.expected > best.expected) best = c;
  }
  return best;
}

SendTimeBook::SendTimeBook(SendTimeOptions options, TimezoneFn workspace_timezone)
    : options_(options), workspace_timezone_(std::move(workspace_timezone)) {}

const date::time_zone* SendTimeBook::ZoneOf(WorkspaceId ws, const date::time_zone* contact_zone) {
  if (contact_zone) return contact_zone;
  if (last_zone_ && last_zone_ws_ == ws) return last_zone_;
  auto it = workspace_zones_.find(ws);
  if (it == workspace_zones_.end())
    it = workspace_zones_.emplace(ws, ZoneOrUtc(workspace_timezone_ ? workspace_timezone_(ws) : "UTC")).first;
  last_zone_ws_ = ws;
  last_zone_ = it->second;
  return it->second;
}

int SendTimeBook::LocalHourOfWeek(Timestamp t, const date::time_zone* zone) {
  if (zone != last_span_zone_ || !last_span_) {
    last_span_ = &spans_[zone];
    last_span_zone_ = zone;
  }
  ZoneSpan& z = *last_span_;
  const int64_t us = ToMicros(t);
  if (us < z.begin_us || us >= z.end_us) {  // outside the cached offset's span: look it up
    const date::sys_info info = zone->get_info(std::chrono::floor<std::chrono::seconds>(t));
    auto micros = [](auto tp) { return std::chrono::duration_cast<Micros>(tp.time_since_epoch()).count(); };
    z.begin_us = info.begin <= date::sys_seconds::min() ? INT64_MIN : micros(info.begin);
    z.end_us = info.end >= date::sys_seconds::max() ? INT64_MAX : micros(info.end);
    z.offset_us = std::chrono::duration_cast<Micros>(info.offset).count();
  }
  const int64_t local = us + z.offset_us;
  return static_cast<int>(FloorMod(FloorDiv(local, kMicrosPerDay) + 4, 7) * 24 +
                          FloorMod(local, kMicrosPerDay) / kMicrosPerHour);
}

SendTimeBook::Population& SendTimeBook::PopulationOf(WorkspaceId ws) {
  if (last_population_ && last_population_ws_ == ws) return *last_population_;
  last_population_ = &populations_[ws];
  last_population_ws_ = ws;
  return *last_population_;
}

void SendTimeBook::PopulationChanged(WorkspaceId ws) {
  Population& p = PopulationOf(ws);
  p.has_prior = false;
  if (!p.dirty) {
    p.dirty = true;
    dirty_population_.push_back(ws);
  }
}

SendTimeBook::ContactState* SendTimeBook::Find(ContactId id) {
  const uint32_t slot = index_.Find(id);
  return slot == IdIndex::kNone ? nullptr : &slab_[slot];
}

SendTimeBook::ContactState& SendTimeBook::FindOrAdd(ContactId id, WorkspaceId ws_if_new) {
  const auto [slot, fresh] = index_.FindOrAdd(id, [this] { return slab_.Add(); });
  ContactState& c = slab_[slot];
  if (!fresh) return c;
  c.id = id;
  c.ws = ws_if_new;
  c.home = slot;
  return c;
}

void SendTimeBook::Free(ContactState& c) {
  index_.Erase(c.id);
  slab_.Free(c.home);  // id 0, clean: its entry in dirty_contacts_ is skipped
}

void SendTimeBook::MarkDirty(ContactState& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_contacts_.push_back(c.home);
}

void SendTimeBook::Count(ContactState& c, int hour, const HourCounts& delta) {
  auto it = std::lower_bound(c.hours.begin(), c.hours.end(), hour,
                             [](const Entry& e, int h) { return e.hour < h; });
  if (it == c.hours.end() || it->hour != hour) it = c.hours.insert(it, Entry{static_cast<uint8_t>(hour), {}});
  it->counts.opens += delta.opens;
  it->counts.clicks += delta.clicks;
  HourCounts& p = PopulationOf(c.ws).counts[static_cast<size_t>(hour)];
  p.opens += delta.opens;
  p.clicks += delta.clicks;
  PopulationChanged(c.ws);
}

void SendTimeBook::Apply(const Event& e) { Apply(e, ReadFacts(e)); }

void SendTimeBook::Apply(const Event& e, const EventFacts& f) {
  if (f.kind == EventKind::kOpened || f.kind == EventKind::kClicked) {
    if (f.machine) return;
    ContactState& c = FindOrAdd(e.contact_id, e.workspace_id);
    const int hour = LocalHourOfWeek(e.occurred_at, ZoneOf(c.ws, c.zone));
    Count(c, hour, f.kind == EventKind::kClicked ? HourCounts{.clicks = 1} : HourCounts{.opens = 1});
    MarkDirty(c);
    if (!removed_contacts_.empty()) removed_contacts_.erase(e.contact_id);
    return;
  }
  if (f.kind == EventKind::kContactCreated || f.kind == EventKind::kContactUpdated) {
    std::optional<std::string> tz;
    if (f.kind == EventKind::kContactCreated) {
      tz = String(e.properties, "timezone");
    } else if (const json::value* ch = e.properties.if_contains("changes"); ch && ch->is_object()) {
      if (const json::value* z = ch->get_object().if_contains("timezone"); z && z->is_object())
        tz = String(z->get_object(), "new").value_or("");
    }
    if (!tz) return;
    ContactState* c = Find(e.contact_id);
    if (!c) {
      if (tz->empty()) return;  // the default, as for every contact we hold nothing of
      c = &FindOrAdd(e.contact_id, e.workspace_id);
    }
    const date::time_zone* zone = tz->empty() ? nullptr : ZoneOrUtc(*tz);
    if (c->zone == zone) return;
    c->zone = zone;
    MarkDirty(*c);
    removed_contacts_.erase(e.contact_id);
    return;
  }
  if (f.kind == EventKind::kContactMerged) {
    const json::value* from = e.properties.if_contains("merged_contact_id");
    if (!from) return;
    const ContactId gone_id = Integer(*from);
    ContactState* found = Find(gone_id);
    if (!found || gone_id == e.contact_id) return;
    const ContactState gone = std::move(*found);
    Free(*found);  // clean: not written, deleted below
    ContactState& into = FindOrAdd(e.contact_id, e.workspace_id);
    // The counts move with their local hours (the population is unchanged within a workspace).
    for (const Entry& x : gone.hours) {
      Count(into, x.hour, x.counts);
      HourCounts& p = PopulationOf(gone.ws).counts[x.hour];
      p.opens -= x.counts.opens;
      p.clicks -= x.counts.clicks;
    }
    PopulationChanged(gone.ws);
    removed_contacts_[gone_id] = gone.ws;
    MarkDirty(into);
    removed_contacts_.erase(e.contact_id);
    return;
  }
  if (f.kind == EventKind::kContactErased) {
    ContactState* c = Find(e.contact_id);
    if (!c) return;
    // Erased people leave the population's pattern too, as if their events had never been.
    Population& pop = PopulationOf(c->ws);
    for (const Entry& x : c->hours) {
      HourCounts& p = pop.counts[x.hour];
      p.opens -= x.counts.opens;
      p.clicks -= x.counts.clicks;
    }
    PopulationChanged(c->ws);
    removed_contacts_[e.contact_id] = c->ws;
    Free(*c);  // clean: not written
  }
}

// As json::serialize wrote {"hours": [[hour, opens, clicks], ...], "timezone": name}, streamed.
void SendTimeBook::Serialize(const ContactState& c, std::string& out) const {
  out += "{\"hours\":[";
  for (size_t i = 0; i < c.hours.size(); ++i) AppendHour(out, i == 0, c.hours[i].hour, c.hours[i].counts);
  out += ']';
  if (c.zone) {
    out += ",\"timezone\":";
    AppendJsonString(out, c.zone->name());
  }
  out += '}';
}

void SendTimeBook::PrefetchIndex(const Event& e, const EventFacts& f) const {
  if (f.kind == EventKind::kOpened || f.kind == EventKind::kClicked) index_.Prefetch(e.contact_id);
}

void SendTimeBook::PrefetchState(const Event& e, const EventFacts& f) const {
  if (f.kind != EventKind::kOpened && f.kind != EventKind::kClicked) return;
  if (uint32_t slot = index_.Find(e.contact_id); slot != IdIndex::kNone) __builtin_prefetch(&slab_[slot]);
}

void SendTimeBook::TakeChanges(ChangeSet& out) {
  constexpr size_t kAhead = 8;  // states fetched ahead, as ReportBook::TakeChanges
  for (size_t i = 0; i < dirty_contacts_.size(); ++i) {
    if (i + kAhead < dirty_contacts_.size()) __builtin_prefetch(&slab_[dirty_contacts_[i + kAhead]]);
    ContactState& c = slab_[dirty_contacts_[i]];
    if (!c.dirty) continue;  // freed meanwhile (a freed slot is clean), or taken already
    c.dirty = false;
    if (c.hours.empty() && !c.zone) {  // nothing left to remember
      out.Delete(c.ws, kSendTimeKind, c.id);
      Free(c);
      continue;
    }
    Serialize(c, out.Write(c.ws, kSendTimeKind, c.id));
  }
  dirty_contacts_.clear();
  for (auto [id, ws] : removed_contacts_) out.Delete(ws, kSendTimeKind, id);
  removed_contacts_.clear();
  for (WorkspaceId ws : dirty_population_) {
    Population& p = PopulationOf(ws);
    p.dirty = false;
    std::string& state = out.Write(ws, kSendTimePopulationKind, 0);
    state += "{\"hours\":[";
    bool first = true;
    for (int h = 0; h < kHoursPerWeek; ++h)
      if (p.counts[static_cast<size_t>(h)] != HourCounts{}) {
        AppendHour(state, first, h, p.counts[static_cast<size_t>(h)]);
        first = false;
      }
    state += "]}";
  }
  dirty_population_.clear();
}

void SendTimeBook::TakeChanges(std::vector<AnalyticsEntityWrite>& entities) {
  ChangeSet set;
  TakeChanges(set);
  entities.insert(entities.end(), set.entities().begin(), set.entities().end());
}

void SendTimeBook::LoadEntity(WorkspaceId ws, std::string_view kind, int64_t id, std::string_view state) {
  if (kind != kSendTimeKind && kind != kSendTimePopulationKind) return;
  boost::system::error_code ec;
  json::value v = ParseJsonExact(state, ec);
  if (ec || !v.is_object()) return;
  const json::object& o = v.get_object();
  if (kind == kSendTimePopulationKind) {
    Population& p = PopulationOf(ws);
    p.has_prior = false;
    p.counts = WeekCounts{};
    for (const auto& [h, c] : Decode(o)) p.counts[static_cast<size_t>(h)] = c;
    return;
  }
  ContactState& c = FindOrAdd(id, ws);
  c.ws = ws;
  c.zone = nullptr;
  c.hours.clear();
  if (auto tz = String(o, "timezone"); tz && !tz->empty()) c.zone = ZoneOrUtc(*tz);
  for (const auto& [h, counts] : Decode(o)) c.hours.push_back(Entry{static_cast<uint8_t>(h), counts});
  std::sort(c.hours.begin(), c.hours.end(), [](const Entry& x, const Entry& y) { return x.hour < y.hour; });
}

SendTimeProfile SendTimeBook::Profile(WorkspaceId ws, ContactId id, std::string_view timezone) {
  SendTimeProfile p;
  p.options = options_;
  p.contact_timezone = !timezone.empty();
  p.timezone = ZoneOf(ws, timezone.empty() ? nullptr : ZoneOrUtc(timezone))->name();
  if (const ContactState* c = Find(id); c && c->ws == ws) {
    for (const Entry& x : c->hours) {
      p.own[x.hour] = x.counts;
      p.opens += x.counts.opens;
      p.clicks += x.counts.clicks;
    }
  }
  Population& pop = PopulationOf(ws);
  if (!pop.has_prior) {
    pop.prior = PopulationPrior(pop.counts, options_);
    pop.has_prior = true;
  }
  p.population = pop.prior;
  p.posterior = ContactPosterior(p.own, p.population, options_);
  for (const HourCounts& c : p.own) p.evidence += Weighted(c, options_);
  const double a = std::max(options_.contact_strength, 0.0);
  p.personal_share = p.evidence + a > 0 ? p.evidence / (p.evidence + a) : 0;
  return p;
}

}  // namespace rapport::analytics
