// The only translation unit of delivery that includes Boost.Asio (it compiles slowly).
#include "delivery/smtp/smtp_transport.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <mutex>
#include <optional>

#include "delivery/smtp/dot_stuff.h"
#include "delivery/smtp/smtp_capabilities.h"
#include "delivery/smtp/smtp_reply.h"
#include "delivery/transport_registry.h"

namespace rapport::delivery {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using boost::system::error_code;
using Ms = std::chrono::milliseconds;

constexpr auto kAwait = asio::use_awaitable;

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

// An address that may go between < and > on a command line.
bool SafeAddress(std::string_view a) {
  for (char c : a) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

// What a read or a step produced: a reply, or a connection-level error.
struct Step {
  SmtpReply reply;
  std::string error;  // non-empty: the connection is unusable
  bool ok() const { return error.empty(); }
};

}  // namespace

struct SmtpTransport::Impl {
  explicit Impl(SmtpConfig c) : config(std::move(c)), ssl_ctx(ssl::context::tls_client) {
    ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    if (config.tls_verify) {
      ssl_ctx.set_verify_mode(ssl::verify_peer);
      error_code ec;
      if (!config.ca_file.empty()) {
        ssl_ctx.load_verify_file(config.ca_file, ec);
        if (ec) ca_error = "cannot load ca_file: " + ec.message();
      } else {
        ssl_ctx.set_default_verify_paths(ec);
      }
    } else {
      ssl_ctx.set_verify_mode(ssl::verify_none);
    }
    remote = config.host + ":" + std::to_string(config.port);
  }

  struct Connection;
  struct Batch;

  SmtpConfig config;
  asio::io_context io{1};
  ssl::context ssl_ctx;
  std::string ca_error;
  std::string remote;
  std::mutex send_mu;                             // one batch at a time
  std::vector<std::shared_ptr<Connection>> idle;  // guarded by send_mu
  tcp::resolver::results_type endpoints;          // guarded by send_mu
  mutable std::mutex stats_mu;
  Stats stats;

  awaitable<void> Worker(std::shared_ptr<Connection> conn, Batch& batch);
  void Quit();
};

struct SmtpTransport::Impl::Batch {
  std::span<const OutgoingMessage> messages;
  std::vector<SendResult> results;
  std::vector<bool> done;
  std::vector<bool> retried;
  std::deque<size_t> queue;
  std::string last_error;
  std::vector<std::shared_ptr<Connection>> keep;  // connections to pool after the batch
};

// One SMTP session. Lives in a shared_ptr so pending timer handlers keep it alive.
struct SmtpTransport::Impl::Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(Impl& impl) : impl(impl), stream(impl.io, impl.ssl_ctx), timer(impl.io) {}

  Impl& impl;
  ssl::stream<tcp::socket> stream;
  asio::steady_timer timer;
  uint64_t timer_gen = 0;
  bool timed_out = false;
  bool tls = false;
  bool open = false;
  bool need_rset = false;
  int transactions = 0;
  SmtpCapabilities caps;
  std::string rbuf;
  size_t rpos = 0;
  std::string wbuf;
  std::string next_cmds;       // the next message's commands, sent behind this one's data
  MessageShape carried_shape;  // of the message whose commands were sent ahead

