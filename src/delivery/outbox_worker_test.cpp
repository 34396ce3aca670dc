// Engine tests of the outbox worker: in-memory store, FakeClock, recording transport.
#include "delivery/outbox_worker.h"

#include <condition_variable>
#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "delivery/testing/fake_outbox_store.h"

namespace rapport::delivery {
namespace {

using namespace std::chrono_literals;
using testing::FakeOutboxStore;

// Answers by recipient local part: "t451..." 451, "p550..." 550, else 250. Records every batch.
class RecordingTransport final : public Transport {
 public:
  std::vector<SendResult> Send(std::span<const OutgoingMessage> batch) override {
    std::lock_guard lock(mu);
    std::vector<SendResult> out;
    batches.emplace_back(batch.begin(), batch.end());
    if (on_send) on_send();
    for (const auto& m : batch) {
      const std::string& rcpt = m.envelope.rcpt_to[0];
      if (rcpt.rfind("t451", 0) == 0) {
        out.push_back(UniformResult(m, 451, "4.3.0", "try later", "fake"));
      } else if (rcpt.rfind("p550", 0) == 0) {
        out.push_back(UniformResult(m, 550, "5.1.1", "no such user", "fake"));
      } else if (rcpt.rfind("p554", 0) == 0) {
        out.push_back(UniformResult(m, 554, "5.7.1", "blocked by policy", "fake", SmtpStep::kRcptTo));
      } else if (rcpt.rfind("c421", 0) == 0) {
        out.push_back(UniformResult(m, 421, "4.7.0", "slow down", "fake"));
      } else {
        out.push_back(UniformResult(m, 250, "2.0.0", "ok", "fake"));
      }
    }
    return out;
  }
  std::string Describe() const override { return "fake"; }
  std::mutex mu;
  std::vector<std::vector<OutgoingMessage>> batches;
  std::function<void()> on_send;
};

struct WorkerTest : ::testing::Test {
  FakeClock clock{FromMicros(1'800'000'000'000'000)};
  FakeOutboxStore store;
  RecordingTransport transactional, marketing;
  RateLimiterOptions limits;
  OutboxWorkerOptions options;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<OutboxWorker> worker;

  void Make(MessageSigner signer = {}) {
    options.owner = "node-1";
    options.batch_size = 10;
    options.retry.jitter = 0;
    limiter = std::make_unique<RateLimiter>(clock, limits);
    worker =
        std::make_unique<OutboxWorker>(store, clock, *limiter, transactional, marketing, signer, options);
  }
  MessageId Queue(std::string rcpt, MessageClass lane = MessageClass::kTransactional) {
    OutboxMessage m;
    m.message_class = lane;
    m.mail_from = "bounce@example.com";
    m.rcpt_to = std::move(rcpt);
    m.mime = "From: a@example.com\r\nTo: " + m.rcpt_to + "\r\n\r\nhello\r\n";
    m.next_attempt_at = clock.Now();
    m.created_at = clock.Now();
    return store.Enqueue(m)->message.id;
  }
  OutboxMessage Get(MessageId id) { return store.Get(1, id).value(); }
};

TEST_F(WorkerTest, SendsSignsAndRecordsOutcomes) {
  Make([](const OutboxMessage& m, Timestamp) -> Result<std::string> {
    return "DKIM-Signature: v=1; fake\r\n" + m.mime;
  });
  auto ok = Queue("ok@example.org");
  auto soft = Queue("t451@example.org");
  auto hard = Queue("p550@example.org");
  auto r = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->claimed, 3);
  EXPECT_EQ(r->sent, 1);
  EXPECT_EQ(r->deferred, 1);
  EXPECT_EQ(r->bounced, 1);
  ASSERT_EQ(transactional.batches.size(), 1u);
  EXPECT_EQ(transactional.batches[0][0].data.rfind("DKIM-Signature: v=1; fake\r\nFrom:", 0), 0u);
  EXPECT_EQ(transactional.batches[0][0].envelope.mail_from, "bounce@example.com");
  EXPECT_EQ(Get(ok).state, MessageState::kSent);
  EXPECT_EQ(Get(soft).state, MessageState::kDeferred);
  EXPECT_EQ(Get(soft).next_attempt_at, clock.Now() + 1min);
  EXPECT_EQ(Get(hard).state, MessageState::kBounced);
  auto attempts = store.Attempts(1, hard).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].smtp_code, 550);
  EXPECT_EQ(attempts[0].enhanced_code, "5.1.1");
  EXPECT_EQ(attempts[0].reply, "no such user");
  EXPECT_EQ(attempts[0].remote, "fake");
  EXPECT_EQ(attempts[0].failure, DeliveryFailure::kRecipientAddress);
  EXPECT_TRUE(marketing.batches.empty());
}

// Issue 13 item 5: the worker keeps the classification; a block fails the message (never a bounce)
// and is counted for its mailbox provider.
TEST_F(WorkerTest, Issue13ABlockFailsTheMessageAndIsCountedPerProvider) {
  Make();
  auto blocked = Queue("p554@googlemail.com");
  auto gone = Queue("p550@gmail.com");
  auto also_blocked = Queue("p554b@hotmail.com");
  auto r = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->bounced, 1);
  EXPECT_EQ(r->failed, 2);
  EXPECT_EQ(Get(blocked).state, MessageState::kFailed);
  EXPECT_EQ(Get(also_blocked).state, MessageState::kFailed);
  EXPECT_EQ(Get(gone).state, MessageState::kBounced);
  auto attempts = store.Attempts(1, blocked).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].failure, DeliveryFailure::kPolicyBlock);
  EXPECT_EQ(attempts[0].smtp_step, "rcpt_to");
  FailureCounts want = {{{"gmail.com", DeliveryFailure::kPolicyBlock}, 1},
                        {{"gmail.com", DeliveryFailure::kRecipientAddress}, 1},
                        {{"outlook.com", DeliveryFailure::kPolicyBlock}, 1}};
  EXPECT_EQ(r->failures, want);
  EXPECT_EQ(worker->Failures(), want);
  auto again = Queue("p554c@gmail.com");
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  EXPECT_EQ(Get(again).state, MessageState::kFailed);
  EXPECT_EQ((worker->Failures()[{"gmail.com", DeliveryFailure::kPolicyBlock}]), 2);
}

