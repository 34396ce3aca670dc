// The Beast server: the only translation unit that includes Beast. It turns HTTP/1.1 messages into
// Request values, calls Api::Handle on a handler thread (ServerOptions::handler_threads; handlers
// are synchronous and may wait for the store: a tracking hit waits for its group commit, so many
// must be in flight at once, which the I/O threads could not afford), and writes the Response back
// on the connection's strand. A route with a fast handler (the open pixel and the click of a cached
// message) is answered without the handler threads: Api::HandleAdmittedFast calls back when the
// hit's commit returned, and the answer is written then.
//
// Shutdown: the acceptor closes; idle keep-alive connections close; a connection that is mid-request
// finishes it (its response says Connection: close); Run returns when no connection is left or
// when drain_timeout passes, whichever is first. A request whose response was written was fully
// handled before the write, so nothing acknowledged is lost.
#include "http/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/thread_name.h"
#include "http/api.h"
#include "http/error_response.h"
#include "http/fast_lane.h"
#include "http/hit_log.h"
#include "http/message.h"

namespace rapport::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
constexpr size_t kHeaderLimit = 64 * 1024;
constexpr size_t kMaxDiscard = 256 * 1024 * 1024;  // bytes read and dropped after a 413 before closing
constexpr std::chrono::seconds kLingerTime{10};
}  // namespace

class Session;

struct ServerState {
  ServerState(Store& store, Clock& clock, ServerOptions opts)
      : options(std::move(opts)),
        api(store, clock, options.api),
        ioc(std::max(1, options.threads)),
        control(net::make_strand(ioc)),
        acceptor(control),
        drain_timer(control) {
    if (options.handler_threads > 0) handlers.emplace(static_cast<size_t>(options.handler_threads));
  }
  ~ServerState() { destroying = true; }

  void Accept();
  void Register(Session* s, std::weak_ptr<Session> w) {
    std::lock_guard lock(mu);
    sessions.emplace(s, std::move(w));
  }
  void Unregister(Session* s);
  bool AtCapacity() {
    size_t in_lane = lane ? lane->connections() : 0;
    std::lock_guard lock(mu);
    return sessions.size() + in_lane >= options.max_connections;
  }
  size_t Sessions() {
    std::lock_guard lock(mu);
    return sessions.size();
  }
  void TakeFromLane(LaneHandOff h);

  // Declared before ioc so that they outlive it: destroying ioc destroys the sessions it still
  // holds (after a drain timeout), and they unregister on the way out.
  std::atomic<bool> destroying{false};
  std::atomic<bool> stopping{false};
  std::atomic<uint16_t> port{0};
  std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // GUARDED_BY(mu)
  std::atomic<uint64_t> refused_connections{0};
  std::chrono::steady_clock::time_point last_cap_warning{};  // accept strand only

