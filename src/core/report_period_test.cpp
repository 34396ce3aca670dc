#include "core/report_period.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

constexpr int64_t kToday = 20'000;

TEST(ReportPeriod, DefaultsToTheThirtyDaysEndingTodayOrEndingAtTo) {
  auto p = ReportPeriod(kToday, std::nullopt, std::nullopt);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->from, kToday - 29);
  EXPECT_EQ(p->to, kToday);
  p = ReportPeriod(kToday, std::nullopt, kToday - 100);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->from, kToday - 129);
  EXPECT_EQ(p->to, kToday - 100);
  p = ReportPeriod(kToday, std::nullopt, std::nullopt, 7);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->from, kToday - 6);
  p = ReportPeriod(kToday, kToday - 3, std::nullopt);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->from, kToday - 3);
  EXPECT_EQ(p->to, kToday);
}

TEST(ReportPeriod, OneDayAndTheLongestPeriodAreAcceptedAndNothingBeyond) {
  auto one = ReportPeriod(kToday, kToday, kToday);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->from, one->to);
  EXPECT_TRUE(ReportPeriod(kToday, kToday - (kMaxReportDays - 1), kToday).ok());
  auto year = ReportPeriod(kToday, kToday - 367, kToday, 7, 367);
  ASSERT_FALSE(year.ok());
  EXPECT_EQ(year.error().message, "a report covers at most 367 days");
  EXPECT_TRUE(ReportPeriod(kToday, kToday - 366, kToday, 7, 367).ok());
  auto longer = ReportPeriod(kToday, kToday - kMaxReportDays, kToday);
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(longer.error().field, "from");
  EXPECT_EQ(longer.error().message, "a report covers at most 1100 days");
}

TEST(ReportPeriod, FromAfterToIsRefusedNamingFrom) {
  auto p = ReportPeriod(kToday, kToday + 1, kToday);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().field, "from");
  EXPECT_EQ(p.error().message, "from is on or before to");
  // A default `to` (today) with a `from` in the future is refused the same way.
  EXPECT_FALSE(ReportPeriod(kToday, kToday + 5, std::nullopt).ok());
}

}  // namespace
}  // namespace rapport
