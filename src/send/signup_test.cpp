// Sign-up, double opt-in and the pause, through the send service against a real SQLite store and
// a fake clock: the confirmation link expires on the clock, the ledger records every step, and
// the mail rule holds back what it must.
#include "send/signup.h"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>

#include "mail/header.h"
#include "send/testing/send_fixture.h"
#include "tracking/preference_center.h"

namespace rapport::send {
namespace {

class SignupTest : public testing::SendFixture {
 protected:
  void SetUp() override {
    OpenStore();
    AddTopic("news", "News");
    AddTopic("offers", "Offers", /*double_opt_in=*/true);
    AddTemplate("promo", "Sale", "<p>Sale</p><a href=\"{{ preferences_url }}\">Preferences</a>");
    auto ring = tracking::KeyRing::Create({tracking::SigningKey{1, std::string(32, 'k'), {}, {}, {}}});
    ASSERT_TRUE(ring.ok());
    links_.emplace(std::move(*ring), clock_);
    StartService();
    signup_.emplace(*store_, clock_, *links_, *service_);
  }

  SignupRequest Request(std::vector<std::string> topics, std::string email = "ada@example.com") {
    SignupRequest r;
    r.email = std::move(email);
    r.topics = std::move(topics);
    r.locale = "fr";
    r.consent.ip = "203.0.113.0";
    r.consent.user_agent = "test";
    r.consent.text_version = "form-3";
    return r;
  }
  // The token of the confirmation mail's link, read from the queued message.
  std::string ConfirmToken(MessageId id) {
    auto m = store_->outbox().Get(ws_, id);
    EXPECT_TRUE(m.ok());
    std::string mime = m->mime;
    // Quoted-printable may fold the link: undo soft breaks before looking.
    std::string flat;
    for (size_t i = 0; i < mime.size(); ++i) {
      if (mime.compare(i, 3, "=\r\n") == 0) {
        i += 2;
        continue;
      }
      flat.push_back(mime[i]);
    }
    size_t at = flat.find("/confirm/");
    EXPECT_NE(at, std::string::npos) << flat;
    if (at == std::string::npos) return {};
    size_t end = at + 9;  // the token is base64url
    while (end < flat.size() &&
           (std::isalnum(static_cast<unsigned char>(flat[end])) || flat[end] == '-' || flat[end] == '_'))
      ++end;
    return flat.substr(at + 9, end - at - 9);
  }
  bool Subscribed(ContactId id, std::string_view topic) {
    auto subs = store_->topics().ListSubscriptions(ws_, id);
    for (const Subscription& s : *subs)
      if (s.topic_key == topic) return s.status == SubscriptionStatus::kSubscribed;
    return false;
  }
  Result<SendOutcome> Promo(ContactId id, std::string topic) {
    SendRequest r;
    r.template_name = "promo";
    r.contact_id = id;
    r.message_class = MessageClass::kMarketing;
    r.topic = std::move(topic);
    return service_->Send(ws_, std::move(r));
  }

  std::optional<Signup> signup_;
};

TEST_F(SignupTest, ATopicWithoutDoubleOptInIsSubscribedAtOnceWithItsConsent) {
  auto out = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->subscribed, std::vector<std::string>{"news"});
  EXPECT_FALSE(out->confirmation_message);
  EXPECT_TRUE(Subscribed(out->contact_id, "news"));
  auto ledger = store_->consents().List(ws_, out->contact_id);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].action, ConsentAction::kGranted);
  EXPECT_EQ((*ledger)[0].consent.source, "form:subscribe");
  EXPECT_EQ((*ledger)[0].consent.text_version, "form-3");
  EXPECT_EQ((*ledger)[0].consent.ip, "203.0.113.0");
}

