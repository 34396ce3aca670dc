// The retry and bounce policy: what an SMTP outcome means for a message. Pure, thread-safe.
//
// 2xx -> sent. 4xx and transport failures (code 0: connection refused, timeout, lost connection)
// -> deferred, retried with exponential backoff and jitter (1m, 2m, 4m ... capped at 1h) until
// the message is older than max_age (3 days), then failed. 5xx -> what ClassifyReply
// (delivery/bounce_classifier.h) makes of the reply: bounced when it is about the recipient's
// address (the contact is then marked bounced by the store), failed otherwise (a block, a policy
// or content rejection, a message too large, a full mailbox: the contact stays mailable).
// The basic reply code decides defer vs permanent, except that a 5xx while setting the session
// up (greeting, EHLO, STARTTLS, AUTH) defers like a 4xx: it is about the session, not the
// message. The enhanced code, the text and the step decide the class (DeliveryFailure).
// Jitter is deterministic: derived from jitter_key (e.g. the message id) and the attempt number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/outbox.h"
#include "delivery/transport.h"

namespace rapport::delivery {

struct RetryPolicyOptions {
  Micros initial_delay = std::chrono::minutes(1);
  Micros max_delay = std::chrono::hours(1);
  Micros max_age = std::chrono::hours(72);
  double jitter = 0.2;  // +-20% of the delay
};

struct RetryInput {
  int code = 0;                    // 0 for a transport failure
  std::string_view enhanced_code;  // "4.2.2" or empty
  int attempt = 1;                 // the attempt just made, 1-based
  Timestamp queued_at{};           // when the message was first queued
  Timestamp now{};
  uint64_t jitter_key = 0;
  std::string_view text;  // the reply text (or the error)
  SmtpStep step = SmtpStep::kUnknown;
};

struct RetryDecision {
  MessageState outcome = MessageState::kSent;  // kSent, kDeferred, kBounced, kFailed
  DeliveryFailure failure = DeliveryFailure::kNone;
  Timestamp next_attempt_at{};  // kDeferred only
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryPolicyOptions options = {}) : options_(options) {}
  RetryDecision Decide(const RetryInput& in) const;
  // The backoff before attempt `attempt + 1`, with jitter.
  Micros Backoff(int attempt, uint64_t jitter_key) const;
  const RetryPolicyOptions& options() const { return options_; }

 private:
  RetryPolicyOptions options_;
};

}  // namespace rapport::delivery