TEST_F(WorkerTest, DeferredMessagesComeBackWithBackoffAndFailAfterMaxAge) {
  options.retry.max_age = 10min;
  Make();
  auto id = Queue("t451@example.org");
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  EXPECT_EQ(worker->RunOnce(MessageClass::kTransactional)->claimed, 0);  // not due yet
  clock.Advance(1min);
  ASSERT_EQ(worker->RunOnce(MessageClass::kTransactional)->deferred, 1);
  EXPECT_EQ(Get(id).attempts, 2);
  EXPECT_EQ(Get(id).next_attempt_at, clock.Now() + 2min);
  clock.Advance(2min);
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  clock.Advance(4min);
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  EXPECT_EQ(Get(id).next_attempt_at, FromMicros(1'800'000'000'000'000) + 10min);  // capped by max age
  clock.Set(Get(id).next_attempt_at);
  auto r = worker->RunOnce(MessageClass::kTransactional);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(Get(id).state, MessageState::kFailed);
  EXPECT_EQ(store.Attempts(1, id)->size(), 5u);
}

TEST_F(WorkerTest, LanesAreServedSeparately) {
  Make();
  Queue("m1@example.org", MessageClass::kMarketing);
  Queue("t1@example.org", MessageClass::kTransactional);
  auto r = worker->RunOnce(MessageClass::kTransactional);
  EXPECT_EQ(r->sent, 1);
  ASSERT_EQ(transactional.batches.size(), 1u);
  EXPECT_EQ(transactional.batches[0][0].envelope.rcpt_to[0], "t1@example.org");
  EXPECT_TRUE(marketing.batches.empty());
  EXPECT_EQ(worker->RunOnce(MessageClass::kMarketing)->sent, 1);
  EXPECT_EQ(marketing.batches.size(), 1u);
}

TEST_F(WorkerTest, RateControlHoldsMessagesBackUntilAllowed) {
  limits.providers["gmail.com"] = {100, 2};  // 2 per second
  Make();
  for (int i = 0; i < 5; ++i) Queue("u" + std::to_string(i) + "@gmail.com");
  auto other = Queue("x@example.org");
  auto r = worker->RunOnce(MessageClass::kTransactional);
  EXPECT_EQ(r->sent, 3);  // 2 gmail + example.org
  EXPECT_EQ(r->held, 3);
  EXPECT_EQ(Get(other).state, MessageState::kSent);
  EXPECT_EQ(store.CountByState(MessageState::kSending).value(), 3);
  clock.Advance(1s);
  r = worker->RunOnce(MessageClass::kTransactional);
  EXPECT_EQ(r->sent, 2);
  EXPECT_EQ(r->held, 1);
  // Stop releases the held message: its lease expires now and anyone may claim it.
  ASSERT_TRUE(worker->ReleaseHeld().ok());
  FakeOutboxStore& s = store;
  auto reclaimed = s.Claim(MessageClass::kTransactional, 10, "node-2", clock.Now(), 1min);
  ASSERT_EQ(reclaimed->size(), 1u);
}

TEST_F(WorkerTest, A421SlowsTheProviderDown) {
  limits.providers["outlook.com"] = {100, 40};
  Make();
  Queue("c421@hotmail.com");
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  EXPECT_DOUBLE_EQ(limiter->CurrentRate("outlook.com"), 20);
  EXPECT_EQ(limiter->InFlight("outlook.com"), 0);
}

TEST_F(WorkerTest, SigningFailureDefersWithoutSending) {
  Make([](const OutboxMessage&, Timestamp) -> Result<std::string> {
    return Error::Invalid("key_file", "no key");
  });
  auto id = Queue("ok@example.org");
  auto r = worker->RunOnce(MessageClass::kTransactional);
  EXPECT_EQ(r->deferred, 1);
  EXPECT_TRUE(transactional.batches.empty());
  EXPECT_NE(Get(id).last_reply.find("DKIM signing failed"), std::string::npos);
}

TEST_F(WorkerTest, LeasesAreRenewedDuringALongSend) {
  options.lease = 30ms;  // renewed every 10 ms of real time while the transport works
  Make();
  transactional.on_send = [] { std::this_thread::sleep_for(100ms); };
  Queue("ok@example.org");
  int before = store.renews();
  ASSERT_EQ(worker->RunOnce(MessageClass::kTransactional)->sent, 1);
  EXPECT_GE(store.renews() - before, 3);
}

TEST_F(WorkerTest, PipelinedRoundsRecordOutcomesDuringTheNextSendAndClaimAhead) {
  options.pipeline = true;
  Make();
  std::vector<MessageId> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(Queue("user" + std::to_string(i) + "@example.com"));
  // During the first send, the next batch is claimed ahead; the first batch's outcomes wait.
  auto r1 = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->sent, 10);
  EXPECT_EQ(r1->claimed, 20);  // 10 for this round, 10 claimed ahead
  EXPECT_EQ(store.claims(), 2);
  EXPECT_EQ(Get(ids[0]).state, MessageState::kSending) << "recorded during the next round";
  auto r2 = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->sent, 10);
  // It sent what the first round claimed ahead, so its only claim was the one overlapped with
  // its send (a claim before the send would be on the critical path).
  EXPECT_EQ(store.claims(), 3);
  EXPECT_EQ(r2->claimed, 5);
  EXPECT_EQ(Get(ids[0]).state, MessageState::kSent) << "recorded while the second batch was sent";
  EXPECT_EQ(Get(ids[10]).state, MessageState::kSending);
  auto r3 = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->sent, 5);
  // An idle round records what is left.
  auto r4 = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->Completed(), 0);
  for (MessageId id : ids) EXPECT_EQ(Get(id).state, MessageState::kSent) << id;
  EXPECT_EQ(transactional.batches.size(), 3u);
}

