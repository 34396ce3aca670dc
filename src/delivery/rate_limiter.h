// Rate control for delivery: a global rate, and per mailbox provider (domains grouped by
// ProviderGroup) a concurrency limit and a rate that adapts to the provider's pushback.
//
// Acquire() asks to send one message to a domain now: it is granted when a global token, a
// provider token and a free concurrency slot are available (all consumed), else it says when to
// ask again. Release() returns the slot with the SMTP code of the outcome. A 421, or a burst of
// 4xx (burst_threshold within burst_window), halves the provider's rate (not below min_rate, at
// most once per backoff_cooldown); after each recovery_interval without backoff the rate grows by
// recovery_step (additive increase) back to its ceiling. Rates are messages per second; 0 means
// unlimited (a provider with an unlimited rate starts adapting from `adaptive_start_rate` on its
// first backoff). Reads time only from the Clock: no I/O, no sleeping. Thread-safe (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace rapport::delivery {

struct ProviderLimits {
  int concurrency = 20;  // messages in flight at once
  double rate = 0;       // messages per second; 0 = unlimited
};

struct RateLimiterOptions {
  double global_rate = 0;  // messages per second; 0 = unlimited
  ProviderLimits default_limits;
  std::map<std::string, ProviderLimits> providers;  // by group name ("gmail.com")
  double adaptive_start_rate = 100;
  double min_rate = 0.1;
  double recovery_step = 1;  // messages per second added per interval
  Micros recovery_interval = std::chrono::seconds(60);
  Micros backoff_cooldown = std::chrono::seconds(10);
  int burst_threshold = 5;
  Micros burst_window = std::chrono::seconds(60);
};

struct Admission {
  bool granted = false;
  Timestamp retry_at{};  // when not granted: the earliest time asking again may succeed
  std::string group;
};

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimiterOptions options);

  Admission Acquire(std::string_view domain);
  // Gives back the slot taken by a granted Acquire, with the outcome's SMTP code (0 = no reply).
  void Release(std::string_view domain, int smtp_code);

  // The provider's current rate (messages per second; 0 = unlimited) and messages in flight.
  double CurrentRate(std::string_view domain);
  int InFlight(std::string_view domain) const;

 private:
  struct Bucket {
    double rate = 0;  // 0 = unlimited
    double tokens = 0;
    Timestamp refilled{};
    void Refill(Timestamp now);
    double Capacity() const { return rate < 1 ? 1 : rate; }  // one second's worth
  };
  struct Provider {
    ProviderLimits limits;
    Bucket bucket;
    double ceiling = 0;  // the configured rate (0 = unlimited)
    int in_flight = 0;
    Timestamp last_change{};
    Timestamp last_backoff{};
    bool backed_off = false;
    int soft_failures = 0;
    Timestamp window_start{};
  };

  Provider& Get(const std::string& group, Timestamp now);
  void Recover(Provider& p, Timestamp now);
  void Backoff(Provider& p, Timestamp now);

  const Clock& clock_;
  RateLimiterOptions options_;
  mutable std::mutex mu_;
  Bucket global_;                              // guarded by mu_
  std::map<std::string, Provider> providers_;  // guarded by mu_
};

}  // namespace rapport::delivery
