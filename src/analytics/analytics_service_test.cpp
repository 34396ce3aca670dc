// The consumer over a real SQLite store: counts after a scripted history, a restart resumes from
// the committed state without counting twice, a rebuild from the feed gives the same numbers, and
// lifecycle changes are appended once.
#include "analytics/analytics_service.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/testing/temp_sqlite_store.h"

namespace rapport::analytics {
namespace {

int64_t T(const char* iso) { return ToMicros(*ParseTimestamp(iso)); }

class AnalyticsServiceTest : public ::testing::Test {
 protected:
  FakeClock clock_{*ParseTimestamp("2026-03-01T00:00:00Z")};
  TempSqliteStore db_{clock_, "shop"};
  std::vector<ContactId> contacts_;

  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      ContactInput in;
      in.email = "c" + std::to_string(i) + "@example.com";
      auto c = db_.store->contacts().Create(db_.workspace, in);
      ASSERT_TRUE(c.ok());
      contacts_.push_back(c->id);
    }
  }
  void Append(int who, const std::string& name, const char* at, json::object props) {
    NewEvent e;
    e.contact.id = contacts_[static_cast<size_t>(who)];
    e.name = name;
    e.properties = std::move(props);
    e.occurred_at = *ParseTimestamp(at);
    auto r = db_.store->events().Append(db_.workspace, {e}, clock_.Now());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ((*r)[0].outcome, AppendOutcome::kAccepted);
  }
  void History() {
    json::object m1{{"message_id", 101}, {"template", "welcome"}, {"class", "marketing"}, {"topic", "news"}};
    json::object m2{{"message_id", 102}, {"template", "welcome"}, {"class", "marketing"}};
    Append(0, "message.queued", "2026-03-02T10:00:00Z", m1);
    Append(1, "message.queued", "2026-03-02T10:00:00Z", m2);
    Append(0, "message.sent", "2026-03-02T10:01:00Z", m1);
    Append(1, "message.sent", "2026-03-02T10:01:00Z", m2);
    json::object hit = m1;
    hit["machine"] = false;
    Append(0, "email_opened", "2026-03-02T11:00:00Z", hit);
    Append(0, "email_clicked", "2026-03-02T11:01:00Z", hit);
    Append(0, "order_placed", "2026-03-03T09:00:00Z", json::object{{"total", 80}});
  }
  int64_t Day(const char* iso) { return T(iso) / kMicrosPerDay; }
  Counts Total(AnalyticsService& svc) {
    auto s = svc.Series(db_.workspace, Dimension::kTemplate, "welcome", Day("2026-03-01T00:00:00Z"),
                        Day("2026-03-31T00:00:00Z"));
    EXPECT_TRUE(s.ok());
    Counts sum;
    for (const auto& [d, c] : *s) sum += c;
    return sum;
  }
};

TEST_F(AnalyticsServiceTest, CountsRestartAndRebuild) {
  History();
  clock_.Set(*ParseTimestamp("2026-03-04T00:00:00Z"));
  Counts first;
  {
    AnalyticsService svc(*db_.store, clock_);
    ASSERT_TRUE(svc.Start(false).ok());
    first = Total(svc);
    EXPECT_EQ(first[Metric::kSent], 2);
    EXPECT_EQ(first[Metric::kDelivered], 2);
    EXPECT_EQ(first[Metric::kOpenedHuman], 1);
    EXPECT_EQ(first[Metric::kClickedHuman], 1);
    EXPECT_EQ(first[Metric::kConversions], 1);
    EXPECT_EQ(first[Metric::kRevenue], 80);
    auto view = svc.Contact(db_.workspace, contacts_[0]);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view->lifecycle, Stage::kNewCustomer);
    EXPECT_EQ(view->orders, 1);
    EXPECT_GT(view->engagement_score, 0);
  }
  // The lifecycle change was appended once, as an event of the contact.
  auto timeline = db_.store->events().ListForContact(db_.workspace, contacts_[0], EventQuery{});
  ASSERT_TRUE(timeline.ok());
  int changes = 0;
  for (const Event& e : timeline->items) changes += e.name == kLifecycleChanged;
  EXPECT_EQ(changes, 1);
  // A restart loads the committed state and counts nothing twice; new events add on.
  Append(1, "email_opened", "2026-03-03T12:00:00Z",
         json::object{{"message_id", 102}, {"template", "welcome"}, {"machine", false}});
  {
    AnalyticsService svc(*db_.store, clock_);
    ASSERT_TRUE(svc.Start(false).ok());
    Counts again = Total(svc);
    Counts want = first;
    want[Metric::kOpenedHuman] += 1;
    EXPECT_EQ(again, want);
    // A rebuild from the feed: the same numbers, and no second lifecycle event.
    ASSERT_TRUE(svc.Rebuild().ok());
    EXPECT_EQ(Total(svc), want);
    auto msg = svc.Message(db_.workspace, 101);
    ASSERT_TRUE(msg.ok());
    EXPECT_EQ(msg->outcomes, (std::vector<std::string>{"opened_human", "clicked_human"}));
  }
  timeline = db_.store->events().ListForContact(db_.workspace, contacts_[0], EventQuery{});
  changes = 0;
  for (const Event& e : timeline->items) changes += e.name == kLifecycleChanged;
  EXPECT_EQ(changes, 1);
}

