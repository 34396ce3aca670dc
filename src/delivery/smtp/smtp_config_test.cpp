#include "delivery/smtp/smtp_config.h"

#include <gtest/gtest.h>

#include "delivery/maildir/maildir_transport.h"
#include "delivery/transport_registry.h"

namespace rapport::delivery {
namespace {

TEST(SmtpConfig, FullUrl) {
  auto c = ParseSmtpUrl("smtp://us%40er:p%3Ass@mail.example.com:587?tls=required&pool=20&command_timeout=5");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "mail.example.com");
  EXPECT_EQ(c->port, 587);
  EXPECT_EQ(c->user, "us@er");
  EXPECT_EQ(c->password, "p:ss");
  EXPECT_EQ(c->tls, TlsMode::kRequired);
  EXPECT_EQ(c->pool_size, 20);
  EXPECT_EQ(c->command_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->Describe(), "smtp://mail.example.com:587");
}

TEST(SmtpConfig, DefaultsAndSmtps) {
  auto c = ParseSmtpUrl("smtp://relay");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 25);
  EXPECT_EQ(c->tls, TlsMode::kOpportunistic);
  auto s = ParseSmtpUrl("smtps://relay");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->port, 465);
  EXPECT_EQ(s->tls, TlsMode::kImplicit);
  auto v6 = ParseSmtpUrl("smtp://[::1]:2525");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 2525);
}

TEST(SmtpConfig, Rejects) {
  EXPECT_FALSE(ParseSmtpUrl("http://x").ok());
  EXPECT_FALSE(ParseSmtpUrl("smtp://").ok());
  EXPECT_FALSE(ParseSmtpUrl("smtp://h:99999").ok());
  EXPECT_FALSE(ParseSmtpUrl("smtp://h?tls=maybe").ok());
  EXPECT_FALSE(ParseSmtpUrl("smtps://h?tls=none").ok());
  EXPECT_FALSE(ParseSmtpUrl("smtp://h?bogus=1").ok());
  EXPECT_FALSE(ParseSmtpUrl("smtp://u:p%4@h").ok());
  auto e = ParseSmtpUrl("smtp://h?pool=0");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "url");
}

TEST(TransportRegistry, KnowsWhatWasRegisteredExplicitly) {
  TransportRegistry empty;
  EXPECT_TRUE(empty.Schemes().empty());
  EXPECT_FALSE(empty.Create("smtp://127.0.0.1:2525").ok());  // nothing registers itself

  TransportRegistry registry;
  RegisterBuiltinTransports(registry);
  auto schemes = registry.Schemes();
  for (const char* s : {"maildir", "smtp", "smtps"}) {
    EXPECT_NE(std::find(schemes.begin(), schemes.end(), s), schemes.end()) << s;
  }
  auto t = registry.Create("SMTP://user:secret@127.0.0.1:2525");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ((*t)->Describe(), "smtp://127.0.0.1:2525");  // no credentials
  EXPECT_FALSE(registry.Create("carrier-pigeon://x").ok());
  EXPECT_FALSE(registry.Create("nocolon").ok());
  EXPECT_FALSE(registry.Create("maildir:").ok());

  TransportRegistry only_maildir;
  RegisterMaildirTransport(only_maildir);
  EXPECT_FALSE(only_maildir.Create("smtp://127.0.0.1:2525").ok());
}

// Issue 14 item 3: a malformed smtp_url never shows its password in the error.
TEST(SmtpConfig, Issue14ErrorsNeverQuoteTheUrl) {
  TransportRegistry registry;
  RegisterBuiltinTransports(registry);
  for (std::string url : {
           "smtp://alice:hunter2?x@relay",  // '?' in the password: the query starts there
           "smtp://alice:hunter2@relay:2x5",
           "smtp://alice:hunter2@relay?hunter2=1",
           "smtp://alice:hunter2@relay?pool=hunter2",
           "smtp://alice:hunter2@relay?tls_verify=hunter2",
           "smtp://alice:hunter2%zz@relay",
           "smtp://alice:hunter2@[relay",
           "smtps://alice:hunter2@relay?tls=none",
           "hunter2://alice:hunter2@relay",
           "smtp:hunter2://x@relay",
       }) {
    auto parsed = ParseSmtpUrl(url);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().message.find("hunter2"), std::string::npos) << parsed.error().message;
      EXPECT_EQ(parsed.error().field, "url");
    }
    auto created = registry.Create(url);
    ASSERT_FALSE(created.ok()) << "parsed: " << url;
    EXPECT_EQ(created.error().message.find("hunter2"), std::string::npos) << created.error().message;
  }
}

TEST(SmtpConfig, AllowPlaintextAuthIsExplicit) {
  EXPECT_FALSE(ParseSmtpUrl("smtp://u:p@relay")->allow_plaintext_auth);
  EXPECT_TRUE(ParseSmtpUrl("smtp://u:p@relay?allow_plaintext_auth=true")->allow_plaintext_auth);
  EXPECT_FALSE(ParseSmtpUrl("smtp://u:p@relay?allow_plaintext_auth=maybe").ok());
}

}  // namespace
}  // namespace rapport::delivery
