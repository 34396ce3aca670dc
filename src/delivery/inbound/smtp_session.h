// The server side of one inbound SMTP session (RFC 5321), as a pure state machine: the listener
// (smtp_listener.cpp, the only Asio file of inbound/) reads a line, calls OnLine, writes the
// reply, switches to TLS when told, and hands a complete message to its sink. No I/O; one
// session per connection; not thread-safe (one connection's thread drives it).
//
// Commands: EHLO/HELO, STARTTLS (offered when TLS is available and not yet on), MAIL FROM,
// RCPT TO (at most kMaxRecipients), DATA (dot-unstuffed, at most `max_message_bytes`; a longer
// message is read to its end and refused with 552), RSET, NOOP, QUIT; anything else 502; a
// command out of order 503. A client that sends 10 bad commands is disconnected (421).
// After STARTTLS the session starts over (RFC 3207): EHLO again.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::delivery {

struct InboundMessage {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // CRLF line ends, dot-unstuffed, without the final "."
};

class InboundSmtpSession {
 public:
  static constexpr size_t kMaxRecipients = 100;
  static constexpr size_t kMaxLine = 1000;  // RFC 5321 text line, CRLF included

  InboundSmtpSession(std::string hostname, bool tls_available, size_t max_message_bytes)
      : hostname_(std::move(hostname)), tls_available_(tls_available), max_bytes_(max_message_bytes) {}

  struct Step {
    std::string reply;                      // to send (CRLF-terminated lines); may be empty in DATA
    bool start_tls = false;                 // after sending the reply, start the TLS handshake
    bool close = false;                     // after sending the reply, close the connection
    std::optional<InboundMessage> message;  // a complete message: deliver it, then send SetResult's reply
  };

  std::string Greeting() const;
  // One line as read, without its CRLF (a line over kMaxLine is refused with 500 in command mode).
  Step OnLine(std::string_view line);
  // The reply to a complete message, once the sink has taken it (250) or not (451/550/552).
  static std::string Accepted() { return "250 2.0.0 Ok: queued\r\n"; }
  static std::string TryLater() { return "451 4.3.0 Temporary failure, try again later\r\n"; }
  // Call when the TLS handshake succeeded: the session starts over, with TLS on.
  void TlsStarted();
  bool tls_active() const { return tls_active_; }

 private:
  enum class State { kInit, kGreeted, kMail, kRcpt, kData };
  Step Command(std::string_view line);
  Step DataLine(std::string_view line);
  void Reset();

  std::string hostname_;
  bool tls_available_;
  bool tls_active_ = false;
  size_t max_bytes_;
  State state_ = State::kInit;
  InboundMessage current_;
  bool too_large_ = false;
  int bad_commands_ = 0;
};

}  // namespace rapport::delivery
