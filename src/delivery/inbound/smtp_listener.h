// The inbound SMTP listener ([inbound] listen): receives the bounces and complaints sent to the
// VERP addresses, with STARTTLS when a certificate is configured. Each connection is served by
// its own thread (at most max_connections at once; more get 421) driving an InboundSmtpSession;
// every complete message is handed to the sink with its first recipient (the VERP address it
// came for). The sink's kUnavailable/kInternal answer the client 451 (it will retry); anything
// else, a refusal included, is 250: a report that names nothing of ours is dropped here rather
// than bounced back to a mailer-daemon. The only Asio file of inbound/.
//
// Thread-safety: Start and Stop from one thread; the sink is called from connection threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "delivery/inbound/smtp_session.h"

namespace rapport::delivery {

struct SmtpListenerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (port() tells which)
  std::string hostname = "localhost";
  std::string tls_cert_file;  // PEM; with tls_key_file, STARTTLS is offered
  std::string tls_key_file;
  size_t max_message_bytes = 4 * 1024 * 1024;
  int max_connections = 32;
  std::chrono::seconds idle_timeout{60};  // a connection silent this long is closed
};

class SmtpListener {
 public:
  using Sink = std::function<Status(const InboundMessage& message)>;
  SmtpListener(SmtpListenerOptions options, Sink sink);
  ~SmtpListener();
  // Binds and starts accepting. kInvalid for a bad certificate or key, kUnavailable when the
  // address cannot be bound.
  Status Start();
  void Stop();  // closes the acceptor and every connection; joins their threads
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::delivery
