#include "core/feed_lag.h"

#include <algorithm>

namespace rapport {

void FeedLag::Observe(int64_t lag_micros) {
  lag_micros = std::max<int64_t>(lag_micros, 0);
  size_t i = static_cast<size_t>(std::lower_bound(kBoundsMicros.begin(), kBoundsMicros.end(), lag_micros) -
                                 kBoundsMicros.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(lag_micros, std::memory_order_relaxed);
}

FeedLag::Snapshot FeedLag::Take() const {
  Snapshot s;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    s.count += s.buckets[i];
  }
  s.sum_micros = sum_micros_.load(std::memory_order_relaxed);
  return s;
}

double FeedLag::Snapshot::QuantileMicros(double q) const {
  if (count == 0) return 0;
  const double rank = q * static_cast<double>(count);
  uint64_t below = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (static_cast<double>(below + buckets[i]) >= rank && buckets[i] > 0) {
      if (i == kBoundsMicros.size()) return static_cast<double>(kBoundsMicros.back());
      const double lo = i == 0 ? 0.0 : static_cast<double>(kBoundsMicros[i - 1]);
      const double hi = static_cast<double>(kBoundsMicros[i]);
      return lo + (hi - lo) * (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
    }
    below += buckets[i];
  }
  return static_cast<double>(kBoundsMicros.back());
}

}  // namespace rapport