  ServerOptions options;
  // The fast lane (fast_lane.h), when on: it owns the accepts. Declared before the Api so that it
  // is destroyed after it: an answer the Api still owes a lane connection finds the lane there.
  std::unique_ptr<FastLane> lane;
  Api api;
  net::io_context ioc;
  // Keeps Run going while the lane runs (the io_context has no accept of its own to wait on).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> lane_work;
  net::strand<net::io_context::executor_type> control;  // acceptor and drain timer
  tcp::acceptor acceptor;
  net::steady_timer drain_timer;
  // Request handlers (absent: they run on the I/O threads). Declared last: destroyed first, so a
  // running handler finishes while the Api and the io_context are still there.
  std::optional<net::thread_pool> handlers;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ServerState& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ip_ = ep.address().to_string();
  }
  ~Session() { server_.Unregister(this); }

  void Start() {
    server_.Register(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // A connection from the fast lane: the bytes it read and did not consume are parsed first.
  void StartHandedOff(std::string pending) {
    server_.Register(this, weak_from_this());
    buffer_.commit(net::buffer_copy(buffer_.prepare(pending.size()), net::buffer(pending)));
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // From any thread: close if idle; a request in progress finishes first.
  void Stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_ && !(self->parser_ && self->parser_->got_some()) && self->buffer_.size() == 0) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  // The request line and headers as a Request (the body is left empty).
  template <class Fields>
  Request ToRequest(const bhttp::request_header<Fields>& msg, bool& bad_target) const {
    Request req;
    req.method = std::string(msg.method_string());
    bad_target = !SetRequestTarget(msg.target(), req);
    req.headers.reserve(16);
    for (const auto& f : msg) AddRequestHeader(f.name_string(), f.value(), req);
    req.peer_ip = peer_ip_;
    return req;
  }

  void ReadHeader() {
    head_ = false;
    if (server_.stopping && buffer_.size() == 0) return Close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_.options.body_limit);
    reading_ = true;
    stream_.expires_after(server_.options.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    head_ = req.method() == bhttp::verb::head;
    // Refuse what can be refused from the headers (no key, a wrong key, too many attempts)
    // before reading a byte of the body.
    bool bad_target = false;
    Request head = ToRequest(req, bad_target);
    std::optional<Response> refused;
    if (bad_target)
      refused = ErrorResponse(Error::BadRequest("malformed request target"));
    else
      refused = server_.api.Admit(head);
    if (refused) {
      reading_ = false;
      bool body_pending = !parser_->is_done();
      unsigned version = req.version();
      bool keep_alive = req.keep_alive() && !body_pending && !server_.stopping;
      parser_.reset();
      return Write(std::move(*refused), version, keep_alive, /*linger=*/body_pending);
    }
    if (parser_->is_done()) {
      // No body (a GET, a HEAD, the tracking hits): the request is whole; it is handled from the
      // Request made above, without a second read or a second copy of its headers.
      reading_ = false;
      unsigned version = req.version();
      bool keep_alive = req.keep_alive();
      parser_.reset();
      return Dispatch(std::move(head), version, keep_alive);
    }
    auto expect = req[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      continue_.emplace(bhttp::status::continue_, req.version());
      stream_.expires_after(server_.options.write_timeout);
      bhttp::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    reading_ = false;
    if (ec == bhttp::error::body_limit) {
      Response r =
          ErrorResponse({ErrorCode::kTooLarge,
                         "the body is larger than " + std::to_string(server_.options.body_limit) + " bytes",
                         {}});
      return Write(std::move(r), 11, /*keep_alive=*/false, /*linger=*/true);
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      Response r = ErrorResponse(Error::BadRequest("malformed HTTP request: " + ec.message()));
      return Write(std::move(r), 11, false, true);
    }
    Close();  // end of stream, timeout, reset, cancelled
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    reading_ = false;
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();

    bool bad_target = false;
    Request req = ToRequest(msg, bad_target);
    req.body = std::move(msg.body());
    if (bad_target) {
      return Write(ErrorResponse(Error::BadRequest("malformed request target")), msg.version(),
                   msg.keep_alive() && !server_.stopping, false);
    }
    Dispatch(std::move(req), msg.version(), msg.keep_alive());
  }

  // An admitted, whole request: to its handler.
  void Dispatch(Request req, unsigned version, bool keep_alive) {
    if (!server_.handlers) {
      Response r = server_.api.HandleAdmitted(req);
      return Write(std::move(r), version, keep_alive && !server_.stopping, false);
    }
    // The open pixel and the click, when their message is cached, stay on this I/O thread: the hit
    // is queued to the group commit and the answer is written from the commit's callback (still
    // after the hit's commit), without a hop through the handler threads (Api::HandleAdmittedFast).
    auto shared = std::make_shared<Request>(std::move(req));
    bool fast = server_.api.HandleAdmittedFast(
        *shared, [self = shared_from_this(), shared, version, keep_alive,
                  work = net::make_work_guard(stream_.get_executor())](std::optional<Response> r) mutable {
          if (!r) return self->HandleOnPool(std::move(shared), version, keep_alive);
          // Inline when called on this connection's strand (an answer made at once: a hit written to
          // the hit log, a bad token); posted to it from another thread (a group commit's callback).
          net::dispatch(self->stream_.get_executor(),
                        [self, r = std::move(*r), version, keep_alive]() mutable {
                          self->Write(std::move(r), version, keep_alive && !self->server_.stopping, false);
                        });
          work.reset();
        });
    if (!fast) HandleOnPool(std::move(shared), version, keep_alive);
  }

  // On a handler thread: a handler may wait (a tracking hit waits for its group commit) without
  // holding an I/O thread. The work guard keeps Run (and the drain) going until it is written.
  void HandleOnPool(std::shared_ptr<Request> req, unsigned version, bool keep_alive) {
    net::post(*server_.handlers, [self = shared_from_this(), req = std::move(req), version, keep_alive,
                                  work = net::make_work_guard(stream_.get_executor())]() mutable {
      Response r = self->server_.api.HandleAdmitted(*req);
      net::post(self->stream_.get_executor(), [self, r = std::move(r), version, keep_alive]() mutable {
        self->Write(std::move(r), version, keep_alive && !self->server_.stopping, false);
      });
      work.reset();
    });
  }

  void Write(Response r, unsigned version, bool keep_alive, bool linger) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) res_.set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res_.set(k, v);
    res_.body() = std::move(r.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    if (head_) res_.body().clear();  // a HEAD's answer: the GET's fields, no content (RFC 9110 9.3.2)
    stream_.expires_after(server_.options.write_timeout);
    bhttp::async_write(stream_, res_,
                       [self = shared_from_this(), keep_alive, linger](beast::error_code ec, size_t) {
                         if (ec) return self->Close();
                         if (linger) return self->Linger();
                         if (!keep_alive) return self->Close();
                         self->ReadHeader();
                       });
  }

  // After an error response sent mid-request: stop sending, drain what the client still sends
  // (so its kernel does not see a reset before it reads our response), then close.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    Discard();
  }

  void Discard() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kMaxDiscard) return self->Close();
                              self->Discard();
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  ServerState& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  bhttp::response<bhttp::string_body> res_;
  std::string peer_ip_;
  bool reading_ = false;
  bool head_ = false;  // the request being answered is a HEAD
  size_t discarded_ = 0;
  std::array<char, 16384> discard_;
};