TEST_F(WorkerTest, PipelinedRoundsSignTheNextBatchDuringTheSend) {
  options.pipeline = true;
  options.sign_threads = 2;
  std::mutex mu;
  std::map<MessageId, int> signs;
  Make([&](const OutboxMessage& m, Timestamp) -> Result<std::string> {
    std::lock_guard lock(mu);
    ++signs[m.id];
    return "DKIM-Signature: v=1; fake\r\n" + m.mime;
  });
  std::vector<MessageId> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(Queue("user" + std::to_string(i) + "@example.com"));
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  EXPECT_EQ(signs.size(), 20u) << "the batch claimed ahead is signed while the first one is sent";
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  worker->Stop();
  ASSERT_EQ(signs.size(), 25u);
  for (const auto& [id, n] : signs) EXPECT_EQ(n, 1) << "message " << id << " signed once";
  size_t sent = 0;
  for (const auto& batch : transactional.batches) {
    for (const auto& m : batch) {
      EXPECT_EQ(m.data.rfind("DKIM-Signature: v=1; fake\r\nFrom: ", 0), 0u) << m.data;
      ++sent;
    }
  }
  EXPECT_EQ(sent, 25u);
  for (MessageId id : ids) EXPECT_EQ(Get(id).state, MessageState::kSent) << id;
}

