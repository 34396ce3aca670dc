#include "core/outbox.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(Suppression, MarketingNeedsAnActiveContact) {
  using MC = MessageClass;
  EXPECT_FALSE(SuppressionReason(ContactStatus::kActive, MC::kMarketing));
  EXPECT_TRUE(SuppressionReason(ContactStatus::kUnsubscribed, MC::kMarketing));
  EXPECT_TRUE(SuppressionReason(ContactStatus::kComplained, MC::kMarketing));
  EXPECT_TRUE(SuppressionReason(ContactStatus::kBounced, MC::kMarketing));
  EXPECT_TRUE(SuppressionReason(ContactStatus::kErased, MC::kMarketing));
}

TEST(Suppression, TransactionalReachesUnsubscribedButNeverBouncedOrErased) {
  using MC = MessageClass;
  EXPECT_FALSE(SuppressionReason(ContactStatus::kActive, MC::kTransactional));
  EXPECT_FALSE(SuppressionReason(ContactStatus::kUnsubscribed, MC::kTransactional));
  EXPECT_FALSE(SuppressionReason(ContactStatus::kComplained, MC::kTransactional));
  EXPECT_EQ(SuppressionReason(ContactStatus::kBounced, MC::kTransactional), "the contact's address bounced");
  EXPECT_EQ(SuppressionReason(ContactStatus::kErased, MC::kTransactional), "the contact was erased");
}

TEST(MessageNames, RoundTrip) {
  for (auto st :
       {MessageState::kQueued, MessageState::kSending, MessageState::kSent, MessageState::kDeferred,
        MessageState::kBounced, MessageState::kFailed, MessageState::kSuppressed, MessageState::kCancelled})
    EXPECT_EQ(ParseMessageState(MessageStateName(st)), st);
  EXPECT_EQ(ParseMessageClass("marketing"), MessageClass::kMarketing);
  EXPECT_EQ(ParseMessageClass("transactional"), MessageClass::kTransactional);
  EXPECT_FALSE(ParseMessageClass("bulk"));
  EXPECT_FALSE(ParseMessageState("SENT"));
}

TEST(DeliveryFailure, EveryNameParsesBack) {
  for (int i = 0; i <= static_cast<int>(DeliveryFailure::kOther); ++i) {
    auto f = static_cast<DeliveryFailure>(i);
    EXPECT_EQ(ParseDeliveryFailure(DeliveryFailureName(f)), f) << DeliveryFailureName(f);
  }
  EXPECT_FALSE(ParseDeliveryFailure("bounced"));
}

}  // namespace
}  // namespace rapport
