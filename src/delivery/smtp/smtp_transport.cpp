// The only translation unit of delivery that includes Boost.Asio (it compiles slowly).
#include "delivery/smtp/smtp_transport.h"

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
#include "delivery/smtp/smtp_setup.h"
#include "delivery/smtp/smtp_transaction.h"
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

// What the transport was doing when a read failed, for the error text.
const char* Reading(SmtpStep step) {
  switch (step) {
    case SmtpStep::kGreeting: return "reading greeting";
    case SmtpStep::kEhlo: return "reading EHLO reply";
    case SmtpStep::kStartTls: return "reading STARTTLS reply";
    case SmtpStep::kAuth: return "reading AUTH reply";
    case SmtpStep::kMailFrom: return "reading MAIL FROM reply";
    case SmtpStep::kRcptTo: return "reading RCPT TO reply";
    case SmtpStep::kData: return "reading DATA reply";
    case SmtpStep::kEndOfData: return "reading reply to end of data";
    case SmtpStep::kRset: return "reading RSET reply";
    default: return "reading reply";
  }
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
  std::optional<SessionFailure> last_failure;     // why the last session could not be set up
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

  // Connects and sets the session up (greeting, EHLO, STARTTLS, AUTH: the SmtpSetup machine
  // decides, this does the I/O). nullopt when ready, else why not.
  awaitable<std::optional<SessionFailure>> Open() {
    const SmtpConfig& cfg = impl.config;
    auto local = [](SmtpStep step, std::string text) {
      return std::optional<SessionFailure>(SessionFailure{0, "", std::move(text), step});
    };
    error_code ec;
    Arm(cfg.connect_timeout);
    co_await asio::async_connect(stream.next_layer(), impl.endpoints, asio::redirect_error(kAwait, ec));
    Disarm();
    if (ec) co_return local(SmtpStep::kConnect, Describe("connecting", ec));
    stream.next_layer().set_option(tcp::no_delay(true), ec);
    {
      std::lock_guard lock(impl.stats_mu);
      ++impl.stats.connections_opened;
    }
    if (cfg.tls == TlsMode::kImplicit) {
      if (!impl.ca_error.empty()) co_return local(SmtpStep::kConnect, impl.ca_error);
      if (auto hec = co_await Handshake())
        co_return local(SmtpStep::kConnect, Describe("in TLS handshake", hec));
    }
    SmtpSetup setup(cfg, tls);
    SmtpSetup::Action action = setup.Start();
    for (;;) {
      using Kind = SmtpSetup::Action::Kind;
      switch (action.kind) {
        case Kind::kReady: {
          caps = setup.capabilities();
          if (tls) {
            std::lock_guard lock(impl.stats_mu);
            ++impl.stats.tls_sessions;
          }
          open = true;
          co_return std::nullopt;
        }
        case Kind::kFail: co_return std::move(action.failure);
        case Kind::kHandshake: {
          if (!impl.ca_error.empty()) co_return local(SmtpStep::kStartTls, impl.ca_error);
          if (rpos != rbuf.size())
            co_return local(SmtpStep::kStartTls, "STARTTLS: server sent data before the handshake");
          if (auto hec = co_await Handshake())
            co_return local(SmtpStep::kStartTls, Describe("in TLS handshake", hec));
          action = setup.OnHandshake();
          continue;
        }
        case Kind::kSend: {
          // The command may carry credentials (AUTH): it is written, never logged.
          if (auto wec = co_await Write(action.command, cfg.command_timeout))
            co_return local(setup.step(), Describe("sending command", wec));
          break;
        }
        case Kind::kRead: break;
      }
      const SmtpStep step = setup.step();
      Step read = co_await ReadReply(step == SmtpStep::kGreeting ? cfg.greeting_timeout : cfg.command_timeout,
                                     Reading(step));
      if (!read.ok()) co_return local(step, read.error);
      action = setup.OnReply(read.reply);
    }
  }

  enum class TxEnd { kDone, kBroken, kLostBeforeReply };

  // Sets `result` up for `m` and rejects locally a message this server could never take
  // (LocalRejection); true when it may be sent.
  bool Prepare(const OutgoingMessage& m, SendResult& result) const {
    result.remote = impl.remote;
    auto rejected = LocalRejection(m, caps);
    if (!rejected) return true;
    result = UniformResult(m, rejected->code, rejected->enhanced_code, rejected->text, impl.remote,
                           rejected->step);
    return false;
  }

  // One transaction for batch message `idx` (the SmtpTransaction machine decides, this does the
  // I/O). `presented`: its commands were already sent, pipelined behind the previous message's
  // data (RFC 2920 allows the end of data to be followed by the next commands). When MayChain,
  // this transaction may in turn take the next message of the batch and send its commands behind
  // this message's data: it then sets `chained` to that index (the caller continues with it,
  // presented, or puts it back in the queue when the connection did not survive). Fills the
  // result of `idx`; says whether the connection is still usable.
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

  MessageShape shape;
  if (!presented) {
    if (!Prepare(m, result)) co_return TxEnd::kDone;
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

  SmtpTransaction tx(m.envelope, m.data.size(), shape.eight_bit, caps, need_rset && !presented,
                     result.recipients);
  need_rset = false;
  auto lost = [&](const std::string& error) -> TxEnd {
    tx.OnConnectionLost(error);
    Close();
    return tx.got_reply() ? TxEnd::kBroken : TxEnd::kLostBeforeReply;
  };
  SmtpTransaction::Action action = tx.Begin(presented);
  for (;;) {
    using Kind = SmtpTransaction::Action::Kind;
    switch (action.kind) {
      case Kind::kDone: need_rset = tx.needs_rset(); co_return TxEnd::kDone;
      case Kind::kClose: Close(); co_return TxEnd::kBroken;
      case Kind::kSend:
        if (auto ec = co_await Write(action.commands, cfg.command_timeout))
          co_return lost(Describe("sending commands", ec));
        break;
      case Kind::kEndEmpty:
        if (auto ec = co_await Write(".\r\n", cfg.data_timeout))
          co_return lost(Describe("sending message data", ec));
        break;
      case Kind::kSendData: {
        // Behind this message's data, the next message's commands (one write, one round trip less).
        next_cmds.clear();
        const bool room = MayChain(caps, transactions, cfg.max_messages_per_connection);
        while (room && !batch.queue.empty()) {
          size_t next = batch.queue.front();
          batch.queue.pop_front();
          const OutgoingMessage& nm = batch.messages[next];
          if (!Prepare(nm, batch.results[next])) {
            batch.done[next] = true;
            continue;
          }
          carried_shape = InspectMessage(nm.data);
          AppendTransactionCommands(nm.envelope, nm.data.size(), carried_shape.eight_bit, caps, next_cmds);
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
        break;
      }
      case Kind::kRead: break;
    }
    const SmtpStep step = tx.step();
    Step read = co_await ReadReply(step == SmtpStep::kEndOfData ? cfg.data_timeout : cfg.command_timeout,
                                   Reading(step));
    if (!read.ok()) co_return lost(read.error);
    action = tx.OnReply(read.reply);
  }
}

awaitable<void> SmtpTransport::Impl::Worker(std::shared_ptr<Connection> conn, Batch& batch) {
  std::optional<size_t> carried;  // a message whose commands were sent behind the last data
  while (carried || !batch.queue.empty()) {
    if (!conn || !conn->open) {
      conn = std::make_shared<Connection>(*this);
      auto failure = co_await conn->Open();
      if (failure) {
        batch.last_failure = std::move(*failure);
        conn->Close();
        co_return;  // other workers go on; what is left fails with last_failure
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
      batch.last_failure =
          SessionFailure{0, "", "resolving " + im.config.host + ": " + ec.message(), SmtpStep::kConnect};
    } else {
      im.endpoints = eps;
    }
  }
  if (!batch.last_failure) {
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
      batch.last_failure =
          SessionFailure{0, "", std::string("SMTP client error: ") + e.what(), SmtpStep::kUnknown};
    }
    for (auto& c : batch.keep) im.idle.push_back(std::move(c));
    // Unused idle connections beyond the ones this batch took stay pooled as they were.
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!batch.done[i]) {
      // The session's failure, as the server gave it (a 421 greeting stays a 421) or as it happened.
      const SessionFailure f =
          batch.last_failure.value_or(SessionFailure{0, "", "not sent", SmtpStep::kUnknown});
      batch.results[i] = UniformResult(messages[i], f.code, f.enhanced_code, f.text, im.remote, f.step);
    }
  }
  return std::move(batch.results);
}

void RegisterSmtpTransport(TransportRegistry& registry) {
  auto make = [](std::string_view url) -> Result<std::unique_ptr<Transport>> {
    RAPPORT_ASSIGN_OR_RETURN(SmtpConfig cfg, ParseSmtpUrl(url));
    return std::unique_ptr<Transport>(std::make_unique<SmtpTransport>(std::move(cfg)));
  };
  registry.Register("smtp", make);
  registry.Register("smtps", make);
}

}  // namespace rapport::delivery
