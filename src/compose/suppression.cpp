#include "compose/suppression.h"

namespace rapport::compose {

std::optional<std::string_view> SuppressionReason(ContactStatus status, MessageClass message_class) {
  switch (status) {
    case ContactStatus::kActive:
      return std::nullopt;
    case ContactStatus::kBounced:
      return "the contact's address bounced";
    case ContactStatus::kErased:
      return "the contact was erased";
    case ContactStatus::kUnsubscribed:
      if (message_class == MessageClass::kTransactional) return std::nullopt;
      return "the contact unsubscribed";
    case ContactStatus::kComplained:
      if (message_class == MessageClass::kTransactional) return std::nullopt;
      return "the contact reported mail as spam";
  }
  return "unknown contact status";
}

}  // namespace rapport::compose
