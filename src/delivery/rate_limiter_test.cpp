#include "delivery/rate_limiter.h"

#include <gtest/gtest.h>

#include "delivery/provider_groups.h"

namespace rapport::delivery {
namespace {

using namespace std::chrono_literals;

TEST(ProviderGroups, GroupsKnownProviders) {
  EXPECT_EQ(ProviderGroup("googlemail.com"), "gmail.com");
  EXPECT_EQ(ProviderGroup("GMAIL.COM"), "gmail.com");
  EXPECT_EQ(ProviderGroup("hotmail.com"), "outlook.com");
  EXPECT_EQ(ProviderGroup("msn.com"), "outlook.com");
  EXPECT_EQ(ProviderGroup("aol.com"), "yahoo.com");
  EXPECT_EQ(ProviderGroup("example.org"), "example.org");
  EXPECT_EQ(RecipientDomain("Bob@Example.ORG"), "example.org");
  EXPECT_EQ(RecipientDomain("nodomain"), "");
}

struct RateLimiterTest : ::testing::Test {
  FakeClock clock{FromMicros(1'800'000'000'000'000)};
};

TEST_F(RateLimiterTest, GlobalRateIsATokenBucket) {
  RateLimiterOptions o;
  o.global_rate = 10;
  o.default_limits.concurrency = 1000;
  RateLimiter rl(clock, o);
  int granted = 0;
  for (int i = 0; i < 50; ++i) {
    auto a = rl.Acquire("example.org");
    if (a.granted) {
      ++granted;
      rl.Release("example.org", 250);
    } else {
      EXPECT_GT(a.retry_at, clock.Now());
      EXPECT_LE(a.retry_at, clock.Now() + 100ms);
    }
  }
  EXPECT_EQ(granted, 10);  // the one-second burst
  clock.Advance(500ms);
  granted = 0;
  for (int i = 0; i < 50; ++i) granted += rl.Acquire("example.org").granted ? 1 : 0;
  EXPECT_EQ(granted, 5);
}

TEST_F(RateLimiterTest, ConcurrencyPerProviderGroup) {
  RateLimiterOptions o;
  o.providers["gmail.com"] = {2, 0};
  RateLimiter rl(clock, o);
  EXPECT_TRUE(rl.Acquire("gmail.com").granted);
  EXPECT_TRUE(rl.Acquire("googlemail.com").granted);
  auto third = rl.Acquire("gmail.com");
  EXPECT_FALSE(third.granted);
  EXPECT_EQ(third.group, "gmail.com");
  EXPECT_TRUE(rl.Acquire("example.org").granted);  // other providers are not affected
  EXPECT_EQ(rl.InFlight("gmail.com"), 2);
  rl.Release("googlemail.com", 250);
  EXPECT_TRUE(rl.Acquire("gmail.com").granted);
}

TEST_F(RateLimiterTest, A421HalvesTheRateThenItRecoversAdditively) {
  RateLimiterOptions o;
  o.providers["outlook.com"] = {100, 40};
  o.recovery_step = 5;
  o.recovery_interval = 60s;
  RateLimiter rl(clock, o);
  ASSERT_TRUE(rl.Acquire("hotmail.com").granted);
  rl.Release("hotmail.com", 421);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("live.com"), 20);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("example.org"), 0);  // unaffected
  // A second 421 inside the cooldown does not halve again.
  ASSERT_TRUE(rl.Acquire("hotmail.com").granted);
  rl.Release("hotmail.com", 421);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("outlook.com"), 20);
  clock.Advance(11s);
  ASSERT_TRUE(rl.Acquire("hotmail.com").granted);
  rl.Release("hotmail.com", 421);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("outlook.com"), 10);
  clock.Advance(60s);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("outlook.com"), 15);
  clock.Advance(120s);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("outlook.com"), 25);
  clock.Advance(10min);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("outlook.com"), 40);  // back to the ceiling, no higher
}

TEST_F(RateLimiterTest, ABurstOf4xxBacksOffButScattered4xxDoNot) {
  RateLimiterOptions o;
  o.providers["yahoo.com"] = {100, 8};
  o.burst_threshold = 3;
  o.burst_window = 60s;
  RateLimiter rl(clock, o);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(rl.Acquire("yahoo.com").granted);
    rl.Release("yahoo.com", 451);
    clock.Advance(61s);  // outside the window each time
  }
  ASSERT_TRUE(rl.Acquire("yahoo.com").granted);
  rl.Release("yahoo.com", 451);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("yahoo.com"), 8);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(rl.Acquire("ymail.com").granted);
    rl.Release("ymail.com", 452);
  }
  EXPECT_DOUBLE_EQ(rl.CurrentRate("yahoo.com"), 4);
}

TEST_F(RateLimiterTest, UnlimitedProviderAdaptsFromTheStartRate) {
  RateLimiterOptions o;
  o.adaptive_start_rate = 100;
  o.recovery_step = 50;
  RateLimiter rl(clock, o);
  ASSERT_TRUE(rl.Acquire("example.org").granted);
  rl.Release("example.org", 421);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("example.org"), 50);
  clock.Advance(60s);
  EXPECT_DOUBLE_EQ(rl.CurrentRate("example.org"), 0);  // recovered to unlimited
}

TEST_F(RateLimiterTest, ProviderRateLimitsAndTellsWhenToRetry) {
  RateLimiterOptions o;
  o.providers["gmail.com"] = {100, 2};
  RateLimiter rl(clock, o);
  EXPECT_TRUE(rl.Acquire("gmail.com").granted);
  EXPECT_TRUE(rl.Acquire("gmail.com").granted);
  auto a = rl.Acquire("gmail.com");
  ASSERT_FALSE(a.granted);
  EXPECT_EQ(a.retry_at, clock.Now() + 500ms);
  clock.Set(a.retry_at);
  EXPECT_TRUE(rl.Acquire("gmail.com").granted);
}

}  // namespace
}  // namespace rapport::delivery
