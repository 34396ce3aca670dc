// FeedLag: how far behind the log a feed consumer runs, measured per event as the time from the
// event's acceptance (Event::received_at, stamped when the store took it) to the moment the
// consumer has applied it (for the segment service: the membership it changes is current).
//
// A fixed-bucket histogram, as Prometheus reads one (`GET /metrics`, rapport_feed_lag_seconds):
// a count per bucket of the bounds below and the sum; the total count is the buckets' sum. Observe() is
// lock-free (relaxed atomics), so a consumer records every event it applies; Take() reads a snapshot whose
// buckets may be a few observations apart from its count while observations go on. A lag below zero (a clock
// stepped back) counts as zero. Thread-safety: every method is thread-safe. No I/O.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace rapport {

class FeedLag {
 public:
  // Upper bounds of the buckets, in microseconds: fine below 50 ms, where a consumer that keeps
  // up lives, then coarse up to five minutes (a backlog, a rebuild, a consumer stopped).
  static constexpr std::array<int64_t, 22> kBoundsMicros = {
      250,       500,       1'000,      2'000,      3'000,      5'000,      7'500,   10'000,
      15'000,    20'000,    30'000,     50'000,     100'000,    250'000,    500'000, 1'000'000,
      2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000, 300'000'000};

  struct Snapshot {
    std::array<uint64_t, kBoundsMicros.size() + 1>
        buckets{};  // per bucket (not cumulative); last: above all bounds
    uint64_t count = 0;
    int64_t sum_micros = 0;
    // The lag below which a share q (0..1] of the observations falls, interpolated linearly in
    // its bucket as Prometheus' histogram_quantile does; the highest bound when it falls above
    // every bound; 0 without observations.
    double QuantileMicros(double q) const;
  };

  void Observe(int64_t lag_micros);
  Snapshot Take() const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsMicros.size() + 1> buckets_{};
  std::atomic<int64_t> sum_micros_{0};
};

}  // namespace rapport
