// The send service's sender rules (core/sender.h) against a real SQLite store: the named sender,
// else the workspace's default, else the configured one; marketing refused without a DKIM key
// for the sender's domain or without a postal address; the postal address in the footer and
// the `sender` template variables; bulk sends the same; CheckSender, the rule alone.
#include <gtest/gtest.h>

#include <optional>

#include "mail/mailbox.h"
#include "send/send_service.h"
#include "send/testing/send_fixture.h"

namespace rapport::send {
namespace {

constexpr const char* kPostal = "Shop Ltd, 1 Main St, Springfield";

class SenderIdentityTest : public testing::SendFixture {
 protected:
  void SetUp() override {
    OpenStore();
    AddTemplate("news", "From {{ sender.name }} <{{ sender.email }}>",
                "<html><body><p>Hi</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></body></html>");
    SendOptions options = DefaultOptions();
    options.sender.from = *mail::ParseMailbox("from", "Configured <hello@configured.example>");
    options.dkim_domains = {"shop.example"};
    StartService(std::move(options));
    ContactInput in;
    in.email = "ada@example.com";
    ada_ = store_->contacts().Create(ws_, in)->id;
  }
  SenderIdentity AddSender(std::string email, std::string postal = kPostal) {
    SenderIdentity s;
    s.workspace_id = ws_;
    s.name = "Shop News";
    s.email = std::move(email);
    s.reply_to_email = "help@shop.example";
    s.postal_address = std::move(postal);
    auto r = store_->senders().Create(s);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
  }
  SendRequest Marketing(std::optional<int64_t> sender = std::nullopt) {
    SendRequest r;
    r.template_name = "news";
    r.contact_id = ada_;
    r.message_class = MessageClass::kMarketing;
    r.sender_id = sender;
    return r;
  }

  ContactId ada_ = 0;
};

TEST_F(SenderIdentityTest, WithoutSendersTheConfiguredSenderIsUsedUnchecked) {
  auto sent = service_->Send(ws_, Marketing());
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->message.mail_from, "hello@configured.example");
  EXPECT_EQ(sent->message.subject, "From Configured <hello@configured.example>");
  EXPECT_NE(sent->message.mime.find("From: Configured <hello@configured.example>\r\n"), std::string::npos);
}

TEST_F(SenderIdentityTest, TheDefaultSenderGivesFromReplyToVariablesAndTheFooter) {
  SenderIdentity news = AddSender("news@shop.example");
  auto sent = service_->Send(ws_, Marketing());
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  const std::string& mime = sent->message.mime;
  EXPECT_EQ(sent->message.subject, "From Shop News <news@shop.example>");
  EXPECT_NE(mime.find("From: Shop News <news@shop.example>\r\n"), std::string::npos) << mime;
  EXPECT_NE(mime.find("Reply-To: help@shop.example\r\n"), std::string::npos) << mime;
  EXPECT_EQ(sent->message.mail_from, "news@shop.example");
  EXPECT_NE(mime.find(kPostal), std::string::npos);
  // Named explicitly: the same.
  auto named = service_->Send(ws_, Marketing(news.id));
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_NE(named->message.mime.find("From: Shop News <news@shop.example>\r\n"), std::string::npos);
}

TEST_F(SenderIdentityTest, TransactionalMailGetsNoPostalFooter) {
  AddSender("news@shop.example");
  SendRequest r = Marketing();
  r.message_class = MessageClass::kTransactional;
  auto sent = service_->Send(ws_, r);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->message.mime.find(kPostal), std::string::npos);
}

TEST_F(SenderIdentityTest, MarketingFromADomainWithoutDkimIsRefusedTransactionalIsNot) {
  AddSender("news@shop.example");
  SenderIdentity other = AddSender("hi@other.example");
  auto refused = service_->Send(ws_, Marketing(other.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(refused.error().field, "from");
  EXPECT_NE(refused.error().message.find("rapport._domainkey.other.example"), std::string::npos);
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kQueued), 0);
  SendRequest r = Marketing(other.id);
  r.message_class = MessageClass::kTransactional;
  auto sent = service_->Send(ws_, r);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_NE(sent->message.mime.find("From: Shop News <hi@other.example>\r\n"), std::string::npos);
  // A subdomain is signed with its parent's key (the keyring's rule): allowed.
  SenderIdentity sub = AddSender("hi@news.shop.example");
  EXPECT_TRUE(service_->Send(ws_, Marketing(sub.id)).ok());
}

TEST_F(SenderIdentityTest, MarketingNeedsAPostalAddressAndAnUnknownSenderIsInvalid) {
  SenderIdentity bare = AddSender("bare@shop.example", "");
  auto refused = service_->Send(ws_, Marketing(bare.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "from");
  EXPECT_NE(refused.error().message.find("postal address"), std::string::npos);
  auto unknown = service_->Send(ws_, Marketing(bare.id + 100));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(unknown.error().field, "from");
}

TEST_F(SenderIdentityTest, CheckSenderAppliesTheSendRuleAndSendsNothing) {
  SenderIdentity news = AddSender("news@shop.example");
  SenderIdentity other = AddSender("hi@other.example");
  EXPECT_TRUE(service_->CheckSender(ws_, news.id, MessageClass::kMarketing).ok());
  EXPECT_TRUE(service_->CheckSender(ws_, std::nullopt, MessageClass::kMarketing).ok());  // the default
  Status unknown = service_->CheckSender(ws_, other.id + 100, MessageClass::kMarketing);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(unknown.error().field, "from");
  EXPECT_NE(unknown.error().message.find(std::to_string(other.id + 100)), std::string::npos)
      << unknown.error().message;
  Status no_dkim = service_->CheckSender(ws_, other.id, MessageClass::kMarketing);
  ASSERT_FALSE(no_dkim.ok());
  EXPECT_EQ(no_dkim.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(no_dkim.error().field, "from");
  EXPECT_NE(no_dkim.error().message.find("rapport._domainkey.other.example"), std::string::npos)
      << no_dkim.error().message;
  // Transactional mail needs no DKIM key of the sender's domain.
  EXPECT_TRUE(service_->CheckSender(ws_, other.id, MessageClass::kTransactional).ok());
  EXPECT_EQ(*store_->outbox().CountByState(MessageState::kQueued), 0);
}

TEST_F(SenderIdentityTest, BulkSendsUseTheNamedSenderAndItsRules) {
  AddSender("news@shop.example");
  SenderIdentity other = AddSender("hi@other.example");
  BulkSend bulk;
  bulk.template_name = "news";
  bulk.recipients.push_back({ada_, {}, std::nullopt});
  bulk.sender_id = other.id;
  auto refused = service_->SendBulk(ws_, bulk);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "from");
  bulk.sender_id.reset();
  auto sent = service_->SendBulk(ws_, bulk);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_EQ(sent->size(), 1u);
  ASSERT_TRUE((*sent)[0].ok()) << (*sent)[0].error().message;
  EXPECT_NE((*sent)[0]->message.mime.find("From: Shop News <news@shop.example>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace rapport::send