  // Arms the step timeout: when it fires, the socket's pending operations are cancelled.
  void Arm(Ms d) {
    uint64_t gen = ++timer_gen;
    timed_out = false;
    timer.expires_after(d);
    timer.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (!ec && gen == self->timer_gen) {
        self->timed_out = true;
        error_code ignored;
        self->stream.next_layer().cancel(ignored);
      }
    });
  }
  void Disarm() {
    ++timer_gen;
    timer.cancel();
  }

  std::string Describe(const char* what, const error_code& ec) const {
    if (timed_out) return std::string("timeout ") + what;
    return std::string(what) + ": " + ec.message();
  }

  void Close() {
    open = false;
    Disarm();
    error_code ignored;
    stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream.next_layer().close(ignored);
  }

  awaitable<error_code> Write(std::string_view data, Ms timeout) {
    co_return co_await Write(std::array<asio::const_buffer, 1>{asio::buffer(data)}, timeout);
  }

  template <size_t N>
  awaitable<error_code> Write(std::array<asio::const_buffer, N> bufs, Ms timeout) {
    error_code ec;
    Arm(timeout);
    if (tls) {
      co_await asio::async_write(stream, bufs, asio::redirect_error(kAwait, ec));
    } else {
      co_await asio::async_write(stream.next_layer(), bufs, asio::redirect_error(kAwait, ec));
    }
    Disarm();
    co_return ec;
  }

  // Reads one complete reply within `timeout`.
  awaitable<Step> ReadReply(Ms timeout, const char* what) {
    Step step;
    bool armed = false;
    for (;;) {
      auto parsed = ParseReply(std::string_view(rbuf).substr(rpos), step.reply);
      if (!parsed.ok()) {
        step.error = std::string("protocol error ") + what + ": " + parsed.error().message;
        break;
      }
      if (*parsed > 0) {
        rpos += *parsed;
        if (rpos == rbuf.size()) {
          rbuf.clear();
          rpos = 0;
        }
        break;
      }
      if (rpos > 0) {
        rbuf.erase(0, rpos);
        rpos = 0;
      }
      if (!armed) {
        Arm(timeout);
        armed = true;
      }
      size_t old = rbuf.size();
      rbuf.resize(old + 4096);
      error_code ec;
      size_t n;
      if (tls) {
        n = co_await stream.async_read_some(asio::buffer(rbuf.data() + old, 4096),
                                            asio::redirect_error(kAwait, ec));
      } else {
        n = co_await stream.next_layer().async_read_some(asio::buffer(rbuf.data() + old, 4096),
                                                         asio::redirect_error(kAwait, ec));
      }
      rbuf.resize(old + n);
      if (ec) {
        step.error =
            ec == asio::error::eof ? std::string("connection closed by server ") + what : Describe(what, ec);
        break;
      }
    }
    if (armed) Disarm();
    co_return step;
  }

  awaitable<Step> Command(std::string line, const char* what) {
    Step step;
    if (auto ec = co_await Write(line, impl.config.command_timeout)) {
      step.error = Describe(what, ec);
      co_return step;
    }
    co_return co_await ReadReply(impl.config.command_timeout, what);
  }

  awaitable<Step> Ehlo() {
    Step step = co_await Command("EHLO " + impl.config.helo_name + "\r\n", "reading EHLO reply");
    if (!step.ok()) co_return step;
    if (step.reply.code == 250) {
      caps = ParseEhloReply(step.reply);
      co_return step;
    }
    step = co_await Command("HELO " + impl.config.helo_name + "\r\n", "reading HELO reply");
    caps = SmtpCapabilities{};
    co_return step;
  }

  awaitable<error_code> Handshake() {
    SSL* ssl = stream.native_handle();
    SSL_set_tlsext_host_name(ssl, impl.config.host.c_str());
    if (impl.config.tls_verify) stream.set_verify_callback(ssl::host_name_verification(impl.config.host));
    error_code ec;
    Arm(impl.config.command_timeout);
    co_await stream.async_handshake(ssl::stream_base::client, asio::redirect_error(kAwait, ec));
    Disarm();
    if (!ec) tls = true;
    co_return ec;
  }

  // Connects and sets the session up: greeting, EHLO, STARTTLS, AUTH. "" when ready.
  awaitable<std::string> Open() {
    const SmtpConfig& cfg = impl.config;
    error_code ec;
    Arm(cfg.connect_timeout);
    co_await asio::async_connect(stream.next_layer(), impl.endpoints, asio::redirect_error(kAwait, ec));
    Disarm();
    if (ec) co_return Describe("connecting", ec);
    stream.next_layer().set_option(tcp::no_delay(true), ec);
    {
      std::lock_guard lock(impl.stats_mu);
      ++impl.stats.connections_opened;
    }
    if (cfg.tls == TlsMode::kImplicit) {
      if (!impl.ca_error.empty()) co_return impl.ca_error;
      if (auto hec = co_await Handshake()) co_return Describe("in TLS handshake", hec);
    }
    Step step = co_await ReadReply(cfg.greeting_timeout, "reading greeting");
    if (!step.ok()) co_return step.error;
    if (step.reply.code != 220) co_return "greeting: " + step.reply.ToString();
    step = co_await Ehlo();
    if (!step.ok()) co_return step.error;
    if (step.reply.code != 250) co_return "HELO: " + step.reply.ToString();
    if (!tls && caps.starttls && cfg.tls != TlsMode::kNone) {
      if (!impl.ca_error.empty()) co_return impl.ca_error;
      step = co_await Command("STARTTLS\r\n", "reading STARTTLS reply");
      if (!step.ok()) co_return step.error;
      if (step.reply.code == 220) {
        if (rpos != rbuf.size()) co_return "STARTTLS: server sent data before the handshake";
        if (auto hec = co_await Handshake()) co_return Describe("in TLS handshake", hec);
        step = co_await Ehlo();
        if (!step.ok()) co_return step.error;
        if (step.reply.code != 250) co_return "EHLO after STARTTLS: " + step.reply.ToString();
      } else if (cfg.tls == TlsMode::kRequired) {
        co_return "STARTTLS refused: " + step.reply.ToString();
      }
    }
    if (!tls && cfg.tls == TlsMode::kRequired)
      co_return "TLS required but the server does not offer STARTTLS";
    if (tls) {
      std::lock_guard lock(impl.stats_mu);
      ++impl.stats.tls_sessions;
    }
    if (!cfg.user.empty()) {
      std::string mech = cfg.auth_mechanism;
      if (mech.empty()) mech = caps.HasAuth("PLAIN") ? "plain" : caps.HasAuth("LOGIN") ? "login" : "";
      if (mech.empty()) co_return "AUTH: the server offers neither PLAIN nor LOGIN";
      if (mech == "plain") {
        std::string token;
        token.push_back('\0');
        token += cfg.user;
        token.push_back('\0');
        token += cfg.password;
        step = co_await Command("AUTH PLAIN " + Base64(token) + "\r\n", "reading AUTH reply");
      } else {
        step = co_await Command("AUTH LOGIN\r\n", "reading AUTH reply");
        if (step.ok() && step.reply.code == 334) {
          step = co_await Command(Base64(cfg.user) + "\r\n", "reading AUTH reply");
        }
        if (step.ok() && step.reply.code == 334) {
          step = co_await Command(Base64(cfg.password) + "\r\n", "reading AUTH reply");
        }
      }
      if (!step.ok()) co_return step.error;
      if (step.reply.code != 235) co_return "AUTH failed: " + step.reply.ToString();
    }
    open = true;
    co_return std::string();
  }

  enum class TxEnd { kDone, kBroken, kLostBeforeReply };

  // Sets up `result` for `m`: one outcome per recipient, not yet answered.
  void InitResult(const OutgoingMessage& m, SendResult& result) const {
    result.remote = impl.remote;
    result.recipients.assign(m.envelope.rcpt_to.size(), RecipientOutcome{});
    for (size_t i = 0; i < m.envelope.rcpt_to.size(); ++i) result.recipients[i].rcpt = m.envelope.rcpt_to[i];
  }

  // Rejects locally (filling `result`) a message this server could never take; true otherwise.
  bool Precheck(const OutgoingMessage& m, SendResult& result) const {
    auto reject = [&](int code, const char* enh, const std::string& text) {
      for (auto& r : result.recipients) {
        r.code = code;
        r.enhanced_code = enh;
        r.text = text;
      }
      return false;
    };
    const auto& rcpts = m.envelope.rcpt_to;
    bool bad_address = !SafeAddress(m.envelope.mail_from) || rcpts.empty();
    for (const auto& r : rcpts) bad_address = bad_address || r.empty() || !SafeAddress(r);
    if (bad_address)
      return reject(553, "5.1.3", "address has forbidden characters or is missing (rejected locally)");
    // Internationalized addresses (RFC 6531) need a server that takes SMTPUTF8.
    if (NeedsSmtpUtf8(m) && !caps.smtputf8) {
      return reject(553, "5.6.7",
                    "non-ASCII address and the server does not offer SMTPUTF8 (rejected locally)");
    }
    if (caps.size_limit > 0 && m.data.size() > caps.size_limit) {
      return reject(552, "5.3.4",
                    "message size " + std::to_string(m.data.size()) + " exceeds the server's limit " +
                        std::to_string(caps.size_limit) + " (rejected locally)");
    }
    return true;
  }

  static bool NeedsSmtpUtf8(const OutgoingMessage& m) {
    bool utf8 = HasEightBitBytes(m.envelope.mail_from);
    for (const auto& r : m.envelope.rcpt_to) utf8 = utf8 || HasEightBitBytes(r);
    return utf8;
  }

  // Appends MAIL FROM, the RCPT TOs and DATA for `m` to `out`; records each command's end
  // offset in `cmd_end` when given (the non-pipelined path sends them one by one).
  void AppendCommands(const OutgoingMessage& m, const MessageShape& shape, std::string& out,
                      std::vector<size_t>* cmd_end) const {
    out += "MAIL FROM:<";
    out += m.envelope.mail_from;
    out += '>';
    if (caps.size) {
      out += " SIZE=";
      out += std::to_string(m.data.size());
    }
    if (caps.eight_bit_mime && shape.eight_bit) out += " BODY=8BITMIME";
    if (NeedsSmtpUtf8(m)) out += " SMTPUTF8";
    out += "\r\n";
    if (cmd_end) cmd_end->push_back(out.size());
    for (const auto& r : m.envelope.rcpt_to) {
      out += "RCPT TO:<";
      out += r;
      out += ">\r\n";
      if (cmd_end) cmd_end->push_back(out.size());
    }
    out += "DATA\r\n";
    if (cmd_end) cmd_end->push_back(out.size());
  }

  // One transaction for batch message `idx`. `presented`: its commands were already sent,
  // pipelined behind the previous message's data (RFC 2920 allows the end of data to be
  // followed by the next commands). When the server pipelines, this transaction may in turn
  // take the next message of the batch and send its commands behind this message's data: it
  // then sets `chained` to that index (the caller continues with it, presented, or puts it
  // back in the queue when the connection did not survive). Fills the result of `idx`; says
  // whether the connection is still usable.
  awaitable<TxEnd> Transact(Batch& batch, size_t idx, bool presented, std::optional<size_t>& chained);

  awaitable<void> QuitSession() {
    if (!open) co_return;
    error_code ec = co_await Write("QUIT\r\n", Ms(5000));
    if (!ec) co_await ReadReply(Ms(5000), "reading QUIT reply");
    if (tls) {
      Arm(Ms(2000));
      co_await stream.async_shutdown(asio::redirect_error(kAwait, ec));
      Disarm();
    }
    Close();
  }
};