void ServerState::Unregister(Session* s) {
  std::lock_guard lock(mu);
  sessions.erase(s);
  if (stopping && sessions.empty() && !destroying) net::post(control, [this] { drain_timer.cancel(); });
}

void ServerState::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (!ec && AtCapacity()) {
      // Over the cap: close at once (the client sees a reset and may retry); counted and logged
      // at most once a minute.
      beast::error_code close_ec;
      socket.close(close_ec);
      ++refused_connections;
      auto now = std::chrono::steady_clock::now();
      if (now - last_cap_warning > std::chrono::minutes(1)) {
        last_cap_warning = now;
        spdlog::warn("http: {} connections open (server.max_connections); refusing new ones ({} so far)",
                     options.max_connections, refused_connections.load());
      }
    } else if (!ec) {
      beast::error_code opt_ec;
      socket.set_option(tcp::no_delay(true), opt_ec);
      std::make_shared<Session>(std::move(socket), *this)->Start();
    } else if (ec != net::error::operation_aborted) {
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    Accept();
  });
}

void ServerState::TakeFromLane(LaneHandOff h) {
  tcp::socket socket(net::make_strand(ioc));
  beast::error_code ec;
  socket.assign(h.v6 ? tcp::v6() : tcp::v4(), h.fd, ec);
  if (ec) {
    spdlog::warn("http: a connection from the fast lane could not be taken: {}", ec.message());
    ::close(h.fd);
    return;
  }
  std::make_shared<Session>(std::move(socket), *this)->StartHandedOff(std::move(h.pending));
}

