// The engine alone (journey_engine.h) with a recording JourneyEnv: how runs move, wait, match,
// branch, retry webhooks and end. The real store and send service are in app/journeys_e2e_test.
#include "automation/journey_engine.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "automation/steps.h"

namespace rapport::automation {
namespace {

class RecordingEnv final : public JourneyEnv {
 public:
  Result<Contact> GetContact(WorkspaceId ws, ContactId id) override {
    Contact c;
    c.id = id;
    c.workspace_id = ws;
    c.timezone = "Europe/Paris";
    c.attributes = attributes;
    return c;
  }
  Result<bool> InSegment(WorkspaceId, ContactId, std::string_view s) override { return s == in_segment; }
  // True for the expressions in `matching` (the segment language is the segment service's).
  Result<bool> Matches(WorkspaceId, ContactId, const std::string& expression) override {
    asked.push_back(expression);
    return matching.count(expression) > 0;
  }
  Result<SendReply> Send(const SendAsk& ask) override {
    sent.push_back(ask);
    SendReply r;
    if (refuse) {
      r.skipped_reason = "suppressed";
      return r;
    }
    r.queued = true;
    r.message_id = static_cast<MessageId>(sent.size());
    r.subject = "subject of " + ask.template_name;
    return r;
  }
  Result<Engagement> MessageEngagement(WorkspaceId, ContactId, MessageId) override { return engagement; }
  Status UpdateContact(WorkspaceId, ContactId, const json::object& a,
                       const std::map<std::string, bool>&) override {
    for (const auto& [k, v] : a) attributes[k] = v;
    return {};
  }
  // The best moment: `best_offset` into the window (clamped to it), as an advisor would answer.
  Result<Timestamp> BestSendTime(WorkspaceId, ContactId, Timestamp from, Timestamp to) override {
    windows.emplace_back(from, to);
    return std::min(from + best_offset, to);
  }
  WebhookReply PostWebhook(const WebhookAsk& ask) override {
    hooks.push_back(ask);
    int status = statuses.empty() ? 200 : statuses.front();
    if (!statuses.empty()) statuses.pop_front();
    return WebhookReply{status, ""};
  }

