#include "tracking/preference_center.h"

#include <fmt/format.h>

#include <algorithm>

#include "mail/dkim_canonical.h"

namespace rapport::tracking {

namespace {

constexpr PageWords kEnglish{
    "en",
    "preferences-1.en",
    "Your email preferences",
    "Choose what we send you and how often. You can change this at any time.",
    "Topics",
    "There are no topics to choose from.",
    "How often",
    "Everything, as it is sent",
    "A weekly digest",
    "Pause marketing email for 30 days",
    "Pause marketing email for 90 days",
    "Paused until {}",
    "About you",
    "First name",
    "Last name",
    "Language",
    "Time zone",
    "For example Europe/London or America/New_York.",
    "Save my choices",
    "Your choices are saved.",
    "This link is not valid",
    "The link may be incomplete. Copy the whole link from the email and try again.",
    "Sent by {}",
    "Confirm your subscription",
    "Please confirm that you want to receive {}.",
    "Yes, subscribe me",
    "You are subscribed",
    "Thank you: your subscription to {} is confirmed.",
    "This link has expired",
    "Confirmation links work for a limited time. Sign up again to get a new one.",
    "Check your inbox",
    "If the address is right, we have sent what you asked for. Some topics need you to confirm by "
    "following the link in the email we sent.",
    "Weekly digest: you get at most one marketing email a week; order and account email is not "
    "affected.",
    "Unsubscribe",
    "Stop marketing email to {}? Order and account email will still arrive.",
    "Unsubscribe",
    "You are unsubscribed",
    "You will not receive marketing email from us."};

constexpr PageWords kFrench{
    "fr",
    "preferences-1.fr",
    "Vos préférences d’e-mail",
    "Choisissez ce que nous vous envoyons et à quelle fréquence. Vous pouvez changer d’avis à tout moment.",
    "Sujets",
    "Il n’y a aucun sujet à choisir.",
    "Fréquence",
    "Tout, au fil des envois",
    "Un résumé hebdomadaire",
    "Suspendre les e-mails marketing pendant 30 jours",
    "Suspendre les e-mails marketing pendant 90 jours",
    "Suspendu jusqu’au {}",
    "Vous concernant",
    "Prénom",
    "Nom",
    "Langue",
    "Fuseau horaire",
    "Par exemple Europe/Paris ou America/Montreal.",
    "Enregistrer mes choix",
    "Vos choix sont enregistrés.",
    "Ce lien n’est pas valide",
    "Le lien est peut-être incomplet. Copiez le lien entier depuis l’e-mail et réessayez.",
    "Envoyé par {}",
    "Confirmez votre inscription",
    "Merci de confirmer que vous souhaitez recevoir : {}.",
    "Oui, je m’inscris",
    "Vous êtes inscrit",
    "Merci : votre inscription à {} est confirmée.",
    "Ce lien a expiré",
    "Les liens de confirmation ne fonctionnent que pendant un temps limité. Inscrivez-vous à nouveau pour en "
    "recevoir un autre.",
    "Consultez votre boîte de réception",
    "Si l’adresse est correcte, nous avons envoyé ce que vous avez demandé. Certains sujets demandent une "
    "confirmation : suivez le lien de l’e-mail que nous vous avons envoyé.",
    "Résumé hebdomadaire : vous recevez au plus un e-mail marketing par semaine ; les e-mails de "
    "commande et de compte ne changent pas.",
    "Se désabonner",
    "Ne plus recevoir d’e-mails marketing à {} ? Les e-mails de commande et de compte continueront "
    "d’arriver.",
    "Me désabonner",
    "Vous êtes désabonné",
    "Vous ne recevrez plus d’e-mails marketing de notre part."};

constexpr std::string_view kStyle =
    "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "fieldset{border:1px solid #ccc;border-radius:.375rem;margin:0 0 1.25rem;padding:.75rem 1rem}"
    "legend{font-weight:600;padding:0 .25rem}label{display:block;margin:.35rem 0}"
    ".hint,.desc{color:#555;font-size:.875rem}.desc{display:block;margin-left:1.6rem}"
    "input[type=text]{font:inherit;width:100%;box-sizing:border-box;padding:.35rem;border:1px solid #888;"
    "border-radius:.25rem}select{font:inherit;padding:.3rem}"
    "button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.375rem;background:#222;color:#fff;"
    "cursor:pointer}button:focus,input:focus,select:focus{outline:3px solid #0a66c2;outline-offset:2px}"
    ".ok{background:#e7f5ea;border:1px solid #2e7d32;padding:.5rem .75rem;border-radius:.375rem}"
    ".err{background:#fdecea;border:1px solid #c62828;padding:.5rem .75rem;border-radius:.375rem}"
    "footer{margin-top:2rem;color:#555;font-size:.875rem}";

std::string Document(const PageWords& w, std::string_view sender, std::string_view title,
                     std::string_view main) {
  std::string footer =
      sender.empty() ? std::string() : fmt::format(fmt::runtime(std::string(w.sent_by)), EscapeText(sender));
  return fmt::format(
      "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" "
      "content=\"noindex\"><title>{}</title><style>{}</style></head><body><main><h1>{}</h1>{}</main>"
      "<footer>{}</footer></body></html>",
      w.lang, EscapeText(title), kStyle, EscapeText(title), main, footer);
}

std::string Checked(bool on) { return on ? " checked" : ""; }

}  // namespace

const PageWords& WordsFor(std::string_view locale) {
  if (locale.size() >= 2 && (locale[0] == 'f' || locale[0] == 'F') &&
      (locale[1] == 'r' || locale[1] == 'R') && (locale.size() == 2 || locale[2] == '-' || locale[2] == '_'))
    return kFrench;
  return kEnglish;
}

std::string EscapeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

bool SameAsciiText(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

std::string IdentityName(const SenderIdentity& sender) {
  return sender.name.empty() ? sender.Domain() : sender.name;
}

// The From address of `contact`'s tracked message `key`; nullopt when the message is gone, is
// another contact's now, or has no From.
Result<std::optional<std::string>> StoredFrom(Store& store, WorkspaceId ws, ContactId contact, int64_t key) {
  using Found = std::optional<std::string>;
  auto tracked = store.tracking().FindByKey(ws, key);
  if (!tracked.ok()) {
    if (tracked.error().code == ErrorCode::kNotFound) return Found();
    return tracked.error();
  }
  if (tracked->contact_id != contact) return Found();
  auto message = store.outbox().Get(ws, tracked->message_id);
  if (!message.ok()) {
    if (message.error().code == ErrorCode::kNotFound) return Found();
    return message.error();
  }
  return MessageFromAddress(message->mime);
}

}  // namespace

std::optional<std::string> MessageFromAddress(std::string_view mime) {
  for (const mail::RawHeaderField& field : mail::SplitHeaders(mime).headers) {
    if (!SameAsciiText(field.name, "From")) continue;
    std::string value;  // unfolded: the line ends of continuation lines dropped
    for (char c : field.raw.substr(field.raw.find(':') + 1))
      if (c != '\r' && c != '\n') value.push_back(c);
    std::string_view v = value;
    if (size_t open = v.rfind('<'); open != std::string_view::npos) {
      size_t close = v.find('>', open);
      if (close == std::string_view::npos) return std::nullopt;
      v = v.substr(open + 1, close - open - 1);
    }
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    return std::string(v);
  }
  return std::nullopt;
}

std::string ConfiguredSenderName(const mail::Mailbox& configured) {
  return configured.display_name.empty() ? configured.address.domain : configured.display_name;
}

Result<std::string> PageSenderName(Store& store, WorkspaceId ws, ContactId contact, int64_t message_key,
                                   const mail::Mailbox& configured) {
  if (message_key != 0) {
    RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> from, StoredFrom(store, ws, contact, message_key));
    if (from) {
      auto identity = store.senders().GetByEmail(ws, *from);
      if (identity.ok()) return IdentityName(*identity);
      if (identity.error().code != ErrorCode::kNotFound) return identity.error();
      // Not an identity of the workspace: the configured sender's message, or an identity deleted since.
      if (SameAsciiText(*from, configured.address.ToString())) return ConfiguredSenderName(configured);
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(std::optional<SenderIdentity> fallback, store.senders().GetDefault(ws));
  if (fallback) return IdentityName(*fallback);
  return ConfiguredSenderName(configured);
}

std::string MaskedEmail(std::string_view email) {
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0) return "";
  return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

std::string RenderPreferencePage(const PreferencePage& p, const PageWords& w) {
  std::string m;
  if (p.saved) m += fmt::format("<p class=\"ok\" role=\"status\">{}</p>", EscapeText(w.saved));
  if (!p.error.empty()) m += fmt::format("<p class=\"err\" role=\"alert\">{}</p>", EscapeText(p.error));
  m += fmt::format("<p>{}</p>", EscapeText(w.intro));
  if (!p.masked_email.empty()) m += fmt::format("<p><strong>{}</strong></p>", EscapeText(p.masked_email));
  m += "<form method=\"post\" accept-charset=\"utf-8\">";
  m += fmt::format("<fieldset><legend>{}</legend>", EscapeText(w.topics_legend));
  if (p.topics.empty()) m += fmt::format("<p>{}</p>", EscapeText(w.no_topics));
  for (size_t i = 0; i < p.topics.size(); ++i) {
    const TopicChoice& t = p.topics[i];
    m += fmt::format(
        "<label for=\"topic-{0}\"><input type=\"checkbox\" id=\"topic-{0}\" name=\"topic\" value=\"{1}\"{2}> "
        "{3}"
        "</label>",
        i, EscapeText(t.key), Checked(t.subscribed), EscapeText(t.name));
    if (!t.description.empty()) m += fmt::format("<span class=\"desc\">{}</span>", EscapeText(t.description));
  }
  m += "</fieldset>";

  const ContactPreferences& prefs = p.preferences;
  bool paused = IsPaused(prefs.paused_until, p.now);
  m += fmt::format("<fieldset><legend>{}</legend>", EscapeText(w.frequency_legend));
  auto radio = [&](std::string_view value, std::string_view label, bool on) {
    m += fmt::format(
        "<label for=\"frequency-{0}\"><input type=\"radio\" id=\"frequency-{0}\" name=\"frequency\" "
        "value=\"{0}\"{1}> {2}</label>",
        value, Checked(on), EscapeText(label));
  };
  if (paused) {
    std::string date = FormatTimestamp(*prefs.paused_until).substr(0, 10);
    radio("keep", fmt::format(fmt::runtime(std::string(w.paused_until)), date), true);
  }
  radio("everything", w.everything, !paused && prefs.frequency == MailFrequency::kEverything);
  radio("weekly", w.weekly, !paused && prefs.frequency == MailFrequency::kWeeklyDigest);
  radio("pause-30", w.pause30, false);
  radio("pause-90", w.pause90, false);
  m += fmt::format("<p class=\"hint\">{}</p></fieldset>", EscapeText(w.weekly_note));

  m += fmt::format("<fieldset><legend>{}</legend>", EscapeText(w.profile_legend));
  m += fmt::format(
      "<label for=\"first_name\">{}</label><input type=\"text\" id=\"first_name\" name=\"first_name\" "
      "maxlength=\"100\" autocomplete=\"given-name\" value=\"{}\">",
      EscapeText(w.first_name), EscapeText(p.first_name));
  m += fmt::format(
      "<label for=\"last_name\">{}</label><input type=\"text\" id=\"last_name\" name=\"last_name\" "
      "maxlength=\"100\" autocomplete=\"family-name\" value=\"{}\">",
      EscapeText(w.last_name), EscapeText(p.last_name));
  bool fr = WordsFor(p.locale).lang == "fr";
  m += fmt::format(
      "<label for=\"locale\">{}</label><select id=\"locale\" name=\"locale\"><option value=\"en\"{}>English"
      "</option><option value=\"fr\"{}>Français</option></select>",
      EscapeText(w.language), fr ? "" : " selected", fr ? " selected" : "");
  std::string invalid_tz = p.error_field == "timezone" ? " aria-invalid=\"true\"" : "";
  m += fmt::format(
      "<label for=\"timezone\">{}</label><input type=\"text\" id=\"timezone\" name=\"timezone\" "
      "maxlength=\"64\" "
      "aria-describedby=\"timezone-hint\" value=\"{}\"{}><span class=\"hint\" id=\"timezone-hint\">{}</span>",
      EscapeText(w.timezone), EscapeText(p.timezone), invalid_tz, EscapeText(w.timezone_hint));
  m += "</fieldset>";
  m += fmt::format("<button type=\"submit\">{}</button></form>", EscapeText(w.save));
  return Document(w, p.sender_name, w.title, m);
}

std::string RenderMessagePage(const PageWords& w, std::string_view sender, std::string_view title,
                              std::string_view body, std::string_view button,
                              const std::vector<std::pair<std::string_view, std::string_view>>& hidden) {
  std::string m = fmt::format("<p>{}</p>", EscapeText(body));
  if (!button.empty()) {
    m += "<form method=\"post\">";
    for (const auto& [name, value] : hidden)
      m += fmt::format("<input type=\"hidden\" name=\"{}\" value=\"{}\">", EscapeText(name),
                       EscapeText(value));
    m += fmt::format("<button type=\"submit\">{}</button></form>", EscapeText(button));
  }
  return Document(w, sender, title, m);
}

Result<PreferenceChoice> ReadPreferenceForm(const FormFields& form) {
  PreferenceChoice c;
  for (std::string_view t : form.All("topic")) {
    RAPPORT_TRY(ValidateTopicKey(t));
    if (std::find(c.topics.begin(), c.topics.end(), t) == c.topics.end()) c.topics.emplace_back(t);
  }
  std::string_view f = form.Get("frequency");
  if (f == "everything") {
    c.frequency = MailFrequency::kEverything;
  } else if (f == "weekly") {
    c.frequency = MailFrequency::kWeeklyDigest;
  } else if (f == "pause-30") {
    c.pause_days = 30;
  } else if (f == "pause-90") {
    c.pause_days = 90;
  } else if (f == "keep" || f.empty()) {
    c.keep_pause = true;
  } else {
    return Error::Invalid("frequency", "choose one of the frequencies offered");
  }
  auto field = [&](std::string_view name, std::string& out, size_t max) -> Status {
    std::string_view v = form.Get(name);
    if (v.size() > max) return Error::Invalid(std::string(name), "too long");
    if (v.find_first_of("\r\n\t") != std::string_view::npos)
      return Error::Invalid(std::string(name), "one line of text");
    // Trim spaces at both ends.
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    out = std::string(v);
    return {};
  };
  RAPPORT_TRY(field("first_name", c.first_name, 100));
  RAPPORT_TRY(field("last_name", c.last_name, 100));
  RAPPORT_TRY(field("timezone", c.timezone, 64));
  std::string_view locale = form.Get("locale");
  if (!locale.empty() && locale != "en" && locale != "fr")
    return Error::Invalid("locale", "choose English or French");
  c.locale = std::string(locale);
  if (!c.timezone.empty() && !IsValidTimezone(c.timezone))
    return Error::Invalid("timezone", "not a time zone name (for example Europe/London)");
  return c;
}

Result<PreferenceOutcome> ApplyPreferences(Store& store, WorkspaceId ws, ContactId id,
                                           const PreferenceChoice& choice, const Consent& consent,
                                           Timestamp now) {
  PreferenceOutcome out;
  RAPPORT_ASSIGN_OR_RETURN(Contact contact, store.contacts().Get(ws, id));
  if (contact.status == ContactStatus::kErased) return Error::NotFound("no such contact");
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Topic> topics, store.topics().List(ws));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Subscription> subs, store.topics().ListSubscriptions(ws, id));
  for (const Topic& t : topics) {
    bool want = std::find(choice.topics.begin(), choice.topics.end(), t.key) != choice.topics.end();
    bool have = false, known = false;
    for (const Subscription& s : subs)
      if (s.topic_key == t.key) {
        known = true;
        have = s.status == SubscriptionStatus::kSubscribed;
      }
    if (want == have || (!want && !known)) continue;
    RAPPORT_TRY(store.topics().SetSubscription(
        ws, id, t.key, want ? SubscriptionStatus::kSubscribed : SubscriptionStatus::kUnsubscribed, consent));
    (want ? out.joined : out.left).push_back(t.key);
  }

