// The retry and bounce policy: what an SMTP outcome means for a message. Pure, thread-safe.
//
// 2xx -> sent. 4xx and transport failures (code 0: connection refused, timeout, lost connection)
// -> deferred, retried with exponential backoff and jitter (1m, 2m, 4m ... capped at 1h) until
// the message is older than max_age (3 days), then failed. 5xx -> bounced. The category tells why
// (from the RFC 3463 enhanced code when the server gave one) and whether a bounce is hard (the
// address is bad: stop mailing it) or soft (mailbox full, policy block, message too large).
// The basic reply code decides defer vs bounce; the enhanced code only refines the category.
// Jitter is deterministic: derived from jitter_key (e.g. the message id) and the attempt number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/outbox.h"

namespace rapport::delivery {

enum class FailureCategory {
  kNone,             // delivered
  kConnection,       // no reply: refused, timeout, TLS, lost connection
  kTemporary,        // other 4xx
  kThrottled,        // 421, 4.7.28-style rate limiting, 4.3.2
  kGreylisted,       // 4.7.1 / 450-451 policy deferrals
  kMailboxFull,      // x.2.2
  kBadMailbox,       // 5.1.1, 5.1.0, 5.1.3, 5.1.6, 5.2.1 (disabled)
  kBadDomain,        // 5.1.2, 5.1.10, 5.4.4
  kPolicy,           // 5.7.x: blocked, spam, authentication (not the address's fault)
  kMessageTooLarge,  // 5.3.4, 5.2.3
  kProtocol,         // 5.5.x
  kOther,            // any other 5xx
};
std::string_view FailureCategoryName(FailureCategory c);

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
};

struct RetryDecision {
  MessageState outcome = MessageState::kSent;  // kSent, kDeferred, kBounced, kFailed
  FailureCategory category = FailureCategory::kNone;
  bool hard_bounce = false;     // kBounced only: the address itself is bad
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

// The category of a reply on its own (no timing).
FailureCategory Classify(int code, std::string_view enhanced_code);

}  // namespace rapport::delivery
