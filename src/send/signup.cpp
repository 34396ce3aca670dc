#include "send/signup.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/email_address.h"

namespace rapport::send {

MessageTemplate DefaultConfirmationTemplate(WorkspaceId ws, std::string name) {
  MessageTemplate t;
  t.workspace_id = ws;
  t.name = std::move(name);
  t.tracking = false;  // a confirmation link is not a marketing link
  t.subject =
      "{% assign lang = contact.locale | slice: 0, 2 %}{% if lang == 'fr' %}Confirmez votre inscription"
      "{% else %}Please confirm your subscription{% endif %}";
  t.html =
      "{% assign lang = contact.locale | slice: 0, 2 %}"
      "{% if lang == 'fr' %}"
      "<p>Bonjour{% if contact.first_name %} {{ contact.first_name }}{% endif %},</p>\n"
      "<p>Vous avez demandé à recevoir : {{ data.topics | join: ', ' }}. Confirmez-le en suivant ce lien "
      "(valable jusqu’au {{ data.expires_at | date: '%d/%m/%Y' }}) :</p>\n"
      "<p><a href=\"{{ data.confirm_url }}\">Je confirme mon inscription</a></p>\n"
      "<p>Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : vous ne recevrez rien.</p>\n"
      "{% else %}"
      "<p>Hello{% if contact.first_name %} {{ contact.first_name }}{% endif %},</p>\n"
      "<p>You asked to receive: {{ data.topics | join: ', ' }}. Please confirm by following this link "
      "(it works until {{ data.expires_at | date: '%Y-%m-%d' }}):</p>\n"
      "<p><a href=\"{{ data.confirm_url }}\">Yes, subscribe me</a></p>\n"
      "<p>If you did not ask for this, ignore this message: you will get nothing more.</p>\n"
      "{% endif %}";
  return t;
}

Signup::Signup(Store& store, const Clock& clock, const tracking::LinkSigner& links, SendService& sender,
               SignupOptions options)
    : store_(store), clock_(clock), links_(links), sender_(sender), options_(std::move(options)) {}

Status Signup::EnsureTemplate(WorkspaceId ws) {
  auto found = store_.templates().GetByName(ws, options_.confirmation_template);
  if (found.ok()) return {};
  if (found.error().code != ErrorCode::kNotFound) return found.error();
  auto created = store_.templates().Create(DefaultConfirmationTemplate(ws, options_.confirmation_template));
  if (!created.ok() && created.error().code != ErrorCode::kConflict) return created.error();  // a race: fine
  return {};
}

Result<SignupOutcome> Signup::Subscribe(WorkspaceId ws, const SignupRequest& req) {
  SignupOutcome out;
  if (req.topics.empty()) return Error::Invalid("topics", "choose at least one topic");
  if (req.topics.size() > 50) return Error::Invalid("topics", "at most 50 topics");
  std::vector<Topic> topics;
  for (const std::string& key : req.topics) {
    RAPPORT_TRY(ValidateTopicKey(key));
    auto t = store_.topics().GetByKey(ws, key);
    if (!t.ok()) {
      Error e = t.error();
      if (e.code == ErrorCode::kNotFound) e.field = "topics";
      return e;
    }
    if (std::none_of(topics.begin(), topics.end(), [&](const Topic& x) { return x.key == key; }))
      topics.push_back(std::move(t).value());
  }
  ContactInput input;
  input.email = req.email;
  if (!req.first_name.empty()) input.attributes = json::object{{"first_name", req.first_name}};
  if (!req.locale.empty()) input.locale = req.locale;
  input.reconsent = req.reconsent;
  RAPPORT_TRY(ValidateContactInput(input));
  auto up = store_.contacts().Upsert(ws, input);
  if (!up.ok()) {
    const Error& e = up.error();
    if (e.code == ErrorCode::kConflict && e.message.starts_with("erased:")) {
      out.dropped = true;
      return out;
    }
    return e;
  }
  const Contact& contact = up->contact;
  out.contact_id = contact.id;
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Subscription> subs, store_.topics().ListSubscriptions(ws, contact.id));
  Consent consent = req.consent;
  if (consent.at == Timestamp{}) consent.at = clock_.Now();
  if (consent.source.empty()) consent.source = "form:subscribe";
  std::vector<std::string> pending, pending_names;
  // A contact who unsubscribed from all marketing comes back only by confirming: anyone can type
  // an address into a public form, so every topic waits for the link, and following it makes the
  // contact mailable again (Confirm).
  const bool coming_back = contact.status == ContactStatus::kUnsubscribed;
  for (const Topic& t : topics) {
    bool subscribed = std::any_of(subs.begin(), subs.end(), [&](const Subscription& s) {
      return s.topic_key == t.key && s.status == SubscriptionStatus::kSubscribed;
    });
    if (subscribed && !coming_back) {
      out.subscribed.push_back(t.key);
      continue;
    }
    if (t.double_opt_in || coming_back) {
      pending.push_back(t.key);
      pending_names.push_back(t.name);
      continue;
    }
    RAPPORT_TRY(
        store_.topics().SetSubscription(ws, contact.id, t.key, SubscriptionStatus::kSubscribed, consent));
    out.subscribed.push_back(t.key);
  }
  if (pending.empty()) return out;