  std::vector<SendAsk> sent;
  std::vector<WebhookAsk> hooks;
  std::deque<int> statuses;
  json::object attributes;
  std::string in_segment;
  std::set<std::string> matching;
  std::vector<std::string> asked;  // expressions asked, in order
  Engagement engagement;
  bool refuse = false;
  Micros best_offset = std::chrono::hours(7);
  std::vector<std::pair<Timestamp, Timestamp>> windows;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(RegisterBuiltinSteps(registry_).ok()); }
  JourneyDef Def(std::string_view text) {
    auto d = ParseJourney(text, registry_);
    EXPECT_TRUE(d.ok()) << d.error().field << ": " << d.error().message;
    return std::move(d).value();
  }
  JourneyRun Start(const JourneyDef& def, json::object props = {}) {
    Journey j;
    j.id = 3;
    j.workspace_id = 1;
    j.version = 1;
    JourneyRun run = NewRun(def, j, 9, RunKey(def, props).value_or(""), "cart_updated", props, now_);
    run.id = 77;
    return run;
  }
  StepRegistry registry_;
  RecordingEnv env_;
  Timestamp now_ = *ParseTimestamp("2026-03-04T12:00:00Z");
};

TEST_F(EngineTest, WaitsThenSendsWithAKeyPerRunStepAndVisit) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"w","kind":"wait","duration":"1h","next":"s"},
      {"id":"s","kind":"send","template":"hello","class":"transactional"}]})");
  JourneyRun run = Start(def);
  auto r = Advance(def, run, now_, env_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(run.state, RunState::kWaiting);
  EXPECT_EQ(*r->timer, now_ + std::chrono::hours(1));
  EXPECT_TRUE(env_.sent.empty());
  r = Advance(def, run, now_ + std::chrono::hours(1), env_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(run.state, RunState::kCompleted);
  ASSERT_EQ(env_.sent.size(), 1u);
  EXPECT_EQ(env_.sent[0].idempotency_key, "journey:77:s:1");
  EXPECT_EQ(r->messages.at(0).second, "subject of hello");
  EXPECT_EQ(r->entered, std::vector<std::string>{"s"});
}

// wait_best_time holds the run until the contact's best hour in its window (send-time
// optimization), then the send goes; the window is checked (1h..7d).
TEST_F(EngineTest, AWaitForTheBestTimeSendsAtTheContactsBestHourInTheWindow) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"w","kind":"wait_best_time","within":"12h","next":"s"},
      {"id":"s","kind":"send","template":"hello","class":"marketing"}]})");
  JourneyRun run = Start(def);
  auto r = Advance(def, run, now_, env_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(run.state, RunState::kWaiting);
  EXPECT_EQ(*r->timer, now_ + std::chrono::hours(7));
  ASSERT_EQ(env_.windows.size(), 1u);
  EXPECT_EQ(env_.windows[0], std::make_pair(now_, now_ + std::chrono::hours(12)));
  EXPECT_TRUE(env_.sent.empty());
  r = Advance(def, run, now_ + std::chrono::hours(7), env_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(run.state, RunState::kCompleted);
  EXPECT_EQ(env_.sent.size(), 1u);
  // No window given: 24 hours.
  JourneyDef day = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"w","kind":"wait_best_time","next":"s"},{"id":"s","kind":"exit"}]})");
  JourneyRun run2 = Start(day);
  ASSERT_TRUE(Advance(day, run2, now_, env_).ok());
  EXPECT_EQ(env_.windows.back().second, now_ + std::chrono::hours(24));
  auto bad = ParseJourney(std::string_view(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"w","kind":"wait_best_time","within":"30m","next":"s"},{"id":"s","kind":"exit"}]})"),
                          registry_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "steps[0].within");
}

TEST_F(EngineTest, AWaitForAnEventTakesTheMatchOrTheTimeout) {
  JourneyDef def =
      Def(R"({"name":"j","trigger":{"type":"event","event":"cart_updated"},"entry":{"key":"cart_id"},
      "steps":[{"id":"w","kind":"wait_for_event","event":"order_placed","match":"cart_id","timeout":"1d",
                "next":"thanks","timeout_next":"nudge"},
               {"id":"thanks","kind":"send","template":"thanks"},
               {"id":"nudge","kind":"send","template":"nudge"}]})");
  JourneyRun run = Start(def, json::object{{"cart_id", "c1"}});
  ASSERT_TRUE(Advance(def, run, now_, env_).ok());
  Event other;
  other.name = "order_placed";
  other.properties = json::object{{"cart_id", "c2"}};
  EXPECT_FALSE(WaitMatched(run, other));
  Event same = other;
  same.properties = json::object{{"cart_id", "c1"}};
  ASSERT_TRUE(WaitMatched(run, same));
  json::object ctx = ParseContext(run.context);
  ctx["matched"] = json::object{};
  run.context = json::serialize(ctx);
  ASSERT_TRUE(Advance(def, run, now_, env_).ok());
  ASSERT_EQ(env_.sent.size(), 1u);
  EXPECT_EQ(env_.sent[0].template_name, "thanks");

  JourneyRun late = Start(def, json::object{{"cart_id", "c3"}});
  ASSERT_TRUE(Advance(def, late, now_, env_).ok());
  ASSERT_TRUE(Advance(def, late, now_ + std::chrono::hours(24), env_).ok());  // the timer: no event came
  EXPECT_EQ(env_.sent.back().template_name, "nudge");
}

