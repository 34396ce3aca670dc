#include "core/clock.h"

#include <date/date.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iterator>

namespace rapport {

Timestamp SystemClock::Now() const {
  return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
}

void Alarm::Ring() {
  std::lock_guard lock(mu_);
  rung_ = true;
  cv_.notify_all();
}

bool SystemClock::SleepUntil(Timestamp deadline, Alarm& alarm) const {
  // One wait lasts at most this long, so a step of the wall clock is noticed soon.
  constexpr Micros kLongestWait = std::chrono::seconds(1);
  std::unique_lock lock(alarm.mu_);
  for (;;) {
    Timestamp now = Now();
    if (now >= deadline) return true;
    if (alarm.rung_) {
      alarm.rung_ = false;
      return false;
    }
    alarm.cv_.wait_for(lock, std::min<Micros>(deadline - now, kLongestWait));
  }
}

bool FakeClock::SleepUntil(Timestamp deadline, Alarm& alarm) const {
  std::multimap<int64_t, Alarm*>::iterator entry;
  {
    std::lock_guard lock(mu_);
    entry = sleepers_.emplace(ToMicros(deadline), &alarm);
    sleepers_changed_.notify_all();
  }
  bool reached;
  {
    std::unique_lock lock(alarm.mu_);
    alarm.cv_.wait(lock, [&] { return alarm.rung_ || Now() >= deadline; });
    reached = Now() >= deadline;
    if (!reached) alarm.rung_ = false;
  }
  std::lock_guard lock(mu_);
  sleepers_.erase(entry);
  sleepers_changed_.notify_all();
  return reached;
}

void FakeClock::Set(Timestamp t) {
  {
    std::lock_guard lock(mu_);  // so AwaitSleepers never reads a half-moved time
    now_.store(ToMicros(t));
  }
  WakeDue();
}

void FakeClock::Advance(Micros d) {
  {
    std::lock_guard lock(mu_);
    now_.fetch_add(d.count());
  }
  WakeDue();
}

void FakeClock::WakeDue() const {
  int64_t now = now_.load();
  std::lock_guard lock(mu_);
  for (auto it = sleepers_.begin(); it != sleepers_.end() && it->first <= now; ++it) {
    // Taking the sleeper's mutex orders this notify after its check of the time.
    std::lock_guard alarm_lock(it->second->mu_);
    it->second->cv_.notify_all();
  }
}

std::optional<Timestamp> FakeClock::NextDeadline() const {
  std::lock_guard lock(mu_);
  auto it = sleepers_.upper_bound(now_.load());
  if (it == sleepers_.end()) return std::nullopt;
  return FromMicros(it->first);
}

bool FakeClock::AdvanceToNextDeadline() {
  std::optional<Timestamp> next = NextDeadline();
  if (!next) return false;
  if (*next > Now()) Set(*next);
  return true;
}

bool FakeClock::AwaitSleepers(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return sleepers_changed_.wait_for(lock, timeout, [&] {
    return static_cast<size_t>(std::distance(sleepers_.upper_bound(now_.load()), sleepers_.end())) >= n;
  });
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