  Timestamp expires = clock_.Now() + options_.confirm_ttl;
  // Seconds precision, as the token carries it, so the ledger and the link agree.
  expires = Timestamp(std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()));
  RAPPORT_ASSIGN_OR_RETURN(int64_t request_id,
                           store_.consents().RequestConfirmation(ws, contact.id, pending, consent, expires));
  tracking::LinkClaims claims;
  claims.kind = tracking::LinkKind::kConfirm;
  claims.workspace_id = ws;
  claims.contact_id = contact.id;
  claims.message_id = request_id;
  claims.expires_at = expires;
  std::string url =
      tracking::LinkUrl(sender_.options().public_url, tracking::LinkKind::kConfirm, links_.Sign(claims));
  RAPPORT_TRY(EnsureTemplate(ws));
  SendRequest send;
  send.template_name = options_.confirmation_template;
  send.contact_id = contact.id;
  send.message_class = MessageClass::kTransactional;
  json::array names;
  for (const std::string& n : pending_names) names.push_back(json::value(n));
  send.data = json::object{
      {"confirm_url", url}, {"topics", std::move(names)}, {"expires_at", FormatTimestamp(expires)}};
  send.idempotency_key = fmt::format("rapport-confirm-{}", request_id);
  RAPPORT_ASSIGN_OR_RETURN(SendOutcome sent, sender_.Send(ws, std::move(send)));
  out.confirmation_message = sent.message.id;
  out.pending = std::move(pending);
  return out;
}

Result<tracking::LinkClaims> Signup::Check(std::string_view token) const {
  RAPPORT_ASSIGN_OR_RETURN(tracking::LinkClaims claims, links_.Verify(token, tracking::LinkKind::kConfirm));
  if (claims.message_id <= 0 || !claims.expires_at)
    return Error{ErrorCode::kPermissionDenied, "this link is not valid", "token"};
  return claims;
}

Result<ConfirmOutcome> Signup::Confirm(std::string_view token, const Consent& consent) {
  RAPPORT_ASSIGN_OR_RETURN(tracking::LinkClaims claims, Check(token));
  Consent how = consent;
  if (how.source.empty()) how.source = "double_opt_in";
  ConfirmOutcome out;
  RAPPORT_ASSIGN_OR_RETURN(
      out.subscriptions,
      store_.consents().Confirm(claims.workspace_id, claims.contact_id, claims.message_id, how));
  RAPPORT_ASSIGN_OR_RETURN(out.contact, store_.contacts().Get(claims.workspace_id, claims.contact_id));
  if (out.contact.status == ContactStatus::kUnsubscribed && !out.subscriptions.empty()) {
    // Confirmed fresh consent from someone who had unsubscribed from all marketing: mailable
    // again (the change is on the timeline, its origin the confirmation).
    ContactInput patch;
    patch.status = ContactStatus::kActive;
    json::object origin{{"via", how.source}};
    if (!how.ip.empty()) origin["ip"] = how.ip;
    if (!how.user_agent.empty()) origin["user_agent"] = how.user_agent;
    RAPPORT_ASSIGN_OR_RETURN(out.contact,
                             store_.contacts().Update(claims.workspace_id, claims.contact_id, patch, origin));
  }
  return out;
}

}  // namespace rapport::send
