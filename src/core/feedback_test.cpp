#include "core/feedback.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(Feedback, KindOfEveryFailure) {
  EXPECT_EQ(FeedbackKindOf(DeliveryFailure::kRecipientAddress), FeedbackKind::kHardBounce);
  for (DeliveryFailure f :
       {DeliveryFailure::kPolicyBlock, DeliveryFailure::kSenderAuth, DeliveryFailure::kContent,
        DeliveryFailure::kThrottled, DeliveryFailure::kMessageSize, DeliveryFailure::kProtocol})
    EXPECT_EQ(FeedbackKindOf(f), FeedbackKind::kBlock) << DeliveryFailureName(f);
  for (DeliveryFailure f :
       {DeliveryFailure::kMailboxFull, DeliveryFailure::kMailboxDisabled, DeliveryFailure::kTransient,
        DeliveryFailure::kConnection, DeliveryFailure::kOther})
    EXPECT_EQ(FeedbackKindOf(f), FeedbackKind::kSoftBounce) << DeliveryFailureName(f);
}

TEST(Feedback, NamesRoundTrip) {
  for (FeedbackKind k :
       {FeedbackKind::kHardBounce, FeedbackKind::kSoftBounce, FeedbackKind::kBlock, FeedbackKind::kComplaint})
    EXPECT_EQ(ParseFeedbackKind(FeedbackKindName(k)), k);
  EXPECT_FALSE(ParseFeedbackKind("bounce").has_value());
  EXPECT_EQ(FeedbackEventName(FeedbackKind::kComplaint), "message.complained");
}

TEST(Feedback, HardBounceBouncesAtOnce) {
  BouncePolicy p;
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kActive, FeedbackKind::kHardBounce, 0, p),
            ContactStatus::kBounced);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kUnsubscribed, FeedbackKind::kHardBounce, 0, p),
            ContactStatus::kBounced);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kBounced, FeedbackKind::kHardBounce, 0, p), std::nullopt);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kErased, FeedbackKind::kHardBounce, 0, p), std::nullopt);
}

TEST(Feedback, SoftBouncesCountInTheWindow) {
  BouncePolicy p;  // 3 of 5
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kActive, FeedbackKind::kSoftBounce, 1, p), std::nullopt);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kActive, FeedbackKind::kSoftBounce, 2, p), std::nullopt);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kActive, FeedbackKind::kSoftBounce, 3, p),
            ContactStatus::kBounced);
  BouncePolicy strict{1, 1};
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kActive, FeedbackKind::kSoftBounce, 1, strict),
            ContactStatus::kBounced);
}

TEST(Feedback, BlocksNeverTouchTheContact) {
  BouncePolicy p;
  for (ContactStatus s : {ContactStatus::kActive, ContactStatus::kUnsubscribed, ContactStatus::kComplained})
    EXPECT_EQ(FeedbackContactStatus(s, FeedbackKind::kBlock, 5, p), std::nullopt);
}

TEST(Feedback, ComplaintUnsubscribesFromMarketing) {
  BouncePolicy p;
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kActive, FeedbackKind::kComplaint, 0, p),
            ContactStatus::kComplained);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kUnsubscribed, FeedbackKind::kComplaint, 0, p),
            ContactStatus::kComplained);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kComplained, FeedbackKind::kComplaint, 0, p), std::nullopt);
  EXPECT_EQ(FeedbackContactStatus(ContactStatus::kBounced, FeedbackKind::kComplaint, 0, p), std::nullopt);
  // What complained means for mail (core/outbox.h): no marketing, transactional still.
  EXPECT_TRUE(SuppressionReason(ContactStatus::kComplained, MessageClass::kMarketing).has_value());
  EXPECT_FALSE(SuppressionReason(ContactStatus::kComplained, MessageClass::kTransactional).has_value());
}

TEST(Feedback, PolicyValidation) {
  EXPECT_TRUE(ValidateBouncePolicy({3, 5}).ok());
  EXPECT_FALSE(ValidateBouncePolicy({6, 5}).ok());
  EXPECT_FALSE(ValidateBouncePolicy({0, 5}).ok());
  EXPECT_FALSE(ValidateBouncePolicy({1, 0}).ok());
  EXPECT_FALSE(ValidateBouncePolicy({1, 101}).ok());
}

}  // namespace
}  // namespace rapport
