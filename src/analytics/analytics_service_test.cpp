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
  // The template's counts summed over its daily series (March 2026 by default).
  Counts Total(AnalyticsService& svc, const std::string& tpl = "welcome",
               const char* from = "2026-03-01T00:00:00Z", const char* to = "2026-03-31T00:00:00Z") {
    auto s = svc.Series(db_.workspace, Dimension::kTemplate, tpl, Day(from), Day(to));
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

// A history imported at once with last year's times (or a backlog folded after downtime, or a
// rebuild) is counted whole: the message horizon runs on when the log received the events, and
// the consumer's clock moves to now only once it has caught up. Before, the first event at today's
// time (a contact created today) or the first batch's end moved the horizon's clock to today, so
// each message of the history was forgotten as soon as it was made, and its opens dropped.
TEST_F(AnalyticsServiceTest, ABacklogOlderThanTheMessageHorizonIsCountedWhole) {
  // 5,500 messages from 2025-01-01, each opened (by a person) half an hour after it was queued: 11,000
  // events, more than a batch (10,000), all of them more than 60 days before now.
  const int64_t first = T("2025-01-01T00:00:00Z");
  const int64_t hour = 3'600'000'000LL;  // a message an hour: to 2025-08-18
  constexpr int kMessages = 5'500;
  std::vector<NewEvent> batch;
  int64_t last_order = 0;
  for (int k = 0; k < kMessages; ++k) {
    if (k % 480 == 0) {  // and a regular customer: an order every 20 days (in time order)
      NewEvent o;
      o.contact.id = contacts_[1];
      o.name = "order_placed";
      o.properties = json::object{{"total", 50}};
      o.occurred_at = FromMicros(first + k * hour - 10 * 60'000'000LL);
      last_order = first + k * hour - 10 * 60'000'000LL;
      batch.push_back(std::move(o));
    }
    json::object m{{"message_id", 1'000 + k}, {"template", "backlog"}, {"class", "marketing"}};
    for (int open = 0; open < 2; ++open) {
      NewEvent e;
      e.contact.id = contacts_[static_cast<size_t>(k % 3)];
      e.name = open ? "email_opened" : "message.queued";
      e.properties = m;
      if (open) e.properties["machine"] = false;
      e.occurred_at = FromMicros(first + k * hour + open * hour / 2);
      batch.push_back(std::move(e));
    }
    if (batch.size() >= 1'000 || k == kMessages - 1) {
      auto r = db_.store->events().Append(db_.workspace, batch, clock_.Now());
      ASSERT_TRUE(r.ok());
      for (const AppendResult& a : *r) ASSERT_EQ(a.outcome, AppendOutcome::kAccepted) << a.error.message;
      batch.clear();
    }
  }
  clock_.Set(*ParseTimestamp("2026-03-01T00:00:00Z"));
  AnalyticsOptions options;
  options.fit_in_background = false;
  AnalyticsService svc(*db_.store, clock_, options);
  ASSERT_TRUE(svc.Start(false).ok());
  Counts sum = Total(svc, "backlog", "2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z");
  EXPECT_EQ(sum[Metric::kSent], kMessages);
  EXPECT_EQ(sum[Metric::kOpenedHuman], kMessages);
  // The customer bought every 20 days to the end of the history: no threshold passed before its
  // last order. Before, today's contact.created moved the fold's clock to today, so every order
  // was followed at once by "at risk" and "lapsed"; and with the clock moved to now after the
  // first batch, the last order of that batch was followed by "at risk" while the customer was
  // still buying in the next one.
  int checked = 0, at_risk = 0, lapsed = 0;
  for (int64_t after = 0;;) {
    auto page = db_.store->feed().Read(after, 5'000);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const Event& e : *page)
      if (e.name == kLifecycleChanged && e.contact_id == contacts_[1]) {
        ++checked;
        std::string to(e.properties.at("to").as_string());
        if (to == "at_risk" || to == "lapsed") EXPECT_GT(ToMicros(e.occurred_at), last_order) << to;
        at_risk += to == "at_risk";
        lapsed += to == "lapsed";
      }
    after = page->back().position;
  }
  EXPECT_GT(checked, 0);  // its first order made it a new customer
  EXPECT_EQ(at_risk, 1);  // once, 40 days after its last order
  EXPECT_EQ(lapsed, 1);   // and lapsed 80 days after
  // Received today: kept (the horizon counts from when the log received a message's first event).
  EXPECT_TRUE(svc.Message(db_.workspace, 1'000).ok());
  // Two months on, the next event forgets them; the counts stay.
  clock_.Set(*ParseTimestamp("2026-05-02T00:00:00Z"));
  Append(0, "message.queued", "2026-05-02T00:00:00Z",
         json::object{{"message_id", 9'000}, {"template", "later"}});
  EXPECT_FALSE(svc.Message(db_.workspace, 1'000).ok());
  Counts kept = Total(svc, "backlog", "2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z");
  EXPECT_EQ(kept[Metric::kOpenedHuman], kMessages);
}

}  // namespace
}  // namespace rapport::analytics
