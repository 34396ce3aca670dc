// The fold after a scripted history: every number below is counted by hand from the script.
#include "analytics/report_book.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace rapport::analytics {
namespace {

int64_t T(const char* iso) { return ToMicros(*ParseTimestamp(iso)); }

// Days since 1970-01-01 of a calendar date.
int64_t Day(int y, unsigned m, unsigned d) {
  return date::sys_days(date::year{y} / m / d).time_since_epoch().count();
}

struct Script {
  ReportBook book{AnalyticsOptions{}, [](WorkspaceId) { return std::string("America/New_York"); }};
  EventId next_id = 1;
  void Add(ContactId c, const std::string& name, const char* at, json::object props = {}) {
    AddAt(c, name, T(at), std::move(props));
  }
  void AddAt(ContactId c, const std::string& name, int64_t at_us, json::object props = {}) {
    Event e;
    e.id = next_id++;
    e.position = e.id;
    e.workspace_id = 1;
    e.contact_id = c;
    e.name = name;
    e.properties = std::move(props);
    e.occurred_at = e.received_at = FromMicros(at_us);
    book.Apply(e, at_us);
  }
};

json::object Msg(int64_t id, const char* tpl, const char* topic = nullptr) {
  json::object o{{"message_id", id}, {"template", tpl}, {"class", "marketing"}};
  if (topic) o["topic"] = topic;
  return o;
}
json::object Hit(int64_t id, const char* tpl, bool machine) {
  json::object o = Msg(id, tpl);
  o["machine"] = machine;
  return o;
}

void RunScript(Script& s) {
  s.Add(1, "message.queued", "2026-03-02T14:00:00Z", Msg(1, "welcome", "news"));
  s.Add(2, "message.queued", "2026-03-02T14:00:00Z", Msg(2, "welcome"));
  s.Add(3, "message.queued", "2026-03-03T03:00:00Z", Msg(3, "promo"));  // 22:00 on 03-02 in New York
  s.Add(1, "message.sent", "2026-03-02T14:01:00Z", Msg(1, "welcome", "news"));
  s.Add(2, "message.sent", "2026-03-02T14:01:00Z", Msg(2, "welcome"));
  s.Add(3, "message.deferred", "2026-03-03T03:01:00Z", Msg(3, "promo"));
  s.Add(3, "message.sent", "2026-03-03T03:30:00Z", Msg(3, "promo"));
  s.Add(1, "email_opened", "2026-03-02T14:05:00Z", Hit(1, "welcome", true));
  s.Add(1, "email_opened", "2026-03-02T15:00:00Z", Hit(1, "welcome", false));
  s.Add(1, "email_clicked", "2026-03-02T15:05:00Z", Hit(1, "welcome", false));
  s.Add(1, "email_opened", "2026-03-02T16:00:00Z", Hit(1, "welcome", false));
  s.Add(2, "email_clicked", "2026-03-03T17:00:00Z", Hit(2, "welcome", false));  // no open before it
  s.Add(3, "message.soft_bounced", "2026-03-03T15:00:00Z", Msg(3, "promo"));
  s.Add(3, "message.soft_bounced", "2026-03-03T16:00:00Z", Msg(3, "promo"));
  s.Add(2, "message.complained", "2026-03-04T17:00:00Z", Msg(2, "welcome"));
  // 3 days after contact 1's click on message 1: last touch message 1.
  s.Add(1, "order_placed", "2026-03-05T15:00:00Z", json::object{{"total", 50}});
  // 7 days after contact 2's click: outside the 5-day window, not attributed.
  s.Add(2, "order_placed", "2026-03-10T17:00:00Z", json::object{{"total", "20.5"}});
  s.Add(
      3, "contact.status_changed", "2026-03-06T17:00:00Z",
      json::object{{"old", "active"}, {"new", "unsubscribed"}, {"origin", json::object{{"message_id", 3}}}});
}

Counts Of(std::initializer_list<std::pair<Metric, double>> list) {
  Counts c;
  for (auto [m, v] : list) c[m] = v;
  return c;
}

TEST(ReportBook, ScriptedHistoryDailySeriesInTheWorkspaceTimezone) {
  Script s;
  RunScript(s);
  auto series = s.book.Series(1, Dimension::kWorkspace, "", Day(2026, 3, 2), Day(2026, 3, 10));
  ASSERT_EQ(series.size(), 9u);
  using M = Metric;
  EXPECT_EQ(series[0].second, Of({{M::kSent, 3},
                                  {M::kDelivered, 3},
                                  {M::kDeferred, 1},
                                  {M::kOpenedMachine, 1},
                                  {M::kOpenedHuman, 1},
                                  {M::kClickedHuman, 1}}));
  EXPECT_EQ(series[1].second, Of({{M::kOpenedHuman, 1}, {M::kClickedHuman, 1}, {M::kBouncedSoft, 1}}));
  EXPECT_EQ(series[2].second, Of({{M::kComplained, 1}}));
  EXPECT_EQ(series[3].second, Of({{M::kConversions, 1},
                                  {M::kRevenue, 50},
                                  {M::kConversionsFirst, 1},
                                  {M::kRevenueFirst, 50},
                                  {M::kConversionsLinear, 1},
                                  {M::kRevenueLinear, 50},
                                  {M::kOrders, 1},
                                  {M::kOrderRevenue, 50}}));
  EXPECT_EQ(series[4].second, Of({{M::kUnsubscribed, 1}}));
  EXPECT_EQ(series[5].second, Counts{});
  EXPECT_EQ(series[8].second, Of({{M::kOrders, 1}, {M::kOrderRevenue, 20.5}}));
}

TEST(ReportBook, ScriptedHistoryPerTemplateAndTopic) {
  Script s;
  RunScript(s);
  using M = Metric;
  auto templates = s.book.Breakdown(1, Dimension::kTemplate, Day(2026, 3, 1), Day(2026, 3, 31));
  ASSERT_EQ(templates.size(), 2u);
  EXPECT_EQ(templates[0].first, "promo");
  EXPECT_EQ(templates[0].second, Of({{M::kSent, 1},
                                     {M::kDelivered, 1},
                                     {M::kDeferred, 1},
                                     {M::kBouncedSoft, 1},
                                     {M::kUnsubscribed, 1}}));
  EXPECT_EQ(templates[1].first, "welcome");
  EXPECT_EQ(templates[1].second, Of({{M::kSent, 2},
                                     {M::kDelivered, 2},
                                     {M::kOpenedMachine, 1},
                                     {M::kOpenedHuman, 2},
                                     {M::kClickedHuman, 2},
                                     {M::kComplained, 1},
                                     {M::kConversions, 1},
                                     {M::kRevenue, 50},
                                     {M::kConversionsFirst, 1},
                                     {M::kRevenueFirst, 50},
                                     {M::kConversionsLinear, 1},
                                     {M::kRevenueLinear, 50}}));
  Rates r = RatesOf(templates[1].second);
  EXPECT_DOUBLE_EQ(*r.click_rate, 1.0);
  EXPECT_DOUBLE_EQ(*r.click_to_open, 1.0);
  auto topics = s.book.Breakdown(1, Dimension::kTopic, Day(2026, 3, 1), Day(2026, 3, 31));
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].first, "news");
  EXPECT_EQ(topics[0].second[M::kSent], 1);
  EXPECT_EQ(topics[0].second[M::kRevenue], 50);
  // A period that cuts the script: only its days.
  auto part = s.book.Breakdown(1, Dimension::kTemplate, Day(2026, 3, 3), Day(2026, 3, 3));
  ASSERT_EQ(part.size(), 2u);
  EXPECT_EQ(part[0].second, Of({{M::kBouncedSoft, 1}}));
  EXPECT_EQ(part[1].second, Of({{M::kOpenedHuman, 1}, {M::kClickedHuman, 1}}));
  auto m1 = s.book.Message(1, 1);
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->outcomes, (std::vector<std::string>{"opened_human", "opened_machine", "clicked_human"}));
  // The order of 50, 3 days after contact 1's click on message 1 (its only eligible touch: the
  // opens were more than a day before): every model credits message 1 with all of it.
  EXPECT_EQ(m1->credit, (MessageCredit{1, 1, 1, 50, 50, 50}));
  auto m2 = s.book.Message(1, 2);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->credit, MessageCredit{});  // the order of 20.5 came 7 days after its click
  EXPECT_FALSE(s.book.Message(2, 1));      // another workspace
}

