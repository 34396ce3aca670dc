// The journey document: what it accepts, and the JSON path it names for what it refuses.
#include "automation/journey_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "automation/local_time.h"
#include "automation/recipes.h"
#include "automation/steps.h"

namespace rapport::automation {
namespace {

class JourneyModelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(RegisterBuiltinSteps(registry_).ok()); }
  Result<JourneyDef> Parse(std::string_view text, TemplateLookup t = nullptr) {
    return ParseJourney(text, registry_, t);
  }
  std::string FaultOf(std::string_view text, TemplateLookup t = nullptr) {
    auto r = Parse(text, t);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? "<accepted>" : r.error().field;
  }
  StepRegistry registry_;
};

TEST_F(JourneyModelTest, ParsesTriggersEntryGoalAndSteps) {
  auto def =
      Parse(R"({"name":"cart","trigger":{"type":"event","event":"cart_updated","where":{"total":{"gt":10}}},
    "entry":{"key":"cart_id","reentry":"cooldown","cooldown":"7d","segment":"buyers"},
    "goal":{"event":"order_placed","match":"cart_id","revenue":"total"},
    "steps":[{"id":"w","kind":"wait","duration":"1h30m","next":"s"},
             {"id":"s","kind":"send","template":"t","class":"marketing"}]})");
  ASSERT_TRUE(def.ok()) << def.error().field << ": " << def.error().message;
  ASSERT_EQ(def->triggers.size(), 1u);
  EXPECT_EQ(def->triggers[0].event, "cart_updated");
  EXPECT_EQ(def->entry.reentry, Reentry::kCooldown);
  EXPECT_EQ(def->entry.cooldown, std::chrono::hours(24 * 7));
  EXPECT_EQ(def->goal->match, "cart_id");
  EXPECT_EQ(def->start, "w");
  EXPECT_NE(def->Find("s"), nullptr);
}

TEST_F(JourneyModelTest, NamesThePathOfEachFault) {
  constexpr std::string_view kTrigger = R"("trigger":{"type":"api"})";
  auto doc = [&](std::string_view steps) {
    return fmt::format(R"({{"name":"j",{},"steps":[{}]}})", kTrigger, steps);
  };
  EXPECT_EQ(
      FaultOf(doc(R"({"id":"a","kind":"send","template":"t","next":"b"},{"id":"b","kind":"teleport"})")),
      "steps[1].kind");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"branch","if":{"opened":true},"then":"nowhere"})")),
            "steps[0].then");
  EXPECT_EQ(
      FaultOf(
          doc(R"({"id":"a","kind":"split","paths":[{"percent":50,"next":"a"},{"percent":50,"next":"zz"}]})")),
      "steps[0].paths[1].next");
  // a -> b -> a with no wait between: refused where the loop closes.
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"update","attributes":{"x":1},"next":"b"},
                          {"id":"b","kind":"branch","if":{"opened":true},"then":"a","else":"a"})")),
            "steps[1].then");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"wait","duration":"soon"})")), "steps[0].duration");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"wait_until","at":"25:00"})")), "steps[0].at");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"send","template":"gone"})"),
                    [](std::string_view name) { return name == "here"; }),
            "steps[0].template");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"send","template":"t","colour":"red"})")), "steps[0].colour");
  // The frequency governor's priority and on_cap (docs/governor.md).
  EXPECT_TRUE(
      Parse(doc(R"({"id":"a","kind":"send","template":"t","priority":2,"on_cap":"skip"})"), nullptr).ok());
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"send","template":"t","priority":"high"})")),
            "steps[0].priority");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"send","template":"t","on_cap":"drop"})")), "steps[0].on_cap");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"webhook","url":"ftp://x","secret":"0123456789abcdef"})")),
            "steps[0].url");
  // The webhook client's own rule, checked on save: no credentials in the URL, a real port.
  EXPECT_EQ(
      FaultOf(doc(
          R"({"id":"a","kind":"webhook","url":"https://u:p@hooks.example/x","secret":"0123456789abcdef"})")),
      "steps[0].url");
  EXPECT_EQ(
      FaultOf(doc(
          R"({"id":"a","kind":"webhook","url":"http://hooks.example:99999/x","secret":"0123456789abcdef"})")),
      "steps[0].url");
  EXPECT_EQ(FaultOf(doc(R"({"id":"a","kind":"exit"},{"id":"a","kind":"exit"})")), "steps[1].id");
  EXPECT_EQ(FaultOf(R"({"name":"j","trigger":{"type":"event"},"steps":[{"id":"a","kind":"exit"}]})"),
            "trigger.event");
  EXPECT_EQ(FaultOf(R"({"name":"j","trigger":{"type":"event","event":"x","where":{"n":{"near":1}}},
                       "steps":[{"id":"a","kind":"exit"}]})"),
            "trigger.where.n.near");
  EXPECT_EQ(FaultOf(R"({"name":"j","trigger":{"type":"api"},"goal":{"event":"o","match":"cart_id"},
                       "steps":[{"id":"a","kind":"exit"}]})"),
            "goal.match");
  EXPECT_EQ(FaultOf(R"({"name":"j","trigger":{"type":"api"},"steps":[]})"), "steps");
  EXPECT_EQ(
      FaultOf(R"({"name":"j","trigger":{"type":"api"},"start":"b","steps":[{"id":"a","kind":"exit"}]})"),
      "start");
  EXPECT_EQ(FaultOf("[1,2"), "");
}

TEST_F(JourneyModelTest, ACycleThroughAWaitIsAccepted) {
  auto def = Parse(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"a","kind":"send","template":"t","next":"w"},
      {"id":"w","kind":"wait","duration":"1d","next":"b"},
      {"id":"b","kind":"branch","if":{"clicked":true},"else":"a"}]})");
  EXPECT_TRUE(def.ok()) << def.error().field << ": " << def.error().message;
}

