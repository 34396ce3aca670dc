#include "delivery/inbound/smtp_session.h"

#include <gtest/gtest.h>

namespace rapport::delivery {
namespace {

std::string Code(const InboundSmtpSession::Step& s) { return s.reply.substr(0, 3); }

TEST(InboundSmtpSession, AWholeTransaction) {
  InboundSmtpSession s("mx.test", /*tls_available=*/true, 1000);
  EXPECT_EQ(s.Greeting(), "220 mx.test ESMTP rapport\r\n");
  auto ehlo = s.OnLine("EHLO client.test");
  EXPECT_NE(ehlo.reply.find("250-STARTTLS"), std::string::npos) << ehlo.reply;
  EXPECT_NE(ehlo.reply.find("250-SIZE 1000"), std::string::npos);
  EXPECT_EQ(Code(s.OnLine("MAIL FROM:<>")), "250");
  EXPECT_EQ(Code(s.OnLine("RCPT TO:<bounces+1-2-abc@shop.test>")), "250");
  EXPECT_EQ(Code(s.OnLine("DATA")), "354");
  EXPECT_TRUE(s.OnLine("Subject: x").reply.empty());
  EXPECT_TRUE(s.OnLine("").reply.empty());
  EXPECT_TRUE(s.OnLine("..leading dot").reply.empty());
  auto end = s.OnLine(".");
  ASSERT_TRUE(end.message.has_value());
  EXPECT_EQ(end.message->mail_from, "");
  EXPECT_EQ(end.message->rcpt_to, std::vector<std::string>{"bounces+1-2-abc@shop.test"});
  EXPECT_EQ(end.message->data, "Subject: x\r\n\r\n.leading dot\r\n");
  // A second message on the same connection.
  EXPECT_EQ(Code(s.OnLine("MAIL FROM:<a@b>")), "250");
  auto quit = s.OnLine("QUIT");
  EXPECT_EQ(Code(quit), "221");
  EXPECT_TRUE(quit.close);
}

TEST(InboundSmtpSession, OrderSyntaxAndLimits) {
  InboundSmtpSession s("mx.test", false, 20);
  EXPECT_EQ(Code(s.OnLine("MAIL FROM:<a@b>")), "503");
  EXPECT_EQ(Code(s.OnLine("STARTTLS")), "502");  // not offered
  s.OnLine("HELO c");
  EXPECT_EQ(Code(s.OnLine("RCPT TO:<a@b>")), "503");
  EXPECT_EQ(Code(s.OnLine("MAIL FROM:a@b")), "501");
  EXPECT_EQ(Code(s.OnLine("MAIL FROM:<a@b>")), "250");
  EXPECT_EQ(Code(s.OnLine("DATA")), "503");
  EXPECT_EQ(Code(s.OnLine("RCPT TO:<x@y>")), "250");
  EXPECT_EQ(Code(s.OnLine("DATA")), "354");
  s.OnLine("0123456789012345678901234567890");  // over 20 bytes
  auto end = s.OnLine(".");
  EXPECT_FALSE(end.message.has_value());
  EXPECT_EQ(Code(end), "552");
  EXPECT_EQ(Code(s.OnLine(std::string(1200, 'x'))), "500");
  EXPECT_EQ(Code(s.OnLine("VRFY x")), "502");
}

TEST(InboundSmtpSession, StartTlsStartsOverAndTooManyErrorsClose) {
  InboundSmtpSession s("mx.test", true, 100);
  EXPECT_EQ(Code(s.OnLine("STARTTLS")), "503");  // EHLO first
  s.OnLine("EHLO c");
  auto tls = s.OnLine("STARTTLS");
  EXPECT_EQ(Code(tls), "220");
  EXPECT_TRUE(tls.start_tls);
  s.TlsStarted();
  EXPECT_EQ(Code(s.OnLine("MAIL FROM:<a@b>")), "503");  // EHLO again after TLS
  auto ehlo = s.OnLine("EHLO c");
  EXPECT_EQ(ehlo.reply.find("STARTTLS"), std::string::npos);
  InboundSmtpSession bad("mx.test", false, 100);
  InboundSmtpSession::Step last;
  for (int i = 0; i < 10; ++i) last = bad.OnLine("WHAT");
  EXPECT_TRUE(last.close);
  EXPECT_EQ(Code(last), "421");
}

}  // namespace
}  // namespace rapport::delivery
