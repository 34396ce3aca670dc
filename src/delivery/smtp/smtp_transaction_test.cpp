// The transaction machine without a socket: commands out, replies in, outcomes filled.
#include "delivery/smtp/smtp_transaction.h"

#include <gtest/gtest.h>

namespace rapport::delivery {
namespace {

using Kind = SmtpTransaction::Action::Kind;

SmtpReply Reply(int code, std::string text = "", std::string enhanced = "") {
  SmtpReply r;
  r.code = code;
  r.lines = {std::move(text)};
  r.enhanced_code = std::move(enhanced);
  return r;
}

SmtpCapabilities Caps(bool pipelining) {
  SmtpCapabilities c;
  c.esmtp = true;
  c.pipelining = pipelining;
  c.size = true;
  return c;
}

Envelope Env(std::vector<std::string> rcpts) { return Envelope{"bounce@example.com", std::move(rcpts)}; }

TEST(SmtpTransaction, PipelinedSendsEverythingAtOnceAndReadsEachReply) {
  Envelope env = Env({"a@example.org", "b@example.org"});
  std::vector<RecipientOutcome> out;
  SmtpTransaction tx(env, 100, false, Caps(true), false, out);
  auto a = tx.Begin();
  ASSERT_EQ(a.kind, Kind::kSend);
  EXPECT_EQ(
      a.commands,
      "MAIL FROM:<bounce@example.com> SIZE=100\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
      "DATA\r\n");
  EXPECT_EQ(tx.OnReply(Reply(250)).kind, Kind::kRead);
  EXPECT_EQ(tx.OnReply(Reply(250, "ok", "2.1.5")).kind, Kind::kRead);
  EXPECT_EQ(tx.step(), SmtpStep::kRcptTo);
  EXPECT_EQ(tx.OnReply(Reply(550, "no such user", "5.1.1")).kind, Kind::kRead);
  EXPECT_EQ(tx.OnReply(Reply(354)).kind, Kind::kSendData);
  EXPECT_EQ(tx.step(), SmtpStep::kEndOfData);
  EXPECT_EQ(tx.OnReply(Reply(250, "queued", "2.0.0")).kind, Kind::kDone);
  EXPECT_FALSE(tx.needs_rset());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].code, 250);
  EXPECT_EQ(out[0].text, "queued");
  EXPECT_EQ(out[0].step, SmtpStep::kEndOfData);
  EXPECT_EQ(out[1].code, 550);
  EXPECT_EQ(out[1].enhanced_code, "5.1.1");
  EXPECT_EQ(out[1].step, SmtpStep::kRcptTo);
  EXPECT_EQ(out[1].rcpt, "b@example.org");
}

TEST(SmtpTransaction, WithoutPipeliningOneCommandPerReplyAndStopsEarly) {
  Envelope env = Env({"a@example.org", "b@example.org"});
  std::vector<RecipientOutcome> out;
  SmtpTransaction refused_mail(env, 10, true, Caps(false), true, out);
  auto a = refused_mail.Begin();
  EXPECT_EQ(a.commands, "RSET\r\n");
  a = refused_mail.OnReply(Reply(250));
  EXPECT_EQ(a.commands, "MAIL FROM:<bounce@example.com> SIZE=10\r\n");  // no 8BITMIME: not offered
  a = refused_mail.OnReply(Reply(550, "sender rejected", "5.7.1"));
  EXPECT_EQ(a.kind, Kind::kDone);  // no RCPT after a refused MAIL
  EXPECT_TRUE(refused_mail.needs_rset());
  for (const auto& o : out) {
    EXPECT_EQ(o.code, 550);
    EXPECT_EQ(o.step, SmtpStep::kMailFrom);
  }

  SmtpTransaction none_accepted(env, 10, false, Caps(false), false, out);
  a = none_accepted.Begin();
  a = none_accepted.OnReply(Reply(250));
  EXPECT_EQ(a.commands, "RCPT TO:<a@example.org>\r\n");
  a = none_accepted.OnReply(Reply(550, "", "5.1.1"));
  EXPECT_EQ(a.commands, "RCPT TO:<b@example.org>\r\n");
  a = none_accepted.OnReply(Reply(451, "", "4.3.0"));
  EXPECT_EQ(a.kind, Kind::kDone);  // no DATA without a recipient
  EXPECT_TRUE(none_accepted.needs_rset());
  EXPECT_EQ(out[1].code, 451);
}

TEST(SmtpTransaction, PipelinedDataOpenedWithNothingToDeliverEndsEmpty) {
  Envelope env = Env({"a@example.org"});
  std::vector<RecipientOutcome> out;
  SmtpTransaction tx(env, 10, false, Caps(true), false, out);
  tx.Begin();
  tx.OnReply(Reply(250));
  tx.OnReply(Reply(550, "", "5.1.1"));
  EXPECT_EQ(tx.OnReply(Reply(354)).kind, Kind::kEndEmpty);
  EXPECT_EQ(tx.OnReply(Reply(554, "no valid recipients")).kind, Kind::kDone);
  EXPECT_TRUE(tx.needs_rset());
  EXPECT_EQ(out[0].code, 550);  // the RCPT reply stays the answer
}

