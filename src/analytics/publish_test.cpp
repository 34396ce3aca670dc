// What the fold publishes to the contact (engagement score by steps, CLV per order) and the bound
// of its per-message map. Expected values are computed by hand from the documented formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "analytics/report_book.h"

namespace rapport::analytics {
namespace {

int64_t T(const char* iso) { return ToMicros(*ParseTimestamp(iso)); }

struct Script {
  explicit Script(AnalyticsOptions o = {})
      : book(std::move(o), [](WorkspaceId) { return std::string("UTC"); }) {}
  ReportBook book;
  EventId next_id = 1;
  void Add(ContactId c, const std::string& name, int64_t at, json::object props = {}) {
    Event e;
    e.id = next_id++;
    e.position = e.id;
    e.workspace_id = 1;
    e.contact_id = c;
    e.name = name;
    e.properties = std::move(props);
    e.occurred_at = e.received_at = FromMicros(at);
    book.Apply(e, at);
  }
};

json::object Hit(int64_t id) {
  return json::object{
      {"message_id", id}, {"template", "welcome"}, {"class", "marketing"}, {"machine", false}};
}

TEST(Publish, EngagementScoreIsPublishedByStepsOnEventsAndByDecay) {
  Script s;
  int64_t t0 = T("2026-03-02T11:00:00Z");
  s.Add(1, "message.queued", t0 - 3'600'000'000, Hit(7));
  EXPECT_TRUE(s.book.TakeEngagementChanges().empty());  // no engagement yet
  s.Add(1, "email_opened", t0, Hit(7));
  // S = 1: score = round(100 (1 - e^-0.2)) = 18.
  auto c = s.book.TakeEngagementChanges();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].from, -1);
  EXPECT_EQ(c[0].to, 18);
  EXPECT_EQ(c[0].at_us, t0);
  // A click a minute later: S = 1 * 2^(-1 min / 30 d) + 3 = 3.99998, score 55: moved >= 10.
  s.Add(1, "email_clicked", t0 + 60'000'000, Hit(7));
  c = s.book.TakeEngagementChanges();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].from, 18);
  EXPECT_EQ(c[0].to, 55);
  // A second open a minute later: S = 4.99996, score 63: moved 8 < 10, not published.
  s.Add(1, "email_opened", t0 + 120'000'000, Hit(7));
  EXPECT_TRUE(s.book.TakeEngagementChanges().empty());
  // A machine open adds nothing.
  json::object machine = Hit(7);
  machine["machine"] = true;
  s.Add(1, "email_opened", t0 + 180'000'000, machine);
  EXPECT_TRUE(s.book.TakeEngagementChanges().empty());

  // Decay: S(t) = 5 * 2^(-d / 30). The published 55 is next republished when the score is at
  // most 45, i.e. S < -5 ln(1 - 0.455) = 3.0349: d > 30 log2(5 / 3.0349) = 21.61 days.
  s.book.Advance(t0 + 21 * kMicrosPerDay);
  EXPECT_TRUE(s.book.TakeEngagementChanges().empty());
  auto next = s.book.Advance(t0 + 22 * kMicrosPerDay);
  c = s.book.TakeEngagementChanges();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].from, 55);
  EXPECT_EQ(c[0].to, 45);
  double d = static_cast<double>(c[0].at_us - t0) / static_cast<double>(kMicrosPerDay);
  EXPECT_NEAR(d, 21.61, 0.01);
  ASSERT_TRUE(next.has_value());
  // Far later every step down is published, each at least 10 below the last, ending at 0:
  // S < -5 ln(0.995) = 0.025063 at d = 30 log2(5 / 0.025063) = 229.21 days.
  s.book.Advance(t0 + 400 * kMicrosPerDay);
  c = s.book.TakeEngagementChanges();
  ASSERT_GE(c.size(), 4u);
  int last = 45;
  for (const EngagementChange& x : c) {
    EXPECT_EQ(x.from, last);
    EXPECT_TRUE(x.to <= last - 10 || x.to == 0) << x.from << " -> " << x.to;
    last = x.to;
  }
  EXPECT_EQ(c.back().to, 0);
  EXPECT_NEAR(static_cast<double>(c.back().at_us - t0) / static_cast<double>(kMicrosPerDay), 229.21, 0.01);
  // At 0 nothing more is due, and the idempotency keys differ.
  EXPECT_FALSE(s.book.Advance(t0 + 800 * kMicrosPerDay).has_value());
  EXPECT_NE(c.front().idempotency_key, c.back().idempotency_key);
}

