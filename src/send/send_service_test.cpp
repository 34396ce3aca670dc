// The send service against a real SQLite store (a fresh file per test) and a fake clock.
#include "send/send_service.h"

#include <gtest/gtest.h>

#include <optional>

#include "mail/header.h"
#include "send/testing/send_fixture.h"

namespace rapport::send {
namespace {

class SendServiceTest : public testing::SendFixture {
 protected:
  void SetUp() override {
    OpenStore();
    AddTemplate("welcome", "Welcome, {{ contact.first_name | default: 'friend' }}",
                "<p>Hello {{ data.code }}</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>");
    AddTopic("news", "News");
    SendOptions options = DefaultOptions();
    options.on_queued = [this](MessageClass) { ++woken_; };
    StartService(std::move(options));
  }
  ContactId AddContact(const std::string& email, ContactStatus status = ContactStatus::kActive) {
    ContactInput in;
    in.email = email;
    EXPECT_TRUE(ValidateContactInput(in).ok());
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (status != ContactStatus::kActive) {
      ContactInput patch;
      patch.status = status;
      EXPECT_TRUE(store_->contacts().Update(ws_, c->id, patch).ok());
    }
    return c->id;
  }
  void Subscribe(ContactId id, SubscriptionStatus status) {
    Consent consent;
    consent.source = "test";
    consent.at = clock_.Now();
    ASSERT_TRUE(store_->topics().SetSubscription(ws_, id, "news", status, consent).ok());
  }
  SendRequest To(ContactId id, MessageClass c = MessageClass::kTransactional) {
    SendRequest r;
    r.template_name = "welcome";
    r.contact_id = id;
    r.message_class = c;
    r.data = boost::json::object{{"code", "W-1"}};
    return r;
  }
  int64_t Queued() { return *store_->outbox().CountByState(MessageState::kQueued); }

  int woken_ = 0;
};

TEST_F(SendServiceTest, QueuesTheRenderedMessageAndWakesTheWorker) {
  ContactId ada = AddContact("ada@example.com");
  auto sent = service_->Send(ws_, To(ada));
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_FALSE(sent->replayed);
  EXPECT_EQ(sent->message.state, MessageState::kQueued);
  EXPECT_EQ(sent->message.rcpt_to, "ada@example.com");
  EXPECT_EQ(sent->message.subject, "Welcome, friend");
  EXPECT_NE(sent->message.mime.find("Hello W-1"), std::string::npos);
  EXPECT_NE(sent->message.mime.find("https://mail.shop.example/u/"), std::string::npos);
  EXPECT_EQ(woken_, 1);
  EXPECT_EQ(Queued(), 1);
}

TEST_F(SendServiceTest, CreatesAContactNamedByAnUnknownEmail) {
  SendRequest r = To(0);
  r.contact_id.reset();
  r.contact.email = "new@example.com";
  auto sent = service_->Send(ws_, r);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  auto c = store_->contacts().GetByEmail(ws_, "new@example.com");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(sent->message.contact_id, c->id);
}

TEST_F(SendServiceTest, RefusesWhatTheMailRuleRefusesAndQueuesNothing) {
  ContactId gone = AddContact("gone@example.com", ContactStatus::kUnsubscribed);
  auto marketing = service_->Send(ws_, To(gone, MessageClass::kMarketing));
  ASSERT_FALSE(marketing.ok());
  EXPECT_EQ(marketing.error().code, ErrorCode::kSuppressed);
  EXPECT_EQ(marketing.error().field, "contact");
  EXPECT_EQ(Queued(), 0);
  EXPECT_EQ(woken_, 0);
  // Transactional mail still reaches an unsubscribed contact.
  EXPECT_TRUE(service_->Send(ws_, To(gone)).ok());
}

TEST_F(SendServiceTest, MarketingUnderATopicNeedsTheContactsSubscription) {
  ContactId ada = AddContact("ada@example.com");
  SendRequest r = To(ada, MessageClass::kMarketing);
  r.topic = "news";
  auto none = service_->Send(ws_, r);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kSuppressed);
  Subscribe(ada, SubscriptionStatus::kSubscribed);
  EXPECT_TRUE(service_->Send(ws_, r).ok());
  Subscribe(ada, SubscriptionStatus::kUnsubscribed);
  auto after = service_->Send(ws_, r);
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.error().message.find("unsubscribed from topic 'news'"), std::string::npos);
  r.topic = "nope";
  EXPECT_EQ(service_->Send(ws_, r).error().field, "topic");
}