TEST_F(EngineTest, ASkippedSendIsAnEventWithItsReasonAndTheRunGoesOn) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"entry":{"segment":"vip"},"steps":[
      {"id":"s","kind":"send","template":"offer","next":"u"},
      {"id":"u","kind":"update","attributes":{"offered":true}}]})");
  JourneyRun run = Start(def);
  auto r = Advance(def, run, now_, env_);  // not in "vip" any more: skipped before the send
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(env_.sent.empty());
  bool skipped = false;
  for (const auto& [name, props] : r->events) skipped = skipped || name == "journey.message_skipped";
  EXPECT_TRUE(skipped);
  EXPECT_EQ(run.state, RunState::kCompleted);
  EXPECT_EQ(env_.attributes.at("offered"), json::value(true));
}

TEST_F(EngineTest, BranchesOnOpensAndSplitsStablyPerContact) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"s","kind":"send","template":"first","next":"b"},
      {"id":"b","kind":"branch","if":{"opened":true},"then":"x","else":"y"},
      {"id":"x","kind":"exit","reason":"engaged"},
      {"id":"y","kind":"split","paths":[{"percent":100,"next":"z"},{"percent":0}]},
      {"id":"z","kind":"send","template":"second"}]})");
  JourneyRun opened = Start(def);
  env_.engagement.opened = true;
  ASSERT_TRUE(Advance(def, opened, now_, env_).ok());
  EXPECT_EQ(opened.state, RunState::kExited);
  EXPECT_EQ(opened.reason, "engaged");
  JourneyRun not_opened = Start(def);
  env_.engagement.opened = false;
  auto r = Advance(def, not_opened, now_, env_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(env_.sent.back().template_name, "second");
  EXPECT_EQ(r->path, (std::vector<std::string>{"s", "b", "y", "z"}));
}

TEST_F(EngineTest, AWebhookIsRetriedWithBackoffThenGoesOn) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"h","kind":"webhook","url":"http://127.0.0.1:9/x","secret":"0123456789abcdef","next":"s"},
      {"id":"s","kind":"send","template":"after"}]})");
  env_.statuses = {500, 503, 200};
  JourneyRun run = Start(def);
  auto r = Advance(def, run, now_, env_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(run.state, RunState::kWaiting);
  EXPECT_EQ(*r->timer, now_ + std::chrono::seconds(30));
  r = Advance(def, run, *r->timer, env_);
  EXPECT_EQ(*r->timer, now_ + std::chrono::seconds(30 + 120));
  r = Advance(def, run, *r->timer, env_);
  EXPECT_EQ(run.state, RunState::kCompleted);
  ASSERT_EQ(env_.hooks.size(), 3u);
  // One key for every try of the same visit: the receiver can drop repeats.
  EXPECT_EQ(env_.hooks[0].headers, env_.hooks[2].headers);
  EXPECT_EQ(env_.sent.size(), 1u);
}

TEST_F(EngineTest, GoalsMatchTheRunsKeyAndCarryRevenue) {
  JourneyDef def =
      Def(R"({"name":"j","trigger":{"type":"event","event":"cart_updated"},"entry":{"key":"cart_id"},
      "goal":{"event":"order_placed","match":"cart_id","revenue":"total"},
      "steps":[{"id":"w","kind":"wait","duration":"1h"}]})");
  JourneyRun run = Start(def, json::object{{"cart_id", "c1"}});
  Event e;
  e.name = "order_placed";
  e.properties = json::object{{"cart_id", "c2"}, {"total", 10}};
  EXPECT_FALSE(GoalReached(def, run, e).has_value());
  e.properties = json::object{{"cart_id", "c1"}, {"total", "42.50"}};
  EXPECT_EQ(GoalReached(def, run, e), 4250);
}

