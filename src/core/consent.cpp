#include "core/consent.h"

#include <algorithm>
#include <chrono>

namespace rapport {

std::string_view ConsentActionName(ConsentAction a) {
  switch (a) {
    case ConsentAction::kGranted: return "granted";
    case ConsentAction::kWithdrawn: return "withdrawn";
    case ConsentAction::kRequested: return "requested";
    case ConsentAction::kConfirmed: return "confirmed";
  }
  return "granted";
}

std::optional<ConsentAction> ParseConsentAction(std::string_view s) {
  for (ConsentAction a : {ConsentAction::kGranted, ConsentAction::kWithdrawn, ConsentAction::kRequested,
                          ConsentAction::kConfirmed})
    if (ConsentActionName(a) == s) return a;
  return std::nullopt;
}

ConsentAction ActionForSubscription(SubscriptionStatus status, bool confirmation) {
  if (status != SubscriptionStatus::kSubscribed) return ConsentAction::kWithdrawn;
  return confirmation ? ConsentAction::kConfirmed : ConsentAction::kGranted;
}

std::optional<ConsentAction> ActionForStatusChange(ContactStatus before, ContactStatus after) {
  if (before == after) return std::nullopt;
  if (after == ContactStatus::kUnsubscribed || after == ContactStatus::kComplained) {
    // Already withdrawn: a complaint after an unsubscribe withdraws nothing more.
    if (before == ContactStatus::kUnsubscribed || before == ContactStatus::kComplained) return std::nullopt;
    return ConsentAction::kWithdrawn;
  }
  return std::nullopt;
}

ConfirmationState ConfirmationStateOf(const std::vector<ConsentRecord>& ledger, int64_t request_id,
                                      Timestamp now) {
  if (request_id <= 0) return ConfirmationState::kUnknown;
  bool requested = false, expired = false;
  for (const ConsentRecord& r : ledger) {
    if (r.request_id != request_id) continue;
    if (r.action == ConsentAction::kConfirmed) return ConfirmationState::kConfirmed;
    if (r.action == ConsentAction::kRequested) {
      requested = true;
      if (r.expires_at && now >= *r.expires_at) expired = true;
    }
  }
  if (!requested) return ConfirmationState::kUnknown;
  return expired ? ConfirmationState::kExpired : ConfirmationState::kPending;
}

std::vector<std::string> CurrentlyGranted(const std::vector<ConsentRecord>& ledger_in_order) {
  std::vector<std::string> granted;
  for (const ConsentRecord& r : ledger_in_order) {
    switch (r.action) {
      case ConsentAction::kGranted:
      case ConsentAction::kConfirmed:
        if (!r.topic_key.empty() && std::find(granted.begin(), granted.end(), r.topic_key) == granted.end())
          granted.push_back(r.topic_key);
        break;
      case ConsentAction::kWithdrawn:
        if (r.topic_key.empty())
          granted.clear();
        else
          std::erase(granted, r.topic_key);
        break;
      case ConsentAction::kRequested: break;  // not consent until confirmed
    }
  }
  std::sort(granted.begin(), granted.end());
  return granted;
}

std::string_view MailFrequencyName(MailFrequency f) {
  return f == MailFrequency::kWeeklyDigest ? "weekly" : "everything";
}

std::optional<MailFrequency> ParseMailFrequency(std::string_view s) {
  if (s == "everything") return MailFrequency::kEverything;
  if (s == "weekly") return MailFrequency::kWeeklyDigest;
  return std::nullopt;
}

Result<Timestamp> PauseEnd(int days, Timestamp now) {
  for (int d : kPauseChoices)
    if (d == days) return now + std::chrono::hours(24 * days);
  return Error::Invalid("pause", "a pause is 30 or 90 days");
}

bool IsPaused(const std::optional<Timestamp>& paused_until, Timestamp now) {
  return paused_until && now < *paused_until;
}

}  // namespace rapport
