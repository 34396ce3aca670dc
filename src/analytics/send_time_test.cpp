// The send-time model (shrinkage), local hours of the week with their timezones and DST, the
// choice within a window, and the fold (persisted state reloads to the same profile).
#include "analytics/send_time.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace rapport::analytics {
namespace {

Timestamp At(const char* iso) { return *ParseTimestamp(iso); }
const date::time_zone& Zone(const char* name) { return *date::locate_zone(name); }

int ArgMax(const WeekWeights& w) {
  return static_cast<int>(std::max_element(w.begin(), w.end()) - w.begin());
}
double Sum(const WeekWeights& w) {
  double s = 0;
  for (double x : w) s += x;
  return s;
}
double TotalVariation(const WeekWeights& a, const WeekWeights& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += std::abs(a[i] - b[i]);
  return d / 2;
}

constexpr int kTuesday10 = 2 * 24 + 10;   // 58
constexpr int kThursday20 = 4 * 24 + 20;  // 116
constexpr int kMonday9 = 24 + 9;          // 33

WeekCounts PopulationPeakingAt(int hour) {
  WeekCounts p{};
  for (int h = 0; h < kHoursPerWeek; ++h) p[static_cast<size_t>(h)].opens = 20;  // some everywhere
  p[static_cast<size_t>(hour)].opens = 3000;
  p[static_cast<size_t>(hour)].clicks = 500;
  return p;
}

// --- Hours of the week

TEST(HourOfWeekTest, LocalHoursInSeveralZones) {
  // 2026-03-01 is a Sunday.
  EXPECT_EQ(HourOfWeek(At("2026-03-01T10:30:00Z"), Zone("UTC")), 10);
  EXPECT_EQ(HourOfWeek(At("2026-03-01T10:30:00Z"), Zone("America/New_York")), 5);    // EST
  EXPECT_EQ(HourOfWeek(At("2026-03-07T23:30:00Z"), Zone("UTC")), 167);               // Saturday 23:30
  EXPECT_EQ(HourOfWeek(At("2026-03-07T23:30:00Z"), Zone("Asia/Tokyo")), 8);          // Sunday 08:30
  EXPECT_EQ(HourOfWeek(At("2026-03-01T00:00:00Z"), Zone("Asia/Kolkata")), 5);        // 05:30
  EXPECT_EQ(HourOfWeek(At("2026-03-01T04:00:00Z"), Zone("America/New_York")), 167);  // Sat 23:00
  EXPECT_EQ(HourOfWeek(At("1969-12-28T00:00:00Z"), Zone("UTC")), 0);  // before the epoch: a Sunday
}

TEST(HourOfWeekTest, DaylightSavingTimeMovesTheOffset) {
  // New York springs forward on Sunday 2026-03-08 at 02:00 EST (07:00Z).
  EXPECT_EQ(HourOfWeek(At("2026-03-08T06:30:00Z"), Zone("America/New_York")), 1);  // 01:30 EST
  EXPECT_EQ(HourOfWeek(At("2026-03-08T07:30:00Z"), Zone("America/New_York")), 3);  // 03:30 EDT
  // The same local hour is a different UTC hour before and after.
  EXPECT_EQ(HourOfWeek(At("2026-03-02T14:00:00Z"), Zone("America/New_York")), kMonday9);
  EXPECT_EQ(HourOfWeek(At("2026-03-09T13:00:00Z"), Zone("America/New_York")), kMonday9);
}

// --- The model

TEST(SendTimeModelTest, PopulationPriorIsSmoothedAndSumsToOne) {
  const SendTimeOptions o;
  WeekWeights pi = PopulationPrior(WeekCounts{}, o);
  EXPECT_NEAR(Sum(pi), 1, 1e-12);
  for (double x : pi) EXPECT_NEAR(x, 1.0 / 168, 1e-12);  // no events: uniform

  WeekCounts p{};
  p[0].opens = 1000;
  pi = PopulationPrior(p, o);
  EXPECT_NEAR(Sum(pi), 1, 1e-12);
  EXPECT_EQ(ArgMax(pi), 0);
  EXPECT_NEAR(pi[167], pi[1], 1e-15);  // smoothed around the week
  EXPECT_NEAR(pi[0], (500 + 1.0) / (1000 + 168), 1e-12);
  EXPECT_NEAR(pi[1], (250 + 1.0) / (1000 + 168), 1e-12);
  EXPECT_NEAR(pi[80], 1.0 / (1000 + 168), 1e-12);
}

TEST(SendTimeModelTest, NoHistoryFollowsThePopulation) {
  const SendTimeOptions o;
  const WeekWeights pi = PopulationPrior(PopulationPeakingAt(kTuesday10), o);
  const WeekWeights w = ContactPosterior(WeekCounts{}, pi, o);
  EXPECT_EQ(w, pi);
  EXPECT_EQ(ArgMax(w), kTuesday10);
}

TEST(SendTimeModelTest, FewEventsStayNearThePopulation) {
  const SendTimeOptions o;
  const WeekWeights pi = PopulationPrior(PopulationPeakingAt(kTuesday10), o);
  WeekCounts own{};
  own[kThursday20].opens = 1;
  const WeekWeights w = ContactPosterior(own, pi, o);
  EXPECT_NEAR(Sum(w), 1, 1e-12);
  // One open of weight 1 against a = 10: the posterior moves 1/11 of the way at most.
  EXPECT_LE(TotalVariation(w, pi), 1.0 / 11 + 1e-12);
  EXPECT_GT(w[kTuesday10], 0.9 * pi[kTuesday10]);
  EXPECT_NEAR(w[kThursday20], (1 + 10 * pi[kThursday20]) / 11, 1e-12);
}

TEST(SendTimeModelTest, MuchHistoryFollowsTheContactsOwnPeak) {
  const SendTimeOptions o;
  const WeekWeights pi = PopulationPrior(PopulationPeakingAt(kTuesday10), o);
  WeekCounts own{};
  own[kThursday20].opens = 60;
  own[kThursday20].clicks = 20;
  own[kTuesday10].opens = 5;
  const WeekWeights w = ContactPosterior(own, pi, o);
  EXPECT_EQ(ArgMax(w), kThursday20);
  EXPECT_GT(w[kThursday20], 0.8);
  EXPECT_NEAR(Sum(w), 1, 1e-12);
}

TEST(SendTimeModelTest, ClicksWeighMoreThanOpens) {
  const SendTimeOptions o;
  const WeekWeights pi = PopulationPrior(WeekCounts{}, o);
  WeekCounts own{};
  own[10].opens = 3;   // weight 3
  own[20].clicks = 2;  // weight 4
  EXPECT_EQ(ArgMax(ContactPosterior(own, pi, o)), 20);
}

// --- The choice within a window

WeekWeights Peaked(std::initializer_list<std::pair<int, double>> peaks) {
  WeekWeights w{};
  w.fill(0.001);
  for (auto [h, v] : peaks) w[static_cast<size_t>(h)] = v;
  return w;
}

TEST(BestInWindowTest, PicksTheLocalHourAcrossDaylightSavingTime) {
  const WeekWeights w = Peaked({{kMonday9, 0.5}});
  const auto& ny = Zone("America/New_York");
  // Monday 9:00 in New York is 14:00Z in winter and 13:00Z after the change of 2026-03-08.
  auto winter = BestInWindow(w, ny, At("2026-02-27T00:00:00Z"), At("2026-03-06T00:00:00Z"), true);
  ASSERT_TRUE(winter.ok());
  EXPECT_EQ(winter->at, At("2026-03-02T14:00:00Z"));
  EXPECT_EQ(winter->hour_of_week, kMonday9);
  EXPECT_DOUBLE_EQ(winter->expected, 0.5);
  EXPECT_TRUE(winter->personal);
  auto summer = BestInWindow(w, ny, At("2026-03-06T00:00:00Z"), At("2026-03-13T00:00:00Z"), false);
  ASSERT_TRUE(summer.ok());
  EXPECT_EQ(summer->at, At("2026-03-09T13:00:00Z"));
  EXPECT_FALSE(summer->personal);
}

TEST(BestInWindowTest, ASkippedHourFallsToTheNextBest) {
  // Sunday 02:00 does not exist in New York on 2026-03-08: the next best hour, 03:00 EDT, wins.
  const WeekWeights w = Peaked({{2, 0.3}, {3, 0.2}});
  auto c =
      BestInWindow(w, Zone("America/New_York"), At("2026-03-08T05:00:00Z"), At("2026-03-08T10:00:00Z"), true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-08T07:00:00Z"));
  EXPECT_EQ(c->hour_of_week, 3);
}

TEST(BestInWindowTest, HalfHourZonesStepOnLocalTopsOfTheHour) {
  // Kolkata is UTC+05:30: Monday 07:00 local is 01:30Z.
  const WeekWeights w = Peaked({{24 + 7, 0.4}});
  auto c =
      BestInWindow(w, Zone("Asia/Kolkata"), At("2026-03-02T00:10:00Z"), At("2026-03-02T12:00:00Z"), true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-02T01:30:00Z"));
}

TEST(BestInWindowTest, StartsTiesShortAndEmptyWindows) {
  const auto& utc = Zone("UTC");
  // The window starts inside the best hour: send at the start.
  const WeekWeights w = Peaked({{kMonday9, 0.5}});
  auto c = BestInWindow(w, utc, At("2026-03-02T09:40:00Z"), At("2026-03-02T18:00:00Z"), true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-02T09:40:00Z"));
  // Ties: the earliest.
  WeekWeights flat{};
  flat.fill(1.0 / 168);
  c = BestInWindow(flat, utc, At("2026-03-02T03:15:00Z"), At("2026-03-05T00:00:00Z"), false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-02T03:15:00Z"));
  // The best hour of the week is outside the window: the best inside it.
  const WeekWeights two = Peaked({{kMonday9, 0.5}, {kMonday9 + 5, 0.1}});
  c = BestInWindow(two, utc, At("2026-03-02T11:00:00Z"), At("2026-03-02T20:00:00Z"), true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-02T14:00:00Z"));
  // Shorter than an hour: the start.
  c = BestInWindow(two, utc, At("2026-03-02T11:00:00Z"), At("2026-03-02T11:59:00Z"), true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-02T11:00:00Z"));
  // Empty: invalid.
  c = BestInWindow(two, utc, At("2026-03-02T11:00:00Z"), At("2026-03-02T11:00:00Z"), true);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalid);
  // A month-long window still finds the best hour (its first occurrence).
  c = BestInWindow(w, utc, At("2026-03-03T00:00:00Z"), At("2026-04-03T00:00:00Z"), true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at, At("2026-03-09T09:00:00Z"));
}

// --- The fold

Event Ev(int64_t id, ContactId contact, const std::string& name, const char* at, json::object props = {}) {
  Event e;
  e.id = id;
  e.workspace_id = 1;
  e.contact_id = contact;
  e.name = name;
  e.occurred_at = At(at);
  e.properties = std::move(props);
  return e;
}

TEST(SendTimeBookTest, FoldsHumanEventsInTheContactsLocalHourAndReloads) {
  SendTimeBook book({}, [](WorkspaceId) { return "Europe/Paris"; });
  std::vector<Event> log = {
      Ev(1, 7, "contact.created", "2026-03-01T00:00:00Z", {{"timezone", "America/New_York"}}),
      Ev(2, 8, "contact.created", "2026-03-01T00:00:00Z", {{"email", "b@example.com"}}),
      // 7 in New York: Monday 14:05Z is 09:05 local.
      Ev(3, 7, "email_opened", "2026-03-02T14:05:00Z", {{"message_id", 1}, {"machine", false}}),
      Ev(4, 7, "email_clicked", "2026-03-02T14:06:00Z", {{"message_id", 1}}),
      Ev(5, 7, "email_opened", "2026-03-02T14:00:30Z", {{"message_id", 1}, {"machine", true}}),  // ignored
      // 8 has no timezone: the workspace's, Paris (UTC+1): Monday 08:30Z is 09:30.
      Ev(6, 8, "email_opened", "2026-03-02T08:30:00Z", {{"message_id", 2}}),
      // 7 moves to Tokyo: Tuesday 01:00Z is Tuesday 10:00 there.
      Ev(7, 7, "contact.updated", "2026-03-03T00:00:00Z",
         {{"changes",
           json::object{{"timezone", json::object{{"old", "America/New_York"}, {"new", "Asia/Tokyo"}}}}}}),
      Ev(8, 7, "email_opened", "2026-03-03T01:00:00Z", {{"message_id", 3}}),
  };
  for (const Event& e : log) book.Apply(e);

  SendTimeProfile p7 = book.Profile(1, 7, "Asia/Tokyo");
  EXPECT_EQ(p7.own[kMonday9], (HourCounts{1, 1}));
  EXPECT_EQ(p7.own[kTuesday10], (HourCounts{1, 0}));
  EXPECT_EQ(p7.opens, 2);
  EXPECT_EQ(p7.clicks, 1);
  EXPECT_DOUBLE_EQ(p7.evidence, 4);  // 2 opens + 1 click of weight 2
  EXPECT_NEAR(p7.personal_share, 4.0 / 14, 1e-12);
  EXPECT_EQ(p7.timezone, "Asia/Tokyo");
  SendTimeProfile p8 = book.Profile(1, 8, "");
  EXPECT_EQ(p8.own[kMonday9], (HourCounts{1, 0}));
  EXPECT_EQ(p8.timezone, "Europe/Paris");
  EXPECT_FALSE(p8.contact_timezone);
  // The population holds everyone's events: Monday 9:00 has two opens and a click.
  SendTimeProfile nobody = book.Profile(1, 99, "");
  EXPECT_EQ(nobody.evidence, 0);
  EXPECT_EQ(nobody.posterior, nobody.population);
  EXPECT_EQ(ArgMax(nobody.population), kMonday9);

  // Persisted and loaded into a fresh book: the same profiles.
  std::vector<AnalyticsEntityWrite> writes;
  book.TakeChanges(writes);
  SendTimeBook loaded({}, [](WorkspaceId) { return "Europe/Paris"; });
  for (const auto& w : writes) {
    ASSERT_TRUE(w.state.has_value());
    loaded.LoadEntity(w.workspace_id, w.kind, w.id, *w.state);
  }
  EXPECT_EQ(loaded.Profile(1, 7, "Asia/Tokyo").posterior, p7.posterior);
  EXPECT_EQ(loaded.Profile(1, 8, "").own, p8.own);
  // A later timezone change is folded from the log into the loaded book too.
  loaded.Apply(Ev(9, 7, "email_opened", "2026-03-04T01:00:00Z", {{"message_id", 4}}));  // Wed 10:00 Tokyo
  EXPECT_EQ(loaded.Profile(1, 7, "Asia/Tokyo").own[3 * 24 + 10], (HourCounts{1, 0}));
  writes.clear();
  book.TakeChanges(writes);
  EXPECT_TRUE(writes.empty());  // nothing changed since
}

TEST(SendTimeBookTest, MergeMovesCountsAndErasureRemovesThemFromThePopulation) {
  SendTimeBook book({}, [](WorkspaceId) { return "UTC"; });
  book.Apply(Ev(1, 1, "email_opened", "2026-03-02T09:10:00Z"));
  book.Apply(Ev(2, 2, "email_clicked", "2026-03-03T10:10:00Z"));
  book.Apply(Ev(3, 1, "contact.merged", "2026-03-04T00:00:00Z", {{"merged_contact_id", 2}}));
  SendTimeProfile p = book.Profile(1, 1, "");
  EXPECT_EQ(p.own[kMonday9], (HourCounts{1, 0}));
  EXPECT_EQ(p.own[kTuesday10], (HourCounts{0, 1}));
  EXPECT_EQ(book.Profile(1, 2, "").evidence, 0);
  std::vector<AnalyticsEntityWrite> writes;
  book.TakeChanges(writes);
  EXPECT_TRUE(std::any_of(writes.begin(), writes.end(),
                          [](const auto& w) { return w.id == 2 && w.kind == "send_time" && !w.state; }));

  book.Apply(Ev(4, 3, "email_opened", "2026-03-05T12:00:00Z"));
  book.Apply(Ev(5, 1, "contact.erased", "2026-03-06T00:00:00Z"));
  // Only contact 3's open is left in the population.
  const WeekWeights pi = book.Profile(1, 3, "").population;
  EXPECT_EQ(ArgMax(pi), 4 * 24 + 12);
  EXPECT_NEAR(pi[kMonday9], 1.0 / (1 + 168), 1e-12);
}

}  // namespace
}  // namespace rapport::analytics