TEST_F(SignupTest, DoubleOptInWaitsForTheLinkAndMarketingWaitsWithIt) {
  auto out = signup_->Subscribe(ws_, Request({"offers"}));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->pending, std::vector<std::string>{"offers"});
  ASSERT_TRUE(out->confirmation_message);
  EXPECT_FALSE(Subscribed(out->contact_id, "offers"));
  auto refused = Promo(out->contact_id, "offers");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kSuppressed);

  auto mail = store_->outbox().Get(ws_, *out->confirmation_message);
  ASSERT_TRUE(mail.ok());
  EXPECT_EQ(mail->message_class, MessageClass::kTransactional);
  EXPECT_NE(mail->subject.find("Confirmez"), std::string::npos);  // the contact's locale
  std::string token = ConfirmToken(*out->confirmation_message);

  clock_.Advance(std::chrono::hours(24 * 6));
  Consent how;
  how.ip = "198.51.100.0";
  auto confirmed = signup_->Confirm(token, how);
  ASSERT_TRUE(confirmed.ok()) << confirmed.error().message;
  ASSERT_EQ(confirmed->subscriptions.size(), 1u);
  EXPECT_TRUE(Subscribed(out->contact_id, "offers"));
  EXPECT_TRUE(Promo(out->contact_id, "offers").ok());
  // Twice changes nothing.
  ASSERT_TRUE(signup_->Confirm(token, how).ok());
  auto ledger = store_->consents().List(ws_, out->contact_id);
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].action, ConsentAction::kRequested);
  EXPECT_EQ((*ledger)[1].action, ConsentAction::kConfirmed);
  EXPECT_EQ((*ledger)[1].consent.source, "double_opt_in");
  EXPECT_EQ((*ledger)[1].consent.ip, "198.51.100.0");
  EXPECT_EQ((*ledger)[1].request_id, (*ledger)[0].request_id);
}

// Someone who unsubscribed from all marketing signs up again by the form: nothing changes until
// the confirmation link is followed (even for a topic without double opt-in, and one still
// marked subscribed), then the contact is mailable again under the confirmed topics.
TEST_F(SignupTest, AnUnsubscribedContactComesBackOnlyByConfirming) {
  auto first = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(first.ok());
  ContactId ada = first->contact_id;
  ContactInput unsubscribe;
  unsubscribe.status = ContactStatus::kUnsubscribed;
  ASSERT_TRUE(store_->contacts().Update(ws_, ada, unsubscribe).ok());
  ASSERT_EQ(Promo(ada, "news").error().code, ErrorCode::kSuppressed);

  auto again = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->subscribed.empty());
  EXPECT_EQ(again->pending, std::vector<std::string>{"news"});
  ASSERT_TRUE(again->confirmation_message);
  EXPECT_EQ(store_->contacts().Get(ws_, ada)->status, ContactStatus::kUnsubscribed);
  EXPECT_EQ(Promo(ada, "news").error().code, ErrorCode::kSuppressed);

  auto confirmed = signup_->Confirm(ConfirmToken(*again->confirmation_message), Consent{});
  ASSERT_TRUE(confirmed.ok()) << confirmed.error().message;
  EXPECT_EQ(confirmed->contact.status, ContactStatus::kActive);
  EXPECT_TRUE(Promo(ada, "news").ok());
  // A bounced address is not brought back by a form.
  ContactInput bounce;
  bounce.status = ContactStatus::kBounced;
  ASSERT_TRUE(store_->contacts().Update(ws_, ada, bounce).ok());
  auto bounced = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(bounced.ok());
  EXPECT_EQ(store_->contacts().Get(ws_, ada)->status, ContactStatus::kBounced);
}

TEST_F(SignupTest, TheConfirmationLinkExpiresOnTheClock) {
  auto out = signup_->Subscribe(ws_, Request({"offers"}));
  ASSERT_TRUE(out.ok());
  std::string token = ConfirmToken(*out->confirmation_message);
  clock_.Advance(std::chrono::hours(24 * 7));
  auto late = signup_->Confirm(token, {});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(Subscribed(out->contact_id, "offers"));
  // A new sign-up gets a new link that works.
  auto again = signup_->Subscribe(ws_, Request({"offers"}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(signup_->Confirm(ConfirmToken(*again->confirmation_message), {}).ok());
  EXPECT_TRUE(Subscribed(out->contact_id, "offers"));
}

TEST_F(SignupTest, AnErasedAddressNeedsFreshConsent) {
  auto out = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(store_->contacts().Erase(ws_, out->contact_id).ok());
  auto dropped = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped->dropped);
  SignupRequest fresh = Request({"news"});
  fresh.reconsent = true;
  auto back = signup_->Subscribe(ws_, fresh);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(back->dropped);
  EXPECT_NE(back->contact_id, out->contact_id);
  EXPECT_TRUE(Subscribed(back->contact_id, "news"));
}

TEST_F(SignupTest, UnknownTopicsAndAddressesAreRefused) {
  EXPECT_EQ(signup_->Subscribe(ws_, Request({"nope"})).error().field, "topics");
  EXPECT_EQ(signup_->Subscribe(ws_, Request({})).error().field, "topics");
  EXPECT_EQ(signup_->Subscribe(ws_, Request({"news"}, "not an address")).error().field, "email");
}

TEST_F(SignupTest, APauseHoldsBackMarketingUntilItEnds) {
  auto out = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(out.ok());
  tracking::PreferenceChoice choice;
  choice.topics = {"news"};
  choice.pause_days = 30;
  Consent how;
  how.source = "preference_center";
  auto applied = tracking::ApplyPreferences(*store_, ws_, out->contact_id, choice, how, clock_.Now());
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(applied->preferences_changed);
  auto held = Promo(out->contact_id, "news");
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error().code, ErrorCode::kSuppressed);
  EXPECT_NE(held.error().message.find("paused"), std::string::npos);
  // Transactional mail still goes.
  SendRequest receipt;
  receipt.template_name = "promo";
  receipt.contact_id = out->contact_id;
  EXPECT_TRUE(service_->Send(ws_, receipt).ok());
  clock_.Advance(std::chrono::hours(24 * 30));
  EXPECT_TRUE(Promo(out->contact_id, "news").ok());
}

