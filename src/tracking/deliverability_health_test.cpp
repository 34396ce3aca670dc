#include "tracking/deliverability_health.h"

#include <gtest/gtest.h>

namespace rapport::tracking {
namespace {

DeliverabilityCounts Row(int64_t day, std::string domain, int64_t delivered, int64_t complaints,
                         int64_t blocks = 0, int64_t hard = 0, int64_t rejected = 0) {
  DeliverabilityCounts c;
  c.day = day;
  c.domain = std::move(domain);
  c.delivered = delivered;
  c.complaints = complaints;
  c.blocks = blocks;
  c.hard_bounces = hard;
  c.rejected = rejected;
  return c;
}

TEST(DeliverabilityHealth, FoldsDomainsIntoProvidersWithRates) {
  auto h =
      SummarizeDeliverability({Row(10, "gmail.com", 600, 1), Row(10, "googlemail.com", 400, 0),
                               Row(10, "yahoo.com", 1000, 4, 10, 5, 0), Row(11, "gmail.com", 0, 0, 0, 0, 2)});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].provider, "gmail.com");
  EXPECT_EQ(h[0].counts.delivered, 1000);
  EXPECT_DOUBLE_EQ(h[0].complaint_rate, 0.001);
  EXPECT_EQ(h[0].warning, "");  // exactly 0.1% has not passed it
  EXPECT_EQ(h[1].provider, "yahoo.com");
  EXPECT_DOUBLE_EQ(h[1].complaint_rate, 0.004);
  EXPECT_EQ(h[1].warning, "complaints_over_0.3%");
  EXPECT_DOUBLE_EQ(h[1].block_rate, 0.01);
  EXPECT_DOUBLE_EQ(h[1].bounce_rate, 0.005);
  EXPECT_EQ(h[2].day, 11);
  EXPECT_DOUBLE_EQ(h[2].bounce_rate, 1.0);  // only rejections
  EXPECT_DOUBLE_EQ(h[2].complaint_rate, 0);
}

TEST(DeliverabilityHealth, Thresholds) {
  EXPECT_EQ(ComplaintWarning(0), "");
  EXPECT_EQ(ComplaintWarning(0.0011), "complaints_over_0.1%");
  EXPECT_EQ(ComplaintWarning(0.003), "complaints_over_0.1%");
  EXPECT_EQ(ComplaintWarning(0.0031), "complaints_over_0.3%");
}

}  // namespace
}  // namespace rapport::tracking
