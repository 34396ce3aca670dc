#include "core/outbox.h"

#include <charconv>

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

std::optional<std::string_view> NodeIdProblem(std::string_view node_id) {
  if (node_id.empty() || node_id.size() > 64) return "a node id is 1 to 64 characters";
  for (char c : node_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return "a node id holds only letters, digits, '.', '_' and '-'";
  }
  return std::nullopt;
}

std::string LeaseOwner(std::string_view node_id, std::string_view nonce) {
  std::string owner(node_id);
  owner += '/';
  owner += nonce;
  return owner;
}

bool LeaseOwnerOfNode(std::string_view owner, std::string_view node_id) {
  // A node id holds no '/', so the owner's node is everything before its first '/'.
  size_t slash = owner.find('/');
  return slash != std::string_view::npos && owner.substr(0, slash) == node_id;
}

MessageState ReleasedState(int attempts) {
  return attempts == 0 ? MessageState::kQueued : MessageState::kDeferred;
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

void AddSourceProperties(std::string_view source, json::object& props) {
  auto number = [](std::string_view text) -> std::optional<int64_t> {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
    return v;
  };
  if (source.starts_with("campaign:")) {
    if (auto id = number(source.substr(9))) props["campaign_id"] = *id;
  } else if (source.starts_with("journey:")) {
    std::string_view rest = source.substr(8);
    size_t colon = rest.find(':');
    if (auto id = number(rest.substr(0, colon))) {
      props["journey_id"] = *id;
      if (colon != std::string_view::npos && colon + 1 < rest.size())
        props["journey_step"] = rest.substr(colon + 1);
    }
  }
}

}  // namespace rapport