TEST(Publish, EachOrderIsAClvChange) {
  Script s;
  int64_t t0 = T("2026-03-02T11:00:00Z");
  s.Add(4, "order_placed", t0, json::object{{"total", 40}});
  s.Add(4, "page_viewed", t0 + 1);
  s.Add(4, "order_placed", t0 + kMicrosPerDay, json::object{{"total", "19.50"}});
  auto c = s.book.TakeClvChanges();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].contact_id, 4);
  EXPECT_EQ(c[1].at_us, t0 + kMicrosPerDay);
  EXPECT_NE(c[0].idempotency_key, c[1].idempotency_key);
  EXPECT_DOUBLE_EQ(s.book.Contact(1, 4, t0 + kMicrosPerDay).revenue, 59.5);
}

// The prediction falls between orders: when time makes a customer at risk and then lapsed, the
// CLV is published again (with the lower prediction), once per change.
TEST(Publish, TimeThatChangesTheLifecycleRepublishesTheClv) {
  Script s;
  int64_t t0 = T("2026-03-02T11:00:00Z");
  int64_t week = 7 * kMicrosPerDay;
  for (int i = 0; i < 4; ++i) s.Add(5, "order_placed", t0 + i * week, json::object{{"total", 30}});
  auto orders = s.book.TakeClvChanges();
  ASSERT_EQ(orders.size(), 4u);
  int64_t last = t0 + 3 * week;
  double at_order = s.book.Contact(1, 5, last).predicted.value;
  // Nothing is due a week later (the rhythm is a week; at risk after two).
  s.book.Advance(last + week);
  EXPECT_TRUE(s.book.TakeClvChanges().empty());
  // At risk after 2 R, lapsed after 4 R: one CLV change each, at that moment, with new keys.
  s.book.Advance(last + 2 * week + 1);
  auto at_risk = s.book.TakeClvChanges();
  ASSERT_EQ(at_risk.size(), 1u);
  EXPECT_EQ(at_risk[0].contact_id, 5);
  EXPECT_LE(std::abs(at_risk[0].at_us - (last + 2 * week)), 1);  // at L + 2R (or a microsecond after)
  EXPECT_EQ(s.book.TakeLifecycleChanges().back().to, Stage::kAtRisk);
  double later = s.book.Contact(1, 5, at_risk[0].at_us).predicted.value;
  EXPECT_LT(later, at_order);
  s.book.Advance(last + 5 * week);
  auto lapsed = s.book.TakeClvChanges();
  ASSERT_EQ(lapsed.size(), 1u);
  EXPECT_LE(std::abs(lapsed[0].at_us - (last + 4 * week)), 1);
  EXPECT_NE(lapsed[0].idempotency_key, at_risk[0].idempotency_key);
  for (const ClvChange& o : orders) EXPECT_NE(o.idempotency_key, lapsed[0].idempotency_key);
  // Time alone publishes nothing more once lapsed.
  s.book.Advance(last + 50 * week);
  EXPECT_TRUE(s.book.TakeClvChanges().empty());
}

