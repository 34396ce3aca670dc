// The one rule for "may we mail this contact now", asked when a message is queued (the send
// service) and again when it is claimed for sending (the outbox store's Claim), so a contact who
// unsubscribed, bounced or was erased in between is not mailed.
//
// A MailRule sees the facts of one candidate message (MailCandidate) and answers with the reason
// it must not go, or nullopt when it may. The base rule is ConsentRule; journeys, campaigns and
// the frequency governor add rules of their own and chain them with MailRules, so every send
// path asks the same question the same way. Rules are pure and thread-safe (const, no I/O): the
// caller reads the facts from the store and passes them in.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/outbox.h"

namespace rapport {

// What a rule may look at. `topic` is the topic key the message is sent under (newsletters,
// product news), if any; `subscription` is the contact's subscription to that topic, if the
// contact has one (unset when the message has no topic or the contact never chose).
struct MailCandidate {
  ContactStatus status = ContactStatus::kActive;
  MessageClass message_class = MessageClass::kTransactional;
  std::optional<std::string_view> topic;
  std::optional<SubscriptionStatus> subscription;
  Timestamp now{};
  // The contact's pause from the preference center (core/consent.h): no marketing mail before it.
  std::optional<Timestamp> paused_until{};
};

class MailRule {
 public:
  virtual ~MailRule() = default;
  // Why this message must not be sent (a sentence for the message's last_reply and the API's
  // "suppressed" error), or nullopt when it may.
  virtual std::optional<std::string> Refusal(const MailCandidate& candidate) const = 0;
};

// Status and consent:
// - marketing mail never goes to unsubscribed, bounced, complained or erased contacts;
// - transactional mail (an order confirmation, a password reset) still reaches unsubscribed and
//   complained contacts, but never a bounced address or an erased person;
// - marketing mail waits while the contact has paused it (preference center, 30 or 90 days);
// - marketing mail sent under a topic needs the contact's subscription to that topic (consent is
//   given per topic, never assumed); transactional mail ignores topics.
class ConsentRule final : public MailRule {
 public:
  std::optional<std::string> Refusal(const MailCandidate& candidate) const override;
};

// Rules asked in order; the first refusal wins. Owns its rules. Thread-safe once built.
class MailRules final : public MailRule {
 public:
  MailRules();  // starts with the ConsentRule
  void Add(std::unique_ptr<const MailRule> rule);
  std::optional<std::string> Refusal(const MailCandidate& candidate) const override;

 private:
  std::vector<std::unique_ptr<const MailRule>> rules_;
};

// The process-wide default rule set (ConsentRule alone), for stores and services built without one.
const MailRule& DefaultMailRule();

}  // namespace rapport
