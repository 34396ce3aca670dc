// The frequency governor's facet (core/governance.h) on both backends: the policy document, the
// facts (every marketing message of a set of contacts placed since a moment, in any state, with
// source, priority and on_cap), governed enqueues that say why on the message and the timeline,
// and a queued message yielding its place (only while it is still queued).
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

class Governor : public StoreContract {
 protected:
  OutboxMessage Marketing(ContactId c, Timestamp at, MessageGovernance g = {}) {
    OutboxMessage m = Message(c, {}, MessageClass::kMarketing);
    m.next_attempt_at = at;
    m.governance = std::move(g);
    return m;
  }
  std::vector<Event> Timeline(ContactId c, std::string_view name) {
    std::vector<Event> out;
    auto page = store_->events().ListForContact(ws_, c, {.limit = 100});
    EXPECT_TRUE(page.ok());
    if (page.ok())
      for (auto& e : page->items)
        if (e.name == name) out.push_back(e);
    return out;
  }
};

TEST_P(Governor, APolicyIsKeptPerWorkspace) {
  auto none = store_->governor().Policy(ws_);
  ASSERT_OK(none);
  EXPECT_FALSE(*none);
  ASSERT_OK(store_->governor().SetPolicy(ws_, R"({"enabled":true})"));
  ASSERT_OK(store_->governor().SetPolicy(ws_, R"({"enabled":false,"per_day":2})"));
  auto got = store_->governor().Policy(ws_);
  ASSERT_OK(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ(**got, R"({"enabled":false,"per_day":2})");
  auto other = store_->workspaces().Create("other");
  ASSERT_OK(other);
  EXPECT_FALSE(*store_->governor().Policy(other->id));
}

TEST_P(Governor, RecentReadsTheMarketingMessagesOfManyContactsSinceAMoment) {
  std::vector<ContactId> ids;
  for (int i = 0; i < 70; ++i) ids.push_back(MakeContact("c" + std::to_string(i) + "@example.com").id);
  // Old, recent, transactional and future messages of contacts 0, 1 and 69.
  MessageGovernance g{"campaign:7", 3, true, GovernorVerdict::kAllow, ""};
  ASSERT_OK(store_->outbox().Enqueue(Marketing(ids[0], kT0 - 10 * 24h)));
  ASSERT_OK(store_->outbox().Enqueue(Marketing(ids[0], kT0 - 1h, g)));
  ASSERT_OK(store_->outbox().Enqueue(Message(ids[0])));  // transactional: never governed
  OutboxMessage topic = Marketing(ids[1], kT0 + 30h);
  topic.topic = "news";
  ASSERT_OK(store_->outbox().Enqueue(topic));
  OutboxMessage skipped = Marketing(ids[69], kT0, {"journey:3:s", 0, false, GovernorVerdict::kSkip, "why"});
  skipped.state = MessageState::kSuppressed;
  ASSERT_OK(store_->outbox().Enqueue(skipped));
  auto recent = store_->governor().Recent(ws_, ids, kT0 - 24h);
  ASSERT_OK(recent);
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ((*recent)[0].contact_id, ids[0]);
  EXPECT_EQ((*recent)[0].at, kT0 - 1h);
  EXPECT_EQ((*recent)[0].source, "campaign:7");
  EXPECT_EQ((*recent)[0].priority, 3);
  EXPECT_TRUE((*recent)[0].skip_on_cap);
  EXPECT_EQ((*recent)[0].state, MessageState::kQueued);
  EXPECT_EQ((*recent)[1].contact_id, ids[1]);
  EXPECT_EQ((*recent)[1].topic, "news");
  EXPECT_EQ((*recent)[1].at, kT0 + 30h);
  EXPECT_EQ((*recent)[2].contact_id, ids[69]);
  EXPECT_EQ((*recent)[2].state, MessageState::kSuppressed);
  // Only the contacts asked for.
  std::vector<ContactId> one{ids[1]};
  EXPECT_EQ(store_->governor().Recent(ws_, one, kT0 - 24h)->size(), 1u);
}

TEST_P(Governor, AGovernedEnqueueSaysWhyOnTheMessageAndTheTimeline) {
  Contact c = MakeContact("ada@example.com");
  OutboxMessage deferred = Marketing(
      c.id, kT0 + 5h, {"campaign:7", 1, false, GovernorVerdict::kDefer, "deferred to later: a cap"});
  auto q = store_->outbox().Enqueue(deferred);
  ASSERT_OK(q);
  EXPECT_EQ(q->message.state, MessageState::kQueued);
  EXPECT_EQ(q->message.last_reply, "deferred to later: a cap");
  EXPECT_EQ(q->message.next_attempt_at, kT0 + 5h);
  auto governed = Timeline(c.id, "message.governed");
  ASSERT_EQ(governed.size(), 1u);
  const json::object& p = governed[0].properties;
  EXPECT_EQ(p.at("decision").as_string(), "deferred");
  EXPECT_EQ(p.at("source").as_string(), "campaign:7");
  EXPECT_EQ(p.at("reason").as_string(), "deferred to later: a cap");
  EXPECT_EQ(p.at("until").as_string(), FormatTimestamp(kT0 + 5h));
  EXPECT_EQ(p.at("message_id").as_int64(), q->message.id);
  // Not due before its time.
  auto claimed = store_->outbox().Claim(MessageClass::kMarketing, 10, "n/1", kT0 + 4h, 60s);
  ASSERT_OK(claimed);
  EXPECT_TRUE(claimed->empty());
  claimed = store_->outbox().Claim(MessageClass::kMarketing, 10, "n/1", kT0 + 5h, 60s);
  ASSERT_OK(claimed);
  EXPECT_EQ(claimed->size(), 1u);
  // An allowed message records no governed event.
  ASSERT_OK(store_->outbox().Enqueue(Marketing(c.id, kT0, {"api", 0, false, GovernorVerdict::kAllow, ""})));
  EXPECT_EQ(Timeline(c.id, "message.governed").size(), 1u);
}

TEST_P(Governor, AQueuedMessageYieldsItsPlaceOnlyWhileQueued) {
  Contact c = MakeContact("bo@example.com");
  auto low =
      store_->outbox().Enqueue(Marketing(c.id, kT0, {"campaign:1", 0, false, GovernorVerdict::kAllow, ""}));
  auto low2 =
      store_->outbox().Enqueue(Marketing(c.id, kT0, {"campaign:2", 0, true, GovernorVerdict::kAllow, ""}));
  ASSERT_OK(low);
  ASSERT_OK(low2);
  MessageGovernance moved{"campaign:1", 0, false, GovernorVerdict::kDefer,
                          "deferred: priority 5 took its place"};
  ASSERT_OK(store_->governor().Yield(ws_, low->message.id, moved, kT0 + 24h));
  auto m = store_->outbox().Get(ws_, low->message.id);
  ASSERT_OK(m);
  EXPECT_EQ(m->state, MessageState::kQueued);
  EXPECT_EQ(m->next_attempt_at, kT0 + 24h);
  EXPECT_EQ(m->last_reply, moved.reason);
  std::vector<ContactId> ids{c.id};
  auto recent = store_->governor().Recent(ws_, ids, kT0 - 24h);
  ASSERT_OK(recent);
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ(recent->back().at, kT0 + 24h);

  MessageGovernance skipped{"campaign:2", 0, true, GovernorVerdict::kSkip,
                            "skipped: priority 5 took its place"};
  ASSERT_OK(store_->governor().Yield(ws_, low2->message.id, skipped, kT0));
  EXPECT_EQ(store_->outbox().Get(ws_, low2->message.id)->state, MessageState::kSuppressed);
  EXPECT_EQ(Timeline(c.id, "message.governed").size(), 2u);
  EXPECT_EQ(Timeline(c.id, "message.suppressed").size(), 1u);

  // A message being sent (or sent) no longer yields.
  auto third = store_->outbox().Enqueue(Marketing(c.id, kT0));
  ASSERT_OK(third);
  ASSERT_OK(store_->outbox().Claim(MessageClass::kMarketing, 10, "n/1", kT0, 60s));
  Status st = store_->governor().Yield(ws_, third->message.id, moved, kT0 + 24h);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  st = store_->governor().Yield(ws_, 999999, moved, kT0 + 24h);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, Governor, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
