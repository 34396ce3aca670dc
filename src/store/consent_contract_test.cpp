// The consent facet (core/consent.h) on both backends: the ledger written with every subscription
// and status change, double opt-in requests and their confirmation and expiry, preferences and
// the pause that the outbox's claim honours, and the ledger erased and merged with its contact.
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

class Consents : public StoreContract {
 protected:
  void SetUp() override {
    StoreContract::SetUp();
    for (auto [key, doi] : {std::pair{"news", false}, std::pair{"offers", true}}) {
      Topic t;
      t.key = key;
      t.name = key;
      t.double_opt_in = doi;
      auto created = store_->topics().Create(ws_, t);
      ASSERT_OK(created);
      EXPECT_EQ(created->double_opt_in, doi);
    }
  }
  Consent How(std::string source) {
    Consent c;
    c.source = std::move(source);
    c.ip = "203.0.113.0";
    c.user_agent = "agent";
    c.text_version = "v9";
    return c;
  }
  std::vector<ConsentRecord> Ledger(ContactId id) {
    auto l = store_->consents().List(ws_, id);
    EXPECT_TRUE(l.ok()) << l.error().message;
    return l.ok() ? *l : std::vector<ConsentRecord>{};
  }
};

TEST_P(Consents, EverySubscriptionChangeIsInTheLedger) {
  Contact c = MakeContact("ada@example.com");
  ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kSubscribed, How("api")));
  ASSERT_OK(
      store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kUnsubscribed, How("import")));
  auto l = Ledger(c.id);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].action, ConsentAction::kGranted);
  EXPECT_EQ(l[0].topic_key, "news");
  EXPECT_EQ(l[0].consent.source, "api");
  EXPECT_EQ(l[0].consent.ip, "203.0.113.0");
  EXPECT_EQ(l[0].consent.text_version, "v9");
  EXPECT_EQ(l[1].action, ConsentAction::kWithdrawn);
  EXPECT_EQ(l[1].consent.source, "import");
  EXPECT_LT(l[0].id, l[1].id);
  EXPECT_EQ(store_->topics().GetByKey(ws_, "offers")->double_opt_in, true);
}

TEST_P(Consents, AStatusWithdrawalIsRecordedOnce) {
  Contact c = MakeContact("bo@example.com");
  ContactInput patch;
  patch.status = ContactStatus::kUnsubscribed;
  ASSERT_OK(store_->contacts().Update(ws_, c.id, patch,
                                      json::object{{"via", "unsubscribe_link"}, {"method", "page"}}));
  patch.status = ContactStatus::kComplained;
  ASSERT_OK(store_->contacts().Update(ws_, c.id, patch));
  auto l = Ledger(c.id);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].topic_key, "");
  EXPECT_EQ(l[0].consent.source, "unsubscribe_link:page");
}

TEST_P(Consents, ADoubleOptInIsConfirmedOnceAndExpires) {
  Contact c = MakeContact("cy@example.com");
  auto request = store_->consents().RequestConfirmation(ws_, c.id, {"offers", "news"}, How("form:subscribe"),
                                                        clock_.Now() + 7 * 24h);
  ASSERT_OK(request);
  EXPECT_TRUE(store_->topics().ListSubscriptions(ws_, c.id)->empty());
  auto l = Ledger(c.id);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].request_id, *request);
  EXPECT_EQ(l[1].request_id, *request);
  ASSERT_TRUE(l[0].expires_at);
  EXPECT_EQ(store_->consents().Confirm(ws_, c.id, *request + 1000, How("double_opt_in")).error().code,
            ErrorCode::kNotFound);
  auto confirmed = store_->consents().Confirm(ws_, c.id, *request, How("double_opt_in"));
  ASSERT_OK(confirmed);
  EXPECT_EQ(confirmed->size(), 2u);
  auto again = store_->consents().Confirm(ws_, c.id, *request, How("double_opt_in"));
  ASSERT_OK(again);
  EXPECT_EQ(again->size(), 2u);
  EXPECT_EQ(Ledger(c.id).size(), 4u);  // two requested, two confirmed; the second call wrote nothing
  EXPECT_EQ(CurrentlyGranted(Ledger(c.id)), (std::vector<std::string>{"news", "offers"}));

  Contact d = MakeContact("di@example.com");
  auto late =
      store_->consents().RequestConfirmation(ws_, d.id, {"offers"}, How("form:subscribe"), clock_.Now() + 1h);
  ASSERT_OK(late);
  clock_.Advance(1h);
  EXPECT_EQ(store_->consents().Confirm(ws_, d.id, *late, How("double_opt_in")).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_TRUE(store_->topics().ListSubscriptions(ws_, d.id)->empty());
  // Another contact's request is not this one's.
  EXPECT_EQ(store_->consents().Confirm(ws_, c.id, *late, How("x")).error().code, ErrorCode::kNotFound);
}