TEST_F(SendServiceTest, ARetriedKeyReplaysTheFirstMessageAndAnotherUseConflicts) {
  ContactId ada = AddContact("ada@example.com");
  SendRequest r = To(ada);
  r.idempotency_key = "order-1";
  auto first = service_->Send(ws_, r);
  ASSERT_TRUE(first.ok());
  auto again = service_->Send(ws_, r);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->message.id, first->message.id);
  EXPECT_EQ(Queued(), 1);
  r.contact_id = AddContact("bob@example.com");
  auto other = service_->Send(ws_, r);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kConflict);
}

TEST_F(SendServiceTest, RefusesHeadersWithLineBreaksOrThatRapportSets) {
  ContactId ada = AddContact("ada@example.com");
  SendRequest r = To(ada);
  r.headers = {{"X-Order", "A-1\r\nBcc: evil@example.com"}};
  auto crlf = service_->Send(ws_, r);
  ASSERT_FALSE(crlf.ok());
  EXPECT_EQ(crlf.error().field, "headers.X-Order");
  r.headers = {{"From", "evil@example.com"}};
  EXPECT_EQ(service_->Send(ws_, r).error().field, "headers.From");
  EXPECT_EQ(Queued(), 0);
}

TEST_F(SendServiceTest, BulkQueuesEveryMayMailRecipientInOneCallAndReportsTheRest) {
  ContactId a = AddContact("a@example.com");
  ContactId b = AddContact("b@example.com");
  ContactId gone = AddContact("gone@example.com", ContactStatus::kBounced);
  for (ContactId id : {a, b, gone}) Subscribe(id, SubscriptionStatus::kSubscribed);
  BulkSend bulk;
  bulk.template_name = "welcome";
  bulk.topic = "news";
  bulk.data = boost::json::object{{"code", "shared"}};
  bulk.recipients = {{a, {}, "c1:a"},
                     {gone, {}, "c1:gone"},
                     {b, boost::json::object{{"code", "B"}}, "c1:b"},
                     {999999, {}, "c1:x"}};
  auto out = service_->SendBulk(ws_, bulk);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), 4u);
  ASSERT_TRUE((*out)[0].ok());
  EXPECT_NE((*out)[0]->message.mime.find("Hello shared"), std::string::npos);
  EXPECT_EQ((*out)[1].error().code, ErrorCode::kSuppressed);
  ASSERT_TRUE((*out)[2].ok());
  EXPECT_NE((*out)[2]->message.mime.find("Hello B"), std::string::npos);
  EXPECT_EQ((*out)[3].error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Queued(), 2);
  EXPECT_EQ(woken_, 1);
  // Run again (a resumed campaign): the keys replay, nothing is queued twice.
  auto again = service_->SendBulk(ws_, bulk);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0]->replayed);
  EXPECT_TRUE((*again)[2]->replayed);
  EXPECT_EQ(Queued(), 2);
}

