#include "delivery/retry_policy.h"

#include <algorithm>

#include "core/hash.h"
#include "delivery/bounce_classifier.h"

namespace rapport::delivery {

Micros RetryPolicy::Backoff(int attempt, uint64_t jitter_key) const {
  int shift = std::clamp(attempt - 1, 0, 40);
  double base = static_cast<double>(options_.initial_delay.count());
  double delay = std::min(base * static_cast<double>(uint64_t{1} << std::min(shift, 40)),
                          static_cast<double>(options_.max_delay.count()));
  uint64_t h = SplitMix64(jitter_key ^ (static_cast<uint64_t>(attempt) << 48));
  double unit = static_cast<double>(h >> 11) / static_cast<double>(uint64_t{1} << 53);  // [0,1)
  delay *= 1.0 + options_.jitter * (2.0 * unit - 1.0);
  return Micros(static_cast<int64_t>(std::max(delay, 1.0)));
}

RetryDecision RetryPolicy::Decide(const RetryInput& in) const {
  RetryDecision d;
  d.failure = ClassifyReply(in.code, in.enhanced_code, in.text, in.step);
  if (d.failure == DeliveryFailure::kNone) {
    d.outcome = MessageState::kSent;
    return d;
  }
  // A session that could not be set up (a 554 greeting, a refused EHLO or STARTTLS, a 535 to
  // AUTH) says nothing about the message: it is retried like a temporary failure, so a relay's
  // wrong password or a passing block does not fail the whole queue at once.
  const bool session = in.step == SmtpStep::kGreeting || in.step == SmtpStep::kEhlo ||
                       in.step == SmtpStep::kStartTls || in.step == SmtpStep::kAuth;
  if (in.code >= 500 && in.code < 600 && !session) {
    // Only a reply about the recipient's address bounces (and suppresses) the contact.
    d.outcome =
        d.failure == DeliveryFailure::kRecipientAddress ? MessageState::kBounced : MessageState::kFailed;
    return d;
  }
  Timestamp deadline = in.queued_at + options_.max_age;
  if (in.now >= deadline) {
    d.outcome = MessageState::kFailed;
    return d;
  }
  d.outcome = MessageState::kDeferred;
  d.next_attempt_at = std::min(in.now + Backoff(in.attempt, in.jitter_key), deadline);
  return d;
}

}  // namespace rapport::delivery
