// The consent ledger and a contact's mail preferences (docs/consent.md).
//
// The ledger answers "who agreed to what, when, how, and on which wording" (UK ICO): every change
// of a subscription, from any source (API, import, preference center, sign-up form, double opt-in,
// unsubscribe link, complaint), appends one ConsentRecord in the same store transaction as the
// change and its timeline event. Records are never updated; a withdrawal is a record of its own.
// A record with an empty topic is about all marketing mail (an unsubscribe link, a complaint).
//
// Preferences are what the contact chose in the preference center: how often it wants marketing
// mail (everything, a weekly digest) and a pause of 30 or 90 days, which the mail rule honours
// (core/mail_rule.h: no marketing mail before `paused_until`).
//
// The rules below are pure; ConsentStore is the store facet (implemented in store/sql/).
// Thread-safety: values; the store is thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"

namespace rapport {

// What a ledger record says happened.
//   granted    consent given (subscribed: API, import, form, preference center)
//   withdrawn  consent taken back (unsubscribed from a topic, or from all marketing)
//   requested  a double opt-in confirmation was asked for: not consent yet
//   confirmed  the confirmation link was followed: consent given
enum class ConsentAction { kGranted, kWithdrawn, kRequested, kConfirmed };
std::string_view ConsentActionName(ConsentAction a);
std::optional<ConsentAction> ParseConsentAction(std::string_view s);

struct ConsentRecord {
  int64_t id = 0;
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  std::string topic_key;  // empty: all marketing mail
  ConsentAction action = ConsentAction::kGranted;
  Consent consent;                        // source, time, IP (truncated), user agent, wording version
  int64_t request_id = 0;                 // requested/confirmed: the confirmation request's id
  std::optional<Timestamp> expires_at{};  // requested: when the confirmation link stops working
};

// The action a subscription change records: subscribing grants (or confirms, when the change
// comes from a double opt-in confirmation), unsubscribing withdraws.
ConsentAction ActionForSubscription(SubscriptionStatus status, bool confirmation);
// The action a contact status change records about all marketing mail, if any: becoming
// unsubscribed or complained withdraws; anything else records nothing.
std::optional<ConsentAction> ActionForStatusChange(ContactStatus before, ContactStatus after);

// A confirmation request as read back from the ledger, and what following its link may do.
enum class ConfirmationState { kPending, kConfirmed, kExpired, kUnknown };
// The state of request `request_id` of this contact in `ledger` (its records, any order) at `now`:
// kUnknown when no "requested" record has that id, kConfirmed when a "confirmed" record names
// it, kExpired when its expiry has passed, kPending otherwise.
ConfirmationState ConfirmationStateOf(const std::vector<ConsentRecord>& ledger, int64_t request_id,
                                      Timestamp now);

// The topics a contact has agreed to now, by folding its ledger in order (the last record per
// topic wins; an all-marketing withdrawal withdraws every topic granted before it).
std::vector<std::string> CurrentlyGranted(const std::vector<ConsentRecord>& ledger_in_order);

enum class MailFrequency { kEverything, kWeeklyDigest };
std::string_view MailFrequencyName(MailFrequency f);
std::optional<MailFrequency> ParseMailFrequency(std::string_view s);

struct ContactPreferences {
  ContactId contact_id = 0;
  MailFrequency frequency = MailFrequency::kEverything;
  std::optional<Timestamp> paused_until{};  // no marketing mail before then
  Timestamp updated_at{};
};

// The pauses the preference center offers, in days.
inline constexpr int kPauseChoices[] = {30, 90};
// When a pause of `days` chosen at `now` ends; kInvalid (field "pause") unless days is offered.
Result<Timestamp> PauseEnd(int days, Timestamp now);
// True while marketing mail is held back by the pause.
bool IsPaused(const std::optional<Timestamp>& paused_until, Timestamp now);

// The store facet. Every write appends its timeline event in the same transaction.
class ConsentStore {
 public:
  virtual ~ConsentStore() = default;
  // The contact's ledger, oldest first. kNotFound for an unknown contact.
  virtual Result<std::vector<ConsentRecord>> List(WorkspaceId ws, ContactId contact) = 0;
  // The contact's preferences (defaults, contact_id set, when it never chose).
  virtual Result<ContactPreferences> Preferences(WorkspaceId ws, ContactId contact) = 0;
  // Preferences() for many contacts in one read (a campaign's batch): the preferences of those of
  // `contacts` that ever chose, in no particular order; the others (defaults) are absent.
  virtual Result<std::vector<ContactPreferences>> PreferencesOf(WorkspaceId ws,
                                                                std::span<const ContactId> contacts) = 0;
  // Replaces the preferences; records "contact.preferences_changed" (frequency, paused_until and
  // the origin) when they change. kConflict for an erased contact.
  virtual Result<ContactPreferences> SetPreferences(WorkspaceId ws, ContactId contact,
                                                    const ContactPreferences& prefs,
                                                    const Consent& origin) = 0;
  // Asks for a double opt-in confirmation of `topics`: one "requested" record per topic, sharing
  // one request id (returned), expiring at `expires_at`; records "consent.requested". The
  // subscriptions are not touched: the contact is not subscribed until it confirms.
  virtual Result<int64_t> RequestConfirmation(WorkspaceId ws, ContactId contact,
                                              const std::vector<std::string>& topics, const Consent& consent,
                                              Timestamp expires_at) = 0;
  // Confirms request `request_id`: each of its topics becomes subscribed (source
  // "double_opt_in", its "topic.subscribed" event) with a "confirmed" record, in one transaction.
  // Confirming twice changes nothing and returns the subscriptions. kNotFound for an unknown
  // request (or another contact's), kPermissionDenied (field "token") once it has expired,
  // kConflict for an erased contact.
  virtual Result<std::vector<Subscription>> Confirm(WorkspaceId ws, ContactId contact, int64_t request_id,
                                                    const Consent& consent) = 0;
};

}  // namespace rapport
