// The setup of an SMTP session as a pure state machine, away from sockets: the greeting, EHLO
// (HELO when EHLO is refused), STARTTLS and EHLO again under TLS, then AUTH PLAIN or LOGIN.
// The transport (smtp_transport.cpp) reads the server's replies, feeds them to OnReply() and
// does what the returned Action says: read a reply, write a command and read its reply, run the
// TLS handshake (then OnHandshake()), or stop, ready or failed.
//
// Credentials never cross the wire in clear: with a user configured, a session without TLS
// fails before AUTH (no AUTH command is produced) unless config.allow_plaintext_auth; this holds
// for tls=opportunistic when the server offers no STARTTLS or refuses it, and for tls=none.
// tls=required fails when TLS cannot be had. A 421 at any step ends the session.
//
// Every failure says which step it was at; one that answers a command carries that reply's
// code, enhanced code and text (a 421 greeting is recorded as 421 4.x.x, so rate control sees
// it), a local refusal has code 0. Commands carry credentials during AUTH: keep them out of logs.
// Not thread-safe: one per connection.
#pragma once

#include <string>

#include "delivery/smtp/smtp_capabilities.h"
#include "delivery/smtp/smtp_config.h"
#include "delivery/smtp/smtp_reply.h"
#include "delivery/transport.h"

namespace rapport::delivery {

// Why a session could not be set up (or a transaction failed as a whole).
struct SessionFailure {
  int code = 0;               // the reply's code; 0 when there was none (a local refusal, an I/O error)
  std::string enhanced_code;  // the reply's RFC 3463 code, when given
  std::string text;           // the reply's text, or the reason
  SmtpStep step = SmtpStep::kUnknown;
};

class SmtpSetup {
 public:
  struct Action {
    enum class Kind {
      kRead,       // read the next reply (the greeting) and pass it to OnReply()
      kSend,       // write `command`, read its reply and pass it to OnReply()
      kHandshake,  // run the TLS handshake (no bytes may be buffered), then call OnHandshake()
      kReady,      // the session is set up: capabilities() and tls() hold
      kFail,       // give up: `failure` says why; close the connection
    };
    Kind kind = Kind::kRead;
    std::string command;     // kSend: the command line, CRLF included
    SessionFailure failure;  // kFail
  };

  // `tls`: the connection already runs TLS (smtps://, implicit TLS).
  SmtpSetup(const SmtpConfig& config, bool tls) : config_(config), tls_(tls) {}

  Action Start() const { return {}; }  // read the greeting
  Action OnReply(const SmtpReply& reply);
  Action OnHandshake();

  // The step whose reply is awaited (for I/O errors and timeouts while reading it).
  SmtpStep step() const;
  const SmtpCapabilities& capabilities() const { return caps_; }
  bool tls() const { return tls_; }

 private:
  enum class State {
    kGreeting,
    kEhlo,
    kHelo,
    kStartTls,
    kHandshake,
    kEhloTls,
    kAuth,
    kAuthUser,
    kAuthPassword,
    kDone
  };

  Action Send(State next, std::string command);
  Action Fail(const SmtpReply& reply);
  Action FailLocal(SmtpStep step, std::string why);
  Action AfterEhlo();  // STARTTLS, AUTH or ready
  Action Authenticate();

  const SmtpConfig& config_;
  bool tls_;
  State state_ = State::kGreeting;
  bool login_ = false;  // AUTH LOGIN (user and password each after a 334), else PLAIN
  SmtpCapabilities caps_;
};

}  // namespace rapport::delivery
