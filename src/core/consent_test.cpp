// The consent ledger's pure rules (core/consent.h).
#include "core/consent.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

Timestamp At(int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

ConsentRecord Rec(std::string topic, ConsentAction action, int64_t request = 0,
                  std::optional<Timestamp> expires = std::nullopt) {
  ConsentRecord r;
  r.topic_key = std::move(topic);
  r.action = action;
  r.request_id = request;
  r.expires_at = expires;
  return r;
}

TEST(ConsentRules, ActionNamesRoundTrip) {
  for (ConsentAction a : {ConsentAction::kGranted, ConsentAction::kWithdrawn, ConsentAction::kRequested,
                          ConsentAction::kConfirmed})
    EXPECT_EQ(ParseConsentAction(ConsentActionName(a)), a);
  EXPECT_FALSE(ParseConsentAction("maybe"));
}

TEST(ConsentRules, SubscriptionChangesGrantConfirmOrWithdraw) {
  EXPECT_EQ(ActionForSubscription(SubscriptionStatus::kSubscribed, false), ConsentAction::kGranted);
  EXPECT_EQ(ActionForSubscription(SubscriptionStatus::kSubscribed, true), ConsentAction::kConfirmed);
  EXPECT_EQ(ActionForSubscription(SubscriptionStatus::kUnsubscribed, false), ConsentAction::kWithdrawn);
  EXPECT_EQ(ActionForSubscription(SubscriptionStatus::kUnsubscribed, true), ConsentAction::kWithdrawn);
}

TEST(ConsentRules, StatusChangesWithdrawOnlyOnce) {
  EXPECT_EQ(ActionForStatusChange(ContactStatus::kActive, ContactStatus::kUnsubscribed),
            ConsentAction::kWithdrawn);
  EXPECT_EQ(ActionForStatusChange(ContactStatus::kActive, ContactStatus::kComplained),
            ConsentAction::kWithdrawn);
  EXPECT_EQ(ActionForStatusChange(ContactStatus::kBounced, ContactStatus::kComplained),
            ConsentAction::kWithdrawn);
  EXPECT_FALSE(ActionForStatusChange(ContactStatus::kUnsubscribed, ContactStatus::kComplained));
  EXPECT_FALSE(ActionForStatusChange(ContactStatus::kActive, ContactStatus::kBounced));
  EXPECT_FALSE(ActionForStatusChange(ContactStatus::kUnsubscribed, ContactStatus::kActive));
  EXPECT_FALSE(ActionForStatusChange(ContactStatus::kActive, ContactStatus::kActive));
}

TEST(ConsentRules, ConfirmationIsPendingUntilItExpiresOrIsConfirmed) {
  std::vector<ConsentRecord> ledger{Rec("news", ConsentAction::kRequested, 7, At(1000)),
                                    Rec("offers", ConsentAction::kRequested, 7, At(1000))};
  EXPECT_EQ(ConfirmationStateOf(ledger, 7, At(999)), ConfirmationState::kPending);
  EXPECT_EQ(ConfirmationStateOf(ledger, 7, At(1000)), ConfirmationState::kExpired);
  EXPECT_EQ(ConfirmationStateOf(ledger, 8, At(10)), ConfirmationState::kUnknown);
  EXPECT_EQ(ConfirmationStateOf(ledger, 0, At(10)), ConfirmationState::kUnknown);
  ledger.push_back(Rec("news", ConsentAction::kConfirmed, 7));
  EXPECT_EQ(ConfirmationStateOf(ledger, 7, At(999)), ConfirmationState::kConfirmed);
  // Once confirmed, a later time does not make it expired.
  EXPECT_EQ(ConfirmationStateOf(ledger, 7, At(5000)), ConfirmationState::kConfirmed);
}

TEST(ConsentRules, TheLedgerFoldsToWhatIsGrantedNow) {
  std::vector<ConsentRecord> ledger{Rec("news", ConsentAction::kGranted),
                                    Rec("offers", ConsentAction::kRequested, 2)};
  EXPECT_EQ(CurrentlyGranted(ledger), std::vector<std::string>{"news"});
  ledger.push_back(Rec("offers", ConsentAction::kConfirmed, 2));
  EXPECT_EQ(CurrentlyGranted(ledger), (std::vector<std::string>{"news", "offers"}));
  ledger.push_back(Rec("news", ConsentAction::kWithdrawn));
  EXPECT_EQ(CurrentlyGranted(ledger), std::vector<std::string>{"offers"});
  ledger.push_back(Rec("", ConsentAction::kWithdrawn));  // unsubscribed from all marketing
  EXPECT_TRUE(CurrentlyGranted(ledger).empty());
  ledger.push_back(Rec("news", ConsentAction::kGranted));
  EXPECT_EQ(CurrentlyGranted(ledger), std::vector<std::string>{"news"});
}

TEST(ConsentRules, PausesAreThirtyOrNinetyDays) {
  Timestamp now = At(1'700'000'000);
  EXPECT_EQ(*PauseEnd(30, now), now + std::chrono::hours(24 * 30));
  EXPECT_EQ(*PauseEnd(90, now), now + std::chrono::hours(24 * 90));
  EXPECT_EQ(PauseEnd(7, now).error().field, "pause");
  EXPECT_TRUE(IsPaused(now + std::chrono::seconds(1), now));
  EXPECT_FALSE(IsPaused(now, now));
  EXPECT_FALSE(IsPaused(std::nullopt, now));
}

TEST(ConsentRules, FrequencyNames) {
  EXPECT_EQ(ParseMailFrequency("weekly"), MailFrequency::kWeeklyDigest);
  EXPECT_EQ(ParseMailFrequency(MailFrequencyName(MailFrequency::kEverything)), MailFrequency::kEverything);
  EXPECT_FALSE(ParseMailFrequency("daily"));
}

}  // namespace
}  // namespace rapport