// The credit of each model is kept per message (not only in its dimensions' daily cells), and a
// restart (the states written, loaded into a new book) keeps it; a state written before the
// credit was kept loads with none.
TEST(ReportBook, EachModelsCreditIsKeptPerMessageAcrossARestart) {
  Script s;
  s.Add(1, "message.sent", "2026-03-02T14:00:00Z", Msg(1, "welcome"));
  s.Add(1, "email_clicked", "2026-03-02T15:00:00Z", Hit(1, "welcome", false));
  s.Add(1, "message.sent", "2026-03-03T14:00:00Z", Msg(2, "promo"));
  s.Add(1, "email_clicked", "2026-03-03T15:00:00Z", Hit(2, "promo", false));
  s.Add(1, "message.sent", "2026-03-03T14:00:00Z", Msg(3, "promo"));  // never touched
  // Both clicks within 5 days: message 1 first touch, message 2 last touch, half each linearly.
  s.Add(1, "order_placed", "2026-03-04T15:00:00Z", json::object{{"total", 30}});
  auto m1 = s.book.Message(1, 1), m2 = s.book.Message(1, 2), m3 = s.book.Message(1, 3);
  ASSERT_TRUE(m1 && m2 && m3);
  EXPECT_EQ(m1->credit, (MessageCredit{0, 1, 0.5, 0, 30, 15}));
  EXPECT_EQ(m2->credit, (MessageCredit{1, 0, 0.5, 30, 0, 15}));
  EXPECT_EQ(m3->credit, MessageCredit{});
  // A second order the next day: the same touches, the credits add up.
  s.Add(1, "order_placed", "2026-03-05T15:00:00Z", json::object{{"total", 10}});
  const MessageCredit want1{0, 2, 1, 0, 40, 20}, want2{2, 0, 1, 40, 0, 20};
  EXPECT_EQ(s.book.Message(1, 1)->credit, want1);
  EXPECT_EQ(s.book.Message(1, 2)->credit, want2);
  // Per message, the credit is what its template's report holds.
  auto templates = s.book.Breakdown(1, Dimension::kTemplate, Day(2026, 3, 1), Day(2026, 3, 31));
  ASSERT_EQ(templates.size(), 2u);
  EXPECT_EQ(templates[0].first, "promo");
  EXPECT_EQ(templates[0].second[Metric::kConversions], want2.last);
  EXPECT_EQ(templates[0].second[Metric::kRevenueLinear], want2.revenue_linear);
  EXPECT_EQ(templates[1].second[Metric::kConversionsFirst], want1.first);
  EXPECT_EQ(templates[1].second[Metric::kRevenueFirst], want1.revenue_first);

  std::vector<AnalyticsDailyValue> daily;
  std::vector<AnalyticsEntityWrite> entities;
  s.book.TakeChanges(daily, entities);
  ReportBook restarted{AnalyticsOptions{}, [](WorkspaceId) { return std::string("America/New_York"); }};
  for (const AnalyticsDailyValue& v : daily) restarted.LoadDaily(v);
  for (const AnalyticsEntityWrite& e : entities)
    if (e.state) restarted.LoadEntity(e.workspace_id, e.kind, e.id, *e.state);
  // Message 4's state as written before the credit was kept: no "credit" member.
  restarted.LoadEntity(1, "message", 4, R"({"template":"welcome","flags":1,"at":1772460000000000})");
  restarted.Rebuilt();
  ASSERT_EQ(restarted.messages(), 4u);
  EXPECT_EQ(restarted.Message(1, 1)->credit, want1);
  EXPECT_EQ(restarted.Message(1, 2)->credit, want2);
  EXPECT_EQ(restarted.Message(1, 3)->credit, MessageCredit{});
  auto old = restarted.Message(1, 4);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->credit, MessageCredit{});
  EXPECT_EQ(old->outcomes, std::vector<std::string>{"opened_human"});
  EXPECT_EQ(old->keys[static_cast<size_t>(Dimension::kTemplate)], "welcome");
  // And it carries on from there: a third order adds to the loaded credit.
  Event e;
  e.id = 100;
  e.workspace_id = 1;
  e.contact_id = 1;
  e.name = "order_placed";
  e.properties = json::object{{"total", 4}};
  e.occurred_at = e.received_at = FromMicros(T("2026-03-06T15:00:00Z"));
  restarted.Apply(e, T("2026-03-06T15:00:00Z"));
  EXPECT_EQ(restarted.Message(1, 1)->credit, (MessageCredit{0, 3, 1.5, 0, 44, 22}));
  EXPECT_EQ(restarted.Message(1, 2)->credit, (MessageCredit{3, 0, 1.5, 44, 0, 22}));
}

