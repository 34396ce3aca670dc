// Send-time optimization through the analytics consumer over a real SQLite store: synthetic human
// opens and clicks folded from the log give the expected best moments from the SendTimeAdvisor,
// for a contact with a strong habit and for one with no history (the population's pattern); a
// restart and a rebuild from the log give the same profiles.
#include <gtest/gtest.h>

#include "analytics/analytics_service.h"
#include "analytics/send_time_advisor.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::analytics {
namespace {

Timestamp At(const char* iso) { return *ParseTimestamp(iso); }

class SendTimeServiceTest : public ::testing::Test {
 protected:
  FakeClock clock_{At("2026-03-01T00:00:00Z")};
  TempSqliteStore db_{clock_, "shop"};

  ContactId NewContact(const std::string& email, const std::string& timezone) {
    ContactInput in;
    in.email = email;
    if (!timezone.empty()) in.timezone = timezone;
    auto c = db_.store->contacts().Create(db_.workspace, in);
    EXPECT_TRUE(c.ok());
    return c.ok() ? c->id : 0;
  }
  void Hit(ContactId who, const std::string& name, Timestamp at, bool machine = false) {
    NewEvent e;
    e.contact.id = who;
    e.name = name;
    e.properties = json::object{{"message_id", 1000 + who}, {"machine", machine}};
    e.occurred_at = at;
    auto r = db_.store->events().Append(db_.workspace, {e}, clock_.Now());
    ASSERT_TRUE(r.ok());
  }
};

TEST_F(SendTimeServiceTest, FoldedEngagementGivesTheExpectedBestHours) {
  // The population: 30 contacts in New York who read on Tuesdays at 10:00 local (15:00Z in
  // February, EST) and sometimes on Friday at 16:00 local.
  std::vector<ContactId> crowd;
  for (int i = 0; i < 30; ++i)
    crowd.push_back(NewContact("p" + std::to_string(i) + "@example.com", "America/New_York"));
  for (int week = 0; week < 3; ++week) {
    const auto shift = std::chrono::days(7 * week);
    for (ContactId c : crowd) {
      Hit(c, "email_opened", At("2026-02-03T15:12:00Z") + shift);
      Hit(c, "email_opened", At("2026-02-03T15:40:00Z") + shift, /*machine=*/true);  // ignored
    }
    for (size_t i = 0; i < 5; ++i) Hit(crowd[i], "email_clicked", At("2026-02-06T21:30:00Z") + shift);
  }
  // A night owl in Tokyo who reads on Thursdays at 22:00 local (13:00Z), 8 weeks running.
  const ContactId owl = NewContact("owl@example.com", "Asia/Tokyo");
  for (int week = 0; week < 8; ++week) {
    Hit(owl, "email_opened", At("2026-01-01T13:05:00Z") + std::chrono::days(7 * week));
    if (week % 2 == 0) Hit(owl, "email_clicked", At("2026-01-01T13:07:00Z") + std::chrono::days(7 * week));
  }
  // A newcomer in New York with no history, and one in the workspace's default zone (UTC).
  const ContactId newcomer = NewContact("new@example.com", "America/New_York");
  const ContactId plain = NewContact("plain@example.com", "");

  clock_.Set(At("2026-03-01T00:00:00Z"));
  AnalyticsService svc(*db_.store, clock_);
  ASSERT_TRUE(svc.Start(false).ok());
  SendTimeOptimizer advisor(*db_.store, svc);

  // Window: Sunday 2026-03-08 00:00Z to Sunday 2026-03-15 00:00Z. New York is on EDT from 03-08.
  const Timestamp from = At("2026-03-08T00:00:00Z"), to = At("2026-03-15T00:00:00Z");
  auto c = advisor.BestTime(db_.workspace, newcomer, from, to);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->personal);
  EXPECT_EQ(c->hour_of_week, 2 * 24 + 10);
  EXPECT_EQ(c->at, At("2026-03-10T14:00:00Z"));  // Tuesday 10:00 EDT

  c = advisor.BestTime(db_.workspace, owl, from, to);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->personal);
  EXPECT_EQ(c->hour_of_week, 4 * 24 + 22);
  EXPECT_EQ(c->at, At("2026-03-12T13:00:00Z"));  // Thursday 22:00 in Tokyo
  EXPECT_GT(c->expected, 0.5);

  // The population's hours are local hours: in UTC the newcomer's peak is Tuesday 10:00 UTC.
  c = advisor.BestTime(db_.workspace, plain, from, to);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-10T10:00:00Z"));

  // A crowd member who only opens on Tuesdays agrees with the population; one who clicked on
  // Fridays as often (a click weighs two opens) is sent to on Friday 16:00 local.
  c = advisor.BestTime(db_.workspace, crowd[10], from, to);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->personal);
  EXPECT_EQ(c->hour_of_week, 2 * 24 + 10);
  c = advisor.BestTime(db_.workspace, crowd[0], from, to);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hour_of_week, 5 * 24 + 16);
  EXPECT_EQ(c->at, At("2026-03-13T20:00:00Z"));

  // Errors of the port.
  EXPECT_EQ(advisor.BestTime(db_.workspace, 987654, from, to).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(advisor.BestTime(db_.workspace, owl, to, from).error().code, ErrorCode::kInvalid);

  // The profile: counts and the share of the contact's own pattern.
  auto p = svc.SendTime(db_.workspace, owl, "Asia/Tokyo");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->opens, 8);
  EXPECT_EQ(p->clicks, 4);
  EXPECT_DOUBLE_EQ(p->evidence, 16);
  EXPECT_NEAR(p->personal_share, 16.0 / 26, 1e-12);
  const SendTimeProfile before = *p;

  // A restart loads the committed state; a rebuild folds the log again: the same profiles.
  AnalyticsService restarted(*db_.store, clock_);
  ASSERT_TRUE(restarted.Start(false).ok());
  auto again = restarted.SendTime(db_.workspace, owl, "Asia/Tokyo");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->own, before.own);
  EXPECT_EQ(again->posterior, before.posterior);
  ASSERT_TRUE(restarted.Rebuild().ok());
  again = restarted.SendTime(db_.workspace, owl, "Asia/Tokyo");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->own, before.own);
  EXPECT_EQ(again->population, before.population);
  EXPECT_EQ(again->posterior, before.posterior);
}

}  // namespace
}  // namespace rapport::analytics