TEST_P(Consents, PreferencesAndThePauseAtClaim) {
  Contact c = MakeContact("ed@example.com");
  auto none = store_->consents().Preferences(ws_, c.id);
  ASSERT_OK(none);
  EXPECT_EQ(none->frequency, MailFrequency::kEverything);
  EXPECT_FALSE(none->paused_until);
  auto q = store_->outbox().Enqueue(Message(c.id, std::nullopt, MessageClass::kMarketing));
  ASSERT_OK(q);
  ContactPreferences p;
  p.frequency = MailFrequency::kWeeklyDigest;
  p.paused_until = clock_.Now() + 30 * 24h;
  ASSERT_OK(store_->consents().SetPreferences(ws_, c.id, p, How("preference_center")));
  auto back = store_->consents().Preferences(ws_, c.id);
  EXPECT_EQ(back->frequency, MailFrequency::kWeeklyDigest);
  EXPECT_EQ(back->paused_until, p.paused_until);
  auto claimed = store_->outbox().Claim(MessageClass::kMarketing, 10, "w", clock_.Now(), 30s);
  ASSERT_OK(claimed);
  EXPECT_TRUE(claimed->empty());
  EXPECT_EQ(store_->outbox().Get(ws_, q->message.id)->state, MessageState::kSuppressed);
  // Setting the same again records nothing more.
  auto events_before = store_->events().ListForContact(ws_, c.id, {.limit = 100, .cursor = {}})->items.size();
  ASSERT_OK(store_->consents().SetPreferences(ws_, c.id, p, How("preference_center")));
  EXPECT_EQ(store_->events().ListForContact(ws_, c.id, {.limit = 100, .cursor = {}})->items.size(),
            events_before);
}

// The batch reads of a campaign's send (send::SendService::SendBulk): the same facts as the
// one-contact reads, for many contacts at once, across chunks of the IN list.
TEST_P(Consents, BatchReadsAgreeWithTheOneContactReads) {
  std::vector<ContactId> ids;
  for (int i = 0; i < 150; ++i) {
    Contact c = MakeContact("batch" + std::to_string(i) + "@example.com", json::object{{"n", i}});
    ids.push_back(c.id);
    if (i % 3 == 0)
      ASSERT_OK(
          store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kSubscribed, How("form")));
    if (i % 3 == 1)
      ASSERT_OK(store_->topics().SetSubscription(ws_, c.id, "news", SubscriptionStatus::kUnsubscribed,
                                                 How("form")));
    if (i % 4 == 0) {
      ContactPreferences p;
      p.frequency = i % 8 == 0 ? MailFrequency::kWeeklyDigest : MailFrequency::kEverything;
      p.paused_until = clock_.Now() + (i + 1) * 24h;
      ASSERT_OK(store_->consents().SetPreferences(ws_, c.id, p, How("preference_center")));
    }
  }
  std::vector<ContactId> asked = ids;
  asked.push_back(987654321);  // unknown: absent from every answer
  auto contacts = store_->contacts().GetMany(ws_, asked);
  ASSERT_OK(contacts);
  EXPECT_EQ(contacts->size(), ids.size());
  for (const Contact& c : *contacts) {
    auto one = store_->contacts().Get(ws_, c.id);
    ASSERT_OK(one);
    EXPECT_EQ(c.email, one->email);
    EXPECT_EQ(json::serialize(c.attributes), json::serialize(one->attributes));
  }
  EXPECT_TRUE(store_->contacts().GetMany(ws_ + 1000, ids)->empty());  // another workspace's ids

  auto prefs = store_->consents().PreferencesOf(ws_, asked);
  ASSERT_OK(prefs);
  EXPECT_EQ(prefs->size(), 38u);  // i % 4 == 0 for i < 150
  for (const ContactPreferences& p : *prefs) {
    auto one = store_->consents().Preferences(ws_, p.contact_id);
    ASSERT_OK(one);
    EXPECT_EQ(p.frequency, one->frequency);
    EXPECT_EQ(p.paused_until, one->paused_until);
  }
  auto subs = store_->topics().SubscriptionStatuses(ws_, "news", asked);
  ASSERT_OK(subs);
  EXPECT_EQ(subs->size(), 100u);
  for (const auto& [id, status] : *subs) {
    auto list = store_->topics().ListSubscriptions(ws_, id);
    ASSERT_OK(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(list->front().status, status);
  }
  EXPECT_TRUE(store_->topics().SubscriptionStatuses(ws_, "offers", asked)->empty());
  EXPECT_TRUE(store_->topics().SubscriptionStatuses(ws_, "no-such-topic", asked)->empty());
}

TEST_P(Consents, TheLedgerGoesWithErasureAndMovesWithAMerge) {
  Contact a = MakeContact("fa@example.com");
  Contact b = MakeContact("FB@example.com");
  ASSERT_OK(store_->topics().SetSubscription(ws_, b.id, "news", SubscriptionStatus::kSubscribed, How("api")));
  ContactPreferences p;
  p.paused_until = clock_.Now() + 90 * 24h;
  ASSERT_OK(store_->consents().SetPreferences(ws_, b.id, p, How("preference_center")));
  ASSERT_OK(store_->contacts().Merge(ws_, a.id, b.id));
  EXPECT_EQ(Ledger(a.id).size(), 1u);
  EXPECT_EQ(store_->consents().Preferences(ws_, a.id)->paused_until, p.paused_until);
  ASSERT_OK(store_->contacts().Erase(ws_, a.id));
  EXPECT_TRUE(Ledger(a.id).empty());
  EXPECT_FALSE(store_->consents().Preferences(ws_, a.id)->paused_until);
}

INSTANTIATE_TEST_SUITE_P(Backends, Consents, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