// A pixel fetched thousands of times: the fold keeps a run of one message's opens (or clicks) as
// its first and last touch, and every model's credit stays what attribution over all the touches
// gives (Attribute over the full list, in the test), while the contact's state stays small.
TEST(ReportBook, RepeatedTouchesAreCompactedWithoutChangingAnyCredit) {
  Script s;
  std::mt19937_64 rng(1729);
  const int64_t t0 = T("2026-03-02T00:00:00Z");
  for (int64_t m = 1; m <= 3; ++m) s.AddAt(7, "message.sent", t0, Msg(m, "welcome"));
  std::vector<Touch> all;  // every touch, as an uncompacted fold would keep them
  std::map<int64_t, MessageCredit> want;
  int64_t at = t0;
  int orders = 0;
  for (int run = 0; run < 120; ++run) {
    const int64_t mid = 1 + static_cast<int64_t>(rng() % 3);
    const bool click = rng() % 4 == 0;
    const int len = 1 + static_cast<int>(rng() % 120);
    for (int i = 0; i < len; ++i) {
      at += static_cast<int64_t>(rng() % 180) * 1'000'000;  // 0-3 minutes apart
      s.AddAt(7, click ? "email_clicked" : "email_opened", at, Hit(mid, "welcome", false));
      all.push_back(Touch{mid, at, click});
    }
    at += static_cast<int64_t>(rng() % 240) * 60'000'000;  // up to 4 hours between runs
    if (rng() % 5 == 0) {
      s.AddAt(7, "order_placed", at, json::object{{"total", 1}});
      ++orders;
      for (const Credit& c : Attribute(all, at, AttributionWindows{})) {
        MessageCredit& w = want[c.message_id];
        w.last += c.last;
        w.first += c.first;
        w.linear += c.linear;
      }
    }
  }
  ASSERT_GT(orders, 10);
  ASSERT_GT(all.size(), 3000u);
  for (int64_t m = 1; m <= 3; ++m) {
    auto got = s.book.Message(1, m);
    ASSERT_TRUE(got);
    EXPECT_DOUBLE_EQ(got->credit.last, want[m].last) << "message " << m;
    EXPECT_DOUBLE_EQ(got->credit.first, want[m].first) << "message " << m;
    EXPECT_NEAR(got->credit.linear, want[m].linear, 1e-9) << "message " << m;
  }
  // The contact's written state holds a handful of touches, not thousands.
  std::vector<AnalyticsDailyValue> daily;
  std::vector<AnalyticsEntityWrite> entities;
  s.book.TakeChanges(daily, entities);
  bool seen = false;
  for (const AnalyticsEntityWrite& e : entities)
    if (e.kind == "contact" && e.id == 7 && e.state) {
      seen = true;
      EXPECT_LT(e.state->size(), 64u * 40u) << *e.state;
    }
  EXPECT_TRUE(seen);
}

