#include "delivery/retry_policy.h"

#include <algorithm>

namespace rapport::delivery {
namespace {

// Subject and detail of "c.s.d"; false when malformed.
bool SplitCode(std::string_view e, int& subject, int& detail) {
  auto dot1 = e.find('.');
  if (dot1 == std::string_view::npos) return false;
  auto dot2 = e.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return false;
  subject = 0;
  detail = 0;
  for (char c : e.substr(dot1 + 1, dot2 - dot1 - 1)) {
    if (c < '0' || c > '9') return false;
    subject = subject * 10 + (c - '0');
  }
  for (char c : e.substr(dot2 + 1)) {
    if (c < '0' || c > '9') return false;
    detail = detail * 10 + (c - '0');
  }
  return true;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::string_view FailureCategoryName(FailureCategory c) {
  switch (c) {
    case FailureCategory::kNone: return "none";
    case FailureCategory::kConnection: return "connection";
    case FailureCategory::kTemporary: return "temporary";
    case FailureCategory::kThrottled: return "throttled";
    case FailureCategory::kGreylisted: return "greylisted";
    case FailureCategory::kMailboxFull: return "mailbox_full";
    case FailureCategory::kBadMailbox: return "bad_mailbox";
    case FailureCategory::kBadDomain: return "bad_domain";
    case FailureCategory::kPolicy: return "policy";
    case FailureCategory::kMessageTooLarge: return "message_too_large";
    case FailureCategory::kProtocol: return "protocol";
    case FailureCategory::kOther: return "other";
  }
  return "other";
}

FailureCategory Classify(int code, std::string_view enhanced) {
  if (code >= 200 && code < 300) return FailureCategory::kNone;
  if (code < 400 || code >= 600) return FailureCategory::kConnection;  // 0, or nonsense
  int subject = -1, detail = -1;
  bool has = !enhanced.empty() && SplitCode(enhanced, subject, detail);
  if (code < 500) {
    if (has && subject == 2 && detail == 2) return FailureCategory::kMailboxFull;
    if (code == 421 || (has && subject == 7 && detail == 28) || (has && subject == 3 && detail == 2) ||
        (has && subject == 4 && detail == 5)) {
      return FailureCategory::kThrottled;
    }
    if (has && subject == 7) return FailureCategory::kGreylisted;
    return FailureCategory::kTemporary;
  }
  if (!has) return code == 552 ? FailureCategory::kMessageTooLarge : FailureCategory::kBadMailbox;
  switch (subject) {
    case 1:
      if (detail == 2 || detail == 10) return FailureCategory::kBadDomain;
      return FailureCategory::kBadMailbox;
    case 2:
      if (detail == 2) return FailureCategory::kMailboxFull;
      if (detail == 3) return FailureCategory::kMessageTooLarge;
      if (detail == 1) return FailureCategory::kBadMailbox;
      return FailureCategory::kOther;
    case 3:
      if (detail == 4) return FailureCategory::kMessageTooLarge;
      return FailureCategory::kOther;
    case 4:
      if (detail == 4) return FailureCategory::kBadDomain;
      return FailureCategory::kOther;
    case 5: return FailureCategory::kProtocol;
    case 7: return FailureCategory::kPolicy;
    default: return FailureCategory::kOther;
  }
}

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
  d.category = Classify(in.code, in.enhanced_code);
  if (d.category == FailureCategory::kNone) {
    d.outcome = MessageState::kSent;
    return d;
  }
  if (in.code >= 500 && in.code < 600) {
    d.outcome = MessageState::kBounced;
    d.hard_bounce = d.category == FailureCategory::kBadMailbox || d.category == FailureCategory::kBadDomain;
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