// Issue 19: a send step names its sender identity; the ask carries it to the send service.
TEST_F(EngineTest, ASendStepNamesItsSender) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"s","kind":"send","template":"hello","sender":4,"next":"t"},
      {"id":"t","kind":"send","template":"bye"}]})");
  JourneyRun run = Start(def);
  ASSERT_TRUE(Advance(def, run, now_, env_).ok());
  ASSERT_EQ(env_.sent.size(), 2u);
  EXPECT_EQ(env_.sent[0].sender_id, std::optional<int64_t>(4));
  EXPECT_EQ(env_.sent[1].sender_id, std::nullopt);  // the workspace's default
  for (std::string bad : {"\"news@shop.example\"", "0", "-2", "1.5"}) {
    auto d = ParseJourney(R"({"name":"j","trigger":{"type":"api"},"steps":[
        {"id":"s","kind":"send","template":"hello","sender":)" +
                              bad + "}]}",
                          registry_);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.error().field.find("sender"), std::string::npos) << bad << ": " << d.error().field;
  }
}

// Issue 18: "entry rules: who may enter (a segment expression)". The entry filter is the one
// function the service's TryEnter, the simulator and the send step ask; both rules must hold.
TEST_F(EngineTest, TheEntryExpressionAdmitsOnlyContactsThatMatchIt) {
  const std::string expr = "lifecycle != \"lapsed\" and not clicked any message in the last 90 days";
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},
      "entry":{"expression":"lifecycle != \"lapsed\" and not clicked any message in the last 90 days"},
      "steps":[{"id":"s","kind":"exit"}]})");
  EXPECT_EQ(def.entry.expression, expr);
  auto refused = EntryFilterRefusal(def, 1, 9, env_, false);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(*refused, std::optional<std::string>("does not match the entry expression"));
  EXPECT_EQ(env_.asked, std::vector<std::string>{expr});
  env_.matching.insert(expr);
  auto admitted = EntryFilterRefusal(def, 1, 9, env_, false);
  ASSERT_TRUE(admitted.ok());
  EXPECT_EQ(*admitted, std::nullopt);
  // With a saved segment too, both must hold: matching the expression is not enough.
  JourneyDef both = Def(R"({"name":"j","trigger":{"type":"api"},
      "entry":{"segment":"vip","expression":"lifecycle != \"lapsed\" and not clicked any message in the last 90 days"},
      "steps":[{"id":"s","kind":"exit"}]})");
  auto not_vip = EntryFilterRefusal(both, 1, 9, env_, false);
  ASSERT_TRUE(not_vip.ok());
  EXPECT_EQ(*not_vip, std::optional<std::string>("not in the entry segment vip"));
  env_.in_segment = "vip";
  auto in_both = EntryFilterRefusal(both, 1, 9, env_, false);
  ASSERT_TRUE(in_both.ok());
  EXPECT_EQ(*in_both, std::nullopt);
  env_.matching.clear();
  auto vip_only = EntryFilterRefusal(both, 1, 9, env_, false);
  ASSERT_TRUE(vip_only.ok());
  EXPECT_EQ(*vip_only, std::optional<std::string>("does not match the entry expression"));
}

TEST_F(EngineTest, BranchesOnASegmentExpressionBothWays) {
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"b","kind":"branch","if":{"expression":"at least 2 order_placed in the last 30 days"},
       "then":"loyal","else":"new"},
      {"id":"loyal","kind":"send","template":"thanks-again","class":"transactional"},
      {"id":"new","kind":"send","template":"first-order","class":"transactional"}]})");
  JourneyRun no = Start(def);
  auto r = Advance(def, no, now_, env_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->path, (std::vector<std::string>{"b", "new"}));
  ASSERT_EQ(env_.sent.size(), 1u);
  EXPECT_EQ(env_.sent.back().template_name, "first-order");
  EXPECT_EQ(env_.asked, std::vector<std::string>{"at least 2 order_placed in the last 30 days"});
  env_.matching.insert("at least 2 order_placed in the last 30 days");
  JourneyRun yes = Start(def);
  r = Advance(def, yes, now_, env_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->path, (std::vector<std::string>{"b", "loyal"}));
  EXPECT_EQ(env_.sent.back().template_name, "thanks-again");
  // An empty or non-text expression is refused at its path.
  auto bad = ParseJourney(std::string_view(R"({"name":"j","trigger":{"type":"api"},"steps":[
      {"id":"b","kind":"branch","if":{"expression":""},"then":"b"}]})"),
                          registry_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "steps[0].if.expression");
}

