#include "delivery/inbound/smtp_session.h"

#include <strings.h>

#include <cctype>

namespace rapport::delivery {

namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// The address of "MAIL FROM:<a@b> SIZE=10" / "RCPT TO:<a@b>" after the prefix; nullopt when it
// is not in angle brackets. "<>" is the null sender.
std::optional<std::string> PathArgument(std::string_view rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '<') return std::nullopt;
  size_t gt = rest.find('>');
  if (gt == std::string_view::npos) return std::nullopt;
  std::string_view addr = rest.substr(1, gt - 1);
  for (char c : addr)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return std::nullopt;
  return std::string(addr);
}

}  // namespace

std::string InboundSmtpSession::Greeting() const { return "220 " + hostname_ + " ESMTP rapport\r\n"; }

void InboundSmtpSession::Reset() {
  current_ = InboundMessage{};
  too_large_ = false;
}

void InboundSmtpSession::TlsStarted() {
  tls_active_ = true;
  state_ = State::kInit;
  Reset();
}

InboundSmtpSession::Step InboundSmtpSession::OnLine(std::string_view line) {
  if (state_ == State::kData) return DataLine(line);
  if (line.size() + 2 > kMaxLine) {
    Step s;
    s.reply = "500 5.5.6 Line too long\r\n";
    if (++bad_commands_ >= 10) s.close = true;
    return s;
  }
  return Command(line);
}

InboundSmtpSession::Step InboundSmtpSession::Command(std::string_view line) {
  Step s;
  auto bad = [&](std::string reply) {
    s.reply = std::move(reply);
    if (++bad_commands_ >= 10) {
      s.reply = "421 4.7.0 Too many errors, closing\r\n";
      s.close = true;
    }
    return s;
  };
  if (StartsWithNoCase(line, "EHLO ") || StartsWithNoCase(line, "HELO ")) {
    bool ehlo = StartsWithNoCase(line, "EHLO");
    Reset();
    state_ = State::kGreeted;
    if (!ehlo) {
      s.reply = "250 " + hostname_ + "\r\n";
      return s;
    }
    s.reply = "250-" + hostname_ + "\r\n250-SIZE " + std::to_string(max_bytes_) + "\r\n250-8BITMIME\r\n";
    if (tls_available_ && !tls_active_) s.reply += "250-STARTTLS\r\n";
    s.reply += "250 ENHANCEDSTATUSCODES\r\n";
    return s;
  }
  if (strcasecmp(std::string(line).c_str(), "STARTTLS") == 0) {
    if (!tls_available_ || tls_active_) return bad("502 5.5.1 STARTTLS not available\r\n");
    if (state_ == State::kInit) return bad("503 5.5.1 EHLO first\r\n");
    s.reply = "220 2.0.0 Ready to start TLS\r\n";
    s.start_tls = true;
    return s;
  }
  if (StartsWithNoCase(line, "MAIL FROM:")) {
    if (state_ != State::kGreeted) return bad("503 5.5.1 Bad sequence of commands\r\n");
    auto from = PathArgument(line.substr(10));
    if (!from) return bad("501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
    current_.mail_from = *from;
    state_ = State::kMail;
    s.reply = "250 2.1.0 Ok\r\n";
    return s;
  }
  if (StartsWithNoCase(line, "RCPT TO:")) {
    if (state_ != State::kMail && state_ != State::kRcpt)
      return bad("503 5.5.1 Bad sequence of commands\r\n");
    auto to = PathArgument(line.substr(8));
    if (!to || to->empty()) return bad("501 5.5.4 Syntax: RCPT TO:<address>\r\n");
    if (current_.rcpt_to.size() >= kMaxRecipients) {
      s.reply = "452 4.5.3 Too many recipients\r\n";
      return s;
    }
    current_.rcpt_to.push_back(*to);
    state_ = State::kRcpt;
    s.reply = "250 2.1.5 Ok\r\n";
    return s;
  }
  if (strcasecmp(std::string(line).c_str(), "DATA") == 0) {
    if (state_ != State::kRcpt) return bad("503 5.5.1 Bad sequence of commands\r\n");
    state_ = State::kData;
    s.reply = "354 End data with <CR><LF>.<CR><LF>\r\n";
    return s;
  }
  if (strcasecmp(std::string(line).c_str(), "RSET") == 0) {
    Reset();
    if (state_ != State::kInit) state_ = State::kGreeted;
    s.reply = "250 2.0.0 Ok\r\n";
    return s;
  }
  if (StartsWithNoCase(line, "NOOP")) {
    s.reply = "250 2.0.0 Ok\r\n";
    return s;
  }
  if (strcasecmp(std::string(line).c_str(), "QUIT") == 0) {
    s.reply = "221 2.0.0 Bye\r\n";
    s.close = true;
    return s;
  }
  return bad("502 5.5.2 Command not recognized\r\n");
}

InboundSmtpSession::Step InboundSmtpSession::DataLine(std::string_view line) {
  Step s;
  if (line == ".") {
    state_ = State::kGreeted;
    if (too_large_) {
      Reset();
      s.reply = "552 5.3.4 Message too big\r\n";
      return s;
    }
    s.message = std::move(current_);
    Reset();
    return s;  // the caller replies Accepted() or TryLater()
  }
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);  // dot-unstuffing
  if (too_large_) return s;
  if (current_.data.size() + line.size() + 2 > max_bytes_) {
    too_large_ = true;
    current_.data.clear();
    current_.data.shrink_to_fit();
    return s;
  }
  current_.data.append(line);
  current_.data.append("\r\n");
  return s;
}

}  // namespace rapport::delivery