awaitable<SmtpTransport::Impl::Connection::TxEnd> SmtpTransport::Impl::Connection::Transact(
    Batch& batch, size_t idx, bool presented, std::optional<size_t>& chained) {
  const SmtpConfig& cfg = impl.config;
  const OutgoingMessage& m = batch.messages[idx];
  SendResult& result = batch.results[idx];
  const auto& rcpts = m.envelope.rcpt_to;
  auto set_all = [&](auto pred, int code, const std::string& enh, const std::string& text) {
    for (auto& r : result.recipients) {
      if (pred(r)) {
        r.code = code;
        r.enhanced_code = enh;
        r.text = text;
      }
    }
  };
  auto any = [](const RecipientOutcome&) { return true; };
  auto accepted_pred = [](const RecipientOutcome& r) { return r.Accepted(); };
  auto set_reply = [&](auto pred, const SmtpReply& rep) {
    set_all(pred, rep.code, rep.enhanced_code, rep.Text());
  };

  MessageShape shape;
  if (!presented) {
    InitResult(m, result);
    if (!Precheck(m, result)) co_return TxEnd::kDone;
    shape = InspectMessage(m.data);
  } else {
    shape = carried_shape;
  }
  {
    std::lock_guard lock(impl.stats_mu);
    ++impl.stats.messages;
    if (caps.pipelining) ++impl.stats.pipelined;
    if (presented) ++impl.stats.chained;
  }
  ++transactions;
  const bool pipe = caps.pipelining;

  // The commands (unless already sent), with RSET first after a failed transaction.
  std::vector<size_t> cmd_end;  // offsets of each command's end, for the non-pipelined path
  size_t sent_upto = 0;
  bool rset = false;
  if (!presented) {
    wbuf.clear();
    rset = need_rset;
    if (rset) wbuf += "RSET\r\n";
    cmd_end.push_back(wbuf.size());
    AppendCommands(m, shape, wbuf, &cmd_end);
  }

  bool got_any_reply = false;
  auto lost = [&](const std::string& error) -> TxEnd {
    set_all([](const RecipientOutcome& r) { return r.code == 0 || r.Accepted(); }, 0, "", error);
    Close();
    return got_any_reply ? TxEnd::kBroken : TxEnd::kLostBeforeReply;
  };
  auto send_upto = [&](size_t end) -> awaitable<error_code> {
    error_code ec;
    if (!presented && end > sent_upto) {
      ec = co_await Write(std::string_view(wbuf).substr(sent_upto, end - sent_upto), cfg.command_timeout);
      sent_upto = end;
    }
    co_return ec;
  };
  if (pipe && !presented) {
    if (auto ec = co_await send_upto(wbuf.size())) co_return lost(Describe("sending commands", ec));
  }
  size_t cmd = 0;
  if (rset) {
    if (!pipe) {
      if (auto ec = co_await send_upto(cmd_end[0])) co_return lost(Describe("sending RSET", ec));
    }
    Step s = co_await ReadReply(cfg.command_timeout, "reading RSET reply");
    if (!s.ok()) co_return lost(s.error);
    got_any_reply = true;
    need_rset = false;
    if (s.reply.code == 421) {
      set_reply(any, s.reply);
      Close();
      co_return TxEnd::kBroken;
    }
  }
  ++cmd;
  // MAIL FROM
  if (!pipe) {
    if (auto ec = co_await send_upto(cmd_end[cmd])) co_return lost(Describe("sending MAIL FROM", ec));
  }
  Step mail = co_await ReadReply(cfg.command_timeout, "reading MAIL FROM reply");
  if (!mail.ok()) co_return lost(mail.error);
  got_any_reply = true;
  bool mail_ok = mail.reply.code == 250;
  if (!mail_ok) set_reply(any, mail.reply);
  if (mail.reply.code == 421) {
    Close();
    co_return TxEnd::kBroken;
  }
  // RCPT TO, one reply per recipient.
  size_t accepted = 0;
  for (size_t i = 0; i < rcpts.size(); ++i) {
    ++cmd;
    if (!pipe) {
      if (!mail_ok) break;
      if (auto ec = co_await send_upto(cmd_end[cmd])) co_return lost(Describe("sending RCPT TO", ec));
    }
    Step rc = co_await ReadReply(cfg.command_timeout, "reading RCPT TO reply");
    if (!rc.ok()) co_return lost(rc.error);
    if (mail_ok) {
      auto& out = result.recipients[i];
      out.code = rc.reply.code;
      out.enhanced_code = rc.reply.enhanced_code;
      out.text = rc.reply.Text();
      if (rc.reply.code == 250 || rc.reply.code == 251) ++accepted;
    }
    if (rc.reply.code == 421) {
      // The transaction is aborted: recipients accepted so far are not delivered either.
      set_reply(accepted_pred, rc.reply);
      for (size_t j = i + 1; j < rcpts.size(); ++j) {
        result.recipients[j].code = 421;
        result.recipients[j].enhanced_code = rc.reply.enhanced_code;
        result.recipients[j].text = rc.reply.Text();
      }
      Close();
      co_return TxEnd::kBroken;
    }
  }
  ++cmd;
  // DATA
  if (!pipe && (!mail_ok || accepted == 0)) {
    need_rset = true;
    co_return TxEnd::kDone;
  }
  if (!pipe) {
    if (auto ec = co_await send_upto(cmd_end[cmd])) co_return lost(Describe("sending DATA", ec));
  }
  Step data = co_await ReadReply(cfg.command_timeout, "reading DATA reply");
  if (!data.ok()) co_return lost(data.error);
  if (data.reply.code != 354) {
    if (mail_ok) set_reply(accepted_pred, data.reply);
    need_rset = true;
    if (data.reply.code == 421) {
      Close();
      co_return TxEnd::kBroken;
    }
    co_return TxEnd::kDone;
  }
  if (!mail_ok || accepted == 0) {
    // The server opened DATA although nothing can be delivered: end it empty.
    need_rset = true;
    if (auto ec = co_await Write(".\r\n", cfg.data_timeout))
      co_return lost(Describe("sending message data", ec));
  } else {
    // Behind this message's data, the next message's commands (one write, one round trip less).
    next_cmds.clear();
    bool room = cfg.max_messages_per_connection == 0 || transactions < cfg.max_messages_per_connection;
    while (pipe && room && !batch.queue.empty()) {
      size_t next = batch.queue.front();
      batch.queue.pop_front();
      const OutgoingMessage& nm = batch.messages[next];
      InitResult(nm, batch.results[next]);
      if (!Precheck(nm, batch.results[next])) {
        batch.done[next] = true;
        continue;
      }
      carried_shape = InspectMessage(nm.data);
      AppendCommands(nm, carried_shape, next_cmds, nullptr);
      chained = next;
      break;
    }
    asio::const_buffer tail = asio::buffer(next_cmds);
    error_code ec;
    if (shape.transparent) {
      // The common case (CRLF lines, none starting with '.'): no copy, one gathered write.
      ec = co_await Write(
          std::array<asio::const_buffer, 3>{asio::buffer(m.data), asio::buffer(".\r\n", 3), tail},
          cfg.data_timeout);
    } else {
      wbuf.clear();
      AppendDotStuffed(m.data, wbuf);
      ec = co_await Write(std::array<asio::const_buffer, 2>{asio::buffer(wbuf), tail}, cfg.data_timeout);
    }
    if (ec) co_return lost(Describe("sending message data", ec));
  }
  Step fin = co_await ReadReply(cfg.data_timeout, "reading reply to end of data");
  if (!fin.ok()) co_return lost(fin.error);
  if (mail_ok && accepted > 0) set_reply(accepted_pred, fin.reply);
  if (fin.reply.code == 421) {
    Close();
    co_return TxEnd::kBroken;
  }
  co_return TxEnd::kDone;
}