// SendBulk reads each chunk's contacts, preferences and subscriptions in one read each: every
// recipient must still be decided exactly as Send() decides it alone (the same contact twice,
// a pause, an unsubscribed or missing subscription, a bounced or unknown contact), across more
// than one chunk of recipients.
TEST_F(SendServiceTest, BulkDecidesEachRecipientAsSendDoesAlone) {
  std::vector<ContactId> ids;
  for (int i = 0; i < 700; ++i) {
    ContactStatus status = i % 50 == 7 ? ContactStatus::kBounced : ContactStatus::kActive;
    ContactId id = AddContact("r" + std::to_string(i) + "@example.com", status);
    if (i % 5 != 3)
      Subscribe(id, i % 11 == 4 ? SubscriptionStatus::kUnsubscribed : SubscriptionStatus::kSubscribed);
    if (i % 13 == 6) {
      ContactPreferences p;
      p.paused_until = clock_.Now() + std::chrono::hours(24 * 30);
      Consent origin;
      origin.source = "test";
      origin.at = clock_.Now();
      ASSERT_TRUE(store_->consents().SetPreferences(ws_, id, p, origin).ok());
    }
    ids.push_back(id);
  }
  ids.push_back(ids[10]);  // named twice: the second is a replay of nothing, its own key
  ids.push_back(424242);   // unknown
  BulkSend bulk;
  bulk.template_name = "welcome";
  bulk.topic = "news";
  bulk.message_class = MessageClass::kMarketing;
  for (size_t i = 0; i < ids.size(); ++i)
    bulk.recipients.push_back({ids[i], {}, "bulk:" + std::to_string(i)});
  // Alone first, each under its own key, then cancelled so the governor does not count them.
  std::vector<std::optional<ErrorCode>> alone;
  for (size_t i = 0; i < ids.size(); ++i) {
    SendRequest r = To(ids[i], MessageClass::kMarketing);
    r.topic = "news";
    r.idempotency_key = "alone:" + std::to_string(i);
    auto one = service_->Send(ws_, r);
    alone.push_back(one.ok() ? std::nullopt : std::optional<ErrorCode>(one.error().code));
    if (one.ok()) ASSERT_TRUE(store_->outbox().Cancel(ws_, one->message.id).ok());
  }
  auto out = service_->SendBulk(ws_, bulk);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), ids.size());
  int queued = 0, refused = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& r = (*out)[i];
    std::optional<ErrorCode> bulk_code = r.ok() ? std::nullopt : std::optional<ErrorCode>(r.error().code);
    EXPECT_EQ(bulk_code, alone[i]) << "recipient " << i << (r.ok() ? "" : ": " + r.error().message);
    if (r.ok()) {
      ++queued;
      EXPECT_EQ(r->message.contact_id, ids[i]);
    } else {
      ++refused;
    }
  }
  EXPECT_GT(queued, 400);
  EXPECT_GT(refused, 150);
  EXPECT_EQ((*out)[ids.size() - 1].error().code, ErrorCode::kNotFound);
}

// SendMany (POST /api/v1/messages/batch): each request answered in order by Send's rules; the
// good ones are queued together, a key used twice in one batch queues once and replays.
TEST_F(SendServiceTest, ManyAnswersEachRequestInOrderAndQueuesTheGoodOnesTogether) {
  ContactId ada = AddContact("ada@example.com");
  ContactId gone = AddContact("gone@example.com", ContactStatus::kUnsubscribed);
  std::vector<SendRequest> batch;
  batch.push_back(To(ada));
  batch.back().idempotency_key = "order-7";
  batch.push_back(To(ada));
  batch.back().template_name = "no-such-template";
  batch.push_back(To(gone, MessageClass::kMarketing));
  batch.push_back(To(ada));
  batch.back().headers = {{"X-Order", "A-1\r\nBcc: evil@example.com"}};
  SendRequest by_email = To(0);
  by_email.contact_id.reset();
  by_email.contact.email = "new@example.com";
  batch.push_back(by_email);
  batch.push_back(To(ada));
  batch.back().idempotency_key = "order-7";  // the same key again, in the same batch
  auto out = service_->SendMany(ws_, batch);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), 6u);
  ASSERT_TRUE((*out)[0].ok());
  EXPECT_FALSE((*out)[0]->replayed);
  EXPECT_EQ((*out)[1].error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*out)[2].error().code, ErrorCode::kSuppressed);
  EXPECT_EQ((*out)[3].error().field, "headers.X-Order");
  ASSERT_TRUE((*out)[4].ok()) << (*out)[4].error().message;
  EXPECT_EQ((*out)[4]->message.rcpt_to, "new@example.com");
  ASSERT_TRUE((*out)[5].ok());
  EXPECT_TRUE((*out)[5]->replayed);
  EXPECT_EQ((*out)[5]->message.id, (*out)[0]->message.id);
  EXPECT_EQ(Queued(), 2);
  EXPECT_EQ(woken_, 1);
  // The key used for another contact conflicts, in a batch as in a single send.
  std::vector<SendRequest> other{To(gone)};
  other[0].idempotency_key = "order-7";
  auto conflict = service_->SendMany(ws_, other);
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ((*conflict)[0].error().code, ErrorCode::kConflict);
  EXPECT_EQ(Queued(), 2);
}