  RAPPORT_ASSIGN_OR_RETURN(ContactPreferences prefs, store.consents().Preferences(ws, id));
  ContactPreferences next = prefs;
  if (choice.pause_days) {
    RAPPORT_ASSIGN_OR_RETURN(Timestamp end, PauseEnd(*choice.pause_days, now));
    next.paused_until = end;
  } else if (choice.frequency) {
    next.frequency = *choice.frequency;
    next.paused_until.reset();  // choosing a frequency ends a pause
  } else if (!IsPaused(prefs.paused_until, now)) {
    next.paused_until.reset();
  }
  if (next.frequency != prefs.frequency || next.paused_until != prefs.paused_until) {
    RAPPORT_TRY(store.consents().SetPreferences(ws, id, next, consent));
    out.preferences_changed = true;
  }

  ContactInput patch;
  json::object attrs;
  auto attr = [&](std::string_view key, const std::string& value) {
    auto it = contact.attributes.find(key);
    std::string have = it != contact.attributes.end() && it->value().is_string()
                           ? std::string(it->value().get_string())
                           : std::string();
    if (have == value) return;
    if (value.empty())
      attrs[key] = nullptr;
    else
      attrs[key] = value;
  };
  attr("first_name", choice.first_name);
  attr("last_name", choice.last_name);
  if (!attrs.empty()) patch.attributes = std::move(attrs);
  if (!choice.locale.empty() && WordsFor(contact.locale).lang != choice.locale) patch.locale = choice.locale;
  if (choice.timezone != contact.timezone) patch.timezone = choice.timezone;
  if (patch.attributes || patch.locale || patch.timezone) {
    RAPPORT_TRY(ValidateContactInput(patch));
    json::object origin{{"via", "preference_center"}};
    RAPPORT_TRY(store.contacts().Update(ws, id, patch, origin));
    out.profile_changed = true;
  }
  return out;
}

}  // namespace rapport::tracking
