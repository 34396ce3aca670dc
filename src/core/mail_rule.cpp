#include "core/mail_rule.h"

#include <fmt/format.h>

namespace rapport {

std::optional<std::string> ConsentRule::Refusal(const MailCandidate& c) const {
  if (auto reason = SuppressionReason(c.status, c.message_class)) return std::string(*reason);
  if (c.message_class != MessageClass::kMarketing) return std::nullopt;
  if (c.paused_until && c.now < *c.paused_until)
    return fmt::format("the contact paused marketing mail until {}", FormatTimestamp(*c.paused_until));
  if (!c.topic) return std::nullopt;
  if (!c.subscription) return fmt::format("the contact has not subscribed to topic '{}'", *c.topic);
  if (*c.subscription != SubscriptionStatus::kSubscribed)
    return fmt::format("the contact unsubscribed from topic '{}'", *c.topic);
  return std::nullopt;
}

MailRules::MailRules() { rules_.push_back(std::make_unique<ConsentRule>()); }

void MailRules::Add(std::unique_ptr<const MailRule> rule) { rules_.push_back(std::move(rule)); }

std::optional<std::string> MailRules::Refusal(const MailCandidate& candidate) const {
  for (const auto& rule : rules_)
    if (auto reason = rule->Refusal(candidate)) return reason;
  return std::nullopt;
}

const MailRule& DefaultMailRule() {
  static const ConsentRule rule;
  return rule;
}

}  // namespace rapport
