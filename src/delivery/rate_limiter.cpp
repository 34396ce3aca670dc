#include "delivery/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "delivery/provider_groups.h"

namespace rapport::delivery {
namespace {

double Seconds(Micros d) { return static_cast<double>(d.count()) / 1e6; }
Micros FromSeconds(double s) { return Micros(static_cast<int64_t>(std::ceil(s * 1e6))); }

}  // namespace

void RateLimiter::Bucket::Refill(Timestamp now) {
  if (rate <= 0) return;
  if (now > refilled) {
    tokens = std::min(Capacity(), tokens + Seconds(now - refilled) * rate);
    refilled = now;
  }
}

RateLimiter::RateLimiter(const Clock& clock, RateLimiterOptions options)
    : clock_(clock), options_(std::move(options)) {
  global_.rate = options_.global_rate;
  global_.tokens = global_.Capacity();
  global_.refilled = clock_.Now();
}

RateLimiter::Provider& RateLimiter::Get(const std::string& group, Timestamp now) {
  auto it = providers_.find(group);
  if (it != providers_.end()) return it->second;
  Provider p;
  auto cfg = options_.providers.find(group);
  p.limits = cfg != options_.providers.end() ? cfg->second : options_.default_limits;
  p.ceiling = p.limits.rate;
  p.bucket.rate = p.limits.rate;
  p.bucket.tokens = p.bucket.Capacity();
  p.bucket.refilled = now;
  p.last_change = now;
  p.window_start = now;
  return providers_.emplace(group, p).first->second;
}

void RateLimiter::Recover(Provider& p, Timestamp now) {
  if (!p.backed_off) return;
  if (now - p.last_change < options_.recovery_interval) return;
  auto intervals = (now - p.last_change) / options_.recovery_interval;
  p.bucket.Refill(now);
  p.bucket.rate += options_.recovery_step * static_cast<double>(intervals);
  p.last_change += options_.recovery_interval * intervals;
  double ceiling = p.ceiling > 0 ? p.ceiling : options_.adaptive_start_rate;
  if (p.bucket.rate >= ceiling) {
    p.bucket.rate = p.ceiling;  // back to the configured rate (0 = unlimited again)
    p.backed_off = false;
  }
}

void RateLimiter::Backoff(Provider& p, Timestamp now) {
  if (p.backed_off && now - p.last_backoff < options_.backoff_cooldown) return;
  p.bucket.Refill(now);
  double current = p.bucket.rate > 0 ? p.bucket.rate : options_.adaptive_start_rate;
  p.bucket.rate = std::max(options_.min_rate, current / 2);
  p.bucket.tokens = std::min(p.bucket.tokens, p.bucket.Capacity());
  p.bucket.refilled = now;
  p.backed_off = true;
  p.last_backoff = now;
  p.last_change = now;
  p.soft_failures = 0;
  p.window_start = now;
}

Admission RateLimiter::Acquire(std::string_view domain) {
  std::lock_guard lock(mu_);
  Timestamp now = clock_.Now();
  Admission a;
  a.group = ProviderGroup(domain);
  Provider& p = Get(a.group, now);
  Recover(p, now);
  global_.Refill(now);
  p.bucket.Refill(now);
  Timestamp retry = now;
  bool ok = true;
  if (global_.rate > 0 && global_.tokens < 1) {
    ok = false;
    retry = std::max(retry, now + FromSeconds((1 - global_.tokens) / global_.rate));
  }
  if (p.bucket.rate > 0 && p.bucket.tokens < 1) {
    ok = false;
    retry = std::max(retry, now + FromSeconds((1 - p.bucket.tokens) / p.bucket.rate));
  }
  if (p.in_flight >= p.limits.concurrency) {
    ok = false;
    // A slot frees when a send finishes; there is no better estimate than "soon".
    retry = std::max(retry, now + std::chrono::milliseconds(100));
  }
  if (!ok) {
    a.retry_at = retry;
    return a;
  }
  if (global_.rate > 0) global_.tokens -= 1;
  if (p.bucket.rate > 0) p.bucket.tokens -= 1;
  ++p.in_flight;
  a.granted = true;
  return a;
}

void RateLimiter::Release(std::string_view domain, int smtp_code) {
  std::lock_guard lock(mu_);
  Timestamp now = clock_.Now();
  Provider& p = Get(ProviderGroup(domain), now);
  if (p.in_flight > 0) --p.in_flight;
  if (smtp_code == 421) {
    Backoff(p, now);
  } else if (smtp_code >= 400 && smtp_code < 500) {
    if (now - p.window_start > options_.burst_window) {
      p.window_start = now;
      p.soft_failures = 0;
    }
    if (++p.soft_failures >= options_.burst_threshold) Backoff(p, now);
  }
}

double RateLimiter::CurrentRate(std::string_view domain) {
  std::lock_guard lock(mu_);
  auto it = providers_.find(ProviderGroup(domain));
  if (it != providers_.end()) Recover(it->second, clock_.Now());
  if (it == providers_.end()) {
    auto cfg = options_.providers.find(ProviderGroup(domain));
    return cfg != options_.providers.end() ? cfg->second.rate : options_.default_limits.rate;
  }
  return it->second.bucket.rate;
}

int RateLimiter::InFlight(std::string_view domain) const {
  std::lock_guard lock(mu_);
  auto it = providers_.find(ProviderGroup(domain));
  return it == providers_.end() ? 0 : it->second.in_flight;
}

}  // namespace rapport::delivery
