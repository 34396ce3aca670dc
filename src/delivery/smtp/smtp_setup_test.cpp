// The session setup machine without a socket: replies in, commands and decisions out.
#include "delivery/smtp/smtp_setup.h"

#include <gtest/gtest.h>

namespace rapport::delivery {
namespace {

using Kind = SmtpSetup::Action::Kind;

SmtpReply Reply(int code, std::vector<std::string> lines, std::string enhanced = "") {
  SmtpReply r;
  r.code = code;
  r.lines = std::move(lines);
  r.enhanced_code = std::move(enhanced);
  return r;
}
SmtpReply Ehlo(std::vector<std::string> keywords) {
  keywords.insert(keywords.begin(), "mx.example.org");
  return Reply(250, keywords);
}

// Drives a setup through `replies`, collecting every command; returns the last action.
struct Run {
  std::vector<std::string> commands;
  SmtpSetup::Action last;
  bool handshook = false;
};
Run Drive(SmtpSetup& setup, const std::vector<SmtpReply>& replies) {
  Run run;
  run.last = setup.Start();
  size_t next = 0;
  for (;;) {
    if (run.last.kind == Kind::kSend) run.commands.push_back(run.last.command);
    if (run.last.kind == Kind::kHandshake) {
      run.handshook = true;
      run.last = setup.OnHandshake();
      continue;
    }
    if (run.last.kind == Kind::kReady || run.last.kind == Kind::kFail || next == replies.size()) return run;
    run.last = setup.OnReply(replies[next++]);
  }
}

SmtpConfig Config(std::string user = "", TlsMode tls = TlsMode::kOpportunistic) {
  SmtpConfig c;
  c.host = "mx.example.org";
  c.helo_name = "client.example.com";
  c.tls = tls;
  c.user = user;
  if (!user.empty()) c.password = "s3cret";
  return c;
}

bool AnyAuth(const std::vector<std::string>& commands) {
  for (const auto& c : commands)
    if (c.rfind("AUTH", 0) == 0 || c.find("czNjcmV0") != std::string::npos) return true;  // base64 of s3cret
  return false;
}

TEST(SmtpSetup, PlainSessionWithoutCredentials) {
  SmtpConfig cfg = Config();
  SmtpSetup setup(cfg, false);
  auto run = Drive(setup, {Reply(220, {"ready"}), Ehlo({"PIPELINING", "SIZE 1000"})});
  EXPECT_EQ(run.last.kind, Kind::kReady);
  EXPECT_EQ(run.commands, (std::vector<std::string>{"EHLO client.example.com\r\n"}));
  EXPECT_TRUE(setup.capabilities().pipelining);
  EXPECT_EQ(setup.capabilities().size_limit, 1000u);
  EXPECT_FALSE(setup.tls());
}

TEST(SmtpSetup, StartTlsThenEhloAgainThenAuthPlain) {
  SmtpConfig cfg = Config("alice");
  SmtpSetup setup(cfg, false);
  auto run = Drive(setup, {Reply(220, {"ready"}), Ehlo({"STARTTLS"}), Reply(220, {"go ahead"}),
                           Ehlo({"AUTH PLAIN LOGIN", "PIPELINING"}), Reply(235, {"ok"}, "2.7.0")});
  EXPECT_EQ(run.last.kind, Kind::kReady);
  EXPECT_TRUE(run.handshook);
  EXPECT_TRUE(setup.tls());
  EXPECT_EQ(run.commands,
            (std::vector<std::string>{"EHLO client.example.com\r\n", "STARTTLS\r\n",
                                      "EHLO client.example.com\r\n", "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"}));
  EXPECT_TRUE(setup.capabilities().pipelining);  // from the EHLO under TLS
}

TEST(SmtpSetup, AuthLoginAnswersEachChallenge) {
  SmtpConfig cfg = Config("alice");
  cfg.auth_mechanism = "login";
  SmtpSetup setup(cfg, true);  // implicit TLS
  auto run = Drive(setup, {Reply(220, {"ready"}), Ehlo({"AUTH PLAIN LOGIN"}), Reply(334, {"VXNlcm5hbWU6"}),
                           Reply(334, {"UGFzc3dvcmQ6"}), Reply(235, {"ok"})});
  EXPECT_EQ(run.last.kind, Kind::kReady);
  EXPECT_EQ(run.commands, (std::vector<std::string>{"EHLO client.example.com\r\n", "AUTH LOGIN\r\n",
                                                    "YWxpY2U=\r\n", "czNjcmV0\r\n"}));
}

// Issue 14 item 3.
TEST(SmtpSetup, Issue14NoAuthWithoutTls) {
  for (TlsMode mode : {TlsMode::kOpportunistic, TlsMode::kNone}) {
    SmtpConfig cfg = Config("alice", mode);
    SmtpSetup setup(cfg, false);
    auto run = Drive(setup, {Reply(220, {"ready"}), Ehlo({"AUTH PLAIN LOGIN", "STARTTLS"})});
    if (mode == TlsMode::kOpportunistic) {
      // STARTTLS offered: it is used first. Refused: no AUTH either.
      ASSERT_EQ(run.last.kind, Kind::kSend);
      EXPECT_EQ(run.last.command, "STARTTLS\r\n");
      run.last = setup.OnReply(Reply(454, {"TLS not available"}, "4.7.0"));
    }
    EXPECT_EQ(run.last.kind, Kind::kFail);
    EXPECT_EQ(run.last.failure.code, 0);
    EXPECT_EQ(run.last.failure.step, SmtpStep::kAuth);
    EXPECT_NE(run.last.failure.text.find("without TLS"), std::string::npos);
    EXPECT_FALSE(AnyAuth(run.commands));
  }
  SmtpConfig cfg = Config("alice");
  SmtpSetup no_starttls(cfg, false);
  auto run = Drive(no_starttls, {Reply(220, {"ready"}), Ehlo({"AUTH PLAIN LOGIN"})});
  EXPECT_EQ(run.last.kind, Kind::kFail);
  EXPECT_FALSE(AnyAuth(run.commands));

  cfg.allow_plaintext_auth = true;
  SmtpSetup allowed(cfg, false);
  run = Drive(allowed, {Reply(220, {"ready"}), Ehlo({"AUTH PLAIN"}), Reply(235, {"ok"})});
  EXPECT_EQ(run.last.kind, Kind::kReady);
  EXPECT_TRUE(AnyAuth(run.commands));
}

TEST(SmtpSetup, TlsRequired) {
  SmtpConfig cfg = Config("", TlsMode::kRequired);
  SmtpSetup offered_not(cfg, false);
  auto run = Drive(offered_not, {Reply(220, {"ready"}), Ehlo({})});
  EXPECT_EQ(run.last.kind, Kind::kFail);
  EXPECT_EQ(run.last.failure.step, SmtpStep::kStartTls);
  EXPECT_EQ(run.last.failure.code, 0);
  SmtpSetup refused(cfg, false);
  run =
      Drive(refused, {Reply(220, {"ready"}), Ehlo({"STARTTLS"}), Reply(454, {"TLS not available"}, "4.7.0")});
  EXPECT_EQ(run.last.kind, Kind::kFail);
  EXPECT_EQ(run.last.failure.code, 454);
  EXPECT_EQ(run.last.failure.enhanced_code, "4.7.0");
  EXPECT_EQ(run.last.failure.step, SmtpStep::kStartTls);
  // Opportunistic, no credentials: a refused STARTTLS goes on in clear.
  SmtpConfig opp = Config();
  SmtpSetup clear(opp, false);
  run = Drive(clear, {Reply(220, {"ready"}), Ehlo({"STARTTLS"}), Reply(454, {"no"})});
  EXPECT_EQ(run.last.kind, Kind::kReady);
  EXPECT_FALSE(clear.tls());
}

// Issue 14 item 6: each failure carries its reply and step.
TEST(SmtpSetup, Issue14FailuresCarryTheReplyAndItsStep) {
  SmtpConfig cfg = Config("alice");
  struct Case {
    std::vector<SmtpReply> replies;
    int code;
    std::string enhanced;
    SmtpStep step;
    size_t commands;
  };
  const std::vector<Case> cases = {
      {{Reply(421, {"busy"}, "4.7.0")}, 421, "4.7.0", SmtpStep::kGreeting, 0},
      {{Reply(554, {"blocked"}, "5.7.1")}, 554, "5.7.1", SmtpStep::kGreeting, 0},
      {{Reply(220, {"ready"}), Reply(421, {"closing"}, "4.3.2")}, 421, "4.3.2", SmtpStep::kEhlo, 1},
      {{Reply(220, {"ready"}), Reply(502, {"no EHLO"}), Reply(554, {"no"}, "5.7.1")},
       554,
       "5.7.1",
       SmtpStep::kEhlo,
       2},
      {{Reply(220, {"ready"}), Ehlo({"STARTTLS"}), Reply(220, {"go"}), Reply(421, {"bye"})},
       421,
       "",
       SmtpStep::kEhlo,
       3},
      {{Reply(220, {"ready"}), Ehlo({"STARTTLS"}), Reply(220, {"go"}), Ehlo({"AUTH PLAIN"}),
        Reply(535, {"bad credentials"}, "5.7.8")},
       535,
       "5.7.8",
       SmtpStep::kAuth,
       4},
  };
  for (const Case& c : cases) {
    SmtpSetup setup(cfg, false);
    auto run = Drive(setup, c.replies);
    ASSERT_EQ(run.last.kind, Kind::kFail) << c.code;
    EXPECT_EQ(run.last.failure.code, c.code);
    EXPECT_EQ(run.last.failure.enhanced_code, c.enhanced);
    EXPECT_EQ(SmtpStepName(run.last.failure.step), SmtpStepName(c.step)) << c.code;
    EXPECT_EQ(run.commands.size(), c.commands) << c.code;
  }
}

TEST(SmtpSetup, HeloFallbackHasNoExtensions) {
  SmtpConfig cfg = Config();
  SmtpSetup setup(cfg, false);
  auto run = Drive(setup, {Reply(220, {"ready"}), Reply(502, {"no"}), Reply(250, {"hi"})});
  EXPECT_EQ(run.last.kind, Kind::kReady);
  EXPECT_EQ(run.commands.back(), "HELO client.example.com\r\n");
  EXPECT_FALSE(setup.capabilities().pipelining);
  EXPECT_FALSE(setup.capabilities().esmtp);
}

}  // namespace
}  // namespace rapport::delivery
