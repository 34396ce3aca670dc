// The feedback facet (core/feedback.h) on both backends: a report about a delivered message ends
// its record, writes its timeline event and applies the bounce/complaint rule in one transaction;
// the same report twice records nothing; deliverability counts per domain and day.
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

class Feedback : public StoreContract {
 protected:
  // A marketing message to `c`, claimed and delivered (state sent).
  MessageId Delivered(const Contact& c, std::string rcpt = "") {
    OutboxMessage m = Message(c.id, std::nullopt, MessageClass::kMarketing);
    m.rcpt_to = rcpt.empty() ? c.email : rcpt;
    auto q = store_->outbox().Enqueue(m);
    EXPECT_TRUE(q.ok()) << q.error().message;
    auto claimed = store_->outbox().Claim(MessageClass::kMarketing, 10, "w", clock_.Now(), 30s);
    EXPECT_TRUE(claimed.ok());
    DeliveryAttempt a;
    a.message_id = q->message.id;
    a.attempt = 1;
    a.at = clock_.Now();
    a.outcome = MessageState::kSent;
    a.smtp_code = 250;
    a.reply = "ok";
    EXPECT_TRUE(store_->outbox().Complete(q->message.id, "w", a, {}).ok());
    return q->message.id;
  }
  FeedbackInput Report(MessageId id, FeedbackKind kind, DeliveryFailure failure = DeliveryFailure::kNone) {
    FeedbackInput in;
    in.workspace_id = ws_;
    in.message_id = id;
    in.kind = kind;
    in.failure = failure;
    in.status = kind == FeedbackKind::kHardBounce ? "5.1.1" : "";
    in.diagnostic = "550 5.1.1 user unknown";
    in.source = "dsn";
    in.reporter = "mx.example.com";
    in.provider = "example.com";
    return in;
  }
  ContactStatus StatusOf(ContactId id) { return store_->contacts().Get(ws_, id)->status; }
};

TEST_P(Feedback, HardBounceEndsTheMessageAndBouncesTheContact) {
  Contact c = MakeContact("ada@example.com");
  MessageId id = Delivered(c);
  auto r = store_->feedback().Record(
      Report(id, FeedbackKind::kHardBounce, DeliveryFailure::kRecipientAddress), {});
  ASSERT_OK(r);
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->contact_id, c.id);
  EXPECT_EQ(r->status_before, ContactStatus::kActive);
  EXPECT_EQ(r->status_after, ContactStatus::kBounced);
  EXPECT_EQ(StatusOf(c.id), ContactStatus::kBounced);
  auto m = store_->outbox().Get(ws_, id);
  EXPECT_EQ(m->state, MessageState::kBounced);
  EXPECT_NE(m->last_reply.find("hard_bounce (dsn) 5.1.1"), std::string::npos) << m->last_reply;
  auto events = store_->events().ListForContact(ws_, c.id, {});
  ASSERT_OK(events);
  ASSERT_GE(events->items.size(), 2u);
  EXPECT_EQ(events->items[0].name, "contact.status_changed");
  EXPECT_EQ(events->items[1].name, "message.bounced");
  EXPECT_EQ(events->items[1].properties.at("message_id").as_int64(), id);
  EXPECT_EQ(events->items[1].properties.at("failure").as_string(), "recipient_address");

  // The same report again records nothing.
  auto again = store_->feedback().Record(
      Report(id, FeedbackKind::kHardBounce, DeliveryFailure::kRecipientAddress), {});
  ASSERT_OK(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(store_->events().ListForContact(ws_, c.id, {})->items.size(), events->items.size());
}

TEST_P(Feedback, SoftBouncesBounceAfterThreeOfTheLastFive) {
  Contact c = MakeContact("bo@example.com");
  std::vector<MessageId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Delivered(c));
  BouncePolicy p;  // 3 of 5
  auto soft = [&](MessageId id) {
    auto r =
        store_->feedback().Record(Report(id, FeedbackKind::kSoftBounce, DeliveryFailure::kMailboxFull), p);
    EXPECT_TRUE(r.ok());
    return *r;
  };
  EXPECT_EQ(soft(ids[0]).soft_in_window, 1);
  EXPECT_EQ(soft(ids[2]).soft_in_window, 2);
  EXPECT_EQ(StatusOf(c.id), ContactStatus::kActive);
  FeedbackOutcome third = soft(ids[4]);
  EXPECT_EQ(third.soft_in_window, 3);
  EXPECT_EQ(third.status_after, ContactStatus::kBounced);
  EXPECT_EQ(store_->outbox().Get(ws_, ids[4])->state, MessageState::kFailed);

  // Old soft bounces fall out of the window: two long ago and one now is not three.
  Contact d = MakeContact("cy@example.com");
  MessageId old1 = Delivered(d), old2 = Delivered(d);
  soft(old1);
  soft(old2);
  for (int i = 0; i < 4; ++i) Delivered(d);
  MessageId recent = Delivered(d);
  FeedbackOutcome o = soft(recent);
  EXPECT_EQ(o.soft_in_window, 1);
  EXPECT_EQ(StatusOf(d.id), ContactStatus::kActive);
}