// A journey that sends, then goes back through one waiting step: `wait` holds that step's fields.
std::string LoopThrough(std::string_view wait) {
  return fmt::format(R"({{"name":"j","trigger":{{"type":"api"}},"steps":[
      {{"id":"a","kind":"send","template":"t","next":"w"}},
      {{"id":"w",{}}}]}})",
                     wait);
}

// Each visit of a send has its own idempotency key, so a loop back through a wait of no time (or
// nearly none) would queue a message on every pass: refused, naming the step at fault.
TEST_F(JourneyModelTest, ALoopThroughAZeroOrShortWaitIsRefusedWithItsPath) {
  auto zero = Parse(LoopThrough(R"("kind":"wait","duration":"0s","next":"a")"));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(zero.error().field, "steps[1].duration");
  EXPECT_NE(zero.error().message.find("mistake"), std::string::npos) << zero.error().message;
  EXPECT_EQ(FaultOf(LoopThrough(R"("kind":"wait","duration":0,"next":"a")")), "steps[1].duration");
  // Short waits are waits, but a cycle must hold a run a minute: the edge that closes it is named.
  auto short_wait = Parse(LoopThrough(R"("kind":"wait","duration":"59s","next":"a")"));
  ASSERT_FALSE(short_wait.ok());
  EXPECT_EQ(short_wait.error().field, "steps[1].next");
  EXPECT_NE(short_wait.error().message.find("cycle"), std::string::npos) << short_wait.error().message;
  EXPECT_EQ(FaultOf(LoopThrough(R"("kind":"wait_for_event","event":"x","timeout":"30s","timeout_next":"a")")),
            "steps[1].timeout_next");
  // The best hour may be the current one: not a wait a cycle can rely on.
  EXPECT_EQ(FaultOf(LoopThrough(R"("kind":"wait_best_time","within":"24h","next":"a")")), "steps[1].next");
  // The short wait need not be the step that closes the cycle.
  EXPECT_EQ(FaultOf(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"a","kind":"wait","duration":"10s","next":"b"},
      {"id":"b","kind":"send","template":"t","next":"c"},
      {"id":"c","kind":"branch","if":{"clicked":true},"else":"a"}]})"),
            "steps[2].else");
}

