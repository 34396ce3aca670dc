#include "delivery/inbound/smtp_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include "core/thread_name.h"

namespace rapport::delivery {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct SmtpListener::Impl {
  Impl(SmtpListenerOptions o, Sink s)
      : options(std::move(o)), sink(std::move(s)), tls(ssl::context::tls_server), acceptor(io) {}

  struct Connection {
    tcp::socket socket;
    std::thread thread;
    std::atomic<bool> done{false};
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  };

  void Serve(Connection& c);
  void AcceptLoop();
  void Reap(bool all);

  SmtpListenerOptions options;
  Sink sink;
  bool tls_enabled = false;
  ssl::context tls;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::list<std::unique_ptr<Connection>> connections;  // GUARDED_BY(mu)
};

namespace {

// Reads one line (without CRLF; a bare LF ends a line too) from `stream`, with `buf` keeping what
// was read past it. False at end of stream or on an error (a timeout included).
template <typename Stream>
bool ReadLine(Stream& stream, asio::streambuf& buf, std::string& line, size_t max) {
  error_code ec;
  size_t n = asio::read_until(stream, buf, '\n', ec);
  if (ec && n == 0) return false;
  std::istream is(&buf);
  line.clear();
  std::getline(is, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > max) line.resize(max);  // the session refuses or truncates it
  return true;
}

template <typename Stream>
bool Write(Stream& stream, std::string_view data) {
  error_code ec;
  asio::write(stream, asio::buffer(data.data(), data.size()), ec);
  return !ec;
}

void SetTimeouts(tcp::socket& s, std::chrono::seconds t) {
  timeval tv{static_cast<time_t>(t.count()), 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

void SmtpListener::Impl::Serve(Connection& c) {
  SetTimeouts(c.socket, options.idle_timeout);
  InboundSmtpSession session(options.hostname, tls_enabled, options.max_message_bytes);
  // A line in DATA may be up to 998 octets + CRLF; reading a little more costs nothing.
  constexpr size_t kReadMax = 64 * 1024;
  auto run = [&](auto& stream, asio::streambuf& buf, bool* want_tls) {
    std::string line;
    while (!stopping.load()) {
      if (buf.size() > kReadMax) return;
      if (!ReadLine(stream, buf, line, kReadMax)) return;
      InboundSmtpSession::Step step = session.OnLine(line);
      if (step.message) {
        Status st = sink(*step.message);
        bool retry = !st.ok() &&
                     (st.error().code == ErrorCode::kUnavailable || st.error().code == ErrorCode::kInternal);
        if (!st.ok() && !retry) spdlog::info("inbound smtp: report refused: {}", st.error().message);
        step.reply = retry ? InboundSmtpSession::TryLater() : InboundSmtpSession::Accepted();
      }
      if (!step.reply.empty() && !Write(stream, step.reply)) return;
      if (step.close) return;
      if (step.start_tls) {
        *want_tls = true;
        return;
      }
    }
  };
  asio::streambuf buf;
  if (!Write(c.socket, session.Greeting())) return;
  bool want_tls = false;
  run(c.socket, buf, &want_tls);
  if (!want_tls) return;
  if (buf.size() > 0) return;  // commands pipelined past STARTTLS: refuse the injection (RFC 3207)
  ssl::stream<tcp::socket&> secure(c.socket, tls);
  error_code ec;
  secure.handshake(ssl::stream_base::server, ec);
  if (ec) {
    spdlog::info("inbound smtp: TLS handshake failed: {}", ec.message());
    return;
  }
  session.TlsStarted();
  asio::streambuf tls_buf;
  bool again = false;
  run(secure, tls_buf, &again);
  secure.shutdown(ec);
}

void SmtpListener::Impl::Reap(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(mu);
    for (auto it = connections.begin(); it != connections.end();) {
      if (all || (*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished)
    if (c->thread.joinable()) c->thread.join();
}

void SmtpListener::Impl::AcceptLoop() {
  while (!stopping.load()) {
    error_code ec;
    tcp::socket socket(io);
    acceptor.accept(socket, ec);
    if (ec) {
      if (stopping.load()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    Reap(false);
    std::lock_guard lock(mu);
    if (connections.size() >= static_cast<size_t>(options.max_connections)) {
      Write(socket, std::string_view("421 4.7.0 Too many connections, try again later\r\n"));
      socket.close(ec);
      continue;
    }
    auto conn = std::make_unique<Connection>(std::move(socket));
    Connection* raw = conn.get();
    connections.push_back(std::move(conn));
    raw->thread = std::thread([this, raw] {
      NameThisThread("smtp-in");
      Serve(*raw);
      error_code ignored;
      raw->socket.shutdown(tcp::socket::shutdown_both, ignored);
      raw->done.store(true);
    });
  }
}

SmtpListener::SmtpListener(SmtpListenerOptions options, Sink sink)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(sink))) {}

SmtpListener::~SmtpListener() { Stop(); }

Status SmtpListener::Start() {
  Impl& m = *impl_;
  if (!m.options.tls_cert_file.empty() || !m.options.tls_key_file.empty()) {
    error_code ec;
    m.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    m.tls.use_certificate_chain_file(m.options.tls_cert_file, ec);
    if (ec) return Error::Invalid("inbound.tls_cert_file", "cannot load the certificate: " + ec.message());
    m.tls.use_private_key_file(m.options.tls_key_file, ssl::context::pem, ec);
    if (ec) return Error::Invalid("inbound.tls_key_file", "cannot load the key: " + ec.message());
    m.tls_enabled = true;
  }
  error_code ec;
  tcp::endpoint ep(asio::ip::make_address(m.options.host, ec), static_cast<unsigned short>(m.options.port));
  if (ec) return Error::Invalid("inbound.listen", "not an IP address: " + m.options.host);
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error::Unavailable("cannot listen on " + m.options.host + ":" + std::to_string(m.options.port) +
                              ": " + ec.message());
  m.accept_thread = std::thread([&m] {
    NameThisThread("smtp-in-accept");
    m.AcceptLoop();
  });
  return {};
}

void SmtpListener::Stop() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  error_code ec;
  // shutdown() wakes a thread blocked in accept(); close() alone may not.
  ::shutdown(m.acceptor.native_handle(), SHUT_RDWR);
  if (m.accept_thread.joinable()) m.accept_thread.join();
  m.acceptor.close(ec);
  {
    std::lock_guard lock(m.mu);
    for (auto& c : m.connections) ::shutdown(c->socket.native_handle(), SHUT_RDWR);
  }
  m.Reap(true);
}

int SmtpListener::port() const {
  error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace rapport::delivery
