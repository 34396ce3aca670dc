// The simulator (journey_simulator.h) over a fake world: it follows the engine's rules for keys
// and engagement, and says which step sent each message (issue 18).
#include "automation/journey_simulator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "automation/journey_model.h"
#include "automation/steps.h"

namespace rapport::automation {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// Reads only: the simulator must not send, update or post through it.
class ReadOnlyEnv final : public JourneyEnv {
 public:
  Result<Contact> GetContact(WorkspaceId ws, ContactId id) override {
    Contact c;
    c.id = id;
    c.workspace_id = ws;
    return c;
  }
  Result<bool> InSegment(WorkspaceId, ContactId, std::string_view) override { return true; }
  Result<bool> Matches(WorkspaceId, ContactId, const std::string&) override { return true; }
  Result<SendReply> Send(const SendAsk&) override {
    ADD_FAILURE() << "the simulator sent through the real env";
    return SendReply{};
  }
  Result<Engagement> MessageEngagement(WorkspaceId, ContactId, MessageId) override {
    ADD_FAILURE() << "the simulator read engagement from the store";
    return Engagement{};
  }
  Status UpdateContact(WorkspaceId, ContactId, const json::object&,
                       const std::map<std::string, bool>&) override {
    ADD_FAILURE() << "the simulator updated a contact";
    return {};
  }
  WebhookReply PostWebhook(const WebhookAsk&) override {
    ADD_FAILURE() << "the simulator posted a webhook";
    return WebhookReply{};
  }
  Result<Timestamp> BestSendTime(WorkspaceId, ContactId, Timestamp from, Timestamp) override { return from; }
};

class PreviewMailer final : public Mailer {
 public:
  Result<SendReply> Send(const SendAsk&) override {
    ADD_FAILURE() << "the simulator sent mail";
    return SendReply{};
  }
  Result<std::string> PreviewSubject(const SendAsk& ask) override {
    return "subject of " + ask.template_name;
  }
};

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterBuiltinSteps(registry_).ok());
    journey_.id = 3;
    journey_.workspace_id = 1;
    journey_.version = 1;
  }
  JourneyDef Def(std::string_view text) {
    auto d = ParseJourney(text, registry_);
    EXPECT_TRUE(d.ok()) << d.error().field << ": " << d.error().message;
    return std::move(d).value();
  }
  SimEvent At(Micros after, std::string name, json::object properties = {}) {
    return SimEvent{7, std::move(name), std::move(properties), t0_ + after};
  }
  // The one contact's path.
  SimPath Replay(const JourneyDef& def, std::vector<SimEvent> events) {
    auto paths = Simulate(journey_, def, std::move(events), env_, mailer_);
    EXPECT_TRUE(paths.ok()) << paths.error().message;
    if (!paths.ok() || paths->size() != 1) {
      ADD_FAILURE() << "expected one contact's path";
      return SimPath{};
    }
    return std::move(paths->front());
  }
  static std::vector<std::string> Steps(const SimPath& p) {
    std::vector<std::string> out;
    for (const SimStep& s : p.steps) out.push_back(s.step);
    return out;
  }

  StepRegistry registry_;
  Journey journey_;
  ReadOnlyEnv env_;
  PreviewMailer mailer_;
  Timestamp t0_ = *ParseTimestamp("2026-03-04T12:00:00Z");
};