TEST_F(JourneyModelTest, ALoopThroughAWaitOfAMinuteOrMoreIsAccepted) {
  for (std::string_view wait :
       {R"("kind":"wait","duration":"1d","next":"a")", R"("kind":"wait","duration":"1m","next":"a")",
        R"("kind":"wait","duration":60,"next":"a")", R"("kind":"wait_until","at":"09:00","next":"a")",
        R"("kind":"wait_for_event","event":"x","timeout":"1h","timeout_next":"a")"}) {
    auto def = Parse(LoopThrough(wait));
    EXPECT_TRUE(def.ok()) << wait << ": " << def.error().field << ": " << def.error().message;
  }
}

TEST_F(JourneyModelTest, AZeroWaitIsRefusedOutsideALoopToo) {
  for (std::string_view zero : {R"("0s")", R"("0m")", R"("0h0m")", "0"}) {
    std::string doc = fmt::format(R"({{"name":"j","trigger":{{"type":"api"}},"steps":[
        {{"id":"s","kind":"send","template":"t","next":"w"}},
        {{"id":"w","kind":"wait","duration":{},"next":"e"}},
        {{"id":"e","kind":"exit"}}]}})",
                                  zero);
    EXPECT_EQ(FaultOf(doc), "steps[1].duration") << zero;
  }
  // The same journey with a wait of one second is fine: only the zero is refused.
  EXPECT_TRUE(Parse(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"s","kind":"send","template":"t","next":"w"},
      {"id":"w","kind":"wait","duration":"1s","next":"e"},
      {"id":"e","kind":"exit"}]})")
                  .ok());
}

TEST_F(JourneyModelTest, EveryRecipeParsesWithItsOwnTemplates) {
  for (const Recipe& r : Recipes()) {
    TemplateLookup has = [&](std::string_view name) {
      for (const auto& t : r.templates)
        if (t.name == name) return true;
      return false;
    };
    auto def = ParseJourney(r.document, registry_, has);
    EXPECT_TRUE(def.ok()) << r.name << ": " << def.error().field << ": " << def.error().message;
  }
}

TEST(PropertiesMatch, EqualityAndOperators) {
  json::object props{{"total", 42.5}, {"plan", "pro"}, {"n", "7"}};
  EXPECT_TRUE(PropertiesMatch(json::object{{"plan", "pro"}}, props));
  EXPECT_FALSE(PropertiesMatch(json::object{{"plan", "free"}}, props));
  EXPECT_TRUE(PropertiesMatch(json::object{{"total", json::object{{"gte", 42.5}, {"lt", 50}}}}, props));
  EXPECT_TRUE(PropertiesMatch(json::object{{"n", json::object{{"gt", 6}}}}, props));
  EXPECT_TRUE(
      PropertiesMatch(json::object{{"plan", json::object{{"in", json::array{"basic", "pro"}}}}}, props));
  EXPECT_TRUE(PropertiesMatch(json::object{{"coupon", json::object{{"exists", false}}}}, props));
  EXPECT_FALSE(PropertiesMatch(json::object{{"coupon", "X"}}, props));
  EXPECT_TRUE(PropertiesMatch(json::object{{"n", 7}}, props));  // "7" and 7 are one number
}

