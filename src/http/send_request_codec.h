// The body of POST /api/v1/messages, decoded into the send service's request and checked for
// shape:
//
//   {"template": "order-shipped" | "template_id": 3,
//    "contact_id": 12 | "contact": {"id" | "email" | "external_id": ...} | "email": "..." (flat, as events),
//    "class": "transactional" | "marketing",         (default transactional)
//    "topic": "newsletter",                           (marketing: the topic it is sent under)
//    "data": {...},                                   (extra template variables)
//    "reply_to": "help@example.com" | {"email": "...", "name": "..."},
//    "from": 3 | "news@example.com",                 (a sender identity: id or From address)
//    "headers": {"X-Order-Id": "A-1001", ...},        (extra headers)
//    "governance": {"source": "app:digest", "priority": 0, "on_cap": "defer" | "skip"}}
//                                                     (marketing: how the frequency governor treats it)
//
// Exactly one of template/template_id and one of contact_id/contact. Header names and values are
// checked by the send service (the MIME writer's rules); everything else is checked here.
// kInvalid naming the field otherwise. Pure; thread-safe.
#pragma once

#include "http/json_codec.h"
#include "send/send_request.h"

namespace rapport::http {

Result<send::SendRequest> DecodeSendRequest(const json::value& body);
// The same; a "from" given as an address is normalized into *from_email (the caller resolves it
// in the workspace: store().senders().GetByEmail); one given as an id goes to sender_id.
Result<send::SendRequest> DecodeSendRequest(const json::value& body, std::optional<std::string>* from_email);

}  // namespace rapport::http