TEST_F(WorkerTest, PipelinedRoundsRecordOutcomesWhileTheNextBatchIsSigned) {
  // Recording the first batch's outcomes waits (up to 10 s) for the third batch's signing to
  // begin: the helper thread must be signing while this thread records, not after it.
  options.pipeline = true;
  options.sign_threads = 2;
  std::mutex mu;
  std::condition_variable third_signing;
  bool third_started = false;
  bool overlapped = false;
  int completions = 0;
  Make([&](const OutboxMessage& m, Timestamp) -> Result<std::string> {
    if (m.id > 20) {
      std::lock_guard lock(mu);
      third_started = true;
      third_signing.notify_all();
    }
    return "DKIM-Signature: v=1; fake\r\n" + m.mime;
  });
  store.on_complete_batch = [&] {
    std::unique_lock lock(mu);
    if (++completions == 1) overlapped = third_signing.wait_for(lock, 10s, [&] { return third_started; });
  };
  for (int i = 0; i < 30; ++i) Queue("user" + std::to_string(i) + "@example.com");
  for (int round = 0; round < 4; ++round) ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  worker->Stop();
  EXPECT_TRUE(overlapped) << "the first batch's outcomes were recorded before the third batch was signed";
  EXPECT_EQ(store.CountByState(MessageState::kSent).value(), 30);
}

TEST_F(WorkerTest, SigningThreadsShareTheBatchAsTheyGo) {
  // The first message's signature takes until every other message is signed (or 10 s pass):
  // another thread must take the rest of the batch, not stop at a fixed share of it.
  options.sign_threads = 2;
  std::mutex mu;
  std::condition_variable others_done;
  int others = 0;
  int signed_in_time = -1;  // set when the wait ran out
  MessageId first = 0;
  Make([&](const OutboxMessage& m, Timestamp) -> Result<std::string> {
    std::unique_lock lock(mu);
    if (m.id == first) {
      if (!others_done.wait_for(lock, 10s, [&] { return others == 9; })) signed_in_time = others;
    } else if (++others == 9) {
      others_done.notify_all();
    }
    return "DKIM-Signature: v=1; fake\r\n" + m.mime;
  });
  first = Queue("user0@example.com");
  for (int i = 1; i < 10; ++i) Queue("user" + std::to_string(i) + "@example.com");
  auto r = worker->RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(signed_in_time, -1) << "the other thread stopped at its share: " << signed_in_time
                                << " of 9 signed in 10 s";
  EXPECT_EQ(r->sent, 10);
}

TEST_F(WorkerTest, StopRecordsPipelinedOutcomes) {
  options.pipeline = true;
  Make();
  MessageId id = Queue("ada@example.com");
  ASSERT_TRUE(worker->RunOnce(MessageClass::kTransactional).ok());
  EXPECT_EQ(Get(id).state, MessageState::kSending);
  worker->Stop();
  EXPECT_EQ(Get(id).state, MessageState::kSent);
}

TEST_F(WorkerTest, StartAndStopDeliverEverything) {
  options.idle_poll = 5ms;
  Make();
  for (int i = 0; i < 25; ++i)
    Queue("u" + std::to_string(i) + "@example.org",
          i % 2 ? MessageClass::kMarketing : MessageClass::kTransactional);
  worker->Start();
  for (int i = 0; i < 400 && store.CountByState(MessageState::kSent).value() < 25; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  worker->Stop();
  EXPECT_EQ(store.CountByState(MessageState::kSent).value(), 25);
  EXPECT_EQ(store.CountByState(MessageState::kSending).value(), 0);
}

// Issue 14: a crash strands what is claimed and unsent. Under rate control a lane holds at most
// one batch claimed beyond the one on the wire (it used to hold up to four, and claim ahead more).
TEST_F(WorkerTest, Issue14RateControlKeepsAtMostOneBatchClaimedAndUnsent) {
  options.pipeline = true;
  limits.global_rate = 2;
  Make();
  for (int i = 0; i < 60; ++i) Queue("user" + std::to_string(i) + "@example.com");
  int sent = 0;
  for (int round = 0; round < 8; ++round) {
    auto r = worker->RunOnce(MessageClass::kTransactional);
    ASSERT_TRUE(r.ok());
    sent += r->sent;
    EXPECT_LE(r->held, options.batch_size) << "round " << round;
    // What is `sending` now: this round's batch (outcomes pending) and what is claimed unsent.
    EXPECT_LE(store.CountByState(MessageState::kSending).value() - r->Completed(), options.batch_size)
        << "round " << round;
    clock.Advance(1s);
  }
  EXPECT_GT(sent, 0);
  EXPECT_LT(sent, 60) << "rate control must have held messages back for the test to mean anything";
}

}  // namespace
}  // namespace rapport::delivery
