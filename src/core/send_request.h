// The body of POST /api/v1/messages, decoded and checked for shape.
//
//   {"template": "order-shipped" | "template_id": 3,
//    "contact_id": 12 | "contact": {"email": "...", "external_id": "..."},
//    "class": "transactional" | "marketing",         (default transactional)
//    "data": {...},                                   (extra template variables)
//    "reply_to": "help@example.com" | {"email": "...", "name": "..."},
//    "headers": {"X-Order-Id": "A-1001", ...}}        (extra headers)
//
// Exactly one of template/template_id and one of contact_id/contact. A contact named by email is
// created when unknown (like events); one named by external_id alone must exist. Header names
// and values are checked later by the MIME writer's rules (the API maps them to 422
// "headers.<name>"); everything else is checked here. kInvalid naming the field otherwise.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/email_address.h"
#include "core/json_codec.h"
#include "core/message_template.h"
#include "core/outbox.h"

namespace rapport {

inline constexpr size_t kMaxSendHeaders = 20;
inline constexpr size_t kMaxSendDataBytes = 64 * 1024;

struct SendRequest {
  std::optional<TemplateId> template_id;
  std::string template_name;
  std::optional<ContactId> contact_id;
  ContactInput contact;  // email and/or external_id (normalized) when no contact_id
  MessageClass message_class = MessageClass::kTransactional;
  json::object data;
  std::optional<EmailAddress> reply_to;
  std::string reply_to_name;
  std::vector<std::pair<std::string, std::string>> headers;  // in request order
};

Result<SendRequest> DecodeSendRequest(const json::value& body);

}  // namespace rapport