// The properties AddSourceProperties gives a journey's and a campaign's messages
// (core/outbox.h) put them in reports per journey, journey step and campaign.
TEST(ReportBook, JourneyStepAndCampaignDimensionsFromTheMessagesSource) {
  Script s;
  json::object step = Msg(1, "reminder");
  step["journey_id"] = 3;
  step["journey_step"] = "first";
  json::object other = Msg(2, "reminder");
  other["journey_id"] = 4;
  other["journey_step"] = "first";  // the same step id in another journey: another key
  json::object campaign = Msg(3, "digest");
  campaign["campaign_id"] = 12;
  for (auto* m : {&step, &other, &campaign}) {
    s.Add(1, "message.queued", "2026-03-02T14:00:00Z", *m);
    s.Add(1, "message.sent", "2026-03-02T14:01:00Z", *m);
  }
  json::object hit{{"message_id", 1}, {"machine", false}};  // a hit names only its message
  s.Add(1, "email_clicked", "2026-03-02T15:00:00Z", hit);
  auto steps = s.book.Breakdown(1, Dimension::kJourneyStep, Day(2026, 3, 1), Day(2026, 3, 31));
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].first, "3:first");
  EXPECT_EQ(steps[0].second[Metric::kSent], 1);
  EXPECT_EQ(steps[0].second[Metric::kClickedHuman], 1);
  EXPECT_EQ(steps[1].first, "4:first");
  EXPECT_EQ(steps[1].second[Metric::kClickedHuman], 0);
  auto journeys = s.book.Breakdown(1, Dimension::kJourney, Day(2026, 3, 1), Day(2026, 3, 31));
  ASSERT_EQ(journeys.size(), 2u);
  EXPECT_EQ(journeys[0].first, "3");
  auto campaigns = s.book.Breakdown(1, Dimension::kCampaign, Day(2026, 3, 1), Day(2026, 3, 31));
  ASSERT_EQ(campaigns.size(), 1u);
  EXPECT_EQ(campaigns[0].first, "12");
  EXPECT_EQ(campaigns[0].second[Metric::kDelivered], 1);
  EXPECT_EQ(ParseDimension("journey_steps"), Dimension::kJourneyStep);
}

