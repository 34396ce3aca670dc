// The consent routes (docs/consent.md):
//   GET  /p/{token}        the preference center: topics, frequency and pause, name, language, time zone
//   POST /p/{token}        saves the form (the signed token is the capability; a GET changes nothing)
//   GET  /confirm/{token}  a double opt-in confirmation page with one button (link scanners GET)
//   POST /confirm/{token}  confirms: the topics become subscribed, recorded as "confirmed"
//   POST /api/v1/subscribe the public sign-up endpoint (no key; JSON or form-encoded; rate-limited
//                          per client address; a honeypot field "website" drops bots silently)
//   GET  /api/v1/contacts/{id}/consents  the contact's consent ledger and preferences
// Pages are in the contact's language (English or French), name the sender and load nothing
// from elsewhere: the preference center the sender of the message its link came from (the token
// names the message), the confirmation pages the workspace's default sender
// (tracking::PageSenderName), the sign-up answer and a forged link's page the configured one.
// Every consent recorded from a public page carries the client address truncated as the
// tracking endpoints truncate it, and the user agent.
#include <fmt/format.h>

#include "core/form_body.h"
#include "http/error_response.h"
#include "http/handlers.h"
#include "send/signup.h"
#include "tracking/machine_ranges.h"
#include "tracking/preference_center.h"

namespace rapport::http {

namespace {

Response Html(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Robots-Tag", "noindex, nofollow");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.body = std::move(body);
  return r;
}

// The configured [sender]'s name: for the pages that know no workspace or message.
std::string SenderName(const Services& s) {
  return tracking::ConfiguredSenderName(s.sender.options().sender.from);
}

// The name on the pages of contact `c`'s link: the sender of message `message_key` (0: none),
// else the workspace's default sender, else the configured one.
Result<std::string> PageSender(Services& s, WorkspaceId ws, ContactId c, int64_t message_key) {
  return tracking::PageSenderName(s.store, ws, c, message_key, s.sender.options().sender.from);
}

Response NotValid(const Services& s, std::string_view locale = {}) {
  const tracking::PageWords& w = tracking::WordsFor(locale);
  return Html(404, tracking::RenderMessagePage(w, SenderName(s), w.invalid_link, w.invalid_link_body));
}

std::string Agent(const Request& req) {
  const std::string* ua = req.Header("user-agent");
  if (!ua) return {};
  std::string out;
  for (unsigned char c : ua->substr(0, 512)) out.push_back(c < 0x20 || c == 0x7F ? ' ' : char(c));
  return out;
}

// The consent of a public request: now, the truncated client address, the user agent.
Consent PublicConsent(const Services& s, const Request& req, std::string source, std::string_view version) {
  Consent c;
  c.source = std::move(source);
  c.at = s.clock.Now();
  c.ip = tracking::TruncateIp(ClientAddress(s.options.trust_forwarded_for, req),
                              s.options.tracking.ipv4_prefix, s.options.tracking.ipv6_prefix);
  c.user_agent = Agent(req);
  c.text_version = std::string(version);
  return c;
}

std::string AttributeText(const Contact& c, std::string_view key) {
  auto it = c.attributes.find(key);
  return it != c.attributes.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                             : std::string();
}

// The page for a contact, as it is now, reached from message `message_key` (0: none).
Result<Response> PreferencePage(Services& s, WorkspaceId ws, const Contact& c, int64_t message_key,
                                bool saved, int status = 200, const Error* error = nullptr,
                                const tracking::PreferenceChoice* typed = nullptr) {
  tracking::PreferencePage page;
  RAPPORT_ASSIGN_OR_RETURN(page.sender_name, PageSender(s, ws, c.id, message_key));
  page.masked_email = tracking::MaskedEmail(c.email);
  page.first_name = AttributeText(c, "first_name");
  page.last_name = AttributeText(c, "last_name");
  page.locale = c.locale;
  page.timezone = c.timezone;
  page.now = s.clock.Now();
  page.saved = saved;
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Topic> topics, s.store.topics().List(ws));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Subscription> subs, s.store.topics().ListSubscriptions(ws, c.id));
  for (const Topic& t : topics) {
    tracking::TopicChoice choice{t.key, t.name, t.description, false};
    for (const Subscription& sub : subs)
      if (sub.topic_key == t.key) choice.subscribed = sub.status == SubscriptionStatus::kSubscribed;
    page.topics.push_back(std::move(choice));
  }
  RAPPORT_ASSIGN_OR_RETURN(page.preferences, s.store.consents().Preferences(ws, c.id));
  if (error) {
    page.error = error->message;
    page.error_field = error->field;
  }
  if (typed) {  // show what was typed, not what is stored, beside the error
    page.first_name = typed->first_name;
    page.last_name = typed->last_name;
    page.timezone = typed->timezone;
  }
  return Html(status, tracking::RenderPreferencePage(page, tracking::WordsFor(c.locale)));
}