TEST(ParseDuration, UnitsAndLimits) {
  EXPECT_EQ(*ParseDuration(json::value("90s"), "d"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration(json::value("1h30m"), "d"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration(json::value("2w"), "d"), std::chrono::hours(24 * 14));
  EXPECT_EQ(*ParseDuration(json::value(5), "d"), std::chrono::seconds(5));
  EXPECT_FALSE(ParseDuration(json::value("10"), "d").ok());
  EXPECT_FALSE(ParseDuration(json::value("h"), "d").ok());
  EXPECT_FALSE(ParseDuration(json::value("99999999999d"), "d").ok());
  EXPECT_FALSE(ParseDuration(json::value(-1), "d").ok());
}

Timestamp At(const char* text) { return *ParseTimestamp(text); }

TEST(LocalTime, AnniversaryAtNineLocalAcrossDaylightSaving) {
  // Paris: UTC+1 in winter, UTC+2 from the last Sunday of March (29 March 2026).
  EXPECT_EQ(*NextAnniversary("1990-03-30", At("2026-03-01T00:00:00Z"), "Europe/Paris", 9, 0),
            At("2026-03-30T07:00:00Z"));
  EXPECT_EQ(*NextAnniversary("1990-11-15", At("2026-03-01T00:00:00Z"), "Europe/Paris", 9, 0),
            At("2026-11-15T08:00:00Z"));
  // Just after this year's: next year's.
  EXPECT_EQ(*NextAnniversary("1990-03-30", At("2026-03-30T07:00:00Z"), "Europe/Paris", 9, 0),
            At("2027-03-30T07:00:00Z"));
  // 29 February in a common year is the 28th.
  EXPECT_EQ(*NextAnniversary("2000-02-29", At("2026-01-01T00:00:00Z"), "UTC", 9, 0),
            At("2026-02-28T09:00:00Z"));
  // A time the clocks skip (02:30 on 29 March 2026 in Paris) is the instant they jump.
  EXPECT_EQ(*NextAnniversary("1990-03-29", At("2026-03-01T00:00:00Z"), "Europe/Paris", 2, 30),
            At("2026-03-29T01:00:00Z"));
  EXPECT_FALSE(NextAnniversary("soon", At("2026-03-01T00:00:00Z"), "UTC", 9, 0).has_value());
  // An unknown zone is UTC.
  EXPECT_EQ(*NextAnniversary("1990-06-01", At("2026-03-01T00:00:00Z"), "Mars/Olympus", 9, 0),
            At("2026-06-01T09:00:00Z"));
}

// Issue 18, the sign-up anniversary: the first one is a year after the sign-up, never the same
// day; a sign-up instant counts on its local day in the contact's timezone.
TEST(LocalTime, ASignUpsFirstAnniversaryIsAYearLaterOnItsLocalDay) {
  // Signed up at 07:00 in Paris: not at 09:00 the same day.
  EXPECT_EQ(*NextAnniversary("2026-03-10T06:00:00Z", At("2026-03-10T06:00:00Z"), "Europe/Paris", 9, 0),
            At("2027-03-10T08:00:00Z"));
  // 22:00 on 10 March in New York is 02:00 UTC on the 11th: the 10th counts.
  EXPECT_EQ(*NextAnniversary("2026-03-11T02:00:00Z", At("2026-03-11T02:00:00Z"), "America/New_York", 9, 0),
            At("2027-03-10T14:00:00Z"));
  // 29 February: the 28th in common years, the 29th again in 2032.
  EXPECT_EQ(*NextAnniversary("2028-02-29T10:00:00Z", At("2028-02-29T10:00:00Z"), "UTC", 9, 0),
            At("2029-02-28T09:00:00Z"));
  EXPECT_EQ(*NextAnniversary("2028-02-29T10:00:00Z", At("2029-02-28T09:00:00Z"), "UTC", 9, 0),
            At("2030-02-28T09:00:00Z"));
  EXPECT_EQ(*NextAnniversary("2028-02-29T10:00:00Z", At("2031-03-01T00:00:00Z"), "UTC", 9, 0),
            At("2032-02-29T09:00:00Z"));
  // A date in a later year: its first anniversary, a year after it.
  EXPECT_EQ(*NextAnniversary("2027-05-01", At("2026-01-01T00:00:00Z"), "UTC", 9, 0),
            At("2028-05-01T09:00:00Z"));
}

TEST(LocalTime, NextLocalTimeOnWeekdays) {
  // 2026-03-04 is a Wednesday. 10:00 in New York (EST, UTC-5) on Mondays only.
  EXPECT_EQ(NextLocalTime(At("2026-03-04T12:00:00Z"), "America/New_York", 10, 0, {1}),
            At("2026-03-09T14:00:00Z"));
  EXPECT_EQ(NextLocalTime(At("2026-03-04T12:00:00Z"), "America/New_York", 10, 0), At("2026-03-04T15:00:00Z"));
}

TEST(SplitBucket, StablePerContactAndSpread) {
  EXPECT_EQ(SplitBucket(1, "ab", 42), SplitBucket(1, "ab", 42));
  int low = 0;
  for (ContactId c = 1; c <= 2000; ++c) low += SplitBucket(7, "ab", c) < 50 ? 1 : 0;
  EXPECT_GT(low, 850);
  EXPECT_LT(low, 1150);
}

}  // namespace
}  // namespace rapport::automation
