// The preference center (/p/{token}) and the other public consent pages (double opt-in
// confirmation, the sign-up answer): their wording in English and French, the page as plain
// accessible HTML (no script, no external resource; one form that POSTs back to the same signed
// URL), the reading of the submitted form, and the use case that applies it.
//
// Each change the form makes is recorded with its consent (core/consent.h): topics joined or left
// (source "preference_center", the wording's version, the truncated IP and the user agent the
// caller passes), the frequency and pause (contact.preferences_changed), and name, locale and
// timezone (contact.updated, origin {"via": "preference_center"}); every one an event in the
// transaction of its change. Pure except ApplyPreferences, which reaches the store only through
// its facets. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/consent.h"
#include "core/form_body.h"
#include "core/store.h"
#include "mail/mailbox.h"

namespace rapport::tracking {

// The words of the public pages in one language. `version` names this wording: it is recorded
// with every consent given on a page that showed it, so a change of wording gets a new version.
struct PageWords {
  std::string_view lang;  // "en", "fr"
  std::string_view version;
  std::string_view title, intro, topics_legend, no_topics, frequency_legend, everything, weekly, pause30,
      pause90, paused_until, profile_legend, first_name, last_name, language, timezone, timezone_hint, save,
      saved, invalid_link, invalid_link_body, sent_by, confirm_title, confirm_body, confirm_button,
      confirmed_title, confirmed_body, expired_title, expired_body, signup_title, signup_body, weekly_note,
      unsubscribe_title, unsubscribe_question, unsubscribe_button, unsubscribed_title, unsubscribed_body;
};
// The words for a contact's locale ("fr", "fr-CA" -> French; anything else -> English).
const PageWords& WordsFor(std::string_view locale);

struct TopicChoice {
  std::string key, name, description;
  bool subscribed = false;
};

// What the preference page shows.
struct PreferencePage {
  std::string sender_name;
  std::string masked_email;
  std::string first_name, last_name, locale, timezone;
  std::vector<TopicChoice> topics;
  ContactPreferences preferences;
  Timestamp now{};
  bool saved = false;       // "your choices are saved"
  std::string error;        // shown above the form (an invalid timezone ...)
  std::string error_field;  // the field it is about
};
std::string RenderPreferencePage(const PreferencePage& page, const PageWords& words);

// A page of a title and a paragraph, optionally with one POST button (the confirmation and
// unsubscribe pages) whose form carries the `hidden` fields.
std::string RenderMessagePage(const PageWords& words, std::string_view sender_name, std::string_view title,
                              std::string_view body, std::string_view button = {},
                              const std::vector<std::pair<std::string_view, std::string_view>>& hidden = {});

// What the submitted form asks for.
struct PreferenceChoice {
  std::vector<std::string> topics;  // the topics checked (the others are left)
  std::optional<MailFrequency> frequency;
  std::optional<int> pause_days;  // 30 or 90: pause from now
  bool keep_pause = false;        // "paused until ..." left selected
  std::string first_name, last_name, locale, timezone;
};
// Reads the form fields ("topic" repeated, "frequency": everything|weekly|pause-30|pause-90|keep,
// "first_name", "last_name", "locale": en|fr, "timezone": an IANA name or empty). kInvalid naming
// the field for a value the page does not offer.
Result<PreferenceChoice> ReadPreferenceForm(const FormFields& form);

struct PreferenceOutcome {
  std::vector<std::string> joined, left;
  bool preferences_changed = false;
  bool profile_changed = false;
};
// Applies the choice to the contact: subscriptions of the workspace's topics as checked (a change
// only where the status differs), preferences, then the profile. `consent` carries the source,
// time, truncated IP, user agent and wording version. Errors: the store's.
Result<PreferenceOutcome> ApplyPreferences(Store& store, WorkspaceId ws, ContactId contact,
                                           const PreferenceChoice& choice, const Consent& consent,
                                           Timestamp now);

// Which sender the public pages reached from a message name (docs/consent.md, "The sender the
// pages name"). A message is from the sender identity whose address is its From; the name shown
// is the identity's name, or its domain when it has none.
//
// The From address of a stored message (`mime`, as OutboxMessage::mime holds it): the address
// between the last '<' and '>' of its first From field (unfolded), or the field's bare value;
// nullopt when it has no From field.
std::optional<std::string> MessageFromAddress(std::string_view mime);
// The name of the configured [sender]: its display name, else its domain. For a page that knows
// no workspace (a forged token).
std::string ConfiguredSenderName(const mail::Mailbox& configured);
// The name the pages of `contact`'s message `message_key` (MessageTracking::key, as the token
// names it; 0: none) show: the sender identity the stored message's From names; else, when the
// message came from the configured sender, `configured`'s name; else (a token without a message,
// a message no longer stored or now another contact's, a sender identity deleted since) the
// workspace's default identity; else `configured`'s name. Reads the tracking, outbox and senders
// facets. Errors: the store's (kNotFound of a lookup is a fallback, not an error). Thread-safe.
Result<std::string> PageSenderName(Store& store, WorkspaceId ws, ContactId contact, int64_t message_key,
                                   const mail::Mailbox& configured);

// Masks the local part for a page others may see: "ada@example.com" -> "a***@example.com".
std::string MaskedEmail(std::string_view email);
// HTML text and attribute escaping (& < > " ').
std::string EscapeText(std::string_view s);

}  // namespace rapport::tracking
