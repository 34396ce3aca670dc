// Fuzzes what the SMTP client decides from a server's replies (delivery/smtp): the session
// setup machine (greeting, EHLO, STARTTLS, AUTH), the transaction machine (MAIL, RCPT, DATA) and
// the bounce classifier over every reply, with the input read as a stream of replies. The first
// byte picks the configuration (TLS mode, credentials, allow_plaintext_auth, recipients).
// Invariants beyond "no crash, no sanitizer report": no AUTH command and no credentials are
// produced before TLS unless allow_plaintext_auth; a failure that answers a reply carries that
// reply's code; the machines end within one action per reply; the transaction keeps one
// outcome per recipient and sends data only for an accepted recipient; a reply to the
// greeting, EHLO, STARTTLS, AUTH or MAIL FROM is never classified as the recipient's address.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/bounce_classifier.h"
#include "delivery/smtp/smtp_reply.h"
#include "delivery/smtp/smtp_setup.h"
#include "delivery/smtp/smtp_transaction.h"

using namespace rapport::delivery;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "smtp_session_fuzz: %s\n", what);
    abort();
  }
}

void CheckClass(const SmtpReply& r, SmtpStep step) {
  auto f = ClassifyReply(r.code, r.enhanced_code, r.Text(), step);
  Check(static_cast<int>(f) >= 0 && f <= rapport::DeliveryFailure::kOther, "failure class in range");
  if (step == SmtpStep::kGreeting || step == SmtpStep::kEhlo || step == SmtpStep::kStartTls ||
      step == SmtpStep::kAuth || step == SmtpStep::kMailFrom)
    Check(f != rapport::DeliveryFailure::kRecipientAddress, "an address failure before RCPT");
  if (r.code >= 200 && r.code < 300) Check(f == rapport::DeliveryFailure::kNone, "2xx is no failure");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  std::string_view buf(reinterpret_cast<const char*>(data + 1), size - 1);

  SmtpConfig cfg;
  cfg.host = "mx.example.org";
  cfg.tls = static_cast<TlsMode>(knobs & 3);
  if (knobs & 4) {
    cfg.user = "alice";
    cfg.password = "Pw-9f3c";
  }
  cfg.allow_plaintext_auth = knobs & 8;
  if (knobs & 16) cfg.auth_mechanism = (knobs & 32) ? "login" : "plain";
  const std::string secret_plain = "AGFsaWNlAFB3LTlmM2M=";  // base64 of \0alice\0Pw-9f3c
  const std::string secret_login = "UHctOWYzYw==";          // base64 of Pw-9f3c

  auto next_reply = [&](SmtpReply& r) {
    auto used = ParseReply(buf, r);
    if (!used.ok() || *used == 0) return false;
    buf.remove_prefix(*used);
    return true;
  };

  SmtpSetup setup(cfg, cfg.tls == TlsMode::kImplicit);
  SmtpSetup::Action a = setup.Start();
  bool ready = false;
  for (int steps = 0; steps < 64; ++steps) {
    using Kind = SmtpSetup::Action::Kind;
    if (a.kind == Kind::kReady) {
      ready = true;
      break;
    }
    if (a.kind == Kind::kFail) break;
    if (a.kind == Kind::kHandshake) {
      a = setup.OnHandshake();
      continue;
    }
    if (a.kind == Kind::kSend) {
      const bool clear = !setup.tls() && !cfg.allow_plaintext_auth;
      Check(!(clear && a.command.rfind("AUTH", 0) == 0), "AUTH before TLS");
      Check(!(clear && (a.command.find(secret_plain) != std::string::npos ||
                        a.command.find(secret_login) != std::string::npos)),
            "credentials before TLS");
      Check(!a.command.empty() && a.command.size() >= 2 && a.command.substr(a.command.size() - 2) == "\r\n",
            "a command is one CRLF line");
    }
    SmtpReply r;
    if (!next_reply(r)) return 0;
    const SmtpStep step = setup.step();
    CheckClass(r, step);
    a = setup.OnReply(r);
    if (a.kind == Kind::kFail && a.failure.code != 0)
      Check(a.failure.code == r.code, "failure carries the reply");
  }
  if (!ready) return 0;

  Envelope env;
  env.mail_from = "bounce@example.com";
  const size_t rcpts = 1 + ((knobs >> 6) & 3);
  for (size_t i = 0; i < rcpts; ++i) env.rcpt_to.push_back("r" + std::to_string(i) + "@example.org");
  for (int message = 0; message < 4 && !buf.empty(); ++message) {
    std::vector<RecipientOutcome> outcomes;
    SmtpTransaction tx(env, 1234, message & 1, setup.capabilities(), message == 2, outcomes);
    auto t = tx.Begin();
    bool finished = false;
    for (int steps = 0; steps < 64; ++steps) {
      using Kind = SmtpTransaction::Action::Kind;
      Check(outcomes.size() == rcpts, "one outcome per recipient");
      if (t.kind == Kind::kDone || t.kind == Kind::kClose) {
        finished = true;
        break;
      }
      if (t.kind == Kind::kSendData) {
        bool any = false;
        for (const auto& o : outcomes) any = any || o.Accepted();
        Check(any, "data without an accepted recipient");
      }
      SmtpReply r;
      if (!next_reply(r)) {
        tx.OnConnectionLost("lost");
        for (const auto& o : outcomes) Check(!o.Accepted(), "accepted after a lost connection");
        return 0;
      }
      CheckClass(r, tx.step());
      t = tx.OnReply(r);
    }
    Check(finished, "the transaction ends within its replies");
    if (t.kind == SmtpTransaction::Action::Kind::kClose) return 0;
  }
  return 0;
}