awaitable<void> SmtpTransport::Impl::Worker(std::shared_ptr<Connection> conn, Batch& batch) {
  std::optional<size_t> carried;  // a message whose commands were sent behind the last data
  while (carried || !batch.queue.empty()) {
    if (!conn || !conn->open) {
      conn = std::make_shared<Connection>(*this);
      std::string err = co_await conn->Open();
      if (!err.empty()) {
        batch.last_error = err;
        conn->Close();
        co_return;  // other workers go on; what is left fails with last_error
      }
    }
    size_t idx;
    bool presented = carried.has_value();
    if (presented) {
      idx = *carried;
      carried.reset();
    } else {
      if (batch.queue.empty()) break;
      idx = batch.queue.front();
      batch.queue.pop_front();
    }
    bool reused = conn->transactions > 0;
    std::optional<size_t> chained;
    auto end = co_await conn->Transact(batch, idx, presented, chained);
    if (chained) {
      if (conn->open) {
        carried = chained;
      } else {
        batch.queue.push_front(*chained);  // its commands died with the connection: resend
      }
    }
    if (end == Connection::TxEnd::kLostBeforeReply && reused && !batch.retried[idx]) {
      batch.retried[idx] = true;  // the server had closed an idle connection: try a fresh one
      batch.queue.push_front(idx);
      continue;
    }
    batch.done[idx] = true;
    if (!carried && conn->open && config.max_messages_per_connection > 0 &&
        conn->transactions >= config.max_messages_per_connection) {
      co_await conn->QuitSession();
    }
  }
  if (conn && conn->open) batch.keep.push_back(std::move(conn));
}

