#include "delivery/retry_policy.h"

#include <gtest/gtest.h>

namespace rapport::delivery {
namespace {

using namespace std::chrono_literals;
const Timestamp kT0 = FromMicros(1'800'000'000'000'000);

RetryDecision Decide(int code, std::string_view enh, int attempt = 1, Micros age = 0s,
                     std::string_view text = "", SmtpStep step = SmtpStep::kRcptTo) {
  RetryPolicy p;
  return p.Decide({code, enh, attempt, kT0, kT0 + age, 42, text, step});
}

TEST(RetryPolicy, AcceptedIsSent) {
  EXPECT_EQ(Decide(250, "2.0.0").outcome, MessageState::kSent);
  EXPECT_EQ(Decide(251, "").outcome, MessageState::kSent);
}

TEST(RetryPolicy, TemporaryFailuresAreDeferredWithBackoff) {
  auto d = Decide(451, "4.3.0");
  EXPECT_EQ(d.outcome, MessageState::kDeferred);
  EXPECT_EQ(d.failure, DeliveryFailure::kTransient);
  EXPECT_GE(d.next_attempt_at, kT0 + 48s);  // 1m +-20%
  EXPECT_LE(d.next_attempt_at, kT0 + 72s);
  EXPECT_EQ(Decide(0, "").failure, DeliveryFailure::kConnection);
  EXPECT_EQ(Decide(0, "").outcome, MessageState::kDeferred);
  EXPECT_EQ(Decide(421, "4.7.0").failure, DeliveryFailure::kThrottled);
  EXPECT_EQ(Decide(452, "4.2.2").failure, DeliveryFailure::kMailboxFull);
  EXPECT_EQ(Decide(452, "4.2.2").outcome, MessageState::kDeferred);
  EXPECT_EQ(Decide(450, "4.7.1").failure, DeliveryFailure::kTransient);
}

TEST(RetryPolicy, BackoffDoublesAndCaps) {
  RetryPolicyOptions o;
  o.jitter = 0;
  RetryPolicy p(o);
  EXPECT_EQ(p.Backoff(1, 7), Micros(1min));
  EXPECT_EQ(p.Backoff(2, 7), Micros(2min));
  EXPECT_EQ(p.Backoff(3, 7), Micros(4min));
  EXPECT_EQ(p.Backoff(7, 7), Micros(60min));
  EXPECT_EQ(p.Backoff(50, 7), Micros(60min));
}

TEST(RetryPolicy, JitterIsDeterministicAndVaries) {
  RetryPolicy p;
  EXPECT_EQ(p.Backoff(3, 1), p.Backoff(3, 1));
  int different = 0;
  for (uint64_t k = 0; k < 20; ++k) {
    Micros b = p.Backoff(3, k);
    EXPECT_GE(b, Micros(4min) * 8 / 10);
    EXPECT_LE(b, Micros(4min) * 12 / 10);
    if (b != p.Backoff(3, k + 100)) ++different;
  }
  EXPECT_GT(different, 10);
}

TEST(RetryPolicy, GivesUpAfterMaxAge) {
  auto d = Decide(451, "4.3.0", 30, 72h);
  EXPECT_EQ(d.outcome, MessageState::kFailed);
  // Just before the deadline the next try is not scheduled past it.
  auto e = Decide(451, "4.3.0", 30, 72h - 5min);
  EXPECT_EQ(e.outcome, MessageState::kDeferred);
  EXPECT_EQ(e.next_attempt_at, kT0 + 72h);
}

TEST(RetryPolicy, OnlyAnAddressFailureBouncesOtherPermanentFailuresFail) {
  auto bad = Decide(550, "5.1.1");
  EXPECT_EQ(bad.outcome, MessageState::kBounced);
  EXPECT_EQ(bad.failure, DeliveryFailure::kRecipientAddress);
  EXPECT_EQ(Decide(550, "5.1.2").outcome, MessageState::kBounced);
  EXPECT_EQ(Decide(550, "", 1, 0s, "no such user").outcome, MessageState::kBounced);
  auto policy = Decide(554, "5.7.1", 1, 0s, "rejected by policy");
  EXPECT_EQ(policy.outcome, MessageState::kFailed);
  EXPECT_EQ(policy.failure, DeliveryFailure::kPolicyBlock);
  auto full = Decide(552, "5.2.2");
  EXPECT_EQ(full.outcome, MessageState::kFailed);
  EXPECT_EQ(full.failure, DeliveryFailure::kMailboxFull);
  EXPECT_EQ(Decide(552, "5.3.4").failure, DeliveryFailure::kMessageSize);
  EXPECT_EQ(Decide(552, "5.3.4").outcome, MessageState::kFailed);
  EXPECT_EQ(Decide(554, "5.6.0").outcome, MessageState::kFailed);
  EXPECT_EQ(Decide(550, "").outcome, MessageState::kFailed);  // says nothing: not the address
  EXPECT_EQ(Decide(500, "5.5.2").failure, DeliveryFailure::kProtocol);
  // The same 5.1.1 in reply to MAIL FROM is about the sender.
  EXPECT_EQ(Decide(550, "5.1.1", 1, 0s, "", SmtpStep::kMailFrom).outcome, MessageState::kFailed);
}

TEST(RetryPolicy, ASessionThatCannotBeSetUpDefersWhateverTheCode) {
  auto auth = Decide(535, "5.7.8", 1, 0s, "authentication credentials invalid", SmtpStep::kAuth);
  EXPECT_EQ(auth.outcome, MessageState::kDeferred);
  EXPECT_EQ(auth.failure, DeliveryFailure::kSenderAuth);
  auto greeting = Decide(554, "5.7.1", 1, 0s, "blocked", SmtpStep::kGreeting);
  EXPECT_EQ(greeting.outcome, MessageState::kDeferred);
  EXPECT_EQ(greeting.failure, DeliveryFailure::kPolicyBlock);
  EXPECT_EQ(Decide(554, "", 1, 72h, "no service", SmtpStep::kEhlo).outcome, MessageState::kFailed);
  EXPECT_EQ(Decide(550, "5.7.1", 1, 0s, "sender rejected", SmtpStep::kMailFrom).outcome,
            MessageState::kFailed);
}

TEST(RetryPolicy, BasicCodeDecidesOverEnhancedClass) {
  // A server that says 550 with a 4.x.x enhanced code still fails for good (RFC 3463 §2).
  EXPECT_EQ(Decide(550, "4.2.2").outcome, MessageState::kFailed);
  EXPECT_EQ(Decide(550, "4.1.1", 1, 0s, "user unknown").outcome, MessageState::kBounced);
  EXPECT_EQ(Decide(450, "5.1.1").outcome, MessageState::kDeferred);
}

}  // namespace
}  // namespace rapport::delivery
