// The SMTP transport: a pool of reused connections to one relay (or MX), speaking ESMTP with
// PIPELINING, STARTTLS, AUTH PLAIN/LOGIN, SIZE and 8BITMIME, on Boost.Asio + OpenSSL.
//
// Send() spreads the batch over up to `pool` connections (kept open between batches and reused
// for many messages), pipelines MAIL FROM + RCPT TO(s) + DATA when the server advertises
// PIPELINING (and sends the next message's commands behind the previous message's data: one
// round trip per message), reads every recipient's reply one by one, dot-stuffs the message
// and reads the final reply. Every step has a timeout (connect, greeting, each reply, the final reply to
// DATA). After a failed transaction on a connection it sends RSET before the next message; a
// 421 or a broken connection closes it (the next message opens a new one); a reused connection
// that the server had closed while idle is retried once on a fresh one. QUIT on close.
//
// Outcomes: a server reply per recipient, with its code, enhanced code, text and the protocol
// step it answered, whatever the step: a session the server refuses (a 421 or 554 greeting, a
// refused EHLO or STARTTLS, a 535 to AUTH) gives every message of the batch left that reply.
// Failures without a reply (connect, TLS handshake, timeouts, a connection lost
// mid-transaction, AUTH refused locally because the session has no TLS) are code 0 with the
// error text (temporary for the retry policy). Messages the server could never take (SIZE over
// the advertised limit, an address with forbidden characters) get a local 5xx (step kLocal).
//
// Thread-safety: Send() may be called from several threads; calls are serialized (one batch at
// a time per transport: use one transport per lane). All Asio code lives in smtp_transport.cpp;
// what to send and what each reply means is decided by the pure machines of smtp_setup.h (the
// session: greeting, EHLO, STARTTLS, AUTH) and smtp_transaction.h (MAIL, RCPT, DATA).
#pragma once

#include <cstdint>
#include <memory>

#include "delivery/smtp/smtp_config.h"
#include "delivery/transport.h"
#include "delivery/transport_registry.h"

namespace rapport::delivery {

class SmtpTransport final : public Transport {
 public:
  explicit SmtpTransport(SmtpConfig config);
  ~SmtpTransport() override;  // QUITs the pooled connections

  std::vector<SendResult> Send(std::span<const OutgoingMessage> batch) override;
  std::string Describe() const override;

  struct Stats {
    int64_t connections_opened = 0;
    int64_t messages = 0;      // transactions attempted
    int64_t tls_sessions = 0;  // connections that ran TLS
    int64_t pipelined = 0;     // transactions sent pipelined
    int64_t chained = 0;       // transactions whose commands went behind the previous data
  };
  Stats stats() const;
  // Connections currently idle in the pool.
  size_t idle_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Registers "smtp" and "smtps" (URLs as in smtp_config.h).
void RegisterSmtpTransport(TransportRegistry& registry);

}  // namespace rapport::delivery