// Before each marketing send the entry expression is asked again: a contact who stopped matching
// gets nothing more, and the skip is a journey.message_skipped event that says why.
TEST_F(EngineTest, AMarketingSendIsSkippedWhenTheContactNoLongerMatchesTheEntryExpression) {
  const std::string expr = "plan = \"pro\"";
  JourneyDef def = Def(R"({"name":"j","trigger":{"type":"api"},"entry":{"expression":"plan = \"pro\""},
      "steps":[{"id":"first","kind":"send","template":"tips","next":"w"},
               {"id":"w","kind":"wait","duration":"1d","next":"second"},
               {"id":"second","kind":"send","template":"more-tips","next":"receipt"},
               {"id":"receipt","kind":"send","template":"receipt","class":"transactional"}]})");
  env_.matching.insert(expr);
  JourneyRun run = Start(def);
  auto r = Advance(def, run, now_, env_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(env_.sent.size(), 1u);
  EXPECT_EQ(env_.sent[0].template_name, "tips");
  env_.matching.clear();  // the plan changed while the run waited
  r = Advance(def, run, now_ + std::chrono::hours(24), env_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(run.state, RunState::kCompleted);
  // "more-tips" was not sent; the transactional receipt is not held by the entry filter.
  ASSERT_EQ(env_.sent.size(), 2u);
  EXPECT_EQ(env_.sent[1].template_name, "receipt");
  std::string reason;
  for (const auto& [name, props] : r->events)
    if (name == "journey.message_skipped" && props.at("template") == json::value("more-tips"))
      reason = std::string(props.at("reason").as_string());
  EXPECT_EQ(reason, "no longer matches the entry expression");
}

// Saving checks each expression through the ExpressionCheck (the segment service's compiler) and
// refuses a bad one at its JSON path with the parser's message.
TEST_F(EngineTest, ABadExpressionIsRefusedAtItsPathWithTheParsersMessage) {
  std::vector<std::string> checked;
  ExpressionCheck check = [&](const std::string& text) -> Status {
    checked.push_back(text);
    if (text.find("cty") != std::string::npos)
      return Error::Invalid("expression", "line 1, column 1: unknown attribute 'cty' (did you mean 'city'?)");
    return {};
  };
  const std::string entry_bad =
      R"({"name":"j","trigger":{"type":"api"},"entry":{"expression":"cty = \"Paris\""},
      "steps":[{"id":"s","kind":"exit"}]})";
  auto r = ParseJourney(std::string_view(entry_bad), registry_, nullptr, check);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().field, "entry.expression");
  EXPECT_EQ(r.error().message, "line 1, column 1: unknown attribute 'cty' (did you mean 'city'?)");
  const std::string branch_bad =
      R"({"name":"j","trigger":{"type":"api"},"entry":{"expression":"city = \"Paris\""},
      "steps":[{"id":"a","kind":"exit"},{"id":"b","kind":"exit"},{"id":"c","kind":"exit"},
               {"id":"d","kind":"branch","if":{"expression":"cty = \"Lyon\""},"then":"a","else":"b"}],
      "start":"d"})";
  checked.clear();
  r = ParseJourney(std::string_view(branch_bad), registry_, nullptr, check);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "steps[3].if.expression");
  EXPECT_EQ(checked, (std::vector<std::string>{"city = \"Paris\"", "cty = \"Lyon\""}));
  // Without a check (a stored version read back), the same document parses.
  EXPECT_TRUE(ParseJourney(std::string_view(branch_bad), registry_).ok());
  // A failure of the check that is not a refusal (the store) stays what it is.
  ExpressionCheck down = [](const std::string&) -> Status { return Error::Unavailable("segments are down"); };
  r = ParseJourney(std::string_view(entry_bad), registry_, nullptr, down);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace rapport::automation
