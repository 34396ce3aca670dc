#include "core/outbox.h"

namespace rapport {

std::string_view MessageStateName(MessageState s) {
  switch (s) {
    case MessageState::kQueued: return "queued";
    case MessageState::kSending: return "sending";
    case MessageState::kSent: return "sent";
    case MessageState::kDeferred: return "deferred";
    case MessageState::kBounced: return "bounced";
    case MessageState::kFailed: return "failed";
    case MessageState::kSuppressed: return "suppressed";
    case MessageState::kCancelled: return "cancelled";
  }
  return "queued";
}

std::optional<MessageState> ParseMessageState(std::string_view s) {
  for (auto st :
       {MessageState::kQueued, MessageState::kSending, MessageState::kSent, MessageState::kDeferred,
        MessageState::kBounced, MessageState::kFailed, MessageState::kSuppressed, MessageState::kCancelled})
    if (MessageStateName(st) == s) return st;
  return std::nullopt;
}

std::string_view MessageClassName(MessageClass c) {
  return c == MessageClass::kTransactional ? "transactional" : "marketing";
}

std::optional<MessageClass> ParseMessageClass(std::string_view s) {
  if (s == "transactional") return MessageClass::kTransactional;
  if (s == "marketing") return MessageClass::kMarketing;
  return std::nullopt;
}

std::string_view DeliveryFailureName(DeliveryFailure f) {
  switch (f) {
    case DeliveryFailure::kNone: return "none";
    case DeliveryFailure::kRecipientAddress: return "recipient_address";
    case DeliveryFailure::kMailboxFull: return "mailbox_full";
    case DeliveryFailure::kMailboxDisabled: return "mailbox_disabled";
    case DeliveryFailure::kPolicyBlock: return "policy_block";
    case DeliveryFailure::kContent: return "content";
    case DeliveryFailure::kMessageSize: return "message_size";
    case DeliveryFailure::kSenderAuth: return "sender_auth";
    case DeliveryFailure::kThrottled: return "throttled";
    case DeliveryFailure::kTransient: return "transient";
    case DeliveryFailure::kConnection: return "connection";
    case DeliveryFailure::kProtocol: return "protocol";
    case DeliveryFailure::kOther: return "other";
  }
  return "other";
}

std::optional<DeliveryFailure> ParseDeliveryFailure(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(DeliveryFailure::kOther); ++i) {
    auto f = static_cast<DeliveryFailure>(i);
    if (DeliveryFailureName(f) == s) return f;
  }
  return std::nullopt;
}

std::optional<std::string_view> SuppressionReason(ContactStatus status, MessageClass message_class) {
  switch (status) {
    case ContactStatus::kActive: return std::nullopt;
    case ContactStatus::kBounced: return "the contact's address bounced";
    case ContactStatus::kErased: return "the contact was erased";
    case ContactStatus::kUnsubscribed:
      if (message_class == MessageClass::kTransactional) return std::nullopt;
      return "the contact unsubscribed";
    case ContactStatus::kComplained:
      if (message_class == MessageClass::kTransactional) return std::nullopt;
      return "the contact reported mail as spam";
  }
  return "unknown contact status";
}

}  // namespace rapport
