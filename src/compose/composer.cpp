#include "compose/composer.h"

#include "template/html_escape.h"

#include <boost/json.hpp>

#include "compose/html_to_text.h"
#include "core/email_address.h"
#include "mail/mime_writer.h"
#include "tracking/link_rewriter.h"

namespace rapport::compose {
namespace {

Result<std::shared_ptr<const liquid::Template>> CompilePart(const std::string& source,
                                                            std::string_view part) {
  if (source.empty()) return std::shared_ptr<const liquid::Template>();
  if (source.size() > kMaxTemplatePartBytes)
    return Error::Invalid(std::string(part), std::string(part) + " is over 512 KiB");
  auto parsed = liquid::Template::Parse(source);
  if (!parsed.ok()) {
    const Error& e = parsed.error();
    std::string where = e.field.empty() ? "" : e.field + ": ";
    return Error::Invalid(std::string(part), where + e.message);
  }
  return std::move(parsed).value();
}

Status RenderPart(const liquid::Template* tpl, std::string_view part, const boost::json::value& vars,
                  liquid::RenderOptions options, std::string& out) {
  if (tpl == nullptr) return {};
  Status s = tpl->Render(vars, options, out);
  if (!s.ok()) {
    Error e = s.error();
    std::string where = e.field.empty() ? "" : e.field + ": ";
    return Error{e.code == ErrorCode::kLimitExceeded ? ErrorCode::kLimitExceeded : ErrorCode::kInvalid,
                 where + e.message, std::string(part)};
  }
  return {};
}

// Inserts the preheader as hidden preview text right after <body ...>, or first.
std::string InjectPreheader(const std::string& html, const std::string& preheader) {
  if (preheader.empty() || html.empty()) return html;
  std::string hidden =
      "<div style=\"display:none;max-height:0;overflow:hidden;mso-hide:all\">" + preheader + "</div>";
  size_t body = std::string::npos;
  for (size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    if (html.size() - i >= 5 && (html.compare(i, 5, "<body") == 0 || html.compare(i, 5, "<BODY") == 0)) {
      body = html.find('>', i);
      break;
    }
  }
  if (body == std::string::npos) return hidden + html;
  return html.substr(0, body + 1) + hidden + html.substr(body + 1);
}

// CAN-SPAM's postal address in a marketing message: added at the end of each part (before the
// HTML's </body>) that does not already show it (a template that writes {{ sender.postal_address }}
// in its own footer keeps its layout).
void AddPostalFooter(ComposedMessage& out, const std::string& postal) {
  if (!out.text.empty() && out.text.find(postal) == std::string::npos) {
    if (!out.text.ends_with('\n')) out.text += '\n';
    out.text += "\n" + postal + "\n";
  }
  if (out.html.empty()) return;
  std::string escaped = liquid::EscapeHtml(postal);
  if (out.html.find(escaped) != std::string::npos || out.html.find(postal) != std::string::npos) return;
  std::string footer = "<p style=\"font-size:12px;color:#666666\">" + escaped + "</p>";
  size_t body = std::string::npos;
  for (size_t at = out.html.find("</"); at != std::string::npos; at = out.html.find("</", at + 2)) {
    std::string_view tag = std::string_view(out.html).substr(at + 2, 4);
    if (tag.size() == 4 && (tag[0] | 0x20) == 'b' && (tag[1] | 0x20) == 'o' && (tag[2] | 0x20) == 'd' &&
        (tag[3] | 0x20) == 'y')
      body = at;
  }
  if (body == std::string::npos)
    out.html += footer;
  else
    out.html.insert(body, footer);
}

}  // namespace

Result<std::shared_ptr<const CompiledTemplate>> CompiledTemplate::Compile(const MessageTemplate& tpl) {
  if (tpl.subject.empty()) return Error::Invalid("subject", "a template needs a subject");
  if (tpl.html.empty() && tpl.text.empty())
    return Error::Invalid("html", "a template needs an HTML part or a text part");
  if (tpl.snippets.size() > kMaxSnippets) return Error::Invalid("snippets", "at most 100 snippets");
  auto compiled = std::make_shared<CompiledTemplate>();
  compiled->source_ = tpl;
  RAPPORT_ASSIGN_OR_RETURN(compiled->subject_, CompilePart(tpl.subject, "subject"));
  RAPPORT_ASSIGN_OR_RETURN(compiled->preheader_, CompilePart(tpl.preheader, "preheader"));
  RAPPORT_ASSIGN_OR_RETURN(compiled->html_, CompilePart(tpl.html, "html"));
  RAPPORT_ASSIGN_OR_RETURN(compiled->text_, CompilePart(tpl.text, "text"));
  for (const auto& [name, source] : tpl.snippets) {
    auto parsed = CompilePart(source, "snippets." + name);
    if (!parsed.ok()) return std::move(parsed).error();
  }
  compiled->snippets_ = std::make_unique<liquid::MapSnippetProvider>(
      std::map<std::string, std::string, std::less<>>(tpl.snippets.begin(), tpl.snippets.end()));
  return std::shared_ptr<const CompiledTemplate>(std::move(compiled));
}

boost::json::object ContactVariables(const Contact& contact) {
  boost::json::object vars;
  vars.reserve(contact.attributes.size() + 10);
  for (const auto& [k, v] : contact.attributes) vars[k] = v;
  vars["attributes"] = contact.attributes;
  vars["id"] = contact.id;
  vars["email"] = contact.email;
  if (contact.external_id)
    vars["external_id"] = *contact.external_id;
  else
    vars["external_id"] = nullptr;
  vars["status"] = ContactStatusName(contact.status);
  vars["timezone"] = contact.timezone;
  vars["locale"] = contact.locale;
  vars["created_at"] = FormatTimestamp(contact.created_at);
  return vars;
}

Result<ComposedMessage> RenderParts(const CompiledTemplate& tpl, const ComposeRequest& request) {
  if (request.contact == nullptr) return Error::Internal("compose: no contact");
  const Contact& contact = *request.contact;
  boost::json::object vars;
  for (const auto& [k, v] : request.data) vars[k] = v;
  vars["data"] = request.data;
  vars["contact"] = ContactVariables(contact);
  if (request.event) vars["event"] = *request.event;
  vars["unsubscribe_url"] = request.unsubscribe_url;
  vars["preferences_url"] = request.preferences_url;
  vars["view_in_browser_url"] = request.view_in_browser_url;
  vars["sender"] = request.sender;
  boost::json::object message{{"class", MessageClassName(request.message_class)}};
  vars["message"] = message;

  liquid::RenderOptions options;
  options.strict = request.strict;
  options.timezone = contact.timezone.empty() ? request.default_timezone : contact.timezone;
  if (!contact.locale.empty()) options.locale = contact.locale.substr(0, 2);
  options.now = request.now;
  options.snippets = tpl.snippets();

  ComposedMessage out;
  boost::json::value root(std::move(vars));
  RAPPORT_TRY(RenderPart(tpl.subject(), "subject", root, options, out.subject));
  // The rendered subject is visible to the body as message.subject.
  root.as_object()["message"].as_object()["subject"] = out.subject;
  std::string preheader;
  RAPPORT_TRY(RenderPart(tpl.preheader(), "preheader", root, options, preheader));
  liquid::RenderOptions html_options = options;
  html_options.html_escape = true;
  std::string html;
  RAPPORT_TRY(RenderPart(tpl.html(), "html", root, html_options, html));
  out.html = InjectPreheader(html, liquid::EscapeHtml(preheader));
  RAPPORT_TRY(RenderPart(tpl.text(), "text", root, options, out.text));
  if (tpl.text() == nullptr && !html.empty()) out.text = HtmlToText(html);
  return out;
}

Result<ComposedMessage> Compose(const CompiledTemplate& tpl, const Sender& sender,
                                const ComposeRequest& request) {
  RAPPORT_ASSIGN_OR_RETURN(ComposedMessage out, RenderParts(tpl, request));
  const Contact& contact = *request.contact;
  if (request.message_class == MessageClass::kMarketing && !request.postal_address.empty())
    AddPostalFooter(out, request.postal_address);
  // The text part was derived from the HTML as written; tracking rewrites the HTML part only.
  if (request.tracking && !out.html.empty()) {
    tracking::RewriteOptions ro;
    ro.click_url = request.tracking->click_url;
    ro.keep_prefixes = request.tracking->keep_prefixes;
    tracking::RewrittenHtml rewritten = tracking::RewriteLinks(out.html, ro);
    out.links = std::move(rewritten.links);
    out.view_html = std::move(rewritten.html);
    out.html = request.tracking->pixel_url.empty()
                   ? out.view_html
                   : tracking::AddOpenPixel(out.view_html, request.tracking->pixel_url);
  } else {
    out.view_html = out.html;
  }
  RAPPORT_ASSIGN_OR_RETURN(EmailAddress to, ParseEmailAddress(contact.email, "email"));

  mail::MimeMessage m;
  m.from = sender.from;
  m.reply_to = request.reply_to ? request.reply_to : sender.reply_to;
  m.extra_headers = request.headers;
  m.to.push_back(mail::Mailbox{"", to});
  m.subject = out.subject;
  m.text = out.text;
  m.html = out.html;
  m.message_class = request.message_class;
  m.date = request.now;
  if (request.message_class == MessageClass::kMarketing) {
    m.list_unsubscribe_url = request.unsubscribe_url;
    m.list_unsubscribe_mailto = sender.unsubscribe_mailto;
    m.list_id = sender.list_id;
    m.feedback_id = request.feedback_id;
  }
  RAPPORT_ASSIGN_OR_RETURN(out.mime, mail::BuildMime(m));
  out.mail_from = sender.bounce_address.empty() ? sender.from.address.ToString() : sender.bounce_address;
  out.rcpt_to = to.ToString();
  return out;
}

}  // namespace rapport::compose
