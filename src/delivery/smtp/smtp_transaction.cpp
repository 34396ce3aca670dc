#include "delivery/smtp/smtp_transaction.h"

#include "delivery/smtp/dot_stuff.h"

namespace rapport::delivery {
namespace {

// An address that may go between < and > on a command line.
bool SafeAddress(std::string_view a) {
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

bool Positive(int code) { return code >= 200 && code < 300; }

}  // namespace

bool NeedsSmtpUtf8(const Envelope& envelope) {
  bool utf8 = HasEightBitBytes(envelope.mail_from);
  for (const auto& r : envelope.rcpt_to) utf8 = utf8 || HasEightBitBytes(r);
  return utf8;
}

void AppendTransactionCommands(const Envelope& envelope, uint64_t size, bool eight_bit,
                               const SmtpCapabilities& caps, std::string& out) {
  out += "MAIL FROM:<";
  out += envelope.mail_from;
  out += '>';
  if (caps.size) {
    out += " SIZE=";
    out += std::to_string(size);
  }
  if (caps.eight_bit_mime && eight_bit) out += " BODY=8BITMIME";
  if (NeedsSmtpUtf8(envelope)) out += " SMTPUTF8";
  out += "\r\n";
  for (const auto& r : envelope.rcpt_to) {
    out += "RCPT TO:<";
    out += r;
    out += ">\r\n";
  }
  out += "DATA\r\n";
}

std::optional<SessionFailure> LocalRejection(const OutgoingMessage& m, const SmtpCapabilities& caps) {
  const auto& rcpts = m.envelope.rcpt_to;
  if (!SafeAddress(m.envelope.mail_from))
    return SessionFailure{553, "5.1.7", "sender address has forbidden characters (rejected locally)",
                          SmtpStep::kLocal};
  bool bad_rcpt = rcpts.empty();
  for (const auto& r : rcpts) bad_rcpt = bad_rcpt || r.empty() || !SafeAddress(r);
  if (bad_rcpt)
    return SessionFailure{553, "5.1.3", "address has forbidden characters or is missing (rejected locally)",
                          SmtpStep::kLocal};
  if (NeedsSmtpUtf8(m.envelope) && !caps.smtputf8)
    return SessionFailure{553, "5.6.7",
                          "non-ASCII address and the server does not offer SMTPUTF8 (rejected locally)",
                          SmtpStep::kLocal};
  if (caps.size_limit > 0 && m.data.size() > caps.size_limit)
    return SessionFailure{552, "5.3.4",
                          "message size " + std::to_string(m.data.size()) + " exceeds the server's limit " +
                              std::to_string(caps.size_limit) + " (rejected locally)",
                          SmtpStep::kLocal};
  return std::nullopt;
}

bool MayChain(const SmtpCapabilities& caps, int transactions, int max_messages_per_connection) {
  return caps.pipelining && (max_messages_per_connection == 0 || transactions < max_messages_per_connection);
}

SmtpTransaction::SmtpTransaction(const Envelope& envelope, uint64_t size, bool eight_bit,
                                 const SmtpCapabilities& caps, bool rset_first,
                                 std::vector<RecipientOutcome>& outcomes)
    : envelope_(envelope), outcomes_(outcomes), pipe_(caps.pipelining), rset_first_(rset_first) {
  outcomes_.assign(envelope.rcpt_to.size(), RecipientOutcome{});
  for (size_t i = 0; i < envelope.rcpt_to.size(); ++i) outcomes_[i].rcpt = envelope.rcpt_to[i];
  if (rset_first_) commands_ = "RSET\r\n";
  first_ = rset_first_ ? 1 : 0;
  AppendTransactionCommands(envelope, size, eight_bit, caps, commands_);
  // One command per line; without pipelining they go out one by one.
  ends_.reserve(envelope.rcpt_to.size() + 3);
  for (size_t nl = commands_.find('\n'); nl != std::string::npos; nl = commands_.find('\n', nl + 1))
    ends_.push_back(nl + 1);
}

std::string_view SmtpTransaction::Command(size_t i) const {
  const size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(commands_).substr(begin, ends_[i] - begin);
}

SmtpStep SmtpTransaction::step() const {
  switch (phase_) {
    case Phase::kRset: return SmtpStep::kRset;
    case Phase::kMail: return SmtpStep::kMailFrom;
    case Phase::kRcpt: return SmtpStep::kRcptTo;
    case Phase::kData: return SmtpStep::kData;
    case Phase::kEnd:
    case Phase::kEndEmpty: return SmtpStep::kEndOfData;
    case Phase::kFinished: return SmtpStep::kUnknown;
  }
  return SmtpStep::kUnknown;
}

SmtpTransaction::Action SmtpTransaction::Begin(bool already_sent) {
  // Commands sent behind the previous message's data never start with RSET (that transaction
  // went well), so `already_sent` implies !rset_first_.
  phase_ = rset_first_ && !already_sent ? Phase::kRset : Phase::kMail;
  Action a;
  if (already_sent) return a;  // kRead
  a.kind = Action::Kind::kSend;
  a.commands = pipe_ ? std::string_view(commands_) : Command(0);
  return a;
}

SmtpTransaction::Action SmtpTransaction::Next(size_t command) {
  Action a;
  if (!pipe_) {
    a.kind = Action::Kind::kSend;
    a.commands = Command(command);
  }
  return a;
}

SmtpTransaction::Action SmtpTransaction::Finish(bool close) {
  phase_ = Phase::kFinished;
  Action a;
  a.kind = close ? Action::Kind::kClose : Action::Kind::kDone;
  return a;
}

void SmtpTransaction::Set(RecipientOutcome& o, const SmtpReply& reply, SmtpStep step) {
  o.code = reply.code;
  o.enhanced_code = reply.enhanced_code;
  o.text = reply.Text();
  o.step = step;
}

SmtpTransaction::Action SmtpTransaction::OnReply(const SmtpReply& reply) {
  got_reply_ = true;
  const SmtpStep at = step();
  const bool closing = reply.code == 421;
  switch (phase_) {
    case Phase::kRset:
      needs_rset_ = false;
      if (closing) {
        for (auto& o : outcomes_) Set(o, reply, at);
        return Finish(true);
      }
      phase_ = Phase::kMail;
      return Next(first_);
    case Phase::kMail:
      mail_ok_ = Positive(reply.code);
      if (!mail_ok_)
        for (auto& o : outcomes_) Set(o, reply, at);
      if (closing) return Finish(true);
      phase_ = Phase::kRcpt;
      rcpt_ = 0;
      if (!pipe_ && !mail_ok_) {
        needs_rset_ = true;
        return Finish(false);
      }
      return Next(first_ + 1);
    case Phase::kRcpt: {
      if (mail_ok_) {
        Set(outcomes_[rcpt_], reply, at);
        if (Positive(reply.code)) ++accepted_;
      }
      if (closing) {
        // The transaction is aborted: recipients accepted so far are not delivered either.
        for (size_t j = 0; j < outcomes_.size(); ++j)
          if (j > rcpt_ || outcomes_[j].Accepted()) Set(outcomes_[j], reply, at);
        return Finish(true);
      }
      if (++rcpt_ < envelope_.rcpt_to.size()) return Next(first_ + 1 + rcpt_);
      phase_ = Phase::kData;
      if (!pipe_ && (!mail_ok_ || accepted_ == 0)) {
        needs_rset_ = true;
        return Finish(false);
      }
      return Next(ends_.size() - 1);
    }
    case Phase::kData:
      if (reply.code != 354) {
        if (mail_ok_)
          for (auto& o : outcomes_)
            if (o.Accepted()) Set(o, reply, at);
        needs_rset_ = true;
        return Finish(closing);
      }
      if (!mail_ok_ || accepted_ == 0) {
        // The server opened DATA although nothing can be delivered (pipelined): end it empty.
        needs_rset_ = true;
        phase_ = Phase::kEndEmpty;
        Action a;
        a.kind = Action::Kind::kEndEmpty;
        return a;
      } else {
        phase_ = Phase::kEnd;
        Action a;
        a.kind = Action::Kind::kSendData;
        return a;
      }
    case Phase::kEnd:
      for (auto& o : outcomes_)
        if (o.Accepted()) Set(o, reply, at);
      return Finish(closing);
    case Phase::kEndEmpty: return Finish(closing);
    case Phase::kFinished: break;
  }
  return Finish(true);  // a reply nobody asked for: the session is out of step
}

void SmtpTransaction::OnConnectionLost(const std::string& error) {
  const SmtpStep at = step();
  for (auto& o : outcomes_) {
    if (o.code == 0 || o.Accepted()) {
      o.code = 0;
      o.enhanced_code.clear();
      o.text = error;
      o.step = at;
    }
  }
  phase_ = Phase::kFinished;
}

}  // namespace rapport::delivery