// The contact behind a preference token and the message the token names (0: none, as in the
// links of messages queued before preference tokens named theirs).
struct PreferenceTarget {
  WorkspaceId ws = 0;
  Contact contact;
  int64_t message_key = 0;
};

// The target of a preference token; nullopt for a forged token or a contact gone or erased.
Result<std::optional<PreferenceTarget>> PreferenceContact(Services& s, const CallContext& call) {
  using Found = std::optional<PreferenceTarget>;
  auto claims = s.links.Verify(call.params.at(0).second, tracking::LinkKind::kPreferences);
  if (!claims.ok()) return Found();
  auto contact = s.store.contacts().Get(claims->workspace_id, claims->contact_id);
  if (!contact.ok()) {
    if (contact.error().code == ErrorCode::kNotFound) return Found();
    return contact.error();
  }
  if (contact->status == ContactStatus::kErased) return Found();
  return Found(PreferenceTarget{claims->workspace_id, std::move(contact).value(), claims->message_key});
}

bool IsForm(const Request& req) {
  const std::string* ct = req.Header("content-type");
  return ct && ct->find("application/x-www-form-urlencoded") != std::string::npos;
}

std::vector<std::string> SplitTopics(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view t = list.substr(0, comma);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (!t.empty()) out.emplace_back(t);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return out;
}

bool Truthy(std::string_view v) { return v == "true" || v == "on" || v == "1" || v == "yes"; }

struct SignupForm {
  send::SignupRequest request;
  std::string workspace = "default";
  bool honeypot = false;
};

Result<std::string> JsonString(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string())
    return Error::Invalid(std::string(key), std::string(key) + " must be a string");
  return std::string(it->value().get_string());
}

Result<SignupForm> ReadSignup(const Request& req) {
  SignupForm f;
  if (IsForm(req)) {
    RAPPORT_ASSIGN_OR_RETURN(FormFields form, ParseFormBody(req.body));
    f.request.email = std::string(form.Get("email"));
    for (std::string_view t : form.All("topic")) f.request.topics.emplace_back(t);
    for (std::string_view list : form.All("topics"))
      for (std::string& t : SplitTopics(list)) f.request.topics.push_back(std::move(t));
    f.request.first_name = std::string(form.Get("first_name"));
    f.request.locale = std::string(form.Get("locale"));
    f.request.reconsent = Truthy(form.Get("reconsent"));
    f.request.consent.text_version = std::string(form.Get("consent_text_version"));
    if (form.Has("workspace")) f.workspace = std::string(form.Get("workspace"));
    f.honeypot = !form.Get("website").empty();
  } else {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(req));
    if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
    const json::object& o = body.get_object();
    RAPPORT_ASSIGN_OR_RETURN(f.request.email, JsonString(o, "email"));
    if (auto it = o.find("topics"); it != o.end()) {
      if (it->value().is_string()) {
        f.request.topics = SplitTopics(it->value().get_string());
      } else if (it->value().is_array()) {
        for (const json::value& t : it->value().get_array()) {
          if (!t.is_string()) return Error::Invalid("topics", "topics is a list of topic keys");
          f.request.topics.emplace_back(t.get_string());
        }
      } else {
        return Error::Invalid("topics", "topics is a list of topic keys");
      }
    }
    RAPPORT_ASSIGN_OR_RETURN(f.request.first_name, JsonString(o, "first_name"));
    RAPPORT_ASSIGN_OR_RETURN(f.request.locale, JsonString(o, "locale"));
    RAPPORT_ASSIGN_OR_RETURN(f.request.consent.text_version, JsonString(o, "consent_text_version"));
    if (auto it = o.find("reconsent"); it != o.end()) {
      if (!it->value().is_bool()) return Error::Invalid("reconsent", "reconsent is true or false");
      f.request.reconsent = it->value().get_bool();
    }
    RAPPORT_ASSIGN_OR_RETURN(std::string ws, JsonString(o, "workspace"));
    if (!ws.empty()) f.workspace = ws;
    RAPPORT_ASSIGN_OR_RETURN(std::string trap, JsonString(o, "website"));
    f.honeypot = !trap.empty();
  }
  if (f.request.email.empty()) return Error::Invalid("email", "an email address is required");
  if (f.request.first_name.size() > 100) return Error::Invalid("first_name", "at most 100 characters");
  if (!f.request.locale.empty() && f.request.locale != "en" && f.request.locale != "fr")
    f.request.locale.clear();  // a language we have no pages in: leave the contact's as it is
  if (f.request.consent.text_version.size() > 64)
    return Error::Invalid("consent_text_version", "at most 64 characters");
  return f;
}