TEST_P(Feedback, BlocksNeverBounceComplaintsUnsubscribe) {
  Contact c = MakeContact("di@example.com");
  for (int i = 0; i < 5; ++i) {
    auto r = store_->feedback().Record(
        Report(Delivered(c), FeedbackKind::kBlock, DeliveryFailure::kPolicyBlock), {});
    ASSERT_OK(r);
  }
  EXPECT_EQ(StatusOf(c.id), ContactStatus::kActive);
  MessageId id = Delivered(c);
  auto r = store_->feedback().Record(Report(id, FeedbackKind::kComplaint), {});
  ASSERT_OK(r);
  EXPECT_EQ(r->status_after, ContactStatus::kComplained);
  auto m = store_->outbox().Get(ws_, id);
  ASSERT_OK(m);
  EXPECT_EQ(m->state, MessageState::kSent);  // it was delivered
  // ... and its record ends with the complaint, as a bounce's does.
  EXPECT_TRUE(m->last_reply.starts_with("complaint (dsn)")) << m->last_reply;
  auto names = TimelineNames(c.id);
  EXPECT_EQ(names.front(), "message.complained");
}

TEST_P(Feedback, RefusesUnknownAndUnsentMessages) {
  Contact c = MakeContact("ed@example.com");
  auto missing = store_->feedback().Record(Report(987654, FeedbackKind::kHardBounce), {});
  EXPECT_EQ(CodeOf(missing.ok() ? Status{} : Status{missing.error()}), ErrorCode::kNotFound);
  auto queued = store_->outbox().Enqueue(Message(c.id));
  ASSERT_OK(queued);
  auto r = store_->feedback().Record(Report(queued->message.id, FeedbackKind::kHardBounce), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(store_->feedback().Record(Report(queued->message.id, FeedbackKind::kHardBounce), {4, 3}).ok());
  // Another workspace's message is not found.
  auto other = store_->workspaces().Create("other");
  FeedbackInput in = Report(Delivered(c), FeedbackKind::kHardBounce);
  in.workspace_id = other->id;
  auto foreign = store_->feedback().Record(in, {});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
}

TEST_P(Feedback, DeliverabilityPerDomainAndDay) {
  Contact a = MakeContact("a@gmail.com"), b = MakeContact("b@yahoo.com");
  MessageId a1 = Delivered(a, "a@Gmail.com");
  Delivered(a, "a@gmail.com");
  MessageId b1 = Delivered(b);
  ASSERT_OK(store_->feedback().Record(Report(a1, FeedbackKind::kComplaint), {}));
  ASSERT_OK(store_->feedback().Record(Report(b1, FeedbackKind::kBlock, DeliveryFailure::kPolicyBlock), {}));
  int64_t day = ToMicros(clock_.Now()) / 86'400'000'000;
  auto rows = store_->feedback().Deliverability(ws_, day - 1, day);
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].domain, "gmail.com");
  EXPECT_EQ((*rows)[0].day, day);
  EXPECT_EQ((*rows)[0].delivered, 2);
  EXPECT_EQ((*rows)[0].complaints, 1);
  EXPECT_EQ((*rows)[1].domain, "yahoo.com");
  EXPECT_EQ((*rows)[1].blocks, 1);
  EXPECT_TRUE(store_->feedback().Deliverability(ws_, day + 1, day + 2)->empty());
  EXPECT_FALSE(store_->feedback().Deliverability(ws_, day, day - 1).ok());
  auto listed = store_->feedback().ListForContact(ws_, a.id);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kind, FeedbackKind::kComplaint);
  // Erasure removes the contact's feedback with the rest.
  ASSERT_TRUE(store_->contacts().Erase(ws_, a.id).ok());
  EXPECT_TRUE(store_->feedback().ListForContact(ws_, a.id)->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, Feedback, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
