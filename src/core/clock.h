// Time in rapport, and the Clock through which engines read it.
//
// Timestamps are microseconds since the Unix epoch in UTC (Timestamp). Engines never call the
// system clock: they take a Clock&, so tests can run a month of journey time in a second with
// FakeClock. SystemClock and FakeClock are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace rapport {

using Micros = std::chrono::microseconds;
using Timestamp = std::chrono::sys_time<Micros>;

inline int64_t ToMicros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp FromMicros(int64_t us) { return Timestamp(Micros(us)); }

// RFC 3339 in UTC with microseconds when they are not zero: "2026-11-23T10:15:00Z",
// "2026-11-23T10:15:00.123456Z".
std::string FormatTimestamp(Timestamp t);
// Parses RFC 3339 / ISO 8601 date-times with 'Z' or a numeric offset, with optional
// fractional seconds. Returns nullopt on anything else.
std::optional<Timestamp> ParseTimestamp(std::string_view s);
// A calendar date "YYYY-MM-DD" (validated, including the day of the month).
bool IsIsoDate(std::string_view s);

// Wakes a sleeping engine before its deadline: new work arrived, or Stop(). A ring is kept until a
// SleepUntil consumes it, so a ring that comes just before the sleep is not lost. Thread-safe.
class Alarm {
 public:
  void Ring();

 private:
  friend class SystemClock;
  friend class FakeClock;
  std::mutex mu_;
  std::condition_variable cv_;
  bool rung_ = false;
};

// Time, and waiting for it. Engines read the time and sleep only through a Clock, so a test with
// a FakeClock runs a month of journey time in a second.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
  // Blocks until Now() >= deadline or `alarm` rings (the ring is consumed). Returns true when the
  // deadline was reached, false when the alarm woke it first. Thread-safe; several threads may
  // sleep at once, each on its own Alarm.
  virtual bool SleepUntil(Timestamp deadline, Alarm& alarm) const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  // Sleeps on the monotonic clock, re-reading the wall clock when it wakes, so a step of the
  // system time neither fires timers early nor holds them for the length of the step.
  bool SleepUntil(Timestamp deadline, Alarm& alarm) const override;
  // The process-wide instance.
  static SystemClock& Instance();
};

// A clock that moves only when told; sleepers wake when Set or Advance reach their deadline.
// Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(ToMicros(start)) {}
  Timestamp Now() const override { return FromMicros(now_.load()); }
  bool SleepUntil(Timestamp deadline, Alarm& alarm) const override;
  void Set(Timestamp t);
  void Advance(Micros d);
  // The earliest deadline still ahead of Now() that a thread sleeps until, if any.
  std::optional<Timestamp> NextDeadline() const;
  // Moves time to NextDeadline() (waking that sleeper); false when no deadline is ahead.
  bool AdvanceToNextDeadline();
  // Waits (in real time, up to `timeout`) until at least `n` threads sleep on this clock with a
  // deadline still ahead; for tests that must know an engine has gone back to sleep before they
  // move time.
  bool AwaitSleepers(size_t n, std::chrono::milliseconds timeout) const;

 private:
  void WakeDue() const;
  std::atomic<int64_t> now_;
  mutable std::mutex mu_;  // guards sleepers_
  mutable std::condition_variable sleepers_changed_;
  mutable std::multimap<int64_t, Alarm*> sleepers_;  // deadline -> alarm of a sleeping thread
};

}  // namespace rapport