// One answer for every accepted sign-up, whether it subscribed, asked for a confirmation, was a
// bot's or an erased address's: the caller learns nothing about the address.
Response Accepted(const Services& s, const Request& req, std::string_view locale) {
  if (IsForm(req)) {
    const tracking::PageWords& w = tracking::WordsFor(locale);
    return Html(200, tracking::RenderMessagePage(w, SenderName(s), w.signup_title, w.signup_body));
  }
  return JsonResponse(202, json::object{{"status", "accepted"}});
}

std::string TopicNames(Services& s, WorkspaceId ws, const std::vector<Subscription>& subs) {
  std::string names;
  auto topics = s.store.topics().List(ws);
  for (const Subscription& sub : subs) {
    std::string name = sub.topic_key;
    if (topics.ok())
      for (const Topic& t : *topics)
        if (t.key == sub.topic_key) name = t.name;
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

}  // namespace

void AddConsentRoutes(Router& router, Services& s) {
  router.Add("GET", "/p/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(auto found, PreferenceContact(s, call));
    if (!found) return NotValid(s);
    return PreferencePage(s, found->ws, found->contact, found->message_key, false);
  });

  router.Add("POST", "/p/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(auto found, PreferenceContact(s, call));
    if (!found) return NotValid(s);
    auto [ws, contact, key] = std::move(*found);
    auto form = ParseFormBody(call.request.body);
    if (!form.ok()) return PreferencePage(s, ws, contact, key, false, 400, &form.error());
    auto choice = tracking::ReadPreferenceForm(*form);
    if (!choice.ok()) return PreferencePage(s, ws, contact, key, false, 422, &choice.error());
    const tracking::PageWords& words = tracking::WordsFor(contact.locale);
    Consent consent = PublicConsent(s, call.request, "preference_center", words.version);
    auto applied = tracking::ApplyPreferences(s.store, ws, contact.id, *choice, consent, s.clock.Now());
    if (!applied.ok()) {
      if (applied.error().code == ErrorCode::kInvalid)
        return PreferencePage(s, ws, contact, key, false, 422, &applied.error(), &*choice);
      if (applied.error().code == ErrorCode::kNotFound) return NotValid(s);
      return applied.error();
    }
    RAPPORT_ASSIGN_OR_RETURN(Contact now, s.store.contacts().Get(ws, contact.id));
    return PreferencePage(s, ws, now, key, true);
  });

  router.Add("GET", "/confirm/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    auto claims = s.signup.Check(call.params.at(0).second);
    if (!claims.ok()) {
      // An expired link is told apart only for a token we signed (expiry is checked after the tag).
      return NotValid(s);
    }
    auto contact = s.store.contacts().Get(claims->workspace_id, claims->contact_id);
    if (!contact.ok() || contact->status == ContactStatus::kErased) return NotValid(s);
    const tracking::PageWords& w = tracking::WordsFor(contact->locale);
    // The confirmation mail names no sender (send/signup.cpp): it goes from the workspace's default.
    RAPPORT_ASSIGN_OR_RETURN(std::string sender, PageSender(s, claims->workspace_id, claims->contact_id, 0));
    auto ledger = s.store.consents().List(claims->workspace_id, claims->contact_id);
    if (!ledger.ok()) return ledger.error();
    std::vector<Subscription> pending;
    for (const ConsentRecord& r : *ledger)
      if (r.request_id == claims->message_id && r.action == ConsentAction::kRequested) {
        Subscription sub;
        sub.topic_key = r.topic_key;
        pending.push_back(std::move(sub));
      }
    if (pending.empty()) return NotValid(s, contact->locale);
    switch (ConfirmationStateOf(*ledger, claims->message_id, s.clock.Now())) {
      case ConfirmationState::kConfirmed:
        return Html(200,
                    tracking::RenderMessagePage(w, sender, w.confirmed_title,
                                                fmt::format(fmt::runtime(std::string(w.confirmed_body)),
                                                            TopicNames(s, claims->workspace_id, pending))));
      case ConfirmationState::kExpired:
        return Html(410, tracking::RenderMessagePage(w, sender, w.expired_title, w.expired_body));
      case ConfirmationState::kUnknown: return NotValid(s, contact->locale);
      case ConfirmationState::kPending: break;
    }
    return Html(200, tracking::RenderMessagePage(w, sender, w.confirm_title,
                                                 fmt::format(fmt::runtime(std::string(w.confirm_body)),
                                                             TopicNames(s, claims->workspace_id, pending)),
                                                 w.confirm_button));
  });

  router.Add("POST", "/confirm/{token}", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    auto claims = s.signup.Check(call.params.at(0).second);
    if (!claims.ok()) return NotValid(s);
    auto contact = s.store.contacts().Get(claims->workspace_id, claims->contact_id);
    if (!contact.ok() || contact->status == ContactStatus::kErased) return NotValid(s);
    const tracking::PageWords& w = tracking::WordsFor(contact->locale);
    RAPPORT_ASSIGN_OR_RETURN(std::string sender, PageSender(s, claims->workspace_id, claims->contact_id, 0));
    Consent consent = PublicConsent(s, call.request, "double_opt_in", w.version);
    auto confirmed = s.signup.Confirm(call.params.at(0).second, consent);
    if (!confirmed.ok()) {
      const Error& e = confirmed.error();
      if (e.code == ErrorCode::kPermissionDenied)
        return Html(410, tracking::RenderMessagePage(w, sender, w.expired_title, w.expired_body));
      if (e.code == ErrorCode::kNotFound || e.code == ErrorCode::kConflict)
        return NotValid(s, contact->locale);
      return e;
    }
    return Html(200, tracking::RenderMessagePage(
                         w, sender, w.confirmed_title,
                         fmt::format(fmt::runtime(std::string(w.confirmed_body)),
                                     TopicNames(s, claims->workspace_id, confirmed->subscriptions))));
  });

  router.Add("POST", "/api/v1/subscribe", Access::kPublic, [&s](CallContext& call) -> Result<Response> {
    std::string client = ClientAddress(s.options.trust_forwarded_for, call.request);
    if (!s.subscribe_limit.Take(client)) {
      int after = s.subscribe_limit.RetryAfter(client);
      Response r = HttpErrorResponse(
          429, "too_many_requests",
          "too many sign-ups from this address; retry after " + std::to_string(after) + " s");
      r.headers.emplace_back("Retry-After", std::to_string(after));
      return r;
    }
    RAPPORT_ASSIGN_OR_RETURN(SignupForm form, ReadSignup(call.request));
    if (form.honeypot) return Accepted(s, call.request, form.request.locale);  // a bot: nothing written
    RAPPORT_ASSIGN_OR_RETURN(std::optional<Workspace> ws, s.store.workspaces().FindByName(form.workspace));
    if (!ws) return Error{ErrorCode::kNotFound, "no such workspace", "workspace"};
    const tracking::PageWords& words = tracking::WordsFor(form.request.locale);
    std::string version = form.request.consent.text_version;
    form.request.consent =
        PublicConsent(s, call.request, "form:subscribe", version.empty() ? words.version : version);
    RAPPORT_ASSIGN_OR_RETURN(send::SignupOutcome out, s.signup.Subscribe(ws->id, form.request));
    (void)out;  // subscribed, pending or dropped (an erased address): one answer for all
    return Accepted(s, call.request, form.request.locale);
  });

  router.Add("GET", "/api/v1/contacts/{id}/consents", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
               WorkspaceId ws = call.key.workspace_id;
               RAPPORT_ASSIGN_OR_RETURN(std::vector<ConsentRecord> records, s.store.consents().List(ws, id));
               RAPPORT_ASSIGN_OR_RETURN(ContactPreferences prefs, s.store.consents().Preferences(ws, id));
               json::array data;
               for (const ConsentRecord& r : records) data.push_back(EncodeConsentRecord(r));
               json::array granted;
               for (const std::string& t : CurrentlyGranted(records)) granted.push_back(json::value(t));
               return JsonResponse(200, json::object{{"data", std::move(data)},
                                                     {"granted", std::move(granted)},
                                                     {"preferences", EncodePreferences(prefs)}});
             });
}

}  // namespace rapport::http
