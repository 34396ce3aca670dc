// One mail transaction (RFC 5321 §3.3) as a pure state machine, away from sockets: [RSET,]
// MAIL FROM, one RCPT TO per recipient, DATA, the message, and the reply to its end.
//
// With PIPELINING (RFC 2920) Begin() produces every command at once and the replies are
// consumed in order; without it one command goes per reply and the machine stops early (no
// RCPT after a refused MAIL, no DATA without an accepted recipient). The transport writes what
// an Action says, reads one reply and passes it to OnReply(), until kDone or kClose.
//
// It fills one RecipientOutcome per recipient with the reply that decided it (code, enhanced
// code, text and the step): a refused MAIL FROM answers for every recipient, each RCPT reply for
// its own, a refused DATA or the reply to the end of data for the accepted ones. A 421 aborts
// the transaction (recipients accepted so far get it too) and the connection must close. A lost
// connection (OnConnectionLost) gives every recipient not refused yet code 0 with the error.
// Not thread-safe: one per transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/smtp/smtp_capabilities.h"
#include "delivery/smtp/smtp_reply.h"
#include "delivery/smtp/smtp_setup.h"
#include "delivery/transport.h"

namespace rapport::delivery {

class SmtpTransaction {
 public:
  struct Action {
    enum class Kind {
      kRead,      // read the next reply (its command is already written)
      kSend,      // write `commands`, then read the next reply
      kSendData,  // write the message, dot-stuffed and ended by ".\r\n", then read the reply
      kEndEmpty,  // the server opened DATA with nothing to deliver: write ".\r\n", read the reply
      kDone,      // finished; the connection may carry the next transaction
      kClose,     // finished; the server is closing (421): close the connection
    };
    Kind kind = Kind::kRead;
    std::string_view commands;  // kSend; valid until the next call on the transaction
  };

  // `outcomes` gets one entry per envelope recipient, filled as replies arrive; it must outlive
  // the transaction. `rset_first`: the previous transaction on this connection failed.
  SmtpTransaction(const Envelope& envelope, uint64_t size, bool eight_bit, const SmtpCapabilities& caps,
                  bool rset_first, std::vector<RecipientOutcome>& outcomes);

  // The first action. `already_sent`: the commands went out behind the previous message's data
  // (pipelining only; see MayChain); then kRead.
  Action Begin(bool already_sent = false);
  Action OnReply(const SmtpReply& reply);
  void OnConnectionLost(const std::string& error);

  SmtpStep step() const;  // the step whose reply is awaited
  bool got_reply() const { return got_reply_; }
  // After kDone: the transaction failed, the next one must start with RSET.
  bool needs_rset() const { return needs_rset_; }
  bool pipelined() const { return pipe_; }

 private:
  enum class Phase { kRset, kMail, kRcpt, kData, kEnd, kEndEmpty, kFinished };
  Action Next(size_t command);  // kSend of that command without pipelining, kRead with it
  std::string_view Command(size_t i) const;
  Action Finish(bool close);
  void Set(RecipientOutcome& o, const SmtpReply& reply, SmtpStep step);

  const Envelope& envelope_;
  std::vector<RecipientOutcome>& outcomes_;
  const bool pipe_;
  bool rset_first_;
  std::string commands_;      // [RSET,] MAIL, RCPT..., DATA, one per line
  std::vector<size_t> ends_;  // where each of commands_'s lines ends
  size_t first_ = 0;          // the index of MAIL in ends_ (1 after RSET)
  Phase phase_ = Phase::kMail;
  size_t rcpt_ = 0;      // the RCPT whose reply is awaited
  size_t accepted_ = 0;  // recipients accepted
  bool mail_ok_ = false;
  bool got_reply_ = false;
  bool needs_rset_ = false;
};

// Appends MAIL FROM (with SIZE=, BODY=8BITMIME and SMTPUTF8 as the server allows and the message
// needs), one RCPT TO per recipient and DATA to `out`.
void AppendTransactionCommands(const Envelope& envelope, uint64_t size, bool eight_bit,
                               const SmtpCapabilities& caps, std::string& out);

// Whether the envelope needs SMTPUTF8 (an address with non-ASCII bytes, RFC 6531).
bool NeedsSmtpUtf8(const Envelope& envelope);

// A message this server could never take, rejected without asking (code, enhanced code and text;
// step kLocal): an address with forbidden characters or none (553 5.1.3; 5.1.7 for the sender),
// non-ASCII addresses without SMTPUTF8 (553 5.6.7), a size over the advertised SIZE (552 5.3.4).
std::optional<SessionFailure> LocalRejection(const OutgoingMessage& message, const SmtpCapabilities& caps);

// The pipelining decision: may the next message's commands go out behind this message's data?
// Only when the server pipelines and the connection has room for another transaction.
bool MayChain(const SmtpCapabilities& caps, int transactions, int max_messages_per_connection);

}  // namespace rapport::delivery
