#include "core/mail_rule.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

MailCandidate Candidate(ContactStatus status, MessageClass c) {
  MailCandidate m;
  m.status = status;
  m.message_class = c;
  return m;
}

TEST(ConsentRule, MarketingReachesOnlyActiveContacts) {
  ConsentRule rule;
  EXPECT_FALSE(rule.Refusal(Candidate(ContactStatus::kActive, MessageClass::kMarketing)));
  for (auto s : {ContactStatus::kUnsubscribed, ContactStatus::kBounced, ContactStatus::kComplained,
                 ContactStatus::kErased})
    EXPECT_TRUE(rule.Refusal(Candidate(s, MessageClass::kMarketing))) << static_cast<int>(s);
}

TEST(ConsentRule, TransactionalReachesUnsubscribedButNeverBouncedOrErased) {
  ConsentRule rule;
  EXPECT_FALSE(rule.Refusal(Candidate(ContactStatus::kUnsubscribed, MessageClass::kTransactional)));
  EXPECT_FALSE(rule.Refusal(Candidate(ContactStatus::kComplained, MessageClass::kTransactional)));
  EXPECT_TRUE(rule.Refusal(Candidate(ContactStatus::kBounced, MessageClass::kTransactional)));
  EXPECT_TRUE(rule.Refusal(Candidate(ContactStatus::kErased, MessageClass::kTransactional)));
}

TEST(ConsentRule, MarketingUnderATopicNeedsTheSubscription) {
  ConsentRule rule;
  MailCandidate m = Candidate(ContactStatus::kActive, MessageClass::kMarketing);
  m.topic = "news";
  auto none = rule.Refusal(m);
  ASSERT_TRUE(none);
  EXPECT_NE(none->find("not subscribed"), std::string::npos);
  m.subscription = SubscriptionStatus::kUnsubscribed;
  auto out = rule.Refusal(m);
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("unsubscribed from topic 'news'"), std::string::npos);
  m.subscription = SubscriptionStatus::kSubscribed;
  EXPECT_FALSE(rule.Refusal(m));
}

TEST(ConsentRule, TransactionalIgnoresTopics) {
  ConsentRule rule;
  MailCandidate m = Candidate(ContactStatus::kActive, MessageClass::kTransactional);
  m.topic = "news";
  m.subscription = SubscriptionStatus::kUnsubscribed;
  EXPECT_FALSE(rule.Refusal(m));
}

TEST(ConsentRule, APauseHoldsBackMarketingOnlyAndOnlyUntilItEnds) {
  ConsentRule rule;
  MailCandidate m = Candidate(ContactStatus::kActive, MessageClass::kMarketing);
  m.paused_until = m.now + std::chrono::hours(1);
  auto reason = rule.Refusal(m);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("paused"), std::string::npos);
  m.topic = "news";
  m.subscription = SubscriptionStatus::kSubscribed;
  EXPECT_TRUE(rule.Refusal(m));  // subscribed, but paused
  m.now = *m.paused_until;
  EXPECT_FALSE(rule.Refusal(m));  // the pause is over
  MailCandidate t = Candidate(ContactStatus::kActive, MessageClass::kTransactional);
  t.paused_until = t.now + std::chrono::hours(1);
  EXPECT_FALSE(rule.Refusal(t));
}

class RefuseAfter final : public MailRule {
 public:
  explicit RefuseAfter(Timestamp t) : t_(t) {}
  std::optional<std::string> Refusal(const MailCandidate& c) const override {
    if (c.now > t_) return "quiet hours";
    return std::nullopt;
  }

 private:
  Timestamp t_;
};

TEST(MailRules, AsksEveryRuleInOrderAndTheFirstRefusalWins) {
  MailRules rules;
  rules.Add(std::make_unique<RefuseAfter>(Timestamp(Micros(100))));
  MailCandidate m = Candidate(ContactStatus::kActive, MessageClass::kMarketing);
  m.now = Timestamp(Micros(50));
  EXPECT_FALSE(rules.Refusal(m));
  m.now = Timestamp(Micros(150));
  EXPECT_EQ(rules.Refusal(m), "quiet hours");
  m.status = ContactStatus::kBounced;  // the consent rule comes first
  EXPECT_EQ(rules.Refusal(m), "the contact's address bounced");
}

}  // namespace
}  // namespace rapport