struct Server::Impl : ServerState {
  using ServerState::ServerState;
};

Server::Server(Store& store, Clock& clock, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {}

Server::~Server() = default;

Status Server::Start() {
  Impl& m = *impl_;
  std::string where = m.options.host + ":" + std::to_string(m.options.port);
  beast::error_code ec;
  auto addr = net::ip::make_address(m.options.host, ec);
  if (ec) return Error::Invalid("listen", "cannot listen on " + where + ": not an IP address");
  tcp::endpoint ep(addr, m.options.port);
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    return Error::Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  m.port = m.acceptor.local_endpoint(ec).port();
  if (m.options.fast_lane) {
    FastLane::Options lo;
    lo.threads = std::max(1, m.options.threads);
    lo.max_connections = m.options.max_connections;
    lo.header_timeout = m.options.header_timeout;
    lo.write_timeout = m.options.write_timeout;
    lo.drain_timeout = m.options.drain_timeout;
    FastLane::Hooks hooks;
    hooks.others = [&m] { return m.Sessions(); };
    hooks.hand_off = [&m](LaneHandOff h) { m.TakeFromLane(std::move(h)); };
    if (HitLog* hits = m.options.api.hit_log) {
      hooks.thread_started = [hits] { hits->DeferOnThisThread(); };
      hooks.batch_done = [hits] { hits->FlushDeferred(); };
    }
    hooks.handle_slow = [&m](const Request& req, std::function<void(Response)> done) {
      if (!m.handlers) return done(m.api.HandleAdmitted(req));
      net::post(*m.handlers, [&m, &req, done = std::move(done)] { done(m.api.HandleAdmitted(req)); });
    };
    hooks.finished = [&m] {
      // Every lane thread has stopped accepting and finished its connections: the listener closes
      // and Run may end once the Beast server's connections have.
      net::post(m.control, [&m] {
        beast::error_code ignored;
        m.acceptor.close(ignored);
        m.lane_work.reset();
      });
    };
    m.lane = std::make_unique<FastLane>(m.api, m.acceptor.native_handle(), lo, std::move(hooks));
    if (Status st = m.lane->Init(); !st.ok()) {
      m.lane.reset();
      beast::error_code ignored;
      m.acceptor.close(ignored);
      return st;
    }
    m.acceptor.non_blocking(true, ec);
    m.lane_work.emplace(m.ioc.get_executor());
    return {};
  }
  net::post(m.control, [&m] { m.Accept(); });
  return {};
}

uint16_t Server::port() const { return impl_->port; }

Metrics& Server::metrics() { return impl_->api.metrics(); }

void Server::Run() {
  Impl& m = *impl_;
  int n = std::max(1, m.options.threads);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  if (m.lane) m.lane->Start();
  for (int i = 1; i < n; ++i)
    threads.emplace_back([&m] {
      NameThisThread("http-io");
      m.ioc.run();
    });
  m.ioc.run();
  for (auto& t : threads) t.join();
  if (m.lane) m.lane->Join();
}

void Server::Shutdown() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  if (m.lane) m.lane->Stop();  // it closes the listener once its threads stop accepting
  net::post(m.control, [&m] {
    beast::error_code ec;
    if (!m.lane) m.acceptor.close(ec);
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(m.mu);
      for (auto& [raw, weak] : m.sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    if (live.empty()) return;
    m.drain_timer.expires_after(m.options.drain_timeout);
    m.drain_timer.async_wait([&m](beast::error_code ec) {
      if (ec) return;  // cancelled: every connection finished
      std::lock_guard lock(m.mu);
      if (!m.sessions.empty()) {
        spdlog::warn("http: drain timeout; closing {} connection(s)", m.sessions.size());
        m.ioc.stop();
      }
    });
    for (auto& s : live) s->Stop();
  });
}

}  // namespace rapport::http
