#include "delivery/smtp/smtp_config.h"

#include <gtest/gtest.h>

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

TEST(TransportRegistry, KnowsItsSchemes) {
  auto schemes = TransportRegistry::Global().Schemes();
  for (const char* s : {"maildir", "smtp", "smtps"}) {
    EXPECT_NE(std::find(schemes.begin(), schemes.end(), s), schemes.end()) << s;
  }
  auto t = CreateTransport("SMTP://user:secret@127.0.0.1:2525");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ((*t)->Describe(), "smtp://127.0.0.1:2525");  // no credentials
  EXPECT_FALSE(CreateTransport("carrier-pigeon://x").ok());
  EXPECT_FALSE(CreateTransport("nocolon").ok());
  EXPECT_FALSE(CreateTransport("maildir:").ok());
}

}  // namespace
}  // namespace rapport::delivery