TEST(Publish, TheStateSurvivesARestartWithoutPublishingAgain) {
  Script s;
  int64_t t0 = T("2026-03-02T11:00:00Z");
  s.Add(1, "email_opened", t0, Hit(7));
  ASSERT_EQ(s.book.TakeEngagementChanges().size(), 1u);
  std::vector<AnalyticsDailyValue> daily;
  std::vector<AnalyticsEntityWrite> entities;
  s.book.TakeChanges(daily, entities);
  Script again;
  for (const auto& v : daily) again.book.LoadDaily(v);
  for (const auto& e : entities)
    if (e.state) again.book.LoadEntity(e.workspace_id, e.kind, e.id, *e.state);
  again.book.Rebuilt();
  // The decay deadline came back with the state: 18 falls to 8 at 30 log2(1 / 0.4441) = 35.1 days.
  auto next = again.book.Advance(t0);
  ASSERT_TRUE(next.has_value());
  EXPECT_NEAR(static_cast<double>(*next - t0) / static_cast<double>(kMicrosPerDay), 35.1, 0.05);
  EXPECT_TRUE(again.book.TakeEngagementChanges().empty());
  again.book.Advance(t0 + 36 * kMicrosPerDay);
  auto c = again.book.TakeEngagementChanges();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].from, 18);
  EXPECT_LE(c[0].to, 8);
  // A loaded message whose flags change is written again (under its own id).
  again.Add(1, "email_clicked", t0 + 37 * kMicrosPerDay, Hit(7));
  entities.clear();
  again.book.TakeChanges(daily, entities);
  bool written = false;
  for (const auto& e : entities) written |= e.kind == "message" && e.id == 7 && e.state.has_value();
  EXPECT_TRUE(written);
}

TEST(Publish, MessagesPastTheHorizonAreForgottenAndTheirLateEventsNotCounted) {
  AnalyticsOptions o;
  o.message_horizon_us = 10 * kMicrosPerDay;
  Script s(o);
  int64_t t0 = T("2026-03-02T11:00:00Z");
  for (int64_t m = 1; m <= 5; ++m) s.Add(1, "message.queued", t0 + m * kMicrosPerDay, Hit(m));
  EXPECT_EQ(s.book.messages(), 5u);
  std::vector<AnalyticsDailyValue> daily;
  std::vector<AnalyticsEntityWrite> entities;
  s.book.TakeChanges(daily, entities);
  // Day 13.5: messages 1-3 (first seen on days 1-3) are more than 10 days old.
  s.Add(1, "page_viewed", t0 + 13 * kMicrosPerDay + kMicrosPerDay / 2);
  EXPECT_EQ(s.book.messages(), 2u);
  entities.clear();
  s.book.TakeChanges(daily, entities);
  int deleted = 0;
  std::optional<std::string> horizon;
  for (const auto& e : entities) {
    if (e.kind == "message" && !e.state) ++deleted;
    if (e.kind == "horizon") horizon = e.state;
  }
  EXPECT_EQ(deleted, 3);
  ASSERT_TRUE(horizon.has_value());
  EXPECT_EQ(*horizon, "{\"forgotten_through\":3}");
  // A late open of message 2 is not counted (nor re-creates it); one of message 5 is.
  int64_t late = t0 + 14 * kMicrosPerDay;
  s.Add(1, "email_opened", late, Hit(2));
  s.Add(1, "email_opened", late, Hit(5));
  int64_t day = s.book.DayOf(1, late);
  auto series = s.book.Series(1, Dimension::kTemplate, "welcome", day, day);
  EXPECT_EQ(series[0].second[Metric::kOpenedHuman], 1);
  EXPECT_EQ(s.book.messages(), 2u);
  // After a restart the forgotten mark is back: message 1 is still not counted.
  Script again(o);
  again.book.LoadEntity(1, "horizon", 0, *horizon);
  again.book.Rebuilt();
  again.Add(1, "email_opened", late, Hit(1));
  EXPECT_EQ(again.book.messages(), 0u);
  again.Add(1, "message.queued", late, Hit(9));
  EXPECT_EQ(again.book.messages(), 1u);
}

}  // namespace
}  // namespace rapport::analytics
