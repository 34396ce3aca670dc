#include "automation/local_time.h"

#include <algorithm>

#include <date/date.h>
#include <date/tz.h>

namespace rapport::automation {

namespace {

const date::time_zone* Zone(std::string_view tz) {
  if (!tz.empty()) {
    try {
      return date::locate_zone(tz);
    } catch (const std::exception&) {
    }
  }
  return date::locate_zone("UTC");
}

Timestamp ToSys(const date::time_zone* zone, date::local_days day, int hour, int minute) {
  auto local = date::local_seconds(day) + std::chrono::hours(hour) + std::chrono::minutes(minute);
  date::local_info info = zone->get_info(local);
  date::sys_seconds sys;
  if (info.result == date::local_info::nonexistent)
    sys = info.first.end;  // the clocks jumped over this time: the instant they did
  else
    sys = date::sys_seconds((local - info.first.offset).time_since_epoch());
  return std::chrono::time_point_cast<Timestamp::duration>(sys);
}

date::local_days LocalDay(const date::time_zone* zone, Timestamp t) {
  auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(t));
  return date::floor<date::days>(local);
}

}  // namespace

std::optional<int> ParseWeekday(std::string_view s) {
  static constexpr std::string_view kShort[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  static constexpr std::string_view kLong[] = {"sunday",   "monday", "tuesday", "wednesday",
                                               "thursday", "friday", "saturday"};
  for (int i = 0; i < 7; ++i)
    if (s == kShort[i] || s == kLong[i]) return i;
  return std::nullopt;
}

Timestamp NextLocalTime(Timestamp after, std::string_view tz, int hour, int minute,
                        const std::vector<int>& weekdays) {
  const date::time_zone* zone = Zone(tz);
  date::local_days day = LocalDay(zone, after) - date::days(1);
  for (int i = 0; i < 10; ++i, day += date::days(1)) {
    if (!weekdays.empty()) {
      int wd = static_cast<int>(date::weekday(day).c_encoding());
      bool ok = false;
      for (int w : weekdays) ok = ok || w == wd;
      if (!ok) continue;
    }
    Timestamp t = ToSys(zone, day, hour, minute);
    if (t > after) return t;
  }
  return after + std::chrono::hours(24);  // unreachable: some day of ten matches
}

std::optional<Timestamp> NextAnniversary(std::string_view text, Timestamp after, std::string_view tz,
                                         int hour, int minute) {
  const date::time_zone* zone = Zone(tz);
  date::year_month_day ymd;
  if (IsIsoDate(text)) {
    int y = std::stoi(std::string(text.substr(0, 4)));
    unsigned m = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
    unsigned d = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
    ymd = date::year(y) / date::month(m) / date::day(d);
  } else if (auto t = ParseTimestamp(text)) {
    ymd = date::year_month_day(LocalDay(zone, *t));  // an instant (created_at): its day where the contact is
  } else {
    return std::nullopt;
  }
  if (!ymd.month().ok() || !ymd.day().ok()) return std::nullopt;
  date::year_month_day today(LocalDay(zone, after));
  // The first anniversary is a year after the date: a contact who signs up at 07:00 is not
  // thanked for "one more year" at 09:00 the same day.
  int first = std::max(static_cast<int>(today.year()) - 1, static_cast<int>(ymd.year()) + 1);
  for (int y = first; y <= first + 2; ++y) {
    date::year_month_day at = date::year(y) / ymd.month() / ymd.day();
    if (!at.ok()) at = date::year(y) / ymd.month() / date::last;  // 29 February in a common year
    Timestamp t = ToSys(zone, date::local_days{at}, hour, minute);
    if (t > after) return t;
  }
  return std::nullopt;
}

}  // namespace rapport::automation
