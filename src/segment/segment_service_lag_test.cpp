// SegmentService's feed lag (core/feed_lag.h): the time from an event's acceptance to the moment
// the memberships it changes are current, for every event the consumer applies after Start, and
// none of the events the rebuild at Start replays. On a real SQLite store with a FakeClock.
#include <gtest/gtest.h>

#include "segment/segment_service.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::segment {
namespace {

constexpr int64_t kStart = 1'781'524'800'000'000;

class SegmentServiceLag : public ::testing::Test {
 protected:
  void Append(const std::string& email, const std::string& name) {
    NewEvent e;
    e.contact.email = email;
    e.name = name;
    auto r = db_.store->events().Append(db_.workspace, {e}, clock_.Now());
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
  }

  FakeClock clock_{FromMicros(kStart)};
  TempSqliteStore db_{clock_, "lag"};
};

TEST_F(SegmentServiceLag, EachAppliedEventIsObservedFromItsAcceptanceToItsApplication) {
  Append("old@example.com", "page_viewed");  // before Start: replayed by the rebuild
  clock_.Advance(std::chrono::hours(1));
  SegmentService svc(*db_.store, clock_);
  ASSERT_TRUE(svc.Start(/*run_thread=*/false).ok());
  EXPECT_EQ(svc.lag().Take().count, 0u) << "the rebuild's replay is not feed lag";

  Append("new@example.com", "page_viewed");  // contact.created, then page_viewed
  clock_.Advance(std::chrono::microseconds(7'000));
  auto applied = svc.Step();
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(*applied, 2u);
  FeedLag::Snapshot s = svc.lag().Take();
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.sum_micros, 2 * 7'000);
  EXPECT_NEAR(s.QuantileMicros(1.0), 7'500, 1e-9);  // both in (5 ms, 7.5 ms]

  Append("new@example.com", "order_placed");
  clock_.Advance(std::chrono::milliseconds(40));
  ASSERT_TRUE(svc.Step().ok());
  s = svc.lag().Take();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.sum_micros, 2 * 7'000 + 40'000);
  EXPECT_GT(s.QuantileMicros(1.0), 30'000);

  ASSERT_TRUE(svc.Step().ok());  // nothing new: nothing observed
  EXPECT_EQ(svc.lag().Take().count, 3u);
}

}  // namespace
}  // namespace rapport::segment
