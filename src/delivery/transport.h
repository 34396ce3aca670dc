// The Transport: how delivery hands messages to the outside world.
//
// A transport takes a batch of messages (each an envelope and the exact bytes to send, CRLF line
// ends, not dot-stuffed) and returns, for every message, one outcome per recipient: the SMTP
// reply code, the RFC 3463 enhanced status code when there is one, and the reply text. A batch
// lets an implementation work on many messages at once (the SMTP transport pipelines them over
// its pooled connections); Send() returns when every message of the batch has an outcome.
//
// Failures of the transport itself (connection refused, timeout, TLS handshake) are outcomes
// too: code 0 with the error text, which the retry policy treats as temporary. Send() never
// throws. Transports are thread-safe: concurrent Send() calls are allowed (an implementation may
// serialize them). Transports are created from a URL by the TransportRegistry
// (delivery/transport_registry.h): "maildir:./var/outbox", "smtp://user:pass@host:587".
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/outbox.h"

namespace rapport::delivery {

struct Envelope {
  std::string mail_from;             // may be empty (the null reverse-path "<>")
  std::vector<std::string> rcpt_to;  // at least one
};

struct OutgoingMessage {
  Envelope envelope;
  std::string data;  // the complete message, CRLF line ends, not dot-stuffed
  // The outbox message's id (0 when it is not from the outbox): a transport that keeps a copy
  // names the copy by it, so that EraseCopies can find it.
  int64_t message_id = 0;
};

// The protocol step whose reply (or failure) decided an outcome. A reply to the greeting, EHLO,
// STARTTLS, AUTH or MAIL FROM is never about the recipient's address.
enum class SmtpStep {
  kUnknown,   // not said (a transport without steps)
  kConnect,   // connecting, TLS handshake: no reply
  kGreeting,  // the server's 220 (or 421/554) banner
  kEhlo,      // EHLO, or HELO after EHLO was refused
  kStartTls,
  kAuth,
  kMailFrom,
  kRcptTo,
  kData,       // the reply to the DATA command
  kEndOfData,  // the reply to the final "."
  kRset,
  kLocal,  // decided by the client without asking (SIZE over the limit, a forbidden address)
};
std::string_view SmtpStepName(SmtpStep s);  // "greeting", "rcpt", "end_of_data" ...

// What the server (or the transport) said about one recipient.
struct RecipientOutcome {
  std::string rcpt;
  int code = 0;               // 250, 421, 550 ...; 0 for a transport failure (no reply)
  std::string enhanced_code;  // "5.1.1" when given, else empty
  std::string text;           // the reply text (lines joined with "\n"), or the error
  SmtpStep step = SmtpStep::kUnknown;
  bool Accepted() const { return code >= 200 && code < 300; }
};

struct SendResult {
  std::vector<RecipientOutcome> recipients;  // one per envelope.rcpt_to, in the same order
  std::string remote;                        // "host:port" that answered, or "maildir"
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends every message of the batch; returns one result per message, in order.
  virtual std::vector<SendResult> Send(std::span<const OutgoingMessage> batch) = 0;
  // A short description for logs and DeliveryAttempt::remote ("smtp://host:port"); never
  // contains credentials.
  virtual std::string Describe() const = 0;
  // Removes every copy this transport kept of the messages with these ids (the maildir's files;
  // an SMTP transport keeps none). Ids without a copy are no error.
  virtual Status EraseCopies(std::span<const int64_t> message_ids) { return {}; }
};

// DeliveredCopies over the transports rapport sends through (both lanes; the same transport may
// be named twice).
class TransportCopies final : public DeliveredCopies {
 public:
  explicit TransportCopies(std::vector<Transport*> transports) : transports_(std::move(transports)) {}
  Status EraseCopies(std::span<const MessageId> ids) override;

 private:
  std::vector<Transport*> transports_;
};

// Fills every recipient of `m` with the same outcome (used for whole-message failures).
SendResult UniformResult(const OutgoingMessage& m, int code, std::string enhanced_code, std::string text,
                         std::string remote, SmtpStep step = SmtpStep::kUnknown);

}  // namespace rapport::delivery
