// The SMTP client against tests/smtp/scripted_server.py (python3-aiosmtpd) on loopback:
// per-recipient failures, 421, stalls, a connection dropped after DATA, STARTTLS, implicit TLS,
// AUTH, HELO fallback, SIZE.
#include <gtest/gtest.h>

#include "delivery/smtp/smtp_transport.h"
#include "delivery/testing/smtp_servers.h"

namespace rapport::delivery {
namespace {

using namespace testing;

std::string Message(std::string_view rcpt, std::string_view body = "hello\r\n") {
  return "From: a@example.com\r\nTo: " + std::string(rcpt) + "\r\nSubject: t\r\n\r\n" + std::string(body);
}

OutgoingMessage To(std::vector<std::string> rcpts, std::string body = "hello\r\n") {
  OutgoingMessage m;
  m.envelope.mail_from = "bounce@example.com";
  m.envelope.rcpt_to = std::move(rcpts);
  m.data = Message(m.envelope.rcpt_to[0], body);
  return m;
}

SmtpTransport Client(const std::string& url) {
  auto c = ParseSmtpUrl(url);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return SmtpTransport(c.value());
}

std::vector<std::string> LogLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(path));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

size_t Count(const std::vector<std::string>& lines, std::string_view needle) {
  size_t n = 0;
  for (const auto& l : lines) n += l.find(needle) != std::string::npos;
  return n;
}

struct Scripted : ::testing::Test {
  TempDir dir;
  ScriptedServer server;
  std::string log() const { return dir.path() + "/log"; }
  std::string out() const { return dir.path(); }
  void Start(std::vector<std::string> options = {}) {
    options.insert(options.end(), {"--log", log(), "--out", out()});
    ASSERT_TRUE(server.Start(options)) << server.error;
  }
  std::string Url(std::string scheme = "smtp", std::string extra = "") const {
    return scheme + "://" + extra + "127.0.0.1:" + std::to_string(server.port);
  }
};

TEST_F(Scripted, EachRecipientGetsItsOwnReply) {
  Start();
  auto t = Client(Url() + "?pool=1&command_timeout=10");
  std::vector<OutgoingMessage> batch = {
      To({"ok1@example.org", "t451@example.org", "p550@example.org", "t452full@example.org"}),
      To({"ok2@example.org"})};
  auto r = t.Send(batch);
  ASSERT_EQ(r[0].recipients.size(), 4u);
  EXPECT_EQ(r[0].recipients[0].code, 250);
  EXPECT_EQ(r[0].recipients[0].enhanced_code, "2.0.0");
  EXPECT_EQ(r[0].recipients[1].code, 451);
  EXPECT_EQ(r[0].recipients[1].enhanced_code, "4.3.0");
  EXPECT_EQ(r[0].recipients[2].code, 550);
  EXPECT_EQ(r[0].recipients[2].enhanced_code, "5.1.1");
  EXPECT_EQ(r[0].recipients[2].text, "no such user here");
  EXPECT_EQ(r[0].recipients[3].code, 452);
  EXPECT_EQ(r[0].recipients[3].enhanced_code, "4.2.2");
  EXPECT_EQ(r[1].recipients[0].code, 250);
  EXPECT_EQ(t.stats().pipelined, 2);
  auto lines = LogLines(log());
  EXPECT_EQ(Count(lines, " DATA "), 2u);
  EXPECT_NE(ReadFile(out() + "/1.eml").find("X-Envelope-To: ok1@example.org\r\n"), std::string::npos);
  EXPECT_EQ(ReadFile(out() + "/1.eml").find("t451"), ReadFile(out() + "/1.eml").find("To: t451"));
}

TEST_F(Scripted, RsetAfterAFailedTransactionOnAReusedConnection) {
  Start();
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> batch = {To({"p550@example.org"}), To({"ok@example.org"}),
                                        To({"ok2@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 550);
  EXPECT_EQ(r[1].recipients[0].code, 250);
  EXPECT_EQ(r[2].recipients[0].code, 250);
  auto lines = LogLines(log());
  EXPECT_EQ(Count(lines, " RSET"), 1u);   // only after the failure
  EXPECT_EQ(Count(lines, " EHLO "), 1u);  // one session
}

TEST_F(Scripted, A421MidTransactionClosesTheConnection) {
  Start();
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> batch = {To({"ok@example.org", "c421@example.org", "ok3@example.org"}),
                                        To({"ok4@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 421) << r[0].recipients[0].text;  // accepted, then aborted
  EXPECT_EQ(r[0].recipients[1].code, 421);
  EXPECT_EQ(r[0].recipients[2].code, 421);
  EXPECT_EQ(r[1].recipients[0].code, 250) << r[1].recipients[0].text;
  EXPECT_EQ(t.stats().connections_opened, 2);
}

TEST_F(Scripted, AStalledReplyTimesOut) {
  Start({"--stall", "5"});
  auto t = Client(Url() + "?pool=1&command_timeout=1");
  std::vector<OutgoingMessage> batch = {To({"stall@example.org"}), To({"ok@example.org"})};
  auto start = std::chrono::steady_clock::now();
  auto r = t.Send(batch);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r[0].recipients[0].code, 0);
  EXPECT_NE(r[0].recipients[0].text.find("timeout"), std::string::npos) << r[0].recipients[0].text;
  EXPECT_EQ(r[1].recipients[0].code, 250) << r[1].recipients[0].text;  // on a new connection
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST_F(Scripted, ConnectionDroppedAfterDataIsNotSent) {
  Start();
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> batch = {To({"dropdata@example.org"}), To({"ok@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 0);
  EXPECT_NE(r[0].recipients[0].text.find("end of data"), std::string::npos) << r[0].recipients[0].text;
  EXPECT_EQ(r[1].recipients[0].code, 250);
}

TEST_F(Scripted, DataRejectedAfterRecipientsAccepted) {
  Start();
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> batch = {To({"d554@example.org", "p550@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 554);
  EXPECT_EQ(r[0].recipients[0].enhanced_code, "5.6.0");
  EXPECT_EQ(r[0].recipients[1].code, 550);
}

TEST_F(Scripted, StartTlsThenAuthPlainAndLogin) {
  std::string cert, key;
  ASSERT_TRUE(MakeSelfSignedCert(dir.path(), cert, key)) << "openssl req failed";
  Start({"--tls-cert", cert, "--tls-key", key, "--auth", "alice:s3cret"});
  for (std::string mech : {"plain", "login"}) {
    auto t = Client(Url("smtp", "alice:s3cret@") + "?tls=required&ca_file=" + cert + "&auth=" + mech);
    std::vector<OutgoingMessage> batch = {To({"ok@example.org"}, "caf\xc3\xa9\r\n")};
    auto r = t.Send(batch);
    EXPECT_EQ(r[0].recipients[0].code, 250) << mech << ": " << r[0].recipients[0].text;
    EXPECT_EQ(t.stats().tls_sessions, 1);
  }
  auto lines = LogLines(log());
  EXPECT_EQ(Count(lines, "tls AUTH PLAIN ok"), 1u);
  EXPECT_EQ(Count(lines, "tls AUTH LOGIN ok"), 1u);
  EXPECT_EQ(Count(lines, "tls MAIL bounce@example.com SIZE="), 2u);
  EXPECT_EQ(Count(lines, "BODY=8BITMIME"), 2u);
  EXPECT_EQ(Count(lines, "plain MAIL"), 0u);

  auto bad = Client(Url("smtp", "alice:wrong@") + "?ca_file=" + cert);
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"})};
  auto r = bad.Send(batch);
  // The server's reply to AUTH, recorded as it is (issue 14 item 6).
  EXPECT_EQ(r[0].recipients[0].code, 535) << r[0].recipients[0].text;
  EXPECT_EQ(r[0].recipients[0].enhanced_code, "5.7.8");
  EXPECT_EQ(r[0].recipients[0].step, SmtpStep::kAuth);

  // Verification is on by default: an unknown self-signed certificate fails the handshake.
  auto untrusted = Client(Url("smtp", "alice:s3cret@") + "?tls=required");
  r = untrusted.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 0);
  EXPECT_NE(r[0].recipients[0].text.find("TLS handshake"), std::string::npos) << r[0].recipients[0].text;
}

TEST_F(Scripted, TlsRequiredButNotOffered) {
  Start();
  auto t = Client(Url() + "?tls=required");
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 0);
  EXPECT_NE(r[0].recipients[0].text.find("TLS required"), std::string::npos);
  EXPECT_EQ(Count(LogLines(log()), " MAIL"), 0u);
}

TEST_F(Scripted, ImplicitTls) {
  std::string cert, key;
  ASSERT_TRUE(MakeSelfSignedCert(dir.path(), cert, key));
  Start({"--tls-cert", cert, "--tls-key", key, "--implicit-tls"});
  auto t = Client(Url("smtps") + "?ca_file=" + cert);
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"}), To({"ok2@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 250) << r[0].recipients[0].text;
  EXPECT_EQ(r[1].recipients[0].code, 250);
  EXPECT_EQ(Count(LogLines(log()), "tls MAIL"), 2u);
}

TEST_F(Scripted, HeloFallbackWithoutExtensions) {
  Start({"--no-ehlo"});
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> batch = {To({"ok@example.org", "p550@example.org"}), To({"ok2@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 250) << r[0].recipients[0].text;
  EXPECT_EQ(r[0].recipients[1].code, 550);
  EXPECT_EQ(r[1].recipients[0].code, 250);
  EXPECT_EQ(t.stats().pipelined, 0);
  EXPECT_EQ(Count(LogLines(log()), " HELO "), 1u);
}

TEST_F(Scripted, MessageOverTheAdvertisedSizeIsRefusedLocally) {
  Start({"--size", "1000"});
  auto t = Client(Url());
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"}, std::string(2000, 'x') + "\r\n"),
                                        To({"ok2@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 552);
  EXPECT_EQ(r[0].recipients[0].enhanced_code, "5.3.4");
  EXPECT_EQ(r[1].recipients[0].code, 250);
  EXPECT_EQ(Count(LogLines(log()), " MAIL"), 1u);
}

TEST_F(Scripted, IdleConnectionClosedByTheServerIsRetriedOnAFreshOne) {
  Start();
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> one = {To({"ok@example.org"})};
  ASSERT_EQ(t.Send(one)[0].recipients[0].code, 250);
  // The server goes away and comes back on the same port: the pooled connection is dead.
  int port = server.port;
  server.process.Stop();
  ScriptedServer again;
  ASSERT_TRUE(again.Start({"--port", std::to_string(port), "--log", log()})) << again.error;
  auto r = t.Send(one);
  EXPECT_EQ(r[0].recipients[0].code, 250) << r[0].recipients[0].text;
  EXPECT_EQ(t.stats().connections_opened, 2);
}

TEST_F(Scripted, InternationalizedAddressesNeedSmtpUtf8) {
  Start({"--smtputf8"});
  auto t = Client(Url());
  std::vector<OutgoingMessage> batch = {To({"j\xc3\xb6rg@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 250) << r[0].recipients[0].text;
  EXPECT_EQ(Count(LogLines(log()), "SMTPUTF8"), 1u);

  ScriptedServer plain;
  ASSERT_TRUE(plain.Start({})) << plain.error;
  auto t2 = Client("smtp://127.0.0.1:" + std::to_string(plain.port));
  r = t2.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 553);
  EXPECT_EQ(r[0].recipients[0].enhanced_code, "5.6.7");
}

TEST_F(Scripted, MaxMessagesPerConnectionAndQuitOnClose) {
  Start();
  {
    auto t = Client(Url() + "?pool=1&max_messages=2");
    std::vector<OutgoingMessage> batch = {To({"ok1@example.org"}), To({"ok2@example.org"}),
                                          To({"ok3@example.org"}), To({"ok4@example.org"}),
                                          To({"ok5@example.org"})};
    for (const auto& r : t.Send(batch)) EXPECT_EQ(r.recipients[0].code, 250) << r.recipients[0].text;
    EXPECT_EQ(t.stats().connections_opened, 3);
    EXPECT_EQ(t.idle_connections(), 1u);
  }  // the destructor QUITs the pooled connection
  auto lines = LogLines(log());
  EXPECT_EQ(Count(lines, " QUIT"), 3u);
  EXPECT_EQ(Count(lines, " EHLO "), 3u);
}

// ---- Issue 14 item 3: credentials never cross the wire in clear ----------------------------

TEST_F(Scripted, Issue14NoAuthCommandWhenTheServerOffersAuthButNoStartTls) {
  Start({"--auth", "alice:s3cret", "--auth-without-tls"});
  for (std::string options : {"", "?tls=opportunistic", "?tls=none", "?auth=login", "?auth=plain"}) {
    auto t = Client(Url("smtp", "alice:s3cret@") + options);
    std::vector<OutgoingMessage> batch = {To({"ok@example.org"}), To({"ok2@example.org"})};
    auto r = t.Send(batch);
    for (const auto& result : r) {
      EXPECT_EQ(result.recipients[0].code, 0) << options << ": " << result.recipients[0].text;
      EXPECT_EQ(result.recipients[0].step, SmtpStep::kAuth) << options;
      EXPECT_NE(result.recipients[0].text.find("without TLS"), std::string::npos)
          << result.recipients[0].text;
      EXPECT_EQ(result.recipients[0].text.find("s3cret"), std::string::npos);
    }
  }
  auto lines = LogLines(log());
  EXPECT_GE(Count(lines, " EHLO "), 5u);  // the server was asked, and offered AUTH in clear
  EXPECT_EQ(Count(lines, "AUTH"), 0u);    // but never saw an AUTH command
  EXPECT_EQ(Count(lines, " MAIL "), 0u);
}

TEST_F(Scripted, Issue14NoAuthCommandWhenStartTlsIsRefused) {
  std::string cert, key;
  ASSERT_TRUE(MakeSelfSignedCert(dir.path(), cert, key));
  Start({"--tls-cert", cert, "--tls-key", key, "--auth", "alice:s3cret", "--auth-without-tls", "--reply",
         "starttls=454 4.7.0 TLS not available due to temporary reason"});
  auto t = Client(Url("smtp", "alice:s3cret@") + "?ca_file=" + cert);
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 0) << r[0].recipients[0].text;
  EXPECT_EQ(r[0].recipients[0].step, SmtpStep::kAuth);
  auto lines = LogLines(log());
  EXPECT_EQ(Count(lines, " STARTTLS"), 1u);
  EXPECT_EQ(Count(lines, "AUTH"), 0u);
}

TEST_F(Scripted, Issue14AuthInClearOnlyWhenTheUrlAllowsIt) {
  Start({"--auth", "alice:s3cret", "--auth-without-tls"});
  auto t = Client(Url("smtp", "alice:s3cret@") + "?allow_plaintext_auth=true");
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 250) << r[0].recipients[0].text;
  auto lines = LogLines(log());
  EXPECT_EQ(Count(lines, "plain AUTH-COMMAND PLAIN"), 1u);
  EXPECT_EQ(Count(lines, "plain AUTH PLAIN ok"), 1u);
}

// ---- Issue 14 item 6: every reply is recorded as what it is, whatever the step ---------------

struct StepCase {
  std::vector<std::string> server;  // scripted server options
  std::string rcpt;
  int code;
  std::string enhanced;
  std::string text;  // a part of the reply's text
  SmtpStep step;
  std::string url_options = "";
};

void ExpectRecorded(const SendResult& r, const StepCase& c) {
  SCOPED_TRACE(std::string(SmtpStepName(c.step)));
  ASSERT_EQ(r.recipients.size(), 1u);
  const RecipientOutcome& o = r.recipients[0];
  EXPECT_EQ(o.code, c.code) << o.text;
  EXPECT_EQ(o.enhanced_code, c.enhanced) << o.text;
  EXPECT_NE(o.text.find(c.text), std::string::npos) << o.text;
  EXPECT_EQ(SmtpStepName(o.step), SmtpStepName(c.step));
}

TEST(ScriptedSteps, Issue14EveryReplyIsRecordedWithItsCodeWhateverTheStep) {
  const std::vector<StepCase> cases = {
      {{"--reply", "greeting=421 4.7.0 too busy, try later"},
       "ok@example.org",
       421,
       "4.7.0",
       "too busy",
       SmtpStep::kGreeting},
      {{"--reply", "greeting=554 5.7.1 your IP is on our block list"},
       "ok@example.org",
       554,
       "5.7.1",
       "block list",
       SmtpStep::kGreeting},
      {{"--reply", "ehlo=421 4.3.2 shutting down"},
       "ok@example.org",
       421,
       "4.3.2",
       "shutting down",
       SmtpStep::kEhlo},
      {{"--reply", "ehlo=502 5.5.1 no EHLO", "--reply", "helo=554 5.7.1 not you"},
       "ok@example.org",
       554,
       "5.7.1",
       "not you",
       SmtpStep::kEhlo},
      {{"--reply", "mail=451 4.3.0 sender check failed"},
       "ok@example.org",
       451,
       "4.3.0",
       "sender check",
       SmtpStep::kMailFrom},
      {{"--reply", "mail=553 5.1.8 sender domain does not exist"},
       "ok@example.org",
       553,
       "5.1.8",
       "sender domain",
       SmtpStep::kMailFrom},
      {{}, "p550@example.org", 550, "5.1.1", "no such user", SmtpStep::kRcptTo},
      {{}, "t451@example.org", 451, "4.3.0", "temporary failure", SmtpStep::kRcptTo},
      {{"--reply", "data=554 5.5.1 no valid recipients"},
       "ok@example.org",
       554,
       "5.5.1",
       "no valid",
       SmtpStep::kData},
      {{"--reply", "data=451 4.3.0 queue full"},
       "ok@example.org",
       451,
       "4.3.0",
       "queue full",
       SmtpStep::kData,
       "?pool=1"},
      {{}, "d554@example.org", 554, "5.6.0", "content rejected", SmtpStep::kEndOfData},
      {{}, "ok@example.org", 250, "2.0.0", "queued as", SmtpStep::kEndOfData},
  };
  for (const StepCase& c : cases) {
    for (bool pipelining : {true, false}) {
      SCOPED_TRACE(pipelining ? "pipelined" : "one command per round trip");
      TempDir dir;
      ScriptedServer server;
      std::vector<std::string> options = c.server;
      options.insert(options.end(), {"--log", dir.path() + "/log"});
      if (!pipelining) options.push_back("--no-pipelining");
      ASSERT_TRUE(server.Start(options)) << server.error;
      auto cfg = ParseSmtpUrl("smtp://127.0.0.1:" + std::to_string(server.port) + c.url_options);
      ASSERT_TRUE(cfg.ok());
      SmtpTransport t(*cfg);
      std::vector<OutgoingMessage> batch = {To({c.rcpt})};
      ExpectRecorded(t.Send(batch)[0], c);
    }
  }
}

TEST_F(Scripted, Issue14StartTlsAndAuthRepliesAreRecorded) {
  std::string cert, key;
  ASSERT_TRUE(MakeSelfSignedCert(dir.path(), cert, key));
  {
    ScriptedServer tls_refused;
    ASSERT_TRUE(tls_refused.Start(
        {"--tls-cert", cert, "--tls-key", key, "--reply", "starttls=454 4.7.0 TLS not available"}))
        << tls_refused.error;
    auto t = Client("smtp://127.0.0.1:" + std::to_string(tls_refused.port) + "?tls=required&ca_file=" + cert);
    std::vector<OutgoingMessage> batch = {To({"ok@example.org"})};
    ExpectRecorded(t.Send(batch)[0], {{}, "", 454, "4.7.0", "TLS not available", SmtpStep::kStartTls});
  }
  Start({"--tls-cert", cert, "--tls-key", key, "--auth", "alice:s3cret", "--reply",
         "auth=454 4.7.0 temporary authentication failure"});
  auto t = Client(Url("smtp", "alice:s3cret@") + "?ca_file=" + cert);
  std::vector<OutgoingMessage> batch = {To({"ok@example.org"})};
  ExpectRecorded(t.Send(batch)[0], {{}, "", 454, "4.7.0", "temporary authentication", SmtpStep::kAuth});
}

TEST_F(Scripted, Issue14ARsetReplyIsRecorded) {
  Start({"--reply", "rset=421 4.7.0 closing after a failure"});
  auto t = Client(Url() + "?pool=1");
  std::vector<OutgoingMessage> batch = {To({"p550@example.org"}), To({"ok@example.org"})};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 550);
  ExpectRecorded(r[1], {{}, "", 421, "4.7.0", "closing after", SmtpStep::kRset});
}

}  // namespace
}  // namespace rapport::delivery
