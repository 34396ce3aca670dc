// The MIME writer: one complete RFC 5322 / MIME message from a MimeMessage.
//
// Output: CRLF line ends everywhere, no line over 998 octets (headers fold at 78 where a
// space allows, bodies at 76 or 78), UTF-8 text. With both a text and an HTML body the message
// is multipart/alternative (text first, then HTML); with one it is a single part. Each body
// gets the transfer encoding that suits it (see body_encoding.h); bodies are normalized to CRLF
// and end with CRLF. The boundary "=_rp<random>" cannot occur inside any encoded body.
//
// Headers, in order: Date, From, Reply-To, To, Message-ID, Subject, MIME-Version, then for
// marketing mail List-Unsubscribe ("<https://...>, <mailto:...>"), List-Unsubscribe-Post
// ("List-Unsubscribe=One-Click", RFC 8058), List-Id and Feedback-ID, then the extra headers,
// then Content-Type and Content-Transfer-Encoding. Transactional mail never carries the four
// bulk headers, even when the fields are set.
//
// Failure: kInvalid naming the field for any invalid value (a header value with CR, LF or other
// control characters, invalid UTF-8, a bad address, a marketing message without an https (or
// loopback http) unsubscribe URL, an extra header that would replace one the writer owns, no body at all).
// On failure nothing usable is produced. Pure (reads a per-thread RNG for the boundary and a
// missing Message-ID); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/outbox.h"
#include "mail/header.h"

namespace rapport::mail {

struct HeaderField {
  std::string name;
  std::string value;  // UTF-8 text; encoded as RFC 2047 words when needed
};

struct MimeMessage {
  Mailbox from;
  std::optional<Mailbox> reply_to;
  std::vector<Mailbox> to;  // at least one
  std::string subject;
  std::string text;  // text/plain body; empty: none
  std::string html;  // text/html body (any preheader already injected); empty: none
  std::vector<HeaderField> extra_headers;
  MessageClass message_class = MessageClass::kTransactional;
  Timestamp date{};
  std::string message_id;  // "<id@domain>"; generated from the From domain when empty

  // Bulk headers: written for marketing mail only.
  std::string list_unsubscribe_url;     // https:// one-click endpoint; required for marketing
  std::string list_unsubscribe_mailto;  // "mailto:..."; optional
  std::string list_id;                  // "newsletter.example.com"; optional
  std::string list_name;                // its description, UTF-8; optional
  std::string feedback_id;              // "campaign:list:type:sender"; optional
};

// Appends the whole message to `out` (headers, blank line, body). On error `out` is restored
// to its size on entry.
Status WriteMime(const MimeMessage& message, std::string& out);

// The whole message as a new string (reserves its likely size first).
Result<std::string> BuildMime(const MimeMessage& message);

// Header names the writer owns; an extra header with one of these names is rejected.
bool IsReservedHeaderName(std::string_view name);

// Whether a one-click unsubscribe URL (and so the base of marketing mail's links) is acceptable:
// https:// (RFC 8058), or http:// on a loopback host (localhost, 127.0.0.0/8, [::1]), which only
// this machine can follow: the development and demo setting (`make run`).
bool OneClickUrlAllowed(std::string_view url);

}  // namespace rapport::mail
