#include "campaign/rrule.h"

#include <gtest/gtest.h>

namespace rapport::campaign {
namespace {

LocalDateTime L(std::string_view s) { return *ParseLocalDateTime(s); }

std::vector<std::string> Locals(const Recurrence& r, size_t n) {
  std::vector<std::string> out;
  for (const auto& o : r.Between(Timestamp{}, ToInstant(L("2100-01-01T00:00"), "UTC"), n))
    out.push_back(FormatLocalDateTime(o.local));
  return out;
}

TEST(RRule, ParsesAndFormatsTheSubset) {
  auto r = ParseRRule("RRULE:freq=monthly;interval=2;byday=1MO,-1FR;byhour=9,10;byminute=30;count=5");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->freq, Frequency::kMonthly);
  EXPECT_EQ(r->interval, 2);
  ASSERT_EQ(r->by_day.size(), 2u);
  EXPECT_EQ(r->by_day[1].ordinal, -1);
  EXPECT_EQ(FormatRRule(*r), "FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO,-1FR;BYHOUR=9,10;BYMINUTE=30;COUNT=5");
  EXPECT_EQ(FormatRRule(*ParseRRule(FormatRRule(*r))), FormatRRule(*r));
}

TEST(RRule, RefusesWhatItDoesNotSupportSayingWhat) {
  for (const char* bad :
       {"", "BYDAY=MO", "FREQ=YEARLY", "FREQ=WEEKLY;BYSETPOS=1", "FREQ=WEEKLY;BYDAY=1MO",
        "FREQ=DAILY;COUNT=2;UNTIL=20270101", "FREQ=WEEKLY;INTERVAL=0", "FREQ=WEEKLY;BYHOUR=24",
        "FREQ=MONTHLY;BYMONTHDAY=0", "FREQ=WEEKLY;BYMONTHDAY=1", "FREQ=WEEKLY;FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=XX", "FREQ=WEEKLY;UNTIL=2027", "FREQ"}) {
    auto r = ParseRRule(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().field, "rrule");
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(Recurrence, EveryTuesdayAtTenLocalAcrossDst) {
  // Paris leaves summer time on 25 October 2026: 10:00 stays 10:00 local, the instant moves.
  auto r =
      Recurrence::Make("FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=0", L("2026-10-13T10:00"), "Europe/Paris");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto o = r->Between(Timestamp{}, ToInstant(L("2026-11-04T00:00"), "UTC"));
  ASSERT_EQ(o.size(), 4u);
  EXPECT_EQ(FormatTimestamp(o[0].at), "2026-10-13T08:00:00Z");
  EXPECT_EQ(FormatTimestamp(o[1].at), "2026-10-20T08:00:00Z");
  EXPECT_EQ(FormatTimestamp(o[2].at), "2026-10-27T09:00:00Z");
  EXPECT_EQ(FormatTimestamp(o[3].at), "2026-11-03T09:00:00Z");
  EXPECT_EQ(o[3].seq, 4);
  EXPECT_EQ(r->Next(o[1].at)->seq, 3);
  EXPECT_EQ(r->Nth(2)->at, o[1].at);
}

TEST(Recurrence, FirstMondayOfTheMonthAndLastDay) {
  auto first = Recurrence::Make("FREQ=MONTHLY;BYDAY=1MO;COUNT=3", L("2026-12-01T09:00"), "UTC");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Locals(*first, 10),
            (std::vector<std::string>{"2026-12-07T09:00:00", "2027-01-04T09:00:00", "2027-02-01T09:00:00"}));
  auto last = Recurrence::Make("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", L("2027-01-15T08:00"), "UTC");
  EXPECT_EQ(Locals(*last, 10),
            (std::vector<std::string>{"2027-01-31T08:00:00", "2027-02-28T08:00:00", "2027-03-31T08:00:00"}));
  // The 31st only in months that have it.
  auto d31 = Recurrence::Make("FREQ=MONTHLY;COUNT=3", L("2027-01-31T08:00"), "UTC");
  EXPECT_EQ(Locals(*d31, 10),
            (std::vector<std::string>{"2027-01-31T08:00:00", "2027-03-31T08:00:00", "2027-05-31T08:00:00"}));
  // Friday the 13th: BYDAY limits BYMONTHDAY.
  auto f13 = Recurrence::Make("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=2", L("2026-01-01T00:00"), "UTC");
  EXPECT_EQ(Locals(*f13, 10), (std::vector<std::string>{"2026-02-13T00:00:00", "2026-03-13T00:00:00"}));
}

TEST(Recurrence, IntervalsHoursUntilAndDaily) {
  auto r = Recurrence::Make("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;BYHOUR=8,17;UNTIL=20261222T000000Z",
                            L("2026-12-07T08:00"), "UTC");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Locals(*r, 20),
            (std::vector<std::string>{"2026-12-07T08:00:00", "2026-12-07T17:00:00", "2026-12-09T08:00:00",
                                      "2026-12-09T17:00:00", "2026-12-21T08:00:00", "2026-12-21T17:00:00"}));
  auto daily = Recurrence::Make("FREQ=DAILY;BYDAY=SA,SU;COUNT=3", L("2026-12-07T10:00"), "UTC");
  EXPECT_EQ(Locals(*daily, 10),
            (std::vector<std::string>{"2026-12-12T10:00:00", "2026-12-13T10:00:00", "2026-12-19T10:00:00"}));
  EXPECT_FALSE(r->Next(ToInstant(L("2026-12-22T00:00"), "UTC")).has_value());
}

TEST(Recurrence, SkippedAndRepeatedWallTimes) {
  // New York springs forward at 02:00 on 8 March 2026 (02:30 does not exist) and falls back at
  // 02:00 on 1 November (01:30 happens twice).
  auto spring = ToInstant(L("2026-03-08T02:30"), "America/New_York");
  EXPECT_EQ(FormatTimestamp(spring), "2026-03-08T07:00:00Z");  // the jump (03:00 EDT)
  auto fall = ToInstant(L("2026-11-01T01:30"), "America/New_York");
  EXPECT_EQ(FormatTimestamp(fall), "2026-11-01T05:30:00Z");  // the first (EDT)
  EXPECT_EQ(FormatLocalDateTime(ToLocal(fall, "America/New_York")), "2026-11-01T01:30:00");
}

TEST(TimeOfDay, ParsesOnlyHhMmIn24Hours) {
  ASSERT_TRUE(ParseTimeOfDay("09:00").has_value());
  EXPECT_EQ(*ParseTimeOfDay("09:00"), (TimeOfDay{9, 0}));
  EXPECT_EQ(*ParseTimeOfDay("23:59"), (TimeOfDay{23, 59}));
  EXPECT_EQ(*ParseTimeOfDay("00:00"), (TimeOfDay{0, 0}));
  EXPECT_EQ(FormatTimeOfDay(*ParseTimeOfDay("18:30")), "18:30");
  EXPECT_EQ(FormatTimeOfDay(TimeOfDay{7, 5}), "07:05");
  for (const char* bad : {"", "24:00", "25:00", "09:60", "9:00", "09:0", "0900", "09:00:00", "09-00", "+9:00",
                          " 9:00", "evening"})
    EXPECT_FALSE(ParseTimeOfDay(bad).has_value()) << bad;
}

TEST(TimeOfDay, NextWallTimeIsTheFirstAtOrAfterInTheZoneAcrossDst) {
  // 24 October 2026, 20:00 UTC: 22:00 in Paris (summer time, which ends at 03:00 the next
  // morning), 16:00 in New York.
  const Timestamp from = *ParseTimestamp("2026-10-24T20:00:00Z");
  EXPECT_EQ(FormatTimestamp(NextWallTime(from, {9, 0}, "Europe/Paris")), "2026-10-25T08:00:00Z");  // CET
  EXPECT_EQ(FormatTimestamp(NextWallTime(from, {18, 0}, "Europe/Paris")), "2026-10-25T17:00:00Z");
  EXPECT_EQ(FormatTimestamp(NextWallTime(from, {18, 0}, "America/New_York")),
            "2026-10-24T22:00:00Z");  // today
  EXPECT_EQ(FormatTimestamp(NextWallTime(from, {9, 0}, "America/New_York")), "2026-10-25T13:00:00Z");
  EXPECT_EQ(FormatTimestamp(NextWallTime(from, {9, 0}, "")), "2026-10-25T09:00:00Z");  // no zone: UTC
  // At the very instant: that instant.
  const Timestamp six = *ParseTimestamp("2026-10-24T22:00:00Z");
  EXPECT_EQ(NextWallTime(six, {18, 0}, "America/New_York"), six);
  EXPECT_EQ(FormatTimestamp(NextWallTime(six + std::chrono::seconds(1), {18, 0}, "America/New_York")),
            "2026-10-25T22:00:00Z");
  // A second after 09:00 on the eve of the change: the next 09:00 is 25 hours less a second later.
  const Timestamp after_nine = *ParseTimestamp("2026-10-24T07:00:01Z");
  EXPECT_EQ(NextWallTime(after_nine, {9, 0}, "Europe/Paris"),
            after_nine + std::chrono::hours(25) - std::chrono::seconds(1));
  // A skipped time of day is the jump; a repeated one is its first.
  EXPECT_EQ(
      FormatTimestamp(NextWallTime(*ParseTimestamp("2026-03-08T05:00:00Z"), {2, 30}, "America/New_York")),
      "2026-03-08T07:00:00Z");
  EXPECT_EQ(
      FormatTimestamp(NextWallTime(*ParseTimestamp("2026-11-01T04:00:00Z"), {1, 30}, "America/New_York")),
      "2026-11-01T05:30:00Z");
  EXPECT_EQ(
      FormatTimestamp(NextWallTime(*ParseTimestamp("2026-11-01T06:00:00Z"), {1, 30}, "America/New_York")),
      "2026-11-02T06:30:00Z");
}

TEST(Recurrence, ICalFragment) {
  auto r = Recurrence::ParseICal(
      "DTSTART;TZID=America/New_York:20261201T100000\r\nRRULE:FREQ=WEEKLY;BYDAY=TU\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tzid(), "America/New_York");
  EXPECT_EQ(FormatTimestamp(r->Nth(1)->at), "2026-12-01T15:00:00Z");
  EXPECT_FALSE(Recurrence::ParseICal("RRULE:FREQ=WEEKLY").ok());
  EXPECT_EQ(
      Recurrence::ParseICal("DTSTART;TZID=Mars/Olympus:20261201T100000\nRRULE:FREQ=DAILY").error().field,
      "tzid");
}

}  // namespace
}  // namespace rapport::campaign
