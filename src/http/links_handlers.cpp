// Routes behind signed links (no API key; the link's HMAC is the credential):
//   GET  /u/{token}  a page that asks to confirm unsubscribing (a GET never changes anything, so
//                    link scanners and prefetchers cannot unsubscribe anyone)
//   POST /u/{token}  unsubscribes: RFC 8058 one-click (mail clients POST
//                    "List-Unsubscribe=One-Click") and the page's button alike
// Unsubscribing applies the rule of tracking/unsubscribe.h: an active contact becomes unsubscribed
// (no more marketing mail; transactional mail still arrives), recorded as a
// "contact.status_changed" event (origin: the link and its method) in the same transaction; a
// bounced, complained or erased contact keeps its status. An audit entry follows. A forged or
// altered token gets 404. The pages are in the contact's language (tracking/preference_center.h
// holds the wording, English and French) and name the sender of the message the link came from
// (tracking::PageSenderName: the token names the message); the truncated client address and
// the user agent go with the withdrawal into the consent ledger (docs/consent.md).
#include <fmt/format.h>

#include "http/error_response.h"
#include "http/handlers.h"
#include "tracking/link_signer.h"
#include "tracking/machine_ranges.h"
#include "tracking/preference_center.h"
#include "tracking/unsubscribe.h"

namespace rapport::http {

namespace {

Response Html(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  r.body = std::move(body);
  return r;
}

// The sender's name for the footer of a page a verified token leads to: the sender of the message
// the token names, else the workspace's default sender, else the configured one.
Result<std::string> SenderName(Services& s, const tracking::LinkClaims& claims) {
  return tracking::PageSenderName(s.store, claims.workspace_id, claims.contact_id, claims.message_key,
                                  s.sender.options().sender.from);
}

// A forged token names no workspace: the configured sender.
Response NotValid(const Services& s) {
  const tracking::PageWords& w = tracking::WordsFor("");
  return Html(404,
              tracking::RenderMessagePage(w, tracking::ConfiguredSenderName(s.sender.options().sender.from),
                                          w.invalid_link, w.invalid_link_body));
}

Response Unsubscribed(std::string_view sender_name, const Contact& c) {
  const tracking::PageWords& w = tracking::WordsFor(c.locale);
  return Html(200, tracking::RenderMessagePage(w, sender_name, w.unsubscribed_title, w.unsubscribed_body));
}

}  // namespace

void AddLinkRoutes(Router& router, Services& s) {
  router.Add("GET", "/u/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    auto claims = s.links.Verify(call.params.at(0).second, tracking::LinkKind::kUnsubscribe);
    if (!claims.ok()) return NotValid(s);
    auto contact = s.store.contacts().Get(claims->workspace_id, claims->contact_id);
    if (!contact.ok()) {
      if (contact.error().code == ErrorCode::kNotFound) return NotValid(s);
      return contact.error();
    }
    RAPPORT_ASSIGN_OR_RETURN(std::string sender_name, SenderName(s, *claims));
    if (contact->status != ContactStatus::kActive) return Unsubscribed(sender_name, *contact);
    const tracking::PageWords& w = tracking::WordsFor(contact->locale);
    std::string masked = tracking::MaskedEmail(contact->email);
    return Html(200, tracking::RenderMessagePage(
                         w, sender_name, w.unsubscribe_title,
                         fmt::format(fmt::runtime(std::string(w.unsubscribe_question)), masked),
                         w.unsubscribe_button, {{"List-Unsubscribe", "One-Click"}}));
  });

  router.Add("POST", "/u/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    auto claims = s.links.Verify(call.params.at(0).second, tracking::LinkKind::kUnsubscribe);
    if (!claims.ok()) return NotValid(s);
    WorkspaceId ws = claims->workspace_id;
    bool one_click = call.request.body.find("List-Unsubscribe=One-Click") != std::string::npos;
    Consent who;
    who.ip = tracking::TruncateIp(ClientAddress(s.options.trust_forwarded_for, call.request),
                                  s.options.tracking.ipv4_prefix, s.options.tracking.ipv6_prefix);
    if (const std::string* ua = call.request.Header("user-agent"))
      for (unsigned char c : ua->substr(0, 512))
        who.user_agent.push_back(c < 0x20 || c == 0x7F ? ' ' : char(c));
    // The message whose link this is (links signed since the key was added to them): the
    // unsubscribe is credited to it in the reports. A message no longer known credits none.
    int64_t message_id = 0;
    if (claims->message_key != 0) {
      auto found = s.store.tracking().FindByKey(ws, claims->message_key);
      if (found.ok() && found->contact_id == claims->contact_id) message_id = found->message_id;
    }
    auto out = tracking::Unsubscribe(
        s.store.contacts(), ws, claims->contact_id,
        one_click ? tracking::UnsubscribeMethod::kOneClick : tracking::UnsubscribeMethod::kPage, &who,
        message_id);
    if (!out.ok()) {
      if (out.error().code == ErrorCode::kNotFound) return NotValid(s);
      return out.error();
    }
    if (out->changed) {
      CallContext as_link{call.request, call.params, ApiKey{}};
      as_link.key.workspace_id = ws;
      Audit(s, as_link, "contact.unsubscribe", "contact", std::to_string(out->contact.id),
            json::object{{"method", one_click ? "one-click" : "page"}});
    }
    // The withdrawal is done: a failed look-up of the sender's name must not answer it with an error.
    auto sender_name = SenderName(s, *claims);
    return Unsubscribed(
        sender_name.ok() ? *sender_name : tracking::ConfiguredSenderName(s.sender.options().sender.from),
        out->contact);
  });
}

}  // namespace rapport::http
