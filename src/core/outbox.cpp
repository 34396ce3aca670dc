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