// Keyed by cart_id: one live run per cart, as the engine (JourneyService::TryEnter).
TEST_F(SimulatorTest, TwoCartsOfOneContactAreTwoRunsWithAReminderEach) {
  JourneyDef def =
      Def(R"({"name":"cart","trigger":{"type":"event","event":"cart_updated"},"entry":{"key":"cart_id"},
      "steps":[{"id":"wait_1h","kind":"wait","duration":"1h","next":"remind"},
               {"id":"remind","kind":"send","template":"cart_reminder"}]})");
  SimPath p =
      Replay(def, {At(minutes(0), "cart_updated", json::object{{"cart_id", "c1"}}),
                   At(minutes(10), "cart_updated", json::object{{"cart_id", "c2"}}),
                   At(minutes(20), "cart_updated", json::object{{"cart_id", "c1"}})});  // c1 is in: no entry
  EXPECT_EQ(p.runs, 2);
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].at, t0_ + hours(1));
  EXPECT_EQ(p.messages[1].at, t0_ + hours(1) + minutes(10));
  for (const SimMessage& m : p.messages) {
    EXPECT_EQ(m.template_name, "cart_reminder");
    EXPECT_EQ(m.subject, "subject of cart_reminder");
  }
  EXPECT_EQ(Steps(p),
            (std::vector<std::string>{"wait_1h", "wait_1h", "wait_1h", "remind", "wait_1h", "remind"}));
  EXPECT_TRUE(p.skipped.empty());
  EXPECT_EQ(p.state, "completed");

  // Without a key, one live run per contact: the second cart enters nothing.
  JourneyDef unkeyed = Def(R"({"name":"cart","trigger":{"type":"event","event":"cart_updated"},
      "steps":[{"id":"wait_1h","kind":"wait","duration":"1h","next":"remind"},
               {"id":"remind","kind":"send","template":"cart_reminder"}]})");
  SimPath one = Replay(unkeyed, {At(minutes(0), "cart_updated", json::object{{"cart_id", "c1"}}),
                                 At(minutes(10), "cart_updated", json::object{{"cart_id", "c2"}})});
  EXPECT_EQ(one.runs, 1);
  EXPECT_EQ(one.messages.size(), 1u);
}

// A branch on opened reads the replayed history: a human open of the reminder after it was sent.
TEST_F(SimulatorTest, ABranchOnOpenedFollowsTheHumanOpensOfTheReplayedHistory) {
  JourneyDef def = Def(R"({"name":"cart","trigger":{"type":"event","event":"cart_updated"},
      "steps":[{"id":"remind","kind":"send","template":"cart_reminder","next":"wait_1d"},
               {"id":"wait_1d","kind":"wait","duration":"1d","next":"opened"},
               {"id":"opened","kind":"branch","if":{"opened":true},"then":"done","else":"nudge"},
               {"id":"done","kind":"exit","reason":"engaged"},
               {"id":"nudge","kind":"send","template":"cart_nudge"}]})");
  json::object human{{"template", "cart_reminder"}, {"machine", false}};
  json::object machine{{"template", "cart_reminder"}, {"machine", true}};

  SimPath opened = Replay(def, {At(minutes(0), "cart_updated"), At(hours(2), "email_opened", human)});
  EXPECT_EQ(Steps(opened), (std::vector<std::string>{"remind", "wait_1d", "wait_1d", "opened", "done"}));
  EXPECT_EQ(opened.state, "exited");
  EXPECT_EQ(opened.reason, "engaged");
  ASSERT_EQ(opened.messages.size(), 1u);

  // Only a machine's open after the send, and a human open from before it: "else".
  SimPath scanned = Replay(def, {At(-hours(1), "email_opened", human), At(minutes(0), "cart_updated"),
                                 At(hours(2), "email_opened", machine)});
  EXPECT_EQ(Steps(scanned), (std::vector<std::string>{"remind", "wait_1d", "wait_1d", "opened", "nudge"}));
  EXPECT_EQ(scanned.state, "completed");
  ASSERT_EQ(scanned.messages.size(), 2u);
  EXPECT_EQ(scanned.messages[1].template_name, "cart_nudge");

  // A human open of another template, or one after the branch ran, is not an open of the reminder.
  json::object other{{"template", "newsletter"}, {"machine", false}};
  SimPath elsewhere = Replay(def, {At(minutes(0), "cart_updated"), At(hours(2), "email_opened", other),
                                   At(hours(30), "email_opened", human)});
  EXPECT_EQ(elsewhere.messages.size(), 2u);
  EXPECT_EQ(elsewhere.state, "completed");
}

TEST_F(SimulatorTest, EachSimulatedMessageNamesTheStepThatSentIt) {
  JourneyDef def = Def(R"({"name":"cart","trigger":{"type":"event","event":"cart_updated"},
      "steps":[{"id":"first","kind":"send","template":"cart_reminder","next":"wait_1d"},
               {"id":"wait_1d","kind":"wait","duration":"1d","next":"second"},
               {"id":"second","kind":"send","template":"cart_reminder"}]})");
  SimPath p = Replay(def, {At(minutes(0), "cart_updated")});
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].step, "first");
  EXPECT_EQ(p.messages[0].at, t0_);
  EXPECT_EQ(p.messages[1].step, "second");
  EXPECT_EQ(p.messages[1].at, t0_ + hours(24));
}

}  // namespace
}  // namespace rapport::automation
