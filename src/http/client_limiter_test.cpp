#include "http/client_limiter.h"

#include <gtest/gtest.h>

namespace rapport::http {
namespace {

using namespace std::chrono_literals;

TEST(ClientLimiter, RefusesAClientPastItsBurstUntilTokensReturn) {
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  ClientLimiter limiter(clock, /*rate_per_second=*/1.0 / 6, /*burst=*/10);  // 10 a minute
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Take("203.0.113.7")) << i;
  EXPECT_FALSE(limiter.Allowed("203.0.113.7"));
  EXPECT_FALSE(limiter.Take("203.0.113.7"));
  EXPECT_EQ(limiter.RetryAfter("203.0.113.7"), 6);
  EXPECT_TRUE(limiter.Allowed("203.0.113.8"));  // another client is not affected
  clock.Advance(6s);
  EXPECT_TRUE(limiter.Take("203.0.113.7"));
  EXPECT_FALSE(limiter.Take("203.0.113.7"));
  clock.Advance(1h);  // refills up to the burst, no more
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Take("203.0.113.7"));
  EXPECT_FALSE(limiter.Take("203.0.113.7"));
}

TEST(ClientLimiter, CountsAnIpv6ClientByItsSlash64) {
  EXPECT_EQ(ClientLimiter::ClientKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientLimiter::ClientKey("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientLimiter::ClientKey("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(ClientLimiter::ClientKey("192.0.2.1"), "192.0.2.1");
  FakeClock clock(FromMicros(0));
  ClientLimiter limiter(clock, 0.001, 2);
  EXPECT_TRUE(limiter.Take("2001:db8:1:2::1"));
  EXPECT_TRUE(limiter.Take("2001:db8:1:2::2"));
  EXPECT_FALSE(limiter.Take("2001:db8:1:2::3"));
  EXPECT_TRUE(limiter.Take("2001:db8:1:3::1"));
}

TEST(ClientLimiter, ForgetsTheLongestUnseenClientWhenTheTableIsFull) {
  FakeClock clock(FromMicros(0));
  ClientLimiter limiter(clock, 0.001, 1, /*max_clients=*/2);
  EXPECT_TRUE(limiter.Take("192.0.2.1"));
  clock.Advance(1s);
  EXPECT_TRUE(limiter.Take("192.0.2.2"));
  clock.Advance(1s);
  EXPECT_TRUE(limiter.Take("192.0.2.3"));   // forgets 192.0.2.1
  EXPECT_FALSE(limiter.Take("192.0.2.2"));  // still remembered: empty
  EXPECT_TRUE(limiter.Take("192.0.2.1"));   // forgotten: a fresh bucket
}

}  // namespace
}  // namespace rapport::http
