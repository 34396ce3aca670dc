#include "core/feed_lag.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rapport {
namespace {

size_t BucketOf(const FeedLag::Snapshot& s, int64_t bound_micros) {
  for (size_t i = 0; i < FeedLag::kBoundsMicros.size(); ++i)
    if (FeedLag::kBoundsMicros[i] == bound_micros) return i;
  ADD_FAILURE() << "no bucket with bound " << bound_micros;
  return s.buckets.size();
}

TEST(FeedLag, EachLagFallsInTheFirstBucketWhoseBoundIsNotBelowIt) {
  FeedLag lag;
  lag.Observe(7'000);        // (5 ms, 7.5 ms]
  lag.Observe(7'500);        // the bound itself belongs to its bucket
  lag.Observe(7'501);        // (7.5 ms, 10 ms]
  lag.Observe(-40);          // a clock stepped back: zero
  lag.Observe(900'000'000);  // above every bound
  FeedLag::Snapshot s = lag.Take();
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.buckets[BucketOf(s, 7'500)], 2u);
  EXPECT_EQ(s.buckets[BucketOf(s, 10'000)], 1u);
  EXPECT_EQ(s.buckets[BucketOf(s, 250)], 1u);
  EXPECT_EQ(s.buckets.back(), 1u);
  EXPECT_EQ(s.sum_micros, 7'000 + 7'500 + 7'501 + 900'000'000);
}

TEST(FeedLag, QuantilesInterpolateWithinTheirBucket) {
  FeedLag lag;
  EXPECT_EQ(lag.Take().QuantileMicros(0.99), 0);
  for (int i = 0; i < 98; ++i) lag.Observe(800);  // (500 us, 1 ms]
  lag.Observe(12'000);                            // (10 ms, 15 ms]
  lag.Observe(12'000);
  FeedLag::Snapshot s = lag.Take();
  // The 50th of 100 is the 50th of the 98 in (500, 1000].
  EXPECT_NEAR(s.QuantileMicros(0.5), 500 + 500 * 50.0 / 98, 1e-9);
  EXPECT_LE(s.QuantileMicros(0.98), 1'000);
  // The 99th is the first of the two in (10 ms, 15 ms]: half way.
  EXPECT_NEAR(s.QuantileMicros(0.99), 12'500, 1e-9);
  EXPECT_NEAR(s.QuantileMicros(1.0), 15'000, 1e-9);
}

TEST(FeedLag, ObservationsFromManyThreadsAreAllCounted) {
  FeedLag lag;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&lag, t] {
      for (int i = 0; i < 10'000; ++i) lag.Observe(t * 1'000 + i % 3);
    });
  for (auto& th : threads) th.join();
  FeedLag::Snapshot s = lag.Take();
  EXPECT_EQ(s.count, 40'000u);
  EXPECT_EQ(s.sum_micros, 10'000LL * (0 + 1'000 + 2'000 + 3'000) + 4 * (3'333 * 3 + 1 * 0));
}

}  // namespace
}  // namespace rapport