// The fitted path as the consumer takes it: order events folded per contact, then the workspace's
// model fitted from the contacts' purchase summaries (FitModel), and a contact's prediction.
TEST(ReportBook, TheClvModelIsFittedFromTheFoldedOrders) {
  BgNbdParams truth{0.5, 10.0, 0.7, 2.5};
  GammaGammaParams spend{6.0, 4.0, 15.0};
  std::mt19937_64 rng(7);
  auto sim = Simulate(truth, spend, 1500, 180, 360, rng);
  const int64_t now = T("2026-12-01T00:00:00Z");
  struct Order {
    int64_t at;
    ContactId contact;
    double total;
  };
  std::vector<Order> orders;
  for (size_t i = 0; i < sim.size(); ++i) {
    const SimulatedCustomer& c = sim[i];
    const int64_t first = now - static_cast<int64_t>(c.T * static_cast<double>(kMicrosPerDay));
    orders.push_back({first, static_cast<ContactId>(i + 1), c.spends[0]});
    for (size_t k = 0; k < c.times.size(); ++k)
      orders.push_back({first + static_cast<int64_t>(c.times[k] * static_cast<double>(kMicrosPerDay)),
                        static_cast<ContactId>(i + 1), c.spends[k + 1]});
  }
  std::sort(orders.begin(), orders.end(), [](const Order& a, const Order& b) { return a.at < b.at; });
  ReportBook book{AnalyticsOptions{}, [](WorkspaceId) { return std::string("UTC"); }};
  EventId id = 1;
  for (const Order& o : orders) {
    Event e;
    e.id = e.position = id++;
    e.workspace_id = 1;
    e.contact_id = o.contact;
    e.name = "order_placed";
    e.properties = json::object{{"total", std::round(o.total * 100) / 100}};
    e.occurred_at = e.received_at = FromMicros(o.at);
    book.Apply(e, o.at);
  }
  const ClvModel& model = book.FitModel(1, now);
  ASSERT_TRUE(model.fitted) << model.reason;
  EXPECT_EQ(model.customers, 1500);
  EXPECT_NEAR(model.bgnbd.r, truth.r, 0.30 * truth.r);
  EXPECT_NEAR(model.bgnbd.alpha, truth.alpha, 0.30 * truth.alpha);
  double mean_spend = model.gg.p * model.gg.gamma / (model.gg.q - 1);
  EXPECT_NEAR(mean_spend, 30.0, 0.15 * 30.0);
  // A frequent recent buyer is worth more than a one-time buyer of long ago, and both are known.
  size_t frequent = 0, once = 0;
  auto recent = [&](size_t i) { return !sim[i].times.empty() && sim[i].T - sim[i].times.back() < 30; };
  for (size_t i = 0; i < sim.size(); ++i) {
    if (recent(i) && (!recent(frequent) || sim[i].times.size() > sim[frequent].times.size())) frequent = i;
    if (sim[i].times.empty() && (!sim[once].times.empty() || sim[i].T > sim[once].T)) once = i;
  }
  ASSERT_TRUE(recent(frequent));
  ASSERT_TRUE(sim[once].times.empty());
  ContactView a = book.Contact(1, static_cast<ContactId>(frequent + 1), now);
  ContactView b = book.Contact(1, static_cast<ContactId>(once + 1), now);
  ASSERT_TRUE(a.known && b.known);
  EXPECT_TRUE(a.model_fitted);
  EXPECT_GT(a.predicted.value, b.predicted.value);
}