TEST_F(AnalyticsServiceTest, TimeMovesAContactToAtRiskAndAppendsTheChange) {
  History();
  clock_.Set(*ParseTimestamp("2026-03-04T00:00:00Z"));
  AnalyticsService svc(*db_.store, clock_);
  ASSERT_TRUE(svc.Start(false).ok());
  clock_.Set(*ParseTimestamp("2026-09-30T00:00:00Z"));  // 181 days after the only order
  ASSERT_TRUE(svc.Step().ok());
  auto view = svc.Contact(db_.workspace, contacts_[0]);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->lifecycle, Stage::kAtRisk);
  auto timeline = db_.store->events().ListForContact(db_.workspace, contacts_[0], EventQuery{});
  ASSERT_TRUE(timeline.ok());
  // The newest lifecycle change (the decaying engagement score appends its own events beside it).
  auto newest = std::find_if(timeline->items.begin(), timeline->items.end(),
                             [](const Event& e) { return e.name == kLifecycleChanged; });
  ASSERT_NE(newest, timeline->items.end());
  EXPECT_EQ(newest->properties.at("to").as_string(), "at_risk");
  auto contact = db_.store->contacts().Get(db_.workspace, contacts_[0]);
  ASSERT_TRUE(contact.ok());
  EXPECT_EQ(contact->attributes.at("lifecycle").as_string(), "at_risk");
}

// The per-contact values reach the contact as attributes (segments, templates and the API read
// them there): engagement_score by steps, lifecycle, clv and predicted_clv per order.
TEST_F(AnalyticsServiceTest, EngagementLifecycleAndClvBecomeContactAttributes) {
  History();
  clock_.Set(*ParseTimestamp("2026-03-04T00:00:00Z"));
  AnalyticsService svc(*db_.store, clock_);
  ASSERT_TRUE(svc.Start(false).ok());
  auto timeline = db_.store->events().ListForContact(db_.workspace, contacts_[0], EventQuery{});
  ASSERT_TRUE(timeline.ok());
  std::vector<int64_t> scores;
  int clv_events = 0;
  for (auto it = timeline->items.rbegin(); it != timeline->items.rend(); ++it) {
    if (it->name == kEngagementChanged) scores.push_back(it->properties.at("to").as_int64());
    if (it->name == kClvChanged) {
      ++clv_events;
      EXPECT_EQ(it->properties.at("clv").to_number<double>(), 80);
    }
  }
  // By hand (engagement.h): open S=1 -> 18; click a minute later S=4.0 -> 55; the order 21 h 59
  // min later S = 4 * 2^(-21.98 h / 720 h) + 5 = 8.916 -> 83.
  EXPECT_EQ(scores, (std::vector<int64_t>{18, 55, 83}));
  EXPECT_EQ(clv_events, 1);
  auto contact = db_.store->contacts().Get(db_.workspace, contacts_[0]);
  ASSERT_TRUE(contact.ok());
  EXPECT_EQ(contact->attributes.at("engagement_score").to_number<double>(), 83);
  EXPECT_EQ(contact->attributes.at("lifecycle").as_string(), "new_customer");
  EXPECT_EQ(contact->attributes.at("clv").to_number<double>(), 80);
  auto view = svc.Contact(db_.workspace, contacts_[0]);
  ASSERT_TRUE(view.ok());
  EXPECT_NEAR(contact->attributes.at("predicted_clv").to_number<double>(), view->predicted.value, 0.005);
  EXPECT_GT(view->predicted.value, 0);
  // Contact 2 never engaged: no attribute. A rebuild appends nothing twice.
  auto other = db_.store->contacts().Get(db_.workspace, contacts_[2]);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->attributes.contains("engagement_score"));
  size_t before = timeline->items.size();
  ASSERT_TRUE(svc.Rebuild().ok());
  timeline = db_.store->events().ListForContact(db_.workspace, contacts_[0], EventQuery{});
  EXPECT_EQ(timeline->items.size(), before);
}

}  // namespace
}  // namespace rapport::analytics
