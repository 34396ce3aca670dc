// Routes behind signed links (no API key; the link's HMAC is the credential):
//   GET  /u/{token}  a page that asks to confirm unsubscribing (a GET never changes anything, so
//                    link scanners and prefetchers cannot unsubscribe anyone)
//   POST /u/{token}  unsubscribes: RFC 8058 one-click (mail clients POST
//                    "List-Unsubscribe=One-Click") and the page's button alike
// Unsubscribing applies the rule of tracking/unsubscribe.h: an active contact becomes unsubscribed
// (no more marketing mail; transactional mail still arrives), recorded as a
// "contact.status_changed" event (origin: the link and its method) in the same transaction; a
// bounced, complained or erased contact keeps its status. An audit entry follows. A forged or
// altered token gets 404.
#include <fmt/format.h>

#include "http/error_response.h"
#include "http/handlers.h"
#include "template/html_escape.h"
#include "tracking/link_signer.h"
#include "tracking/unsubscribe.h"

namespace rapport::http {

namespace {

Response Page(int status, std::string_view title, std::string_view body_html) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  r.body = fmt::format(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>"
      "<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 "
      "1rem;color:#222}}"
      "button{{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.375rem;background:#222;color:#fff;"
      "cursor:pointer}}</style></head><body><h1>{}</h1>{}</body></html>",
      liquid::EscapeHtml(title), liquid::EscapeHtml(title), body_html);
  return r;
}

Response NotValid() {
  return Page(404, "This link is not valid",
              "<p>The link may be incomplete. Copy the whole link from the email and try again.</p>");
}

// Masks the local part: "ada@example.com" -> "a***@example.com" (the page may be seen by others).
std::string Masked(std::string_view email) {
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0) return "your address";
  return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

}  // namespace

void AddLinkRoutes(Router& router, Services& s) {
  router.Add("GET", "/u/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    auto claims = s.links.Verify(call.params.at(0).second, tracking::LinkKind::kUnsubscribe);
    if (!claims.ok()) return NotValid();
    auto contact = s.store.contacts().Get(claims->workspace_id, claims->contact_id);
    if (!contact.ok()) {
      if (contact.error().code == ErrorCode::kNotFound) return NotValid();
      return contact.error();
    }
    if (contact->status != ContactStatus::kActive)
      return Page(200, "You are unsubscribed", "<p>You will not receive marketing email from us.</p>");
    return Page(200, "Unsubscribe",
                fmt::format("<p>Stop marketing email to <strong>{}</strong>? Order and account email "
                            "will still arrive.</p><form method=\"post\"><input type=\"hidden\" "
                            "name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">"
                            "Unsubscribe</button></form>",
                            liquid::EscapeHtml(Masked(contact->email))));
  });

  router.Add("POST", "/u/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    auto claims = s.links.Verify(call.params.at(0).second, tracking::LinkKind::kUnsubscribe);
    if (!claims.ok()) return NotValid();
    WorkspaceId ws = claims->workspace_id;
    bool one_click = call.request.body.find("List-Unsubscribe=One-Click") != std::string::npos;
    auto out = tracking::Unsubscribe(
        s.store.contacts(), ws, claims->contact_id,
        one_click ? tracking::UnsubscribeMethod::kOneClick : tracking::UnsubscribeMethod::kPage);
    if (!out.ok()) {
      if (out.error().code == ErrorCode::kNotFound) return NotValid();
      return out.error();
    }
    if (out->changed) {
      CallContext as_link{call.request, call.params, ApiKey{}};
      as_link.key.workspace_id = ws;
      Audit(s, as_link, "contact.unsubscribe", "contact", std::to_string(out->contact.id),
            json::object{{"method", one_click ? "one-click" : "page"}});
    }
    return Page(200, "You are unsubscribed", "<p>You will not receive marketing email from us.</p>");
  });
}

}  // namespace rapport::http