TEST(ReportBook, EngagementFollowsTheDocumentedFormula) {
  Script s;
  RunScript(s);
  int64_t now = T("2026-03-20T00:00:00Z");
  ContactView v = s.book.Contact(1, 1, now);
  ASSERT_TRUE(v.known);
  auto decay = [&](const char* at) {
    return std::exp2(-static_cast<double>(now - T(at)) / static_cast<double>(kMicrosPerDay) / 30.0);
  };
  double sum = 1 * decay("2026-03-02T15:00:00Z") + 3 * decay("2026-03-02T15:05:00Z") +
               1 * decay("2026-03-02T16:00:00Z") + 5 * decay("2026-03-05T15:00:00Z");
  EXPECT_EQ(v.engagement_score, static_cast<int>(std::lround(100 * (1 - std::exp(-sum / 5)))));
  EXPECT_EQ(v.human_opens, 2);
  EXPECT_EQ(v.human_clicks, 1);
  EXPECT_EQ(v.orders, 1);
  EXPECT_DOUBLE_EQ(v.revenue, 50);
  EXPECT_EQ(s.book.Contact(1, 3, now).engagement_score, 0);  // no human touch
  // The overview's distribution puts each contact in the band of its score.
  for (int64_t at : {now, T("2026-03-02T16:00:00Z"), T("2026-03-06T00:00:00Z"), T("2026-08-01T00:00:00Z")}) {
    std::array<int64_t, 10> want{};
    for (ContactId c : {1, 2, 3})
      want[static_cast<size_t>(std::min(s.book.Contact(1, c, at).engagement_score / 10, 9))]++;
    EXPECT_EQ(s.book.OverviewOf(1, 0, 0, at).engagement, want);
  }
}

TEST(ReportBook, LifecycleChangesByOrdersAndByTime) {
  Script s;
  RunScript(s);
  auto changes = s.book.TakeLifecycleChanges();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].contact_id, 1);
  EXPECT_EQ(changes[0].from, Stage::kSubscriber);
  EXPECT_EQ(changes[0].to, Stage::kNewCustomer);
  EXPECT_EQ(changes[0].at_us, T("2026-03-05T15:00:00Z"));
  // Default rhythm 90 days: at risk after 180 days, lapsed after 360.
  s.book.Advance(T("2026-03-05T15:00:00Z") + 180 * kMicrosPerDay);
  EXPECT_TRUE(s.book.TakeLifecycleChanges().empty());
  s.book.Advance(T("2026-03-05T15:00:00Z") + 180 * kMicrosPerDay + 1);
  changes = s.book.TakeLifecycleChanges();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Stage::kAtRisk);
  s.book.Advance(T("2026-03-05T15:00:00Z") + 400 * kMicrosPerDay);
  changes = s.book.TakeLifecycleChanges();  // both contacts lapse; contact 2 passes at risk first
  ASSERT_EQ(changes.size(), 3u);
  // Contact 1 buys again while lapsed: won back.
  s.Add(1, "order_placed", "2027-06-01T12:00:00Z", json::object{{"total", 10}});
  changes = s.book.TakeLifecycleChanges();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, Stage::kLapsed);
  EXPECT_EQ(changes[0].to, Stage::kWonBack);
  Overview o = s.book.OverviewOf(1, Day(2026, 3, 1), Day(2026, 3, 31), T("2027-06-02T00:00:00Z"));
  EXPECT_EQ(o.lifecycle[static_cast<size_t>(Stage::kWonBack)], 1);
  EXPECT_EQ(o.lifecycle[static_cast<size_t>(Stage::kLapsed)], 1);
  EXPECT_EQ(o.lifecycle[static_cast<size_t>(Stage::kSubscriber)], 1);
  EXPECT_EQ(o.totals[Metric::kSent], 3);
  ASSERT_FALSE(o.top_templates.empty());
  EXPECT_EQ(o.top_templates[0].first, "welcome");
}

