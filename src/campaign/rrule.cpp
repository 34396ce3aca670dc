#include "campaign/rrule.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace rapport::campaign {

namespace {

constexpr size_t kMaxRuleBytes = 1024;
constexpr size_t kMaxListItems = 60;
constexpr int kMaxYears = 1000;  // a rule that yields nothing within this many years has ended

const date::time_zone* Zone(std::string_view tz) {
  if (tz.empty()) return nullptr;
  try {
    return date::locate_zone(std::string(tz));
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<int> Int(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  const char* b = s.data();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

constexpr std::array<std::string_view, 7> kDays = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

std::optional<int> DayIndex(std::string_view s) {
  for (size_t i = 0; i < kDays.size(); ++i)
    if (kDays[i] == s) return static_cast<int>(i);
  return std::nullopt;
}

Error Bad(std::string msg) { return Error::Invalid("rrule", std::move(msg)); }

Result<std::vector<int>> IntList(std::string_view key, std::string_view value, int lo, int hi, bool no_zero) {
  std::vector<int> out;
  auto items = Split(value, ',');
  if (items.size() > kMaxListItems) return Bad(fmt::format("{} has too many values", key));
  for (std::string_view item : items) {
    auto v = Int(item);
    if (!v || *v < lo || *v > hi || (no_zero && *v == 0))
      return Bad(
          fmt::format("{} takes numbers {}..{}{}, not '{}'", key, lo, hi, no_zero ? " except 0" : "", item));
    out.push_back(*v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

date::sys_days Days(const LocalDateTime& t) {
  return date::sys_days(date::year{t.year} / date::month{static_cast<unsigned>(t.month)} /
                        date::day{static_cast<unsigned>(t.day)});
}

LocalDateTime FromDays(date::sys_days d, int hour, int minute, int second) {
  date::year_month_day ymd(d);
  return {int(ymd.year()),
          static_cast<int>(unsigned(ymd.month())),
          static_cast<int>(unsigned(ymd.day())),
          hour,
          minute,
          second};
}

bool ValidDate(const LocalDateTime& t) {
  if (t.year < 1900 || t.year > 9999) return false;
  date::year_month_day ymd{date::year{t.year}, date::month{static_cast<unsigned>(t.month)},
                           date::day{static_cast<unsigned>(t.day)}};
  return ymd.ok() && t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 && t.second >= 0 &&
         t.second < 60;
}

// "YYYYMMDD[THHMMSS[Z]]" -> (local time, utc?)
std::optional<std::pair<LocalDateTime, bool>> ParseBasic(std::string_view s) {
  auto num = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    for (size_t i = at; i < at + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    return Int(s.substr(at, n));
  };
  LocalDateTime t;
  auto y = num(0, 4), mo = num(4, 2), d = num(6, 2);
  if (!y || !mo || !d) return std::nullopt;
  t.year = *y;
  t.month = *mo;
  t.day = *d;
  bool utc = false;
  if (s.size() == 8) {
    t.hour = 23;
    t.minute = 59;
    t.second = 59;  // a date alone: the whole day
  } else {
    if (s.size() < 15 || s[8] != 'T') return std::nullopt;
    auto h = num(9, 2), mi = num(11, 2), se = num(13, 2);
    if (!h || !mi || !se) return std::nullopt;
    t.hour = *h;
    t.minute = *mi;
    t.second = *se;
    if (s.size() == 16 && s[15] == 'Z') {
      utc = true;
    } else if (s.size() != 15) {
      return std::nullopt;
    }
  }
  if (!ValidDate(t)) return std::nullopt;
  return std::make_pair(t, utc);
}

}  // namespace

std::optional<LocalDateTime> ParseLocalDateTime(std::string_view s) {
  if (s.size() >= 15 && s.size() <= 16 && s.find('-') == std::string_view::npos) {
    auto b = ParseBasic(s);
    if (!b || b->second) return std::nullopt;
    return b->first;
  }
  // YYYY-MM-DDTHH:MM[:SS]
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':') return std::nullopt;
  if (s.size() == 19 && s[16] != ':') return std::nullopt;
  auto y = Int(s.substr(0, 4)), mo = Int(s.substr(5, 2)), d = Int(s.substr(8, 2)), h = Int(s.substr(11, 2)),
       mi = Int(s.substr(14, 2));
  std::optional<int> se = s.size() == 19 ? Int(s.substr(17, 2)) : std::optional<int>(0);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  LocalDateTime t{*y, *mo, *d, *h, *mi, *se};
  if (!ValidDate(t)) return std::nullopt;
  return t;
}

std::string FormatLocalDateTime(const LocalDateTime& t) {
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour, t.minute,
                     t.second);
}

Timestamp ToInstant(const LocalDateTime& t, std::string_view tz) {
  date::local_seconds local{
      (Days(t) + std::chrono::hours(t.hour) + std::chrono::minutes(t.minute) + std::chrono::seconds(t.second))
          .time_since_epoch()};
  const date::time_zone* zone = Zone(tz);
  date::sys_seconds sys{local.time_since_epoch()};
  if (zone) {
    // earliest: a repeated wall time is its first instant; a skipped one is the transition.
    sys = zone->to_sys(local, date::choose::earliest);
    auto info = zone->get_info(local);
    if (info.result == date::local_info::nonexistent) sys = info.first.end;
  }
  return Timestamp(std::chrono::duration_cast<Micros>(sys.time_since_epoch()));
}

LocalDateTime ToLocal(Timestamp t, std::string_view tz) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
  date::sys_seconds sys{secs};
  date::local_seconds local{sys.time_since_epoch()};
  if (const date::time_zone* zone = Zone(tz)) local = zone->to_local(sys);
  auto day = std::chrono::floor<date::days>(local);
  auto tod = date::hh_mm_ss<std::chrono::seconds>(local - day);
  return FromDays(date::sys_days(day.time_since_epoch()), static_cast<int>(tod.hours().count()),
                  static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()));
}

std::optional<TimeOfDay> ParseTimeOfDay(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i)
    if (i != 2 && !std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  TimeOfDay t{(s[0] - '0') * 10 + (s[1] - '0'), (s[3] - '0') * 10 + (s[4] - '0')};
  if (t.hour > 23 || t.minute > 59) return std::nullopt;
  return t;
}

std::string FormatTimeOfDay(const TimeOfDay& t) { return fmt::format("{:02}:{:02}", t.hour, t.minute); }

Timestamp NextWallTime(Timestamp from, const TimeOfDay& t, std::string_view tz) {
  LocalDateTime day = ToLocal(from, tz);
  day.hour = t.hour;
  day.minute = t.minute;
  day.second = 0;
  const Timestamp today = ToInstant(day, tz);
  if (today >= from) return today;
  return ToInstant(FromDays(Days(day) + date::days(1), t.hour, t.minute, 0), tz);
}

Result<RRule> ParseRRule(std::string_view text) {
  if (text.size() > kMaxRuleBytes) return Bad("a rule is at most 1024 bytes");
  std::string upper = Upper(text);
  std::string_view s = upper;
  if (s.starts_with("RRULE:")) s.remove_prefix(6);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.empty()) return Bad("an empty rule");
  RRule r;
  std::set<std::string, std::less<>> seen;
  bool has_freq = false;
  for (std::string_view part : Split(s, ';')) {
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size())
      return Bad(fmt::format("'{}' is not NAME=VALUE", part.substr(0, 40)));
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (!seen.insert(std::string(key)).second) return Bad(fmt::format("{} is given twice", key));
    if (key == "FREQ") {
      has_freq = true;
      if (value == "DAILY") {
        r.freq = Frequency::kDaily;
      } else if (value == "WEEKLY") {
        r.freq = Frequency::kWeekly;
      } else if (value == "MONTHLY") {
        r.freq = Frequency::kMonthly;
      } else {
        return Bad(fmt::format("FREQ={} is not supported (DAILY, WEEKLY or MONTHLY)", value.substr(0, 20)));
      }
    } else if (key == "INTERVAL") {
      auto v = Int(value);
      if (!v || *v < 1 || *v > 1000) return Bad("INTERVAL is 1..1000");
      r.interval = *v;
    } else if (key == "COUNT") {
      auto v = Int(value);
      if (!v || *v < 1 || *v > 100000) return Bad("COUNT is 1..100000");
      r.count = *v;
    } else if (key == "UNTIL") {
      auto b = ParseBasic(value);
      if (!b) return Bad("UNTIL is YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ");
      if (b->second) {
        r.until = ToInstant(b->first, "UTC");
      } else {
        r.until_local = b->first;
      }
    } else if (key == "BYDAY") {
      auto items = Split(value, ',');
      if (items.size() > kMaxListItems) return Bad("BYDAY has too many values");
      for (std::string_view item : items) {
        if (item.size() < 2) return Bad(fmt::format("BYDAY '{}' is not a weekday", item));
        auto day = DayIndex(item.substr(item.size() - 2));
        if (!day) return Bad(fmt::format("BYDAY '{}' is not a weekday (SU, MO, TU, WE, TH, FR, SA)", item));
        WeekdayRule w{*day, 0};
        if (item.size() > 2) {
          auto ord = Int(item.substr(0, item.size() - 2));
          if (!ord || *ord == 0 || *ord < -5 || *ord > 5)
            return Bad(fmt::format("BYDAY '{}': the ordinal is 1..5 or -5..-1", item));
          w.ordinal = *ord;
        }
        if (std::find(r.by_day.begin(), r.by_day.end(), w) == r.by_day.end()) r.by_day.push_back(w);
      }
    } else if (key == "BYMONTHDAY") {
      RAPPORT_ASSIGN_OR_RETURN(r.by_month_day, IntList(key, value, -31, 31, true));
    } else if (key == "BYHOUR") {
      RAPPORT_ASSIGN_OR_RETURN(r.by_hour, IntList(key, value, 0, 23, false));
    } else if (key == "BYMINUTE") {
      RAPPORT_ASSIGN_OR_RETURN(r.by_minute, IntList(key, value, 0, 59, false));
    } else if (key == "WKST") {
      auto day = DayIndex(value);
      if (!day) return Bad("WKST is a weekday (SU, MO, ...)");
      r.week_start = *day;
    } else {
      return Bad(
          fmt::format("{} is not supported (FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYHOUR, "
                      "BYMINUTE, WKST)",
                      key.substr(0, 20)));
    }
  }
  if (!has_freq) return Bad("a rule needs FREQ");
  if (r.count && (r.until || r.until_local)) return Bad("COUNT and UNTIL cannot both be given");
  bool ordinals =
      std::any_of(r.by_day.begin(), r.by_day.end(), [](const WeekdayRule& w) { return w.ordinal; });
  if (ordinals && r.freq != Frequency::kMonthly) return Bad("BYDAY with an ordinal (1MO) needs FREQ=MONTHLY");
  if (!r.by_month_day.empty() && r.freq == Frequency::kWeekly)
    return Bad("BYMONTHDAY cannot be used with WEEKLY");
  return r;
}