TEST_F(SignupTest, APausedMessageAlreadyQueuedIsSuppressedAtClaim) {
  auto out = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(Promo(out->contact_id, "news").ok());
  ContactPreferences prefs;
  prefs.paused_until = clock_.Now() + std::chrono::hours(24 * 90);
  ASSERT_TRUE(store_->consents().SetPreferences(ws_, out->contact_id, prefs, {}).ok());
  auto claimed =
      store_->outbox().Claim(MessageClass::kMarketing, 10, "node/1", clock_.Now(), std::chrono::minutes(5));
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_TRUE(claimed->empty());
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kSuppressed), 1);
}

TEST_F(SignupTest, ThePreferenceCenterRecordsEachChangeInTheLedger) {
  auto out = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(out.ok());
  tracking::PreferenceChoice choice;
  choice.topics = {"offers"};  // leave news, join offers (no confirmation: the link proves the address)
  choice.frequency = MailFrequency::kWeeklyDigest;
  choice.first_name = "Ada";
  choice.locale = "en";
  choice.timezone = "Europe/London";
  Consent how;
  how.source = "preference_center";
  how.text_version = "preferences-1.fr";
  auto applied = tracking::ApplyPreferences(*store_, ws_, out->contact_id, choice, how, clock_.Now());
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(applied->joined, std::vector<std::string>{"offers"});
  EXPECT_EQ(applied->left, std::vector<std::string>{"news"});
  EXPECT_TRUE(applied->profile_changed);
  auto ledger = store_->consents().List(ws_, out->contact_id);
  ASSERT_EQ(ledger->size(), 3u);
  EXPECT_EQ(CurrentlyGranted(*ledger), std::vector<std::string>{"offers"});
  auto prefs = store_->consents().Preferences(ws_, out->contact_id);
  EXPECT_EQ(prefs->frequency, MailFrequency::kWeeklyDigest);
  auto c = store_->contacts().Get(ws_, out->contact_id);
  EXPECT_EQ(c->locale, "en");
  EXPECT_EQ(c->timezone, "Europe/London");
  // Every change is an event on the timeline.
  auto events = store_->events().ListForContact(ws_, out->contact_id, {});
  std::vector<std::string> names;
  for (const Event& e : events->items) names.push_back(e.name);
  for (std::string_view want :
       {"topic.subscribed", "topic.unsubscribed", "contact.preferences_changed", "contact.updated"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

TEST_F(SignupTest, AnUnsubscribeIsAWithdrawalInTheLedger) {
  auto out = signup_->Subscribe(ws_, Request({"news"}));
  ASSERT_TRUE(out.ok());
  ContactInput patch;
  patch.status = ContactStatus::kUnsubscribed;
  json::object origin{{"via", "unsubscribe_link"}, {"method", "one-click"}, {"ip", "192.0.2.0"}};
  ASSERT_TRUE(store_->contacts().Update(ws_, out->contact_id, patch, origin).ok());
  auto ledger = store_->consents().List(ws_, out->contact_id);
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[1].action, ConsentAction::kWithdrawn);
  EXPECT_EQ((*ledger)[1].topic_key, "");
  EXPECT_EQ((*ledger)[1].consent.source, "unsubscribe_link:one-click");
  EXPECT_EQ((*ledger)[1].consent.ip, "192.0.2.0");
  EXPECT_TRUE(CurrentlyGranted(*ledger).empty());
}

}  // namespace
}  // namespace rapport::send
