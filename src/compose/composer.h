// The renderer stage: a stored template, compiled once, rendered for one contact into a complete
// MIME message ready for the outbox.
//
//   auto compiled = CompiledTemplate::Compile(stored);       // syntax errors name the part
//   auto msg = Compose(**compiled, sender, request);          // subject, html, text, mime
//
// Variables seen by the template: `contact` (its fields: id, email, external_id, status,
// timezone, locale, created_at; and every attribute by name, fields winning on a clash; also
// `contact.attributes`), `event` (the triggering event's properties, when there is one),
// `data` (the caller's extra data, also merged at top level), `message` (class, subject once
// rendered), and the link variables `unsubscribe_url`, `preferences_url`,
// `view_in_browser_url`, and `sender` (the sender identity: name, email, reply_to,
// postal_address). Dates render in the contact's timezone and locale.
// The HTML part renders with automatic escaping; subject, preheader and text do not.
// Lax mode at send time (a missing attribute renders empty); strict for previews on request.
//
// Failure: kInvalid with field "subject" / "preheader" / "html" / "text" and a message that
// starts with "line:column:" for template errors; kInvalid from the MIME writer for unusable
// header values (a subject that renders with CR/LF is refused, never sent). Thread-safe: a
// CompiledTemplate is immutable.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/message_template.h"
#include "core/model.h"
#include "core/outbox.h"
#include "mail/header.h"
#include "mail/mime_writer.h"
#include "template/template.h"

namespace rapport::compose {

class CompiledTemplate {
 public:
  static Result<std::shared_ptr<const CompiledTemplate>> Compile(const MessageTemplate& tpl);
  const MessageTemplate& source() const { return source_; }
  // Parts that are empty in the source are null.
  const liquid::Template* subject() const { return subject_.get(); }
  const liquid::Template* preheader() const { return preheader_.get(); }
  const liquid::Template* html() const { return html_.get(); }
  const liquid::Template* text() const { return text_.get(); }
  const liquid::SnippetProvider* snippets() const { return snippets_.get(); }

 private:
  MessageTemplate source_;
  std::shared_ptr<const liquid::Template> subject_, preheader_, html_, text_;
  std::unique_ptr<liquid::MapSnippetProvider> snippets_;
};

// Who sends: the From/Reply-To shown, the envelope sender for bounces, and the bulk headers.
struct Sender {
  mail::Mailbox from;
  std::optional<mail::Mailbox> reply_to;
  std::string bounce_address;      // envelope MAIL FROM; empty: the From address
  std::string list_id;             // e.g. "news.example.com"; marketing only
  std::string unsubscribe_mailto;  // "mailto:unsubscribe@example.com"; optional
};

// Open and click tracking of the HTML part (tracking/link_rewriter.h): every http(s) link becomes
// click_url(index) and the open pixel is added. Absent: links stay as written and no pixel.
struct LinkTracking {
  std::function<std::string(size_t index)> click_url;
  std::string pixel_url;
  std::vector<std::string> keep_prefixes;  // links left alone (rapport's own pages)
};

struct ComposeRequest {
  const Contact* contact = nullptr;  // required
  MessageClass message_class = MessageClass::kTransactional;
  boost::json::object data;                  // the caller's extra variables
  std::optional<boost::json::object> event;  // the triggering event's properties
  std::string unsubscribe_url;               // signed one-click URL (required for marketing)
  std::string preferences_url;
  std::string view_in_browser_url;
  std::string feedback_id;
  std::string default_timezone = "UTC";    // when the contact has none
  std::optional<mail::Mailbox> reply_to;   // replaces the sender's Reply-To
  std::vector<mail::HeaderField> headers;  // extra headers (validated by the MIME writer)
  Timestamp now{};
  bool strict = false;
  std::optional<LinkTracking> tracking;
  // The `sender` variables (send/send_service.h: id, name, email, reply_to, postal_address).
  boost::json::object sender;
  // Marketing mail: the sender's postal address (CAN-SPAM), added as a footer to each part that
  // does not show it already. Empty: nothing added.
  std::string postal_address;
};

struct ComposedMessage {
  std::string subject;
  std::string html;                // as sent (tracked links and pixel when tracking)
  std::string view_html;           // as rendered, links tracked, no pixel (the web view)
  std::vector<std::string> links;  // the original targets of the tracked links, by index
  std::string text;
  std::string mime;       // the whole message, CRLF, unsigned
  std::string mail_from;  // envelope sender
  std::string rcpt_to;    // envelope recipient
};

Result<ComposedMessage> Compose(const CompiledTemplate& tpl, const Sender& sender,
                                const ComposeRequest& request);

// Renders without building MIME (previews): subject, html and text only.
Result<ComposedMessage> RenderParts(const CompiledTemplate& tpl, const ComposeRequest& request);

// The template variables for a contact (see the header comment), as JSON.
boost::json::object ContactVariables(const Contact& contact);

}  // namespace rapport::compose
