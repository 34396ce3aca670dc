#include "campaign/governor.h"
#include "core/json_parse.h"

#include <fmt/format.h>

#include <date/date.h>
#include <date/tz.h>
#include <algorithm>
#include <limits>

namespace rapport::campaign {

namespace {

using Seconds = date::sys_seconds;

const date::time_zone* FindZone(std::string_view tz) {
  if (tz.empty()) return nullptr;
  try {
    return date::locate_zone(tz);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The contact's zone: its own, else the policy's, else UTC.
const date::time_zone* ZoneFor(std::string_view contact_tz, const std::string& policy_tz, std::string& name) {
  if (const auto* z = FindZone(contact_tz)) {
    name = std::string(contact_tz);
    return z;
  }
  if (const auto* z = FindZone(policy_tz)) {
    name = policy_tz;
    return z;
  }
  name = "UTC";
  return date::locate_zone("UTC");
}

date::local_seconds ToLocal(const date::time_zone* zone, Timestamp t) {
  return zone->to_local(std::chrono::floor<std::chrono::seconds>(t));
}

// The instant of local `day` + `minutes`; a time skipped by a DST change is the instant the
// clocks jumped, a time that happens twice is its first occurrence.
Timestamp ToSys(const date::time_zone* zone, date::local_days day, int minutes) {
  auto local = date::local_seconds(day) + std::chrono::minutes(minutes);
  date::local_info info = zone->get_info(local);
  Seconds sys;
  if (info.result == date::local_info::nonexistent)
    sys = info.first.end;
  else
    sys = Seconds((local - info.first.offset).time_since_epoch());
  return std::chrono::time_point_cast<Timestamp::duration>(sys);
}

date::local_days LocalDay(const date::time_zone* zone, Timestamp t) {
  return date::floor<date::days>(ToLocal(zone, t));
}

int MinuteOfDay(const date::time_zone* zone, Timestamp t) {
  auto local = ToLocal(zone, t);
  auto since = local - date::floor<date::days>(local);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(since).count());
}

date::local_days WeekStart(date::local_days day) {
  // Monday-based weeks: c_encoding 0 is Sunday.
  unsigned wd = date::weekday(day).c_encoding();
  return day - date::days((wd + 6) % 7);
}

std::string Hhmm(int minutes) { return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60); }

std::string DayText(date::local_days day) {
  date::year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

bool InQuiet(const QuietHours& q, int minute) {
  if (q.start < q.end) return minute >= q.start && minute < q.end;
  return minute >= q.start || minute < q.end;
}

// The first instant after `t` at which the local time is q.end.
Timestamp QuietEnd(const date::time_zone* zone, const QuietHours& q, Timestamp t) {
  date::local_days day = LocalDay(zone, t);
  for (int i = 0; i < 3; ++i, day += date::days(1)) {
    Timestamp end = ToSys(zone, day, q.end);
    if (end > t) return end;
  }
  return t + std::chrono::hours(24);  // unreachable: one of three days has the time after t
}

// No message is excluded from the counts (ids of unsaved messages may be 0 or negative).
constexpr MessageId kNone = std::numeric_limits<MessageId>::min();

bool Counts(const GovernedMessage& m) {
  return m.state != MessageState::kSuppressed && m.state != MessageState::kCancelled;
}

std::string Plural(int n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// One cap over one period: [begin, end) of local time, for one topic or all mail.
struct Window {
  Timestamp begin{}, end{};
  int cap = 0;
  std::optional<std::string> topic;  // a topic cap
  std::string reason;                // why it stops a message, as a sentence
};

struct Context {
  const GovernorPolicy& policy;
  const date::time_zone* zone;
  std::string zone_name;
  MailFrequency frequency;
};

std::vector<Window> WindowsAt(const Context& c, const std::optional<std::string>& topic, Timestamp t) {
  std::vector<Window> out;
  date::local_days day = LocalDay(c.zone, t);
  date::local_days week = WeekStart(day);
  Timestamp day_begin = ToSys(c.zone, day, 0), day_end = ToSys(c.zone, day + date::days(1), 0);
  Timestamp week_begin = ToSys(c.zone, week, 0), week_end = ToSys(c.zone, week + date::days(7), 0);
  auto add = [&](Caps caps, const std::optional<std::string>& on, std::string_view what) {
    if (caps.per_day > 0)
      out.push_back(
          {day_begin, day_end, caps.per_day, on,
           fmt::format("the cap of {} per day is reached on {} ({})",
                       Plural(caps.per_day, std::string(what) + " message", std::string(what) + " messages"),
                       DayText(day), c.zone_name)});
    if (caps.per_week > 0)
      out.push_back(
          {week_begin, week_end, caps.per_week, on,
           fmt::format("the cap of {} per week is reached in the week of {} ({})",
                       Plural(caps.per_week, std::string(what) + " message", std::string(what) + " messages"),
                       DayText(week), c.zone_name)});
  };
  if (c.frequency == MailFrequency::kWeeklyDigest)
    out.push_back(
        {week_begin, week_end, 1, std::nullopt,
         fmt::format("the contact chose a weekly digest (one marketing message a week) and the week "
                     "of {} ({}) has had its message",
                     DayText(week), c.zone_name)});
  if (c.policy.enabled) {
    add(c.policy.caps, std::nullopt, "marketing");
    if (topic) {
      auto it = c.policy.topics.find(*topic);
      if (it != c.policy.topics.end()) add(it->second, topic, "'" + *topic + "'");
    }
  }
  return out;
}

bool InWindow(const Window& w, const GovernedMessage& m) {
  if (m.at < w.begin || m.at >= w.end) return false;
  return !w.topic || (m.topic && *m.topic == *w.topic);
}

int CountIn(const Window& w, std::span<const GovernedMessage> recent, MessageId excluded) {
  int n = 0;
  for (const GovernedMessage& m : recent)
    if (m.id != excluded && Counts(m) && InWindow(w, m)) ++n;
  return n;
}

// The earliest moment >= now the candidate may go, with the reason of the first thing that
// stopped it (empty when it may go now); nullopt past the horizon. `stop_at_cap` ends the search
// at the first cap that stops it, returning that moment and its full windows.
struct Placement {
  std::optional<Timestamp> at;
  std::string reason;
  bool capped = false;       // a cap (not quiet hours alone) stopped it
  Timestamp capped_at{};     // where the first cap stopped it
  std::vector<Window> full;  // the windows full at capped_at
};

Placement Place(const Context& c, const std::optional<std::string>& topic,
                std::span<const GovernedMessage> recent, MessageId excluded, Timestamp now,
                bool stop_at_cap) {
  Placement p;
  Timestamp t = now;
  for (int i = 0; i < 400; ++i) {
    if (t - now > kHorizon) return p;
    if (c.policy.enabled && c.policy.quiet_hours && InQuiet(*c.policy.quiet_hours, MinuteOfDay(c.zone, t))) {
      if (p.reason.empty())
        p.reason = fmt::format("quiet hours {}-{} ({})", Hhmm(c.policy.quiet_hours->start),
                               Hhmm(c.policy.quiet_hours->end), c.zone_name);
      t = QuietEnd(c.zone, *c.policy.quiet_hours, t);
      continue;
    }
    std::vector<Window> full;
    for (Window& w : WindowsAt(c, topic, t))
      if (CountIn(w, recent, excluded) >= w.cap) full.push_back(std::move(w));
    if (full.empty()) {
      p.at = t;
      return p;
    }
    if (!p.capped) {
      p.capped = true;
      p.capped_at = t;
      p.full = full;
      if (p.reason.empty() || p.reason.starts_with("quiet")) p.reason = full.front().reason;
      if (stop_at_cap) return p;
    }
    Timestamp next = t;
    for (const Window& w : full) next = std::max(next, w.end);
    t = next;
  }
  return p;
}

std::string Iso(Timestamp t) { return FormatTimestamp(t); }

}  // namespace

GovernorPolicy DefaultPolicy() { return GovernorPolicy{}; }

Result<GovernorPolicy> ParseStoredPolicy(const std::optional<std::string>& text) {
  if (!text) return DefaultPolicy();
  boost::system::error_code ec;
  boost::json::value v = ParseJsonExact(*text, ec);
  if (ec) return Error::Internal("the stored governor policy is not JSON");
  return ParsePolicy(v);
}

Timestamp LocalMidnight(std::string_view tz, int64_t day) {
  const date::time_zone* zone = FindZone(tz);
  if (!zone) zone = date::locate_zone("UTC");
  return ToSys(zone, date::local_days(date::days(day)), 0);
}

int64_t LocalDayOf(std::string_view tz, Timestamp t) {
  const date::time_zone* zone = FindZone(tz);
  if (!zone) zone = date::locate_zone("UTC");
  return LocalDay(zone, t).time_since_epoch().count();
}

GovernorDecision Decide(const GovernorPolicy& policy, const GovernorCandidate& candidate,
                        const GovernorFacts& facts) {
  Context c{policy, nullptr, {}, facts.frequency};
  c.zone = ZoneFor(facts.timezone, policy.timezone, c.zone_name);
  GovernorDecision d;
  if (candidate.in_global_holdout && policy.global_holdout > 0) {
    d.verdict = GovernorVerdict::kSkip;
    d.reason = fmt::format(
        "skipped: the contact is in the workspace's global holdout ({:g}% of contacts get no "
        "marketing mail, so its effect can be measured against them)",
        policy.global_holdout * 100);
    return d;
  }

  // First: where would it go, stopping at the first cap?
  Placement first = Place(c, candidate.topic, facts.recent, kNone, facts.now, /*stop_at_cap=*/true);
  if (first.at) {
    d.at = *first.at;
    if (*first.at == facts.now) return d;  // allowed now
    d.verdict = GovernorVerdict::kDefer;
    d.reason = fmt::format("deferred to {}: {}", Iso(*first.at), first.reason);
    return d;
  }
  if (first.capped) {
    // Priorities: a lower-priority queued message in every full window may yield its place.
    const GovernedMessage* victim = nullptr;
    for (const GovernedMessage& m : facts.recent) {
      if (m.state != MessageState::kQueued || m.priority >= candidate.priority) continue;
      bool frees_all = true;
      for (const Window& w : first.full)
        frees_all = frees_all && InWindow(w, m) && CountIn(w, facts.recent, m.id) < w.cap;
      if (!frees_all) continue;
      if (!victim || std::tuple(m.priority, -m.at.time_since_epoch().count(), -m.id) <
                         std::tuple(victim->priority, -victim->at.time_since_epoch().count(), -victim->id))
        victim = &m;
    }
    if (victim) {
      d.at = first.capped_at;
      d.verdict = first.capped_at == facts.now ? GovernorVerdict::kAllow : GovernorVerdict::kDefer;
      d.reason = fmt::format("took the place of message {} (priority {} over {})", victim->id,
                             candidate.priority, victim->priority);
      if (d.verdict == GovernorVerdict::kDefer)
        d.reason = fmt::format("deferred to {}: {}; {}", Iso(d.at), first.reason, d.reason);
      // The yielding message, decided again with the candidate counted in its place.
      std::vector<GovernedMessage> after(facts.recent.begin(), facts.recent.end());
      GovernedMessage placed;
      placed.id = kNone + 1;  // not stored yet
      placed.contact_id = victim->contact_id;
      placed.state = MessageState::kQueued;
      placed.at = d.at;
      placed.topic = candidate.topic;
      placed.priority = candidate.priority;
      after.push_back(std::move(placed));
      Yielded y;
      y.id = victim->id;
      std::string why = fmt::format("a message of priority {} took its place ({})", candidate.priority,
                                    first.full.front().reason);
      if (victim->skip_on_cap) {
        y.verdict = GovernorVerdict::kSkip;
        y.reason = "skipped: " + why;
      } else {
        Timestamp from = std::max(facts.now, victim->at);
        Placement again = Place(c, victim->topic, after, victim->id, from, /*stop_at_cap=*/false);
        if (again.at) {
          y.verdict = GovernorVerdict::kDefer;
          y.until = *again.at;
          y.reason = fmt::format("deferred to {}: {}", Iso(*again.at), why);
        } else {
          y.verdict = GovernorVerdict::kSkip;
          y.reason = fmt::format("skipped: {}, and no moment within {} days is free", why,
                                 std::chrono::duration_cast<std::chrono::hours>(kHorizon).count() / 24);
        }
      }
      d.yielded.push_back(std::move(y));
      return d;
    }
    if (candidate.skip_on_cap) {
      d.verdict = GovernorVerdict::kSkip;
      d.reason =
          fmt::format("skipped: {} (this send skips when a cap is reached)", first.full.front().reason);
      return d;
    }
    Placement later = Place(c, candidate.topic, facts.recent, kNone, facts.now, /*stop_at_cap=*/false);
    if (later.at) {
      d.verdict = GovernorVerdict::kDefer;
      d.at = *later.at;
      d.reason = fmt::format("deferred to {}: {}", Iso(*later.at), first.reason);
      return d;
    }
  }
  d.verdict = GovernorVerdict::kSkip;
  d.reason = fmt::format("skipped: no moment within {} days is free ({})",
                         std::chrono::duration_cast<std::chrono::hours>(kHorizon).count() / 24,
                         first.reason.empty() ? "caps" : first.reason);
  return d;
}

// ---- the JSON form ---------------------------------------------------------------------------

namespace {

Result<int> ParseCap(const boost::json::value& v, const std::string& field) {
  if (!v.is_int64() && !v.is_uint64())
    return Error::Invalid(field, "a cap is a whole number from 0 (no cap) to 1000");
  auto n = v.is_int64() ? v.get_int64() : static_cast<int64_t>(std::min<uint64_t>(v.get_uint64(), 100000));
  if (n < 0 || n > 1000) return Error::Invalid(field, "a cap is a whole number from 0 (no cap) to 1000");
  return static_cast<int>(n);
}

Result<Caps> ParseCaps(const boost::json::object& o, Caps base, const std::string& prefix) {
  for (const auto& [k, v] : o) {
    std::string field = prefix + std::string(k);
    if (k == "per_day") {
      RAPPORT_ASSIGN_OR_RETURN(base.per_day, ParseCap(v, field));
    } else if (k == "per_week") {
      RAPPORT_ASSIGN_OR_RETURN(base.per_week, ParseCap(v, field));
    }
  }
  return base;
}

Result<int> ParseHhmm(const boost::json::value& v, const std::string& field) {
  auto bad = [&] { return Error::Invalid(field, "a local time is \"HH:MM\" (00:00 to 23:59)"); };
  if (!v.is_string()) return bad();
  std::string_view s = v.get_string();
  if (s.size() != 5 || s[2] != ':') return bad();
  for (size_t i : {0u, 1u, 3u, 4u})
    if (s[i] < '0' || s[i] > '9') return bad();
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return bad();
  return h * 60 + m;
}

}  // namespace

Result<GovernorPolicy> ParsePolicy(const boost::json::value& json, const GovernorPolicy& base) {
  if (!json.is_object()) return Error::Invalid("body", "the governor policy is a JSON object");
  GovernorPolicy p = base;
  static constexpr std::string_view kKnown[] = {"enabled",     "per_day",  "per_week",      "topics",
                                                "quiet_hours", "timezone", "global_holdout"};
  for (const auto& [k, v] : json.get_object()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), std::string_view(k)) == std::end(kKnown))
      return Error::Invalid(k.empty() ? std::string("body") : std::string(k),
                            "unknown member (enabled, per_day, per_week, topics, quiet_hours, "
                            "timezone, global_holdout)");
    if (k == "enabled") {
      if (!v.is_bool()) return Error::Invalid("enabled", "enabled is true or false");
      p.enabled = v.get_bool();
    } else if (k == "per_day") {
      RAPPORT_ASSIGN_OR_RETURN(p.caps.per_day, ParseCap(v, "per_day"));
    } else if (k == "per_week") {
      RAPPORT_ASSIGN_OR_RETURN(p.caps.per_week, ParseCap(v, "per_week"));
    } else if (k == "topics") {
      if (!v.is_object()) return Error::Invalid("topics", "topics maps topic keys to {per_day, per_week}");
      std::map<std::string, Caps> topics;
      if (v.get_object().size() > 200) return Error::Invalid("topics", "at most 200 topic caps");
      for (const auto& [key, caps] : v.get_object()) {
        std::string field = "topics." + std::string(key);
        RAPPORT_TRY(ValidateSlug(key, field, "a topic key"));
        if (!caps.is_object()) return Error::Invalid(field, "a topic's caps are {per_day, per_week}");
        for (const auto& [ck, cv] : caps.get_object()) {
          (void)cv;
          if (ck != "per_day" && ck != "per_week")
            return Error::Invalid(field + "." + std::string(ck), "a topic's caps are per_day and per_week");
        }
        RAPPORT_ASSIGN_OR_RETURN(Caps parsed, ParseCaps(caps.get_object(), Caps{}, field + "."));
        topics[std::string(key)] = parsed;
      }
      p.topics = std::move(topics);
    } else if (k == "quiet_hours") {
      if (v.is_null()) {
        p.quiet_hours.reset();
        continue;
      }
      if (!v.is_object())
        return Error::Invalid("quiet_hours",
                              "quiet_hours is {\"start\": \"HH:MM\", \"end\": "
                              "\"HH:MM\"} or null");
      const auto& o = v.get_object();
      const auto* start = o.if_contains("start");
      const auto* end = o.if_contains("end");
      if (!start || !end || o.size() != 2)
        return Error::Invalid("quiet_hours",
                              "quiet_hours is {\"start\": \"HH:MM\", \"end\": \"HH:MM\"} or null");
      QuietHours q;
      RAPPORT_ASSIGN_OR_RETURN(q.start, ParseHhmm(*start, "quiet_hours.start"));
      RAPPORT_ASSIGN_OR_RETURN(q.end, ParseHhmm(*end, "quiet_hours.end"));
      if (q.start == q.end)
        return Error::Invalid("quiet_hours.end", "quiet hours end at another time than they start");
      p.quiet_hours = q;
    } else if (k == "timezone") {
      if (!v.is_string() || !FindZone(v.get_string()))
        return Error::Invalid("timezone", "timezone is an IANA time zone name (\"Europe/Berlin\")");
      p.timezone = std::string(v.get_string());
    } else if (k == "global_holdout") {
      const double share = v.is_double()  ? v.get_double()
                           : v.is_int64() ? static_cast<double>(v.get_int64())
                                          : -1;
      if (!(share >= 0 && share <= 0.5))
        return Error::Invalid("global_holdout",
                              "global_holdout is the share of contacts held out of all marketing "
                              "mail, from 0 to 0.5 (0.05 is 5%)");
      p.global_holdout = share;
    }
  }
  return p;
}

boost::json::object PolicyToJson(const GovernorPolicy& p) {
  boost::json::object o;
  o["enabled"] = p.enabled;
  o["per_day"] = p.caps.per_day;
  o["per_week"] = p.caps.per_week;
  boost::json::object topics;
  for (const auto& [k, caps] : p.topics) topics[k] = {{"per_day", caps.per_day}, {"per_week", caps.per_week}};
  o["topics"] = std::move(topics);
  if (p.quiet_hours)
    o["quiet_hours"] = {{"start", Hhmm(p.quiet_hours->start)}, {"end", Hhmm(p.quiet_hours->end)}};
  else
    o["quiet_hours"] = nullptr;
  o["timezone"] = p.timezone;
  o["global_holdout"] = p.global_holdout;
  return o;
}

}  // namespace rapport::campaign
