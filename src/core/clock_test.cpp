// The waiting half of the Clock: SleepUntil on the fake clock (woken by Advance/Set) and on the
// system clock, and Alarm rings that are never lost.
#include "core/clock.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace rapport {
namespace {

using namespace std::chrono_literals;

const Timestamp kStart = FromMicros(1'700'000'000'000'000);

TEST(FakeClock, ASleeperWakesWhenTimeIsAdvancedPastItsDeadline) {
  FakeClock clock(kStart);
  Alarm alarm;
  auto slept = std::async(std::launch::async, [&] { return clock.SleepUntil(kStart + 24h * 30, alarm); });
  ASSERT_TRUE(clock.AwaitSleepers(1, 10s));
  EXPECT_EQ(clock.NextDeadline(), kStart + 24h * 30);
  clock.Advance(24h * 29);
  EXPECT_EQ(slept.wait_for(50ms), std::future_status::timeout);  // not yet due
  clock.Advance(24h);
  EXPECT_TRUE(slept.get());
  EXPECT_FALSE(clock.NextDeadline());
}

TEST(FakeClock, AnAlarmWakesASleeperEarlyAndARingBeforeTheSleepIsNotLost) {
  FakeClock clock(kStart);
  Alarm alarm;
  auto slept = std::async(std::launch::async, [&] { return clock.SleepUntil(kStart + 1h, alarm); });
  ASSERT_TRUE(clock.AwaitSleepers(1, 10s));
  alarm.Ring();
  EXPECT_FALSE(slept.get());
  alarm.Ring();  // nobody sleeps yet: kept for the next sleep
  EXPECT_FALSE(clock.SleepUntil(kStart + 1h, alarm));
  EXPECT_EQ(clock.Now(), kStart);
}

TEST(FakeClock, ADeadlineInThePastReturnsAtOnce) {
  FakeClock clock(kStart);
  Alarm alarm;
  EXPECT_TRUE(clock.SleepUntil(kStart, alarm));
  EXPECT_TRUE(clock.SleepUntil(kStart - 1h, alarm));
}

TEST(FakeClock, AMonthOfHourlyTimersRunsWithoutWaitingForRealTime) {
  FakeClock clock(kStart);
  Alarm alarm;
  constexpr int kHours = 24 * 31;
  std::atomic<int> fired{0};
  std::thread engine([&] {
    for (int i = 1; i <= kHours; ++i) {
      if (clock.SleepUntil(kStart + std::chrono::hours(i), alarm)) ++fired;
    }
  });
  int advanced = 0;
  while (advanced < kHours) {
    ASSERT_TRUE(clock.AwaitSleepers(1, 10s)) << "the engine stopped sleeping after " << advanced;
    ASSERT_TRUE(clock.AdvanceToNextDeadline());
    ++advanced;
  }
  engine.join();
  EXPECT_EQ(fired.load(), kHours);
  EXPECT_EQ(clock.Now(), kStart + std::chrono::hours(kHours));
}

TEST(SystemClock, SleepsUntilTheDeadlineOrTheAlarm) {
  SystemClock& clock = SystemClock::Instance();
  Alarm alarm;
  Timestamp before = clock.Now();
  EXPECT_TRUE(clock.SleepUntil(before + 20ms, alarm));
  EXPECT_GE(clock.Now(), before + 20ms);

  auto slept = std::async(std::launch::async, [&] { return clock.SleepUntil(clock.Now() + 1h, alarm); });
  std::this_thread::sleep_for(20ms);
  alarm.Ring();
  ASSERT_EQ(slept.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(slept.get());
}

}  // namespace
}  // namespace rapport