TEST(SmtpTransaction, A421AbortsAndTheAcceptedRecipientsGetItToo) {
  Envelope env = Env({"a@example.org", "b@example.org", "c@example.org"});
  std::vector<RecipientOutcome> out;
  SmtpTransaction tx(env, 10, false, Caps(true), false, out);
  tx.Begin();
  tx.OnReply(Reply(250));
  tx.OnReply(Reply(250));
  EXPECT_EQ(tx.OnReply(Reply(421, "closing", "4.7.0")).kind, Kind::kClose);
  for (const auto& o : out) {
    EXPECT_EQ(o.code, 421);
    EXPECT_EQ(o.step, SmtpStep::kRcptTo);
  }
  SmtpTransaction rset(env, 10, false, Caps(true), true, out);
  EXPECT_EQ(rset.Begin().commands.rfind("RSET\r\nMAIL FROM:", 0), 0u);
  EXPECT_EQ(rset.OnReply(Reply(421, "bye", "4.3.2")).kind, Kind::kClose);
  EXPECT_EQ(out[0].step, SmtpStep::kRset);
  EXPECT_EQ(out[2].enhanced_code, "4.3.2");
}

TEST(SmtpTransaction, RefusedDataAndLostConnections) {
  Envelope env = Env({"a@example.org", "b@example.org"});
  std::vector<RecipientOutcome> out;
  SmtpTransaction tx(env, 10, false, Caps(true), false, out);
  tx.Begin();
  tx.OnReply(Reply(250));
  tx.OnReply(Reply(250));
  tx.OnReply(Reply(550, "", "5.1.1"));
  EXPECT_EQ(tx.OnReply(Reply(451, "queue full", "4.3.0")).kind, Kind::kDone);
  EXPECT_EQ(out[0].code, 451);
  EXPECT_EQ(out[0].step, SmtpStep::kData);
  EXPECT_EQ(out[1].code, 550);

  SmtpTransaction lost(env, 10, false, Caps(true), false, out);
  lost.Begin();
  EXPECT_FALSE(lost.got_reply());
  lost.OnReply(Reply(250));
  lost.OnReply(Reply(250));
  lost.OnReply(Reply(550, "", "5.1.1"));
  lost.OnReply(Reply(354));
  lost.OnConnectionLost("connection closed by server reading reply to end of data");
  EXPECT_EQ(out[0].code, 0);  // accepted, then no answer to the data: not delivered
  EXPECT_EQ(out[0].step, SmtpStep::kEndOfData);
  EXPECT_EQ(out[1].code, 550);
}

TEST(SmtpTransaction, LocalRejectionsAndChaining) {
  SmtpCapabilities caps = Caps(true);
  caps.size_limit = 50;
  OutgoingMessage m{Env({"a@example.org"}), std::string(60, 'x')};
  auto big = LocalRejection(m, caps);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->code, 552);
  EXPECT_EQ(big->enhanced_code, "5.3.4");
  EXPECT_EQ(big->step, SmtpStep::kLocal);
  m.data = "short";
  EXPECT_FALSE(LocalRejection(m, caps));
  m.envelope.rcpt_to = {"a b@example.org"};
  EXPECT_EQ(LocalRejection(m, caps)->enhanced_code, "5.1.3");
  m.envelope.rcpt_to = {"a@example.org"};
  m.envelope.mail_from = "bad>sender@example.com";
  EXPECT_EQ(LocalRejection(m, caps)->enhanced_code, "5.1.7");  // the sender's, not the recipient's
  m.envelope.mail_from = "bounce@example.com";
  m.envelope.rcpt_to = {"j\xc3\xb6rg@example.org"};
  EXPECT_EQ(LocalRejection(m, caps)->enhanced_code, "5.6.7");
  caps.smtputf8 = true;
  EXPECT_FALSE(LocalRejection(m, caps));

  EXPECT_TRUE(MayChain(Caps(true), 5, 0));
  EXPECT_TRUE(MayChain(Caps(true), 1, 2));
  EXPECT_FALSE(MayChain(Caps(true), 2, 2));
  EXPECT_FALSE(MayChain(Caps(false), 1, 0));
  std::string cmds;
  caps.eight_bit_mime = true;
  AppendTransactionCommands(m.envelope, 7, true, caps, cmds);
  EXPECT_EQ(
      cmds,
      "MAIL FROM:<bounce@example.com> SIZE=7 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@example.org>\r\n"
      "DATA\r\n");
}

}  // namespace
}  // namespace rapport::delivery
