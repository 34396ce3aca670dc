#include "core/feedback.h"

namespace rapport {

std::string_view FeedbackKindName(FeedbackKind k) {
  switch (k) {
    case FeedbackKind::kHardBounce: return "hard_bounce";
    case FeedbackKind::kSoftBounce: return "soft_bounce";
    case FeedbackKind::kBlock: return "block";
    case FeedbackKind::kComplaint: return "complaint";
  }
  return "hard_bounce";
}

std::optional<FeedbackKind> ParseFeedbackKind(std::string_view s) {
  for (FeedbackKind k :
       {FeedbackKind::kHardBounce, FeedbackKind::kSoftBounce, FeedbackKind::kBlock, FeedbackKind::kComplaint})
    if (FeedbackKindName(k) == s) return k;
  return std::nullopt;
}

std::string_view FeedbackEventName(FeedbackKind k) {
  switch (k) {
    case FeedbackKind::kHardBounce: return "message.bounced";
    case FeedbackKind::kSoftBounce: return "message.soft_bounced";
    case FeedbackKind::kBlock: return "message.blocked";
    case FeedbackKind::kComplaint: return "message.complained";
  }
  return "message.bounced";
}

FeedbackKind FeedbackKindOf(DeliveryFailure failure) {
  switch (failure) {
    case DeliveryFailure::kRecipientAddress: return FeedbackKind::kHardBounce;
    case DeliveryFailure::kPolicyBlock:
    case DeliveryFailure::kSenderAuth:
    case DeliveryFailure::kContent:
    case DeliveryFailure::kThrottled:
    case DeliveryFailure::kMessageSize:
    case DeliveryFailure::kProtocol: return FeedbackKind::kBlock;
    case DeliveryFailure::kNone:
    case DeliveryFailure::kMailboxFull:
    case DeliveryFailure::kMailboxDisabled:
    case DeliveryFailure::kTransient:
    case DeliveryFailure::kConnection:
    case DeliveryFailure::kOther: return FeedbackKind::kSoftBounce;
  }
  return FeedbackKind::kSoftBounce;
}

Status ValidateBouncePolicy(const BouncePolicy& p) {
  if (p.soft_window < 1 || p.soft_window > 100)
    return Error::Invalid("soft_bounce_window", "the soft bounce window is 1 to 100 messages");
  if (p.soft_threshold < 1 || p.soft_threshold > p.soft_window)
    return Error::Invalid("soft_bounce_threshold", "the soft bounce threshold is 1 to the window's size");
  return {};
}

std::optional<ContactStatus> FeedbackContactStatus(ContactStatus current, FeedbackKind kind,
                                                   int soft_in_window, const BouncePolicy& policy) {
  if (current == ContactStatus::kErased || current == ContactStatus::kBounced) return std::nullopt;
  switch (kind) {
    case FeedbackKind::kHardBounce: return ContactStatus::kBounced;
    case FeedbackKind::kSoftBounce:
      if (soft_in_window >= policy.soft_threshold) return ContactStatus::kBounced;
      return std::nullopt;
    case FeedbackKind::kBlock: return std::nullopt;
    case FeedbackKind::kComplaint:
      if (current == ContactStatus::kComplained) return std::nullopt;
      return ContactStatus::kComplained;
  }
  return std::nullopt;
}

}  // namespace rapport
