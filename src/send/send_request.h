// What one send asks for: a template, a contact, the class of mail and the caller's extras.
// Built by the API (http/send_request_codec.h decodes POST /api/v1/messages into it), by
// journeys and by campaigns; checked by the send service. A plain value.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/email_address.h"
#include "core/message_template.h"
#include "core/model.h"
#include "core/outbox.h"

namespace rapport::send {

inline constexpr size_t kMaxSendHeaders = 20;
inline constexpr size_t kMaxSendDataBytes = 64 * 1024;
inline constexpr size_t kMaxIdempotencyKeyBytes = 255;

// How the frequency governor (campaign/governor.h, docs/governor.md) treats a marketing send:
// who sends it, its priority (a higher one may take the place of a lower queued message when a
// cap is full) and what it does when a cap stops it (deferred to the next allowed moment, or
// skipped). Transactional mail ignores it: it is never governed.
struct Governance {
  std::string source;  // "campaign:7", "journey:3:welcome"; empty: "api"
  int priority = 0;
  enum class OnCap { kDefer, kSkip } on_cap = OnCap::kDefer;
};

struct SendRequest {
  // Exactly one of template_id and template_name.
  std::optional<TemplateId> template_id;
  std::string template_name;
  // Exactly one of contact_id and contact (email and/or external_id, normalized). A contact named
  // by email is created when unknown (like events); one named by external_id alone must exist.
  std::optional<ContactId> contact_id;
  ContactInput contact;
  MessageClass message_class = MessageClass::kTransactional;
  // The topic (key) marketing mail is sent under: the contact must be subscribed to it.
  std::optional<std::string> topic;
  boost::json::object data;  // extra template variables ("data.*")
  std::optional<EmailAddress> reply_to;
  std::string reply_to_name;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  // A retried send with the same key queues nothing and returns the first message.
  std::optional<std::string> idempotency_key;
  // The sender identity (core/sender.h) it is from; absent: the workspace's default sender, else
  // the configured sender (SendOptions). An unknown id is kInvalid naming "from".
  std::optional<int64_t> sender_id;
  Governance governance;  // marketing mail only
};

}  // namespace rapport::send
