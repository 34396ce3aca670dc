// Who may be mailed: the suppression rule checked when a message is queued and again at send.
//
// Marketing mail never goes to unsubscribed, bounced, complained or erased contacts.
// Transactional mail (an order confirmation, a password reset) still reaches unsubscribed and
// complained contacts, but never a bounced address or an erased person. Pure.
#pragma once

#include <optional>
#include <string_view>

#include "core/model.h"
#include "core/outbox.h"

namespace rapport::compose {

// The reason the contact must not get this class of mail, or nullopt when it may.
std::optional<std::string_view> SuppressionReason(ContactStatus status, MessageClass message_class);

}  // namespace rapport::compose