void SmtpTransport::Impl::Quit() {
  for (auto& c : idle) asio::co_spawn(io, c->QuitSession(), asio::detached);
  io.restart();
  try {
    io.run();
  } catch (const std::exception&) {
  }
  idle.clear();
}

SmtpTransport::SmtpTransport(SmtpConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

SmtpTransport::~SmtpTransport() {
  std::lock_guard lock(impl_->send_mu);
  impl_->Quit();
}

std::string SmtpTransport::Describe() const { return impl_->config.Describe(); }

SmtpTransport::Stats SmtpTransport::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

size_t SmtpTransport::idle_connections() const {
  std::lock_guard lock(impl_->send_mu);
  return impl_->idle.size();
}

std::vector<SendResult> SmtpTransport::Send(std::span<const OutgoingMessage> messages) {
  std::lock_guard lock(impl_->send_mu);
  Impl& im = *impl_;
  Impl::Batch batch;
  batch.messages = messages;
  batch.results.resize(messages.size());
  batch.done.assign(messages.size(), false);
  batch.retried.assign(messages.size(), false);
  for (size_t i = 0; i < messages.size(); ++i) batch.queue.push_back(i);
  if (messages.empty()) return {};

  if (im.idle.empty() || im.endpoints.empty()) {
    // Resolve once per batch that needs new connections (blocking: the resolver is the system's).
    tcp::resolver resolver(im.io);
    error_code ec;
    auto eps = resolver.resolve(im.config.host, std::to_string(im.config.port), ec);
    if (ec) {
      batch.last_error = "resolving " + im.config.host + ": " + ec.message();
    } else {
      im.endpoints = eps;
    }
  }
  if (batch.last_error.empty()) {
    size_t workers = std::min<size_t>(static_cast<size_t>(im.config.pool_size), messages.size());
    for (size_t w = 0; w < workers; ++w) {
      std::shared_ptr<Impl::Connection> conn;
      if (!im.idle.empty()) {
        conn = std::move(im.idle.back());
        im.idle.pop_back();
      }
      asio::co_spawn(im.io, im.Worker(std::move(conn), batch), asio::detached);
    }
    im.io.restart();
    try {
      im.io.run();
    } catch (const std::exception& e) {
      batch.last_error = std::string("SMTP client error: ") + e.what();
    }
    for (auto& c : batch.keep) im.idle.push_back(std::move(c));
    // Unused idle connections beyond the ones this batch took stay pooled as they were.
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!batch.done[i]) {
      batch.results[i] = UniformResult(messages[i], 0, "",
                                       batch.last_error.empty() ? "not sent" : batch.last_error, im.remote);
    }
  }
  return std::move(batch.results);
}

}  // namespace rapport::delivery

namespace {
rapport::Result<std::unique_ptr<rapport::delivery::Transport>> MakeSmtp(std::string_view url) {
  auto cfg = rapport::delivery::ParseSmtpUrl(url);
  if (!cfg.ok()) return std::move(cfg).error();
  return std::unique_ptr<rapport::delivery::Transport>(
      std::make_unique<rapport::delivery::SmtpTransport>(std::move(cfg).value()));
}
}  // namespace

RAPPORT_REGISTER_TRANSPORT(smtp, "smtp", MakeSmtp);
RAPPORT_REGISTER_TRANSPORT(smtps, "smtps", MakeSmtp);
