// Time in rapport, and the Clock through which engines read it.
//
// Timestamps are microseconds since the Unix epoch in UTC (Timestamp). Engines never call the
// system clock: they take a Clock&, so tests can run a month of journey time in a second with
// FakeClock. SystemClock and FakeClock are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
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

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  // The process-wide instance.
  static SystemClock& Instance();
};

// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(ToMicros(start)) {}
  Timestamp Now() const override { return FromMicros(now_.load()); }
  void Set(Timestamp t) { now_.store(ToMicros(t)); }
  void Advance(Micros d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace rapport
