#include "core/clock.h"

#include <date/date.h>

#include <charconv>
#include <cstdio>

namespace rapport {

Timestamp SystemClock::Now() const {
  return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

std::string FormatTimestamp(Timestamp t) {
  auto day = std::chrono::floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<Micros> hms{t - day};
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", int(ymd.year()),
                        unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                        int(hms.minutes().count()), int(hms.seconds().count()));
  auto frac = hms.subseconds().count();
  if (frac != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(frac));
  std::string out(buf, n);
  out.push_back('Z');
  return out;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::optional<date::sys_days> ParseDate(std::string_view s) {
  int y, m, d;
  if (s.size() < 10 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, m) || s[7] != '-' ||
      !Digits(s, 8, 2, d))
    return std::nullopt;
  date::year_month_day ymd{date::year(y), date::month(unsigned(m)), date::day(unsigned(d))};
  if (!ymd.ok()) return std::nullopt;
  return date::sys_days(ymd);
}

}  // namespace

bool IsIsoDate(std::string_view s) { return s.size() == 10 && ParseDate(s).has_value(); }

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  auto day = ParseDate(s);
  if (!day || s.size() < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return std::nullopt;
  int hh, mm, ss;
  if (!Digits(s, 11, 2, hh) || s[13] != ':' || !Digits(s, 14, 2, mm) || s[16] != ':' ||
      !Digits(s, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (ss == 60) ss = 59;  // leap second: clamp
  Timestamp t = std::chrono::time_point_cast<Micros>(*day) + std::chrono::hours(hh) +
                std::chrono::minutes(mm) + std::chrono::seconds(ss) + Micros(micros) -
                std::chrono::minutes(offset_minutes);
  return t;
}

}  // namespace rapport
