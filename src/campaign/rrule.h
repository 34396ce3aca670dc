// Recurrence rules (RFC 5545, section 3.3.10), the subset campaigns use (docs/campaigns.md,
// "Schedule"): FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (with ordinals like 1MO or -1FR in
// MONTHLY), BYMONTHDAY (1..31, -31..-1), BYHOUR, BYMINUTE, COUNT, UNTIL, WKST; DTSTART with a
// TZID: occurrences are wall-clock times in that zone (every Tuesday 10:00 stays 10:00 across a
// DST change). A wall time the zone skips (the spring-forward hour) is the instant the clocks
// jump; one that happens twice is the first. Anything else in a rule is refused with a message,
// never ignored.
//
// Pure and thread-safe (the tz database is read once by the date library).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace rapport::campaign {

// A wall-clock date and time (no zone).
struct LocalDateTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  auto operator<=>(const LocalDateTime&) const = default;
};

// "2026-12-08T10:00" or "2026-12-08T10:00:00" (also the basic form "20261208T100000").
std::optional<LocalDateTime> ParseLocalDateTime(std::string_view s);
std::string FormatLocalDateTime(const LocalDateTime& t);  // "2026-12-08T10:00:00"

// The instant of a wall time in `tz` (unknown zone: UTC), with the DST rules above.
Timestamp ToInstant(const LocalDateTime& t, std::string_view tz);
LocalDateTime ToLocal(Timestamp t, std::string_view tz);

// A wall-clock time of day, "HH:MM" in 24 hours (a campaign variant's send time).
struct TimeOfDay {
  int hour = 0, minute = 0;
  auto operator<=>(const TimeOfDay&) const = default;
};

// "09:00", "18:30": two digits, a colon, two digits, 00:00..23:59; nullopt for anything else
// ("9:00", "24:00", "25:00", "09:00:00", "evening").
std::optional<TimeOfDay> ParseTimeOfDay(std::string_view s);
std::string FormatTimeOfDay(const TimeOfDay& t);  // "09:00"

// The first instant at or after `from` whose wall time in `tz` (unknown zone: UTC) is `t`, with
// ToInstant's DST rules: a time of day the zone skips that day is the instant the clocks jump; one
// that happens twice is its first. It is less than a day after `from`, or up to 25 hours when the
// zone falls back in between.
Timestamp NextWallTime(Timestamp from, const TimeOfDay& t, std::string_view tz);

enum class Frequency { kDaily, kWeekly, kMonthly };

struct WeekdayRule {
  int weekday = 1;  // 0 Sunday .. 6 Saturday
  int ordinal = 0;  // 0: every; 1..5 or -1..-5 within the month (MONTHLY only)
  bool operator==(const WeekdayRule&) const = default;
};

struct RRule {
  Frequency freq = Frequency::kWeekly;
  int interval = 1;                 // 1..1000
  std::vector<WeekdayRule> by_day;  // empty: DTSTART's weekday (WEEKLY)
  std::vector<int> by_month_day;    // empty: DTSTART's day (MONTHLY without BYDAY)
  std::vector<int> by_hour;         // empty: DTSTART's hour
  std::vector<int> by_minute;       // empty: DTSTART's minute
  std::optional<int> count;         // 1..100000
  std::optional<Timestamp> until;   // inclusive; a floating UNTIL is read in the TZID
  std::optional<LocalDateTime> until_local;
  int week_start = 1;  // WKST, Monday by default
};

// Parses the RRULE value ("FREQ=WEEKLY;BYDAY=TU;BYHOUR=10"), with or without the "RRULE:" prefix.
// kInvalid (field "rrule") naming the part it refuses.
Result<RRule> ParseRRule(std::string_view text);
std::string FormatRRule(const RRule& rule);

// A rule anchored at its DTSTART in a zone: the schedule of a recurring campaign.
class Recurrence {
 public:
  // kInvalid for a bad rule (field "rrule"), a zone the tz database does not know (field "tzid").
  static Result<Recurrence> Make(std::string_view rrule, LocalDateTime dtstart, std::string tzid);
  // Parses an iCalendar fragment: "DTSTART;TZID=Europe/Paris:20261208T100000" and "RRULE:..." on
  // separate lines (CRLF or LF); a DTSTART ending in Z is UTC. What the fuzzer reads.
  static Result<Recurrence> ParseICal(std::string_view text);

  struct Occurrence {
    int64_t seq = 0;      // 1-based: the n-th occurrence from DTSTART
    LocalDateTime local;  // the wall time in the TZID
    Timestamp at{};       // its instant
  };
  // The first occurrence whose instant is strictly after `after`; nullopt when the rule has ended
  // (COUNT, UNTIL) or none exists within the next 1000 years of periods.
  std::optional<Occurrence> Next(Timestamp after) const;
  // The occurrence with this sequence number; nullopt past the end.
  std::optional<Occurrence> Nth(int64_t seq) const;
  // Occurrences with instants in [from, to), at most `max`.
  std::vector<Occurrence> Between(Timestamp from, Timestamp to, size_t max = 1000) const;

  const RRule& rule() const { return rule_; }
  const LocalDateTime& dtstart() const { return dtstart_; }
  const std::string& tzid() const { return tzid_; }

 private:
  // Walks the occurrences in order from DTSTART; stops when fn returns false.
  template <class Fn>
  void Walk(Fn&& fn) const;
  RRule rule_;
  LocalDateTime dtstart_;
  std::string tzid_;
};

}  // namespace rapport::campaign
