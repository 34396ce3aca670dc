#include "delivery/smtp/smtp_setup.h"

#include "core/encoding.h"

namespace rapport::delivery {

SmtpStep SmtpSetup::step() const {
  switch (state_) {
    case State::kGreeting: return SmtpStep::kGreeting;
    case State::kEhlo:
    case State::kHelo:
    case State::kEhloTls: return SmtpStep::kEhlo;
    case State::kStartTls:
    case State::kHandshake: return SmtpStep::kStartTls;
    case State::kAuth:
    case State::kAuthUser:
    case State::kAuthPassword: return SmtpStep::kAuth;
    case State::kDone: return SmtpStep::kUnknown;
  }
  return SmtpStep::kUnknown;
}

SmtpSetup::Action SmtpSetup::Send(State next, std::string command) {
  state_ = next;
  Action a;
  a.kind = Action::Kind::kSend;
  a.command = std::move(command);
  return a;
}

SmtpSetup::Action SmtpSetup::Fail(const SmtpReply& reply) {
  Action a;
  a.kind = Action::Kind::kFail;
  a.failure = {reply.code, reply.enhanced_code, reply.Text(), step()};
  state_ = State::kDone;
  return a;
}

SmtpSetup::Action SmtpSetup::FailLocal(SmtpStep step, std::string why) {
  Action a;
  a.kind = Action::Kind::kFail;
  a.failure = {0, "", std::move(why), step};
  state_ = State::kDone;
  return a;
}

SmtpSetup::Action SmtpSetup::OnReply(const SmtpReply& reply) {
  // 421: the server is closing the channel, whatever the step (RFC 5321 §3.8).
  if (reply.code == 421) return Fail(reply);
  switch (state_) {
    case State::kGreeting:
      if (reply.code != 220) return Fail(reply);
      return Send(State::kEhlo, "EHLO " + config_.helo_name + "\r\n");
    case State::kEhlo:
      if (reply.code == 250) {
        caps_ = ParseEhloReply(reply);
        return AfterEhlo();
      }
      caps_ = SmtpCapabilities{};  // an RFC 821 server: no extensions
      return Send(State::kHelo, "HELO " + config_.helo_name + "\r\n");
    case State::kHelo:
      if (reply.code != 250) return Fail(reply);
      return AfterEhlo();
    case State::kStartTls:
      if (reply.code == 220) {
        state_ = State::kHandshake;
        Action a;
        a.kind = Action::Kind::kHandshake;
        return a;
      }
      if (config_.tls == TlsMode::kRequired) return Fail(reply);
      // Opportunistic: go on in clear, but only as far as the credentials allow.
      caps_.starttls = false;
      return AfterEhlo();
    case State::kEhloTls:
      if (reply.code != 250) return Fail(reply);
      caps_ = ParseEhloReply(reply);
      return AfterEhlo();
    case State::kAuth:
      if (reply.code == 235) break;
      if (reply.code == 334 && login_)  // the "Username:" challenge
        return Send(State::kAuthUser, Base64(config_.user) + "\r\n");
      return Fail(reply);
    case State::kAuthUser:
      if (reply.code != 334) return Fail(reply);
      return Send(State::kAuthPassword, Base64(config_.password) + "\r\n");
    case State::kAuthPassword:
      if (reply.code != 235) return Fail(reply);
      break;
    case State::kHandshake:
    case State::kDone: return FailLocal(step(), "unexpected reply: " + reply.ToString());
  }
  state_ = State::kDone;
  Action a;
  a.kind = Action::Kind::kReady;
  return a;
}

SmtpSetup::Action SmtpSetup::OnHandshake() {
  tls_ = true;
  return Send(State::kEhloTls, "EHLO " + config_.helo_name + "\r\n");
}

SmtpSetup::Action SmtpSetup::AfterEhlo() {
  if (!tls_ && caps_.starttls && config_.tls != TlsMode::kNone) return Send(State::kStartTls, "STARTTLS\r\n");
  if (!tls_ && config_.tls == TlsMode::kRequired)
    return FailLocal(SmtpStep::kStartTls, "TLS required but the server does not offer STARTTLS");
  if (config_.user.empty()) {
    state_ = State::kDone;
    Action a;
    a.kind = Action::Kind::kReady;
    return a;
  }
  return Authenticate();
}

SmtpSetup::Action SmtpSetup::Authenticate() {
  if (!tls_ && !config_.allow_plaintext_auth) {
    return FailLocal(SmtpStep::kAuth,
                     "refusing to send the SMTP credentials over a connection without TLS (the server "
                     "offered no STARTTLS); use TLS, or allow_plaintext_auth=true in smtp_url for a "
                     "trusted network");
  }
  std::string mech = config_.auth_mechanism;
  if (mech.empty()) mech = caps_.HasAuth("PLAIN") ? "plain" : caps_.HasAuth("LOGIN") ? "login" : "";
  if (mech.empty()) return FailLocal(SmtpStep::kAuth, "AUTH: the server offers neither PLAIN nor LOGIN");
  if (mech == "plain") {
    std::string token;
    token.push_back('\0');
    token += config_.user;
    token.push_back('\0');
    token += config_.password;
    return Send(State::kAuth, "AUTH PLAIN " + Base64(token) + "\r\n");
  }
  login_ = true;
  return Send(State::kAuth, "AUTH LOGIN\r\n");
}

}  // namespace rapport::delivery