std::string FormatRRule(const RRule& r) {
  std::string out = "FREQ=";
  out += r.freq == Frequency::kDaily ? "DAILY" : r.freq == Frequency::kWeekly ? "WEEKLY" : "MONTHLY";
  if (r.interval != 1) out += fmt::format(";INTERVAL={}", r.interval);
  auto list = [&](std::string_view key, const std::vector<int>& v) {
    if (v.empty()) return;
    out += fmt::format(";{}=", key);
    for (size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{}", i ? "," : "", v[i]);
  };
  if (!r.by_day.empty()) {
    out += ";BYDAY=";
    for (size_t i = 0; i < r.by_day.size(); ++i) {
      if (i) out += ",";
      if (r.by_day[i].ordinal) out += std::to_string(r.by_day[i].ordinal);
      out += kDays[static_cast<size_t>(r.by_day[i].weekday)];
    }
  }
  list("BYMONTHDAY", r.by_month_day);
  list("BYHOUR", r.by_hour);
  list("BYMINUTE", r.by_minute);
  if (r.week_start != 1) out += fmt::format(";WKST={}", kDays[static_cast<size_t>(r.week_start)]);
  if (r.count) out += fmt::format(";COUNT={}", *r.count);
  if (r.until) {
    LocalDateTime u = ToLocal(*r.until, "UTC");
    out += fmt::format(";UNTIL={:04}{:02}{:02}T{:02}{:02}{:02}Z", u.year, u.month, u.day, u.hour, u.minute,
                       u.second);
  } else if (r.until_local) {
    const LocalDateTime& u = *r.until_local;
    out += fmt::format(";UNTIL={:04}{:02}{:02}T{:02}{:02}{:02}", u.year, u.month, u.day, u.hour, u.minute,
                       u.second);
  }
  return out;
}

Result<Recurrence> Recurrence::Make(std::string_view rrule, LocalDateTime dtstart, std::string tzid) {
  Recurrence rec;
  RAPPORT_ASSIGN_OR_RETURN(rec.rule_, ParseRRule(rrule));
  if (!ValidDate(dtstart)) return Error::Invalid("dtstart", "DTSTART is not a valid date and time");
  if (tzid.empty()) tzid = "UTC";
  if (!Zone(tzid)) return Error::Invalid("tzid", fmt::format("unknown time zone '{}'", tzid.substr(0, 64)));
  rec.dtstart_ = dtstart;
  rec.tzid_ = std::move(tzid);
  return rec;
}

Result<Recurrence> Recurrence::ParseICal(std::string_view text) {
  if (text.size() > 4096) return Bad("an iCalendar fragment is at most 4096 bytes");
  std::optional<LocalDateTime> start;
  std::string tz = "UTC";
  std::string rule;
  for (std::string_view line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string upper = Upper(line);
    if (upper.starts_with("DTSTART")) {
      size_t colon = line.rfind(':');
      if (colon == std::string_view::npos) return Error::Invalid("dtstart", "DTSTART needs a value");
      std::string_view params = line.substr(7, colon - 7);
      auto b = ParseBasic(line.substr(colon + 1));
      if (!b || line.size() - colon - 1 < 15)
        return Error::Invalid("dtstart", "DTSTART is YYYYMMDDTHHMMSS[Z]");
      start = b->first;
      if (b->second) {
        tz = "UTC";
      } else if (!params.empty()) {
        std::string up = Upper(params);
        if (!up.starts_with(";TZID="))
          return Error::Invalid("dtstart", "DTSTART takes only a TZID parameter");
        tz = std::string(params.substr(6));
      }
    } else if (upper.starts_with("RRULE:")) {
      if (!rule.empty()) return Bad("one RRULE only");
      rule = std::string(line.substr(6));
    } else {
      return Bad("only DTSTART and RRULE lines are read");
    }
  }
  if (!start) return Error::Invalid("dtstart", "DTSTART is missing");
  if (rule.empty()) return Bad("RRULE is missing");
  return Make(rule, *start, tz);
}

template <class Fn>
void Recurrence::Walk(Fn&& fn) const {
  const RRule& r = rule_;
  std::vector<int> hours = r.by_hour.empty() ? std::vector<int>{dtstart_.hour} : r.by_hour;
  std::vector<int> minutes = r.by_minute.empty() ? std::vector<int>{dtstart_.minute} : r.by_minute;
  const date::sys_days start_day = Days(dtstart_);
  const int64_t max_periods = r.freq == Frequency::kDaily    ? 366LL * kMaxYears
                              : r.freq == Frequency::kWeekly ? 53LL * kMaxYears
                                                             : 12LL * kMaxYears;
  auto weekday_of = [](date::sys_days d) { return static_cast<int>(date::weekday(d).c_encoding()); };
  auto day_filter = [&](date::sys_days d) {
    if (!r.by_day.empty() && r.freq != Frequency::kMonthly) {
      int wd = weekday_of(d);
      if (std::none_of(r.by_day.begin(), r.by_day.end(),
                       [&](const WeekdayRule& w) { return w.weekday == wd; }))
        return false;
    }
    if (!r.by_month_day.empty() && r.freq == Frequency::kDaily) {
      date::year_month_day ymd(d);
      int day = static_cast<int>(unsigned(ymd.day()));
      int last = static_cast<int>(unsigned((ymd.year() / ymd.month() / date::last).day()));
      if (std::none_of(r.by_month_day.begin(), r.by_month_day.end(),
                       [&](int m) { return m > 0 ? m == day : last + 1 + m == day; }))
        return false;
    }
    return true;
  };
  int64_t seq = 0;
  std::optional<Timestamp> until = r.until;
  if (r.until_local) until = ToInstant(*r.until_local, tzid_);
  std::vector<date::sys_days> days;
  for (int64_t p = 0; p < max_periods; ++p) {
    days.clear();
    if (r.freq == Frequency::kDaily) {
      date::sys_days d = start_day + date::days(p * r.interval);
      if (day_filter(d)) days.push_back(d);
    } else if (r.freq == Frequency::kWeekly) {
      int back = (weekday_of(start_day) - r.week_start + 7) % 7;
      date::sys_days week = start_day - date::days(back) + date::days(p * 7 * r.interval);
      for (int i = 0; i < 7; ++i) {
        date::sys_days d = week + date::days(i);
        int wd = weekday_of(d);
        bool take = r.by_day.empty() ? wd == weekday_of(start_day)
                                     : std::any_of(r.by_day.begin(), r.by_day.end(),
                                                   [&](const WeekdayRule& w) { return w.weekday == wd; });
        if (take) days.push_back(d);
      }
    } else {
      date::year_month ym = date::year{dtstart_.year} / date::month{static_cast<unsigned>(dtstart_.month)} +
                            date::months(p * r.interval);
      if (int(ym.year()) > 9999) break;
      date::sys_days first = date::sys_days(ym / 1);
      int last = static_cast<int>(unsigned((ym / date::last).day()));
      std::set<int> from_monthdays, from_days;
      for (int m : r.by_month_day) {
        int day = m > 0 ? m : last + 1 + m;
        if (day >= 1 && day <= last) from_monthdays.insert(day);
      }
      for (const WeekdayRule& w : r.by_day) {
        std::vector<int> matches;
        for (int day = 1; day <= last; ++day)
          if (weekday_of(first + date::days(day - 1)) == w.weekday) matches.push_back(day);
        if (w.ordinal == 0) {
          from_days.insert(matches.begin(), matches.end());
        } else {
          int n = static_cast<int>(matches.size());
          int idx = w.ordinal > 0 ? w.ordinal - 1 : n + w.ordinal;
          if (idx >= 0 && idx < n) from_days.insert(matches[static_cast<size_t>(idx)]);
        }
      }
      std::set<int> chosen;
      if (r.by_day.empty() && r.by_month_day.empty()) {
        if (dtstart_.day <= last) chosen.insert(dtstart_.day);
      } else if (r.by_day.empty()) {
        chosen = from_monthdays;
      } else if (r.by_month_day.empty()) {
        chosen = from_days;
      } else {
        for (int d : from_days)
          if (from_monthdays.count(d)) chosen.insert(d);
      }
      for (int d : chosen) days.push_back(first + date::days(d - 1));
    }
    for (date::sys_days d : days) {
      for (int h : hours) {
        for (int m : minutes) {
          LocalDateTime local = FromDays(d, h, m, dtstart_.second);
          if (local < dtstart_) continue;
          Timestamp at = ToInstant(local, tzid_);
          if (until && at > *until) return;
          ++seq;
          if (!fn(Occurrence{seq, local, at})) return;
          if (r.count && seq >= *r.count) return;
        }
      }
    }
  }
}

std::optional<Recurrence::Occurrence> Recurrence::Next(Timestamp after) const {
  std::optional<Occurrence> out;
  Walk([&](const Occurrence& o) {
    if (o.at > after) {
      out = o;
      return false;
    }
    return true;
  });
  return out;
}

std::optional<Recurrence::Occurrence> Recurrence::Nth(int64_t seq) const {
  std::optional<Occurrence> out;
  if (seq < 1) return out;
  Walk([&](const Occurrence& o) {
    if (o.seq == seq) {
      out = o;
      return false;
    }
    return true;
  });
  return out;
}

std::vector<Recurrence::Occurrence> Recurrence::Between(Timestamp from, Timestamp to, size_t max) const {
  std::vector<Occurrence> out;
  Walk([&](const Occurrence& o) {
    if (o.at >= to) return false;
    if (o.at >= from) out.push_back(o);
    return out.size() < max;
  });
  return out;
}

}  // namespace rapport::campaign