// A threshold fires late_event_grace_us after its time: an order that arrives a few minutes
// late (logged after an event past the threshold, with the time it was placed) is folded first,
// and the regular customer does not flap to at_risk and back. Later than the grace, it does.
TEST(ReportBook, AnOrderUpToTheGraceLateKeepsTheCustomerFromFlapping) {
  for (int64_t late_minutes : {9, 11}) {  // the default grace: 10 minutes
    Script s;
    const int64_t day = kMicrosPerDay, minute = 60'000'000;
    const int64_t t0 = T("2026-01-01T12:00:00Z");
    for (int k = 0; k < 3; ++k) s.AddAt(7, "order_placed", t0 + k * 10 * day, json::object{{"total", 20}});
    // Rhythm 10 days: at risk 20 days (and a microsecond) after the last order. The next order is
    // placed just before that and posted `late_minutes` later, after an open from the threshold on.
    const int64_t threshold = t0 + 20 * day + 20 * day + 1;
    const int64_t order = threshold - 1;
    s.AddAt(8, "email_opened", order + late_minutes * minute - 1, Hit(1, "welcome", false));
    s.AddAt(7, "order_placed", order, json::object{{"total", 20}});
    bool at_risk = false;
    for (const LifecycleChange& c : s.book.TakeLifecycleChanges()) at_risk |= c.to == Stage::kAtRisk;
    EXPECT_EQ(at_risk, late_minutes > 10) << late_minutes << " minutes late";
  }
}

// Counts of any period equal the events of the feed in that period (random histories).
TEST(ReportBook, CountsOverAnyPeriodEqualTheEvents) {
  std::mt19937_64 rng(17);
  for (int round = 0; round < 5; ++round) {
    ReportBook book(AnalyticsOptions{}, [](WorkspaceId) { return std::string("Europe/Berlin"); });
    std::vector<Event> events;
    int64_t start = T("2026-01-01T00:00:00Z");
    const char* names[] = {"message.queued", "message.sent", "message.deferred", "message.failed"};
    for (int i = 0; i < 3000; ++i) {
      Event e;
      e.id = i + 1;
      e.workspace_id = 1;
      e.contact_id = 1 + static_cast<int64_t>(rng() % 50);
      e.name = names[rng() % 4];
      e.properties = Msg(1 + static_cast<int64_t>(rng() % 400), rng() % 2 ? "a" : "b");
      e.occurred_at = FromMicros(start + static_cast<int64_t>(rng() % (60 * kMicrosPerDay)));
      book.Apply(e, ToMicros(e.occurred_at));
      events.push_back(e);
    }
    int64_t a = book.DayOf(1, start) + static_cast<int64_t>(rng() % 30);
    int64_t b = a + static_cast<int64_t>(rng() % 30);
    double sent = 0, delivered = 0;
    for (const auto& [k, c] : book.Breakdown(1, Dimension::kTemplate, a, b)) {
      sent += c[Metric::kSent];
      delivered += c[Metric::kDelivered];
    }
    int64_t want_sent = 0, want_delivered = 0;
    for (const Event& e : events) {
      int64_t d = book.DayOf(1, ToMicros(e.occurred_at));
      if (d < a || d > b) continue;
      want_sent += e.name == "message.queued";
      want_delivered += e.name == "message.sent";
    }
    EXPECT_EQ(sent, static_cast<double>(want_sent));
    EXPECT_EQ(delivered, static_cast<double>(want_delivered));
  }
}

}  // namespace
}  // namespace rapport::analytics
