#include "campaign/governor.h"

#include <gtest/gtest.h>

namespace rapport::campaign {
namespace {

Timestamp T(std::string_view iso) { return *ParseTimestamp(iso); }

GovernedMessage Msg(MessageId id, std::string_view at, MessageState state = MessageState::kSent,
                    std::optional<std::string> topic = std::nullopt, int priority = 0, bool skip = false) {
  GovernedMessage m;
  m.id = id;
  m.contact_id = 1;
  m.state = state;
  m.at = T(at);
  m.topic = std::move(topic);
  m.priority = priority;
  m.skip_on_cap = skip;
  m.source = "campaign:" + std::to_string(id);
  return m;
}

GovernorPolicy Enabled(int per_day, int per_week, bool quiet = false) {
  GovernorPolicy p;
  p.enabled = true;
  p.caps = {per_day, per_week};
  if (!quiet) p.quiet_hours.reset();
  return p;
}

GovernorDecision Ask(const GovernorPolicy& p, std::string_view now,
                     const std::vector<GovernedMessage>& recent, std::string_view tz = "UTC",
                     GovernorCandidate c = {}, MailFrequency f = MailFrequency::kEverything) {
  GovernorFacts facts;
  facts.recent = recent;
  facts.now = T(now);
  facts.timezone = tz;
  facts.frequency = f;
  return Decide(p, c, facts);
}

TEST(Governor, AnUnconfiguredWorkspaceGovernsNothingButTheContactsOwnDigestChoice) {
  GovernorPolicy p = DefaultPolicy();
  EXPECT_FALSE(p.enabled);
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T09:00:00Z"), Msg(2, "2026-12-07T10:00:00Z")};
  auto d = Ask(p, "2026-12-07T23:30:00Z", recent);  // in the (off) quiet hours, past the (off) caps
  EXPECT_EQ(d.verdict, GovernorVerdict::kAllow);
  EXPECT_EQ(d.at, T("2026-12-07T23:30:00Z"));
  EXPECT_TRUE(d.reason.empty());

  // Weekly digest: one marketing message per local week (Monday 2026-12-07 .. Monday 12-14).
  d = Ask(p, "2026-12-09T12:00:00Z", recent, "UTC", {}, MailFrequency::kWeeklyDigest);
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-14T00:00:00Z"));
  EXPECT_NE(d.reason.find("weekly digest"), std::string::npos) << d.reason;
  // A week with nothing yet is free.
  d = Ask(p, "2026-12-14T00:00:00Z", recent, "UTC", {}, MailFrequency::kWeeklyDigest);
  EXPECT_EQ(d.verdict, GovernorVerdict::kAllow);
}

TEST(Governor, TheDayCapDefersToTheNextLocalMidnight) {
  auto p = Enabled(1, 0);
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T15:00:00Z")};
  // New York (UTC-5): the 7th local ends at 2026-12-08T05:00Z.
  auto d = Ask(p, "2026-12-07T20:00:00Z", recent, "America/New_York");
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-08T05:00:00Z"));
  EXPECT_NE(d.reason.find("1 marketing message per day"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("2026-12-07 (America/New_York)"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("deferred to 2026-12-08T05:00:00"), std::string::npos) << d.reason;
}

TEST(Governor, DaysAreTheContactsLocalDaysNotUtcDays) {
  auto p = Enabled(1, 0);
  // 14:30Z is 23:30 in Tokyo on the 7th; 15:30Z is 00:30 on the 8th: a new local day.
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T14:30:00Z")};
  EXPECT_EQ(Ask(p, "2026-12-07T15:30:00Z", recent, "Asia/Tokyo").verdict, GovernorVerdict::kAllow);
  // The same moments in UTC are one day: deferred to UTC midnight.
  auto d = Ask(p, "2026-12-07T15:30:00Z", recent, "UTC");
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-08T00:00:00Z"));
  // Conversely, 16:00Z on the 6th and 14:00Z on the 7th are one Tokyo day (the 7th).
  recent = {Msg(1, "2026-12-06T16:00:00Z")};
  d = Ask(p, "2026-12-07T14:00:00Z", recent, "Asia/Tokyo");
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-07T15:00:00Z"));  // Tokyo midnight
}

TEST(Governor, TheWeekCapDefersToTheNextLocalMonday) {
  auto p = Enabled(0, 3);
  // Monday 2026-12-07 .. Sunday 12-13 in Berlin (UTC+1): the week ends 2026-12-13T23:00Z.
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T09:00:00Z"), Msg(2, "2026-12-08T09:00:00Z"),
                                      Msg(3, "2026-12-10T09:00:00Z")};
  auto d = Ask(p, "2026-12-11T09:00:00Z", recent, "Europe/Berlin");
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-13T23:00:00Z"));
  EXPECT_NE(d.reason.find("3 marketing messages per week"), std::string::npos) << d.reason;
  // A message of the previous week (Sunday 23:30 local = 22:30Z on the 6th) does not count.
  recent = {Msg(1, "2026-12-06T22:30:00Z"), Msg(2, "2026-12-08T09:00:00Z"), Msg(3, "2026-12-10T09:00:00Z")};
  EXPECT_EQ(Ask(p, "2026-12-11T09:00:00Z", recent, "Europe/Berlin").verdict, GovernorVerdict::kAllow);
  // But in UTC that Sunday message is in the previous week too; in Tokyo (UTC+9) it is Monday.
  EXPECT_EQ(Ask(p, "2026-12-11T09:00:00Z", recent, "Asia/Tokyo").verdict, GovernorVerdict::kDefer);
}

TEST(Governor, QuietHoursDeferToTheirLocalEndWhateverOnCapSays) {
  GovernorPolicy p = Enabled(0, 0, /*quiet=*/true);  // 21:00-08:00
  // 22:30 in Berlin (21:30Z) -> 08:00 Berlin the next day (07:00Z).
  GovernorCandidate skip;
  skip.skip_on_cap = true;
  auto d = Ask(p, "2026-12-07T21:30:00Z", {}, "Europe/Berlin", skip);
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-08T07:00:00Z"));
  EXPECT_NE(d.reason.find("quiet hours 21:00-08:00 (Europe/Berlin)"), std::string::npos) << d.reason;
  // 05:00 Berlin (04:00Z) -> 08:00 the same day.
  EXPECT_EQ(Ask(p, "2026-12-08T04:00:00Z", {}, "Europe/Berlin").at, T("2026-12-08T07:00:00Z"));
  // 08:00 sharp and 20:59 are outside.
  EXPECT_EQ(Ask(p, "2026-12-08T07:00:00Z", {}, "Europe/Berlin").verdict, GovernorVerdict::kAllow);
  EXPECT_EQ(Ask(p, "2026-12-08T19:59:00Z", {}, "Europe/Berlin").verdict, GovernorVerdict::kAllow);
  // A window that does not wrap midnight: 12:00-14:00.
  p.quiet_hours = QuietHours{12 * 60, 14 * 60};
  EXPECT_EQ(Ask(p, "2026-12-08T12:30:00Z", {}).at, T("2026-12-08T14:00:00Z"));
  EXPECT_EQ(Ask(p, "2026-12-08T11:59:00Z", {}).verdict, GovernorVerdict::kAllow);
}

TEST(Governor, QuietHoursAcrossDaylightSavingChanges) {
  GovernorPolicy p = Enabled(0, 0, /*quiet=*/true);
  // Berlin springs forward on 2026-03-29 (02:00 CET -> 03:00 CEST): 22:00 CET on the 28th
  // (21:00Z) waits until 08:00 CEST on the 29th, which is 06:00Z (not 07:00Z).
  EXPECT_EQ(Ask(p, "2026-03-28T21:00:00Z", {}, "Europe/Berlin").at, T("2026-03-29T06:00:00Z"));
  // Berlin falls back on 2026-10-25 (03:00 CEST -> 02:00 CET): 22:00 CEST on the 24th (20:00Z)
  // waits until 08:00 CET on the 25th, 07:00Z: eleven hours... plus the extra one.
  EXPECT_EQ(Ask(p, "2026-10-24T20:00:00Z", {}, "Europe/Berlin").at, T("2026-10-25T07:00:00Z"));
  // New York springs forward on 2026-03-08 at 02:00 -> 03:00: a quiet window ending at 02:30
  // (a time that does not exist that night) ends when the clocks jump, 03:00 EDT = 07:00Z.
  p.quiet_hours = QuietHours{21 * 60, 2 * 60 + 30};
  EXPECT_EQ(Ask(p, "2026-03-08T04:00:00Z", {}, "America/New_York").at, T("2026-03-08T07:00:00Z"));
  // The day after, 02:30 exists again: 02:30 EDT = 06:30Z.
  EXPECT_EQ(Ask(p, "2026-03-09T04:00:00Z", {}, "America/New_York").at, T("2026-03-09T06:30:00Z"));
}

TEST(Governor, ADayCapAcrossTheDaylightSavingDayCountsTheLocalDayOfTwentyThreeHours) {
  auto p = Enabled(1, 0);
  // 2026-03-29 in Berlin runs from 23:00Z on the 28th to 22:00Z on the 29th (23 hours).
  std::vector<GovernedMessage> recent{Msg(1, "2026-03-28T23:30:00Z")};  // 00:30 CET on the 29th
  auto d = Ask(p, "2026-03-29T21:30:00Z", recent, "Europe/Berlin");     // 23:30 CEST on the 29th
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-03-29T22:00:00Z"));
}

TEST(Governor, CapsAndQuietHoursTogether) {
  GovernorPolicy p = Enabled(1, 0, /*quiet=*/true);
  // Already mailed today in Berlin; at 15:00 local the next day starts at midnight, which is in
  // the quiet hours: 08:00 local the next day.
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T08:00:00Z")};
  auto d = Ask(p, "2026-12-07T14:00:00Z", recent, "Europe/Berlin");
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-08T07:00:00Z"));
  EXPECT_NE(d.reason.find("per day"), std::string::npos) << d.reason;
}

TEST(Governor, QueuedAndDeferredMessagesHoldTheirDaysAndSuppressedOnesDoNot) {
  auto p = Enabled(1, 0);
  // Today is free, but tomorrow is taken by a deferred message: today is allowed.
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-08T08:00:00Z", MessageState::kQueued)};
  EXPECT_EQ(Ask(p, "2026-12-07T12:00:00Z", recent).verdict, GovernorVerdict::kAllow);
  // Today taken as well: the next free day is the 9th.
  recent.push_back(Msg(2, "2026-12-07T09:00:00Z"));
  auto d = Ask(p, "2026-12-07T12:00:00Z", recent);
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.at, T("2026-12-09T00:00:00Z"));
  // Suppressed and cancelled messages were never sent: they do not count.
  recent = {Msg(1, "2026-12-07T09:00:00Z", MessageState::kSuppressed),
            Msg(2, "2026-12-07T10:00:00Z", MessageState::kCancelled)};
  EXPECT_EQ(Ask(p, "2026-12-07T12:00:00Z", recent).verdict, GovernorVerdict::kAllow);
  // Bounced and failed ones were attempted: they count.
  recent = {Msg(1, "2026-12-07T09:00:00Z", MessageState::kBounced)};
  EXPECT_EQ(Ask(p, "2026-12-07T12:00:00Z", recent).verdict, GovernorVerdict::kDefer);
}

TEST(Governor, TopicCapsCountOnlyTheirTopic) {
  auto p = Enabled(3, 0);
  p.topics["offers"] = {1, 0};
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T09:00:00Z", MessageState::kSent, "offers")};
  GovernorCandidate offers;
  offers.topic = "offers";
  auto d = Ask(p, "2026-12-07T12:00:00Z", recent, "UTC", offers);
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_NE(d.reason.find("'offers' message per day"), std::string::npos) << d.reason;
  GovernorCandidate news;
  news.topic = "news";
  EXPECT_EQ(Ask(p, "2026-12-07T12:00:00Z", recent, "UTC", news).verdict, GovernorVerdict::kAllow);
  // The global cap still counts every topic.
  recent.push_back(Msg(2, "2026-12-07T10:00:00Z", MessageState::kSent, "news"));
  recent.push_back(Msg(3, "2026-12-07T11:00:00Z"));
  EXPECT_EQ(Ask(p, "2026-12-07T12:00:00Z", recent, "UTC", news).verdict, GovernorVerdict::kDefer);
}

TEST(Governor, SkipOnCapSkipsWithTheReason) {
  auto p = Enabled(1, 0);
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T09:00:00Z")};
  GovernorCandidate c;
  c.skip_on_cap = true;
  auto d = Ask(p, "2026-12-07T12:00:00Z", recent, "UTC", c);
  EXPECT_EQ(d.verdict, GovernorVerdict::kSkip);
  EXPECT_NE(d.reason.find("skipped: the cap of 1 marketing message per day"), std::string::npos) << d.reason;
  EXPECT_TRUE(d.yielded.empty());
}

TEST(Governor, AHigherPriorityMessageTakesTheSlotOfALowerQueuedOne) {
  auto p = Enabled(1, 0);
  // A low-priority message is queued for today and not sent yet.
  std::vector<GovernedMessage> recent{Msg(7, "2026-12-07T09:00:00Z", MessageState::kQueued, std::nullopt, 0)};
  GovernorCandidate urgent;
  urgent.priority = 5;
  auto d = Ask(p, "2026-12-07T08:00:00Z", recent, "UTC", urgent);
  EXPECT_EQ(d.verdict, GovernorVerdict::kAllow);
  EXPECT_EQ(d.at, T("2026-12-07T08:00:00Z"));
  EXPECT_NE(d.reason.find("took the place of message 7"), std::string::npos) << d.reason;
  ASSERT_EQ(d.yielded.size(), 1u);
  EXPECT_EQ(d.yielded[0].id, 7);
  EXPECT_EQ(d.yielded[0].verdict, GovernorVerdict::kDefer);
  EXPECT_EQ(d.yielded[0].until, T("2026-12-08T00:00:00Z"));
  EXPECT_NE(d.yielded[0].reason.find("priority 5 took its place"), std::string::npos) << d.yielded[0].reason;

  // A yielding message that skips on caps is skipped.
  recent[0].skip_on_cap = true;
  d = Ask(p, "2026-12-07T08:00:00Z", recent, "UTC", urgent);
  ASSERT_EQ(d.yielded.size(), 1u);
  EXPECT_EQ(d.yielded[0].verdict, GovernorVerdict::kSkip);

  // Equal priority never displaces: the candidate is deferred.
  urgent.priority = 0;
  d = Ask(p, "2026-12-07T08:00:00Z", recent, "UTC", urgent);
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_TRUE(d.yielded.empty());

  // A message already sent (or being sent) never yields.
  urgent.priority = 5;
  recent[0].state = MessageState::kSent;
  d = Ask(p, "2026-12-07T08:00:00Z", recent, "UTC", urgent);
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
  EXPECT_TRUE(d.yielded.empty());
}

TEST(Governor, TheLowestPriorityThenTheLatestYields) {
  auto p = Enabled(2, 0);
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T09:00:00Z", MessageState::kQueued, std::nullopt, 1),
                                      Msg(2, "2026-12-07T10:00:00Z", MessageState::kQueued, std::nullopt, 1),
                                      Msg(3, "2026-12-08T10:00:00Z", MessageState::kQueued, std::nullopt, 0)};
  GovernorCandidate c;
  c.priority = 3;
  auto d = Ask(p, "2026-12-07T08:00:00Z", recent, "UTC", c);
  ASSERT_EQ(d.yielded.size(), 1u);
  EXPECT_EQ(d.yielded[0].id, 2);  // message 3 is on another day: it frees nothing today
  // Message 2 moves to the 8th, which has one message (3) and room for one more.
  EXPECT_EQ(d.yielded[0].until, T("2026-12-08T00:00:00Z"));
}

TEST(Governor, YieldingMustFreeEveryFullWindow) {
  auto p = Enabled(1, 0);
  p.topics["offers"] = {1, 0};
  // The day is full globally by a queued low-priority "news" message and for "offers" by a
  // sent one: removing the news message does not free the offers cap.
  std::vector<GovernedMessage> recent{Msg(1, "2026-12-07T07:00:00Z", MessageState::kSent, "offers"),
                                      Msg(2, "2026-12-07T09:00:00Z", MessageState::kQueued, "news")};
  p.caps.per_day = 2;
  GovernorCandidate c;
  c.topic = "offers";
  c.priority = 9;
  auto d = Ask(p, "2026-12-07T08:00:00Z", recent, "UTC", c);
  EXPECT_TRUE(d.yielded.empty());
  EXPECT_EQ(d.verdict, GovernorVerdict::kDefer);
}

TEST(Governor, NothingIsDeferredPastTheHorizon) {
  auto p = Enabled(0, 1);
  std::vector<GovernedMessage> recent;
  // Every week for the next six is taken by deferred messages.
  Timestamp monday = T("2026-12-07T00:00:00Z");
  for (int w = 0; w < 7; ++w)
    recent.push_back(
        Msg(w + 1, FormatTimestamp(monday + std::chrono::hours(24 * 7 * w + 12)), MessageState::kQueued));
  auto d = Ask(p, "2026-12-07T18:00:00Z", recent);
  EXPECT_EQ(d.verdict, GovernorVerdict::kSkip);
  EXPECT_NE(d.reason.find("no moment within 35 days"), std::string::npos) << d.reason;
}

TEST(Governor, AnUnknownContactTimezoneFallsBackToThePolicys) {
  GovernorPolicy p = Enabled(0, 0, /*quiet=*/true);
  p.timezone = "Asia/Tokyo";
  // 13:00Z is 22:00 in Tokyo: quiet until 08:00 Tokyo = 23:00Z.
  auto d = Ask(p, "2026-12-07T13:00:00Z", {}, "Not/AZone");
  EXPECT_EQ(d.at, T("2026-12-07T23:00:00Z"));
  d = Ask(p, "2026-12-07T13:00:00Z", {}, "");
  EXPECT_EQ(d.at, T("2026-12-07T23:00:00Z"));
}

TEST(GovernorPolicyJson, RoundTripsAndMergesOverTheBase) {
  GovernorPolicy p;
  p.enabled = true;
  p.caps = {2, 5};
  p.topics["offers"] = {1, 2};
  p.quiet_hours = QuietHours{22 * 60, 7 * 60 + 30};
  p.timezone = "Europe/Berlin";
  auto back = ParsePolicy(PolicyToJson(p));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, p);
  auto merged = ParsePolicy(boost::json::parse(R"({"enabled": true})"));
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE(merged->enabled);
  EXPECT_EQ(merged->caps, (Caps{1, 3}));
  EXPECT_EQ(merged->quiet_hours, (QuietHours{21 * 60, 8 * 60}));
  auto none = ParsePolicy(boost::json::parse(R"({"quiet_hours": null})"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->quiet_hours);
}

TEST(GovernorPolicyJson, RefusesBadValuesNamingTheField) {
  auto field = [](std::string_view text) {
    auto r = ParsePolicy(boost::json::parse(text));
    return r.ok() ? std::string("ok") : r.error().field;
  };
  EXPECT_EQ(field(R"([])"), "body");
  EXPECT_EQ(field(R"({"per_day": -1})"), "per_day");
  EXPECT_EQ(field(R"({"per_week": 1.5})"), "per_week");
  EXPECT_EQ(field(R"({"per_week": 100000})"), "per_week");
  EXPECT_EQ(field(R"({"enabled": "yes"})"), "enabled");
  EXPECT_EQ(field(R"({"quiet_hours": {"start": "25:00", "end": "08:00"}})"), "quiet_hours.start");
  EXPECT_EQ(field(R"({"quiet_hours": {"start": "21:00", "end": "21:00"}})"), "quiet_hours.end");
  EXPECT_EQ(field(R"({"quiet_hours": {"start": "21:00"}})"), "quiet_hours");
  EXPECT_EQ(field(R"({"timezone": "Mars/Olympus"})"), "timezone");
  EXPECT_EQ(field(R"({"topics": {"Bad Key": {"per_day": 1}}})"), "topics.Bad Key");
  EXPECT_EQ(field(R"({"topics": {"offers": {"per_month": 1}}})"), "topics.offers.per_month");
  EXPECT_EQ(field(R"({"cap": 1})"), "cap");
  EXPECT_EQ(field(R"({"": 1})"), "body");  // found by governor_policy_fuzz
  EXPECT_EQ(field(R"({"per_day": 0, "per_week": 0, "quiet_hours": null})"), "ok");
}

TEST(Governor, TheGlobalHoldoutSkipsWhateverThePriorityEvenWithTheCapsOff) {
  GovernorPolicy p = DefaultPolicy();
  p.global_holdout = 0.05;
  GovernorCandidate c;
  c.priority = 1000;
  c.in_global_holdout = true;
  GovernorDecision d = Ask(p, "2026-12-07T10:00:00Z", {}, "UTC", c);
  EXPECT_EQ(d.verdict, GovernorVerdict::kSkip);
  EXPECT_NE(d.reason.find("global holdout (5% of contacts"), std::string::npos) << d.reason;
  c.in_global_holdout = false;
  EXPECT_EQ(Ask(p, "2026-12-07T10:00:00Z", {}, "UTC", c).verdict, GovernorVerdict::kAllow);
  // With no holdout share, the flag alone holds no one out.
  p.global_holdout = 0;
  c.in_global_holdout = true;
  EXPECT_EQ(Ask(p, "2026-12-07T10:00:00Z", {}, "UTC", c).verdict, GovernorVerdict::kAllow);
}

TEST(Governor, TheGlobalHoldoutShareIsFromZeroToOneHalfAndRoundTrips) {
  auto p = ParsePolicy(boost::json::parse(R"({"global_holdout": 0.05})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_DOUBLE_EQ(p->global_holdout, 0.05);
  auto again = ParsePolicy(PolicyToJson(*p));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *p);
  for (const char* bad :
       {R"({"global_holdout": 0.6})", R"({"global_holdout": -0.1})", R"({"global_holdout": "5%"})"}) {
    auto r = ParsePolicy(boost::json::parse(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "global_holdout");
  }
}

}  // namespace
}  // namespace rapport::campaign