// Tracked mail: links rewritten to click tokens that name the message, the targets kept with the
// message in the store (what the click endpoint reads), the pixel; tracking off for a template,
// a topic and a contact leaves the HTML as written.
TEST_F(SendServiceTest, TracksLinksAndKeepsTheirTargetsWithTheMessage) {
  MessageTemplate t;
  t.workspace_id = ws_;
  t.name = "promo";
  t.subject = "Promo";
  t.html =
      "<p><a href=\"https://shop.example/a?x=1&amp;y=2\">A</a> <a href=\"{{ view_in_browser_url "
      "}}\">web</a></p>";
  ASSERT_TRUE(store_->templates().Create(t).ok());
  ContactId ada = AddContact("ada@example.com");
  SendRequest r = To(ada);
  r.template_name = "promo";
  auto sent = service_->Send(ws_, r);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  // The body as text whatever its transfer encoding (7bit or quoted-printable for this HTML).
  auto unqp = [](std::string m) {
    for (size_t p; (p = m.find("=\r\n")) != std::string::npos;) m.erase(p, 3);
    for (size_t p; (p = m.find("=3D")) != std::string::npos;) m.replace(p, 3, "=");
    return m;
  };
  const std::string mime = unqp(sent->message.mime);
  EXPECT_NE(mime.find("https://mail.shop.example/c/"), std::string::npos);
  EXPECT_NE(mime.find("https://mail.shop.example/o/"), std::string::npos);
  EXPECT_NE(mime.find("https://mail.shop.example/v/"), std::string::npos);
  // The click token names the message's tracking key and the link's index; the store has the target.
  size_t at = mime.find("https://mail.shop.example/c/");
  std::string token = mime.substr(at + 28, mime.find('"', at) - at - 28);
  auto claims = links_->Verify(token, tracking::LinkKind::kClick);
  ASSERT_TRUE(claims.ok()) << token;
  EXPECT_EQ(claims->contact_id, ada);
  EXPECT_EQ(claims->link_index, 0);
  auto tracked = store_->tracking().FindByKey(ws_, claims->message_key);
  ASSERT_TRUE(tracked.ok()) << tracked.error().message;
  EXPECT_EQ(tracked->message_id, sent->message.id);
  EXPECT_EQ(tracked->contact_id, ada);
  EXPECT_EQ(tracked->links, std::vector<std::string>{"https://shop.example/a?x=1&y=2"});
  auto html = store_->tracking().ViewHtml(ws_, claims->message_key);  // the web view's copy
  ASSERT_TRUE(html.ok()) << html.error().message;
  EXPECT_NE(html->find("/c/"), std::string::npos);
  EXPECT_EQ(html->find("/o/"), std::string::npos);
  EXPECT_EQ(store_->tracking().FindByKey(ws_ + 1, claims->message_key).error().code, ErrorCode::kNotFound);

  // Tracking off: per template, per topic, per contact.
  auto untracked = [&](const SendRequest& req) {
    auto out = service_->Send(ws_, req);
    EXPECT_TRUE(out.ok()) << out.error().message;
    if (!out.ok()) return false;
    const std::string m = unqp(out->message.mime);
    return m.find("mail.shop.example/c/") == std::string::npos &&
           m.find("mail.shop.example/o/") == std::string::npos &&
           m.find("https://shop.example/a?x=1&amp;y=2") != std::string::npos;
  };
  t.name = "quiet";
  t.tracking = false;
  ASSERT_TRUE(store_->templates().Create(t).ok());
  SendRequest quiet = To(ada);
  quiet.template_name = "quiet";
  EXPECT_TRUE(untracked(quiet));
  Topic secret;
  secret.workspace_id = ws_;
  secret.key = "secret";
  secret.name = "Secret";
  secret.tracking = false;
  ASSERT_TRUE(store_->topics().Create(ws_, secret).ok());
  SendRequest under_topic = To(ada);
  under_topic.template_name = "promo";
  under_topic.topic = "secret";
  EXPECT_TRUE(untracked(under_topic));
  ContactInput bob;
  bob.email = "bob@example.com";
  bob.attributes = boost::json::object{{"tracking", false}};
  ASSERT_TRUE(ValidateContactInput(bob).ok());
  ContactId bob_id = store_->contacts().Create(ws_, bob)->id;
  SendRequest to_bob = To(bob_id);
  to_bob.template_name = "promo";
  EXPECT_TRUE(untracked(to_bob));
}

}  // namespace
}  // namespace rapport::send
