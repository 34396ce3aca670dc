#include "http/fast_lane.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/thread_name.h"
#include "http/error_response.h"

namespace rapport::http {

namespace {

// A head longer than this leaves the lane (the Beast server reads heads up to 64 KiB); a hit's is
// a few hundred bytes.
constexpr size_t kBuffer = 8 * 1024;
constexpr uint64_t kListener = 0;  // epoll data of the listening socket
constexpr uint64_t kWaker = 1;     // and of the loop's eventfd
constexpr int kAcceptBurst = 64;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class FastLane::Loop {
 public:
  Loop(FastLane& lane) : lane_(lane) {}
  ~Loop() {
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
    for (Incoming& in : incoming_) ::close(in.fd);
    if (epfd_ >= 0) ::close(epfd_);
    if (wakefd_ >= 0) ::close(wakefd_);
  }

  bool Init() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakefd_ < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWaker;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) return false;
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;  // one loop woken per connection, not all
    ev.data.u64 = kListener;
    return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, lane_.listen_fd_, &ev) == 0;
  }

  void Wake() {
    uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof(one));
  }

  void Run();

 private:
  enum class Interest { kNone, kRead, kWrite };
  struct Conn {
    int fd = -1;
    bool v6 = false;
    size_t index = 0;  // in conns_
    std::string peer_ip;
    std::unique_ptr<char[]> buf{new char[kBuffer]};
    size_t len = 0;
    std::string out;
    size_t out_off = 0;
    int64_t deadline_ms = 0;
    Interest interest = Interest::kRead;
    bool waiting = false;  // a request's answer is due from another thread
    bool closing = false;  // close once `out` is written (no keep-alive, or the peer closed)
    // The request being answered: alive until its answer (Api::HandleAdmittedFast's contract).
    std::unique_ptr<Request> req;
    int minor = 1;
    bool keep_alive = true;
    bool head_only = false;
  };
  struct Answer {
    Conn* conn;
    std::optional<Response> response;
  };
  struct Incoming {  // a connection another loop accepted for this one
    int fd;
    bool v6;
    std::string peer_ip;
  };

  void Accept(int64_t now);
  void Adopt(Incoming in, int64_t now);
  void OnReadable(Conn* c, int64_t now);
  void OnWritable(Conn* c, int64_t now);
  void Process(Conn* c, int64_t now);
  // The fast handler's answer (`done`): on this thread while it is being called, or from another.
  void Done(Conn* c, std::optional<Response> r);
  void Respond(Conn* c, Response r);
  void Slow(Conn* c);  // an admitted request the fast handler declined
  void Answered(Conn* c, std::optional<Response> r, int64_t now);
  bool Flush(Conn* c, int64_t now);  // false: c is closed or waits to be writable
  void SetInterest(Conn* c, Interest i);
  void HandOff(Conn* c);
  void Close(Conn* c);
  void Release(Conn* c);  // drops c from conns_ (its fd closed or handed off)
  void Sweep(int64_t now);
  void BeginStop(int64_t now);
  void TakeAnswers(int64_t now);
  void EndBatch(int64_t now);

  FastLane& lane_;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::thread::id thread_;
  std::vector<std::unique_ptr<Conn>> conns_;
  // Connections released during an epoll batch: an event for one of them later in the same batch
  // still finds its memory (and its fd < 0); freed once the batch is walked.
  std::vector<std::unique_ptr<Conn>> graveyard_;
  // Inline answers: Done on this thread for `calling_` (set around HandleAdmittedFast).
  Conn* calling_ = nullptr;
  std::optional<std::optional<Response>> inline_;
  // Answers given on this thread after the call that asked for them (a hit's deferred write), and
  // the connections that asked: parked (nothing read) if still waiting once the batch is done.
  std::vector<Answer> local_answers_;
  std::vector<Conn*> asked_;
  std::mutex mu_;
  std::vector<Answer> answers_;     // GUARDED_BY(mu_): from other threads
  std::vector<Incoming> incoming_;  // GUARDED_BY(mu_): from the other loops' accepts
  bool stopping_ = false;
  int64_t stop_deadline_ = 0;
  int64_t accept_paused_until_ = 0;  // after EMFILE: the listener is left alone until then
  bool listening_ = true;
  int64_t next_sweep_ = 0;
};

void FastLane::Loop::Run() {
  thread_ = std::this_thread::get_id();
  if (lane_.hooks_.thread_started) lane_.hooks_.thread_started();
  std::array<epoll_event, 128> events;
  while (true) {
    int64_t now = NowMs();
    if (!stopping_ && lane_.stopping_.load(std::memory_order_acquire)) BeginStop(now);
    if (stopping_) {
      bool busy = false;
      for (auto& c : conns_) busy |= c->fd >= 0 || c->waiting;
      if (!busy || now >= stop_deadline_) break;
    }
    int timeout = static_cast<int>(std::clamp<int64_t>(next_sweep_ - now, 0, 1000));
    if (stopping_) timeout = std::min(timeout, 100);
    int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("http: fast lane: epoll_wait failed: {}", std::strerror(errno));
      break;
    }
    now = NowMs();
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<size_t>(i)];
      if (ev.data.u64 == kListener) {
        Accept(now);
      } else if (ev.data.u64 == kWaker) {
        uint64_t v;
        (void)!::read(wakefd_, &v, sizeof(v));
        TakeAnswers(now);
      } else {
        auto* c = static_cast<Conn*>(ev.data.ptr);
        if (c->fd < 0) continue;  // closed by an earlier event of this batch
        if (ev.events & EPOLLOUT)
          OnWritable(c, now);
        else
          OnReadable(c, now);
      }
    }
    EndBatch(now);
    if (now >= next_sweep_) Sweep(now);
    graveyard_.clear();
  }
  EndBatch(NowMs());
  // Drain timeout: what is left is closed; a connection whose answer is still due keeps its
  // memory (its callback will come) until the loop is destroyed.
  for (auto& c : conns_)
    if (c->fd >= 0) {
      ::close(c->fd);
      c->fd = -1;
      lane_.open_.fetch_sub(1, std::memory_order_relaxed);
    }
}

void FastLane::Loop::BeginStop(int64_t now) {
  stopping_ = true;
  stop_deadline_ = now + lane_.options_.drain_timeout.count();
  if (listening_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, lane_.listen_fd_, nullptr);
  listening_ = false;
  // Idle connections close now; one mid-request finishes (its answer says Connection: close).
  for (size_t i = conns_.size(); i-- > 0;) {
    Conn* c = conns_[i].get();
    if (c->fd >= 0 && c->len == 0 && !c->waiting && c->out_off == c->out.size()) Close(c);
  }
}

void FastLane::Loop::Accept(int64_t now) {
  for (int i = 0; i < kAcceptBurst; ++i) {
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    int fd = ::accept4(lane_.listen_fd_, reinterpret_cast<sockaddr*>(&addr), &addr_len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (lane_.stopping_.load(std::memory_order_relaxed)) return;  // the listener is shut down
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop listening for a while instead of spinning on the listener.
        spdlog::warn("http: accept failed: {}; pausing accepts for 100 ms", std::strerror(errno));
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, lane_.listen_fd_, nullptr);
        listening_ = false;
        accept_paused_until_ = now + 100;
        next_sweep_ = std::min(next_sweep_, accept_paused_until_);
        return;
      }
      spdlog::warn("http: accept failed: {}", std::strerror(errno));
      return;
    }
    if (stopping_) {
      ::close(fd);
      continue;
    }
    size_t others = lane_.hooks_.others ? lane_.hooks_.others() : 0;
    if (lane_.open_.load(std::memory_order_relaxed) + others >= lane_.options_.max_connections) {
      // Over the cap: closed at once (the client sees a reset and may retry); logged at most once
      // a minute, as the Beast acceptor does.
      ::close(fd);
      uint64_t refused = lane_.refused_.fetch_add(1, std::memory_order_relaxed) + 1;
      int64_t last = lane_.last_cap_warning_.load(std::memory_order_relaxed);
      if (now - last > 60'000 && lane_.last_cap_warning_.compare_exchange_strong(last, now))
        spdlog::warn("http: {} connections open (server.max_connections); refusing new ones ({} so far)",
                     lane_.options_.max_connections, refused);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Incoming in{fd, addr.ss_family == AF_INET6, {}};
    char ip[INET6_ADDRSTRLEN] = "";
    if (in.v6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, ip, sizeof(ip));
    else
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, ip, sizeof(ip));
    in.peer_ip = ip;
    lane_.open_.fetch_add(1, std::memory_order_relaxed);
    // Round robin over the loops: the epoll wakes one loop for a burst of connections (wrk opens
    // its 32 at once), which would otherwise serve them all on one core.
    size_t n = lane_.loops_.size();
    Loop* to = lane_.loops_[lane_.next_loop_.fetch_add(1, std::memory_order_relaxed) % n].get();
    if (to == this) {
      Adopt(std::move(in), now);
    } else {
      {
        std::lock_guard lock(to->mu_);
        to->incoming_.push_back(std::move(in));
      }
      to->Wake();
    }
  }
}

void FastLane::Loop::Adopt(Incoming in, int64_t now) {
  if (stopping_) {
    ::close(in.fd);
    lane_.open_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto c = std::make_unique<Conn>();
  c->fd = in.fd;
  c->v6 = in.v6;
  c->peer_ip = std::move(in.peer_ip);
  c->deadline_ms = now + lane_.options_.header_timeout.count();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c.get();
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    ::close(c->fd);
    lane_.open_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  c->index = conns_.size();
  conns_.push_back(std::move(c));
}

void FastLane::Loop::OnReadable(Conn* c, int64_t now) {
  bool eof = false;
  while (c->len < kBuffer) {
    ssize_t n = ::recv(c->fd, c->buf.get() + c->len, kBuffer - c->len, 0);
    if (n > 0) {
      size_t asked = kBuffer - c->len;
      c->len += static_cast<size_t>(n);
      // Less than asked: the socket is drained for now (a second recv would only say EAGAIN; the
      // level-triggered epoll reports what comes next).
      if (static_cast<size_t>(n) < asked) break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return Close(c);  // reset
  }
  Process(c, now);
  if (c->fd < 0) return;
  if (eof) {
    // The peer sends nothing more: answer what is whole (done above), then close; what is left
    // of a request never comes (Beast closes the same way on end of stream).
    c->len = 0;
    c->closing = true;
    if (!c->waiting && c->out_off == c->out.size()) return Close(c);
    if (c->waiting) SetInterest(c, Interest::kNone);
  }
}

void FastLane::Loop::OnWritable(Conn* c, int64_t now) {
  if (!Flush(c, now)) return;
  Process(c, now);  // requests that came meanwhile
}

void FastLane::Loop::Process(Conn* c, int64_t now) {
  while (c->fd >= 0 && !c->waiting && !c->closing) {
    RequestHead head;
    HeadParse parsed = ParseRequestHead(std::string_view(c->buf.get(), c->len), head);
    if (parsed == HeadParse::kIncomplete) {
      if (c->len < kBuffer) break;   // more to come
      parsed = HeadParse::kUnusual;  // a head longer than the lane takes
    }
    bool ours = parsed == HeadParse::kComplete && !head.has_body && !head.expect &&
                (head.method == "GET" || head.method == "HEAD");
    auto req = std::make_unique<Request>();
    if (ours) {
      req->method = std::string(head.method);
      ours = SetRequestTarget(head.target, *req) && lane_.api_.HasFastRoute(req->method, req->path);
    }
    if (!ours) {
      // Another route, a body, something unusual: the Beast server takes the connection, once
      // what was answered is written.
      if (c->out_off < c->out.size() && !Flush(c, now)) return;
      return HandOff(c);
    }
    req->headers.reserve(head.fields.size());
    for (const auto& [name, value] : head.fields) AddRequestHeader(name, value, *req);
    req->peer_ip = c->peer_ip;
    c->minor = head.minor;
    c->keep_alive = head.keep_alive && !stopping_;
    c->head_only = head.method == "HEAD";
    // The head is consumed: what follows it (a pipelined request) moves to the front.
    std::memmove(c->buf.get(), c->buf.get() + head.size, c->len - head.size);
    c->len -= head.size;

    if (std::optional<Response> refused = lane_.api_.Admit(*req)) {
      Respond(c, std::move(*refused));
      continue;
    }
    c->req = std::move(req);
    calling_ = c;
    inline_.reset();
    bool taken = lane_.api_.HandleAdmittedFast(
        *c->req, [this, c](std::optional<Response> r) { Done(c, std::move(r)); });
    calling_ = nullptr;
    if (!taken) {
      Slow(c);
      continue;  // (waiting now: the loop ends)
    }
    if (!inline_) {
      // Answered later: at the end of this batch (a hit's deferred write) or from another thread.
      c->waiting = true;
      asked_.push_back(c);
      return;
    }
    std::optional<Response> r = std::move(*inline_);
    inline_.reset();
    if (!r) {
      Slow(c);
      continue;
    }
    c->req.reset();
    Respond(c, std::move(*r));
  }
  if (c->fd >= 0 && !c->waiting) (void)Flush(c, now);
}

void FastLane::Loop::Done(Conn* c, std::optional<Response> r) {
  if (std::this_thread::get_id() == thread_) {
    if (calling_ == c)
      inline_.emplace(std::move(r));
    else
      local_answers_.push_back(Answer{c, std::move(r)});
    return;
  }
  {
    std::lock_guard lock(mu_);
    answers_.push_back(Answer{c, std::move(r)});
  }
  Wake();
}

void FastLane::Loop::EndBatch(int64_t now) {
  // The batch's deferred work (the hits' one write), then its answers; what they ask in turn (the
  // next pipelined requests, already read, so the rounds end) goes round again: none may be left
  // deferred, or it would wait for the next event.
  while (true) {
    if (lane_.hooks_.batch_done) lane_.hooks_.batch_done();
    if (local_answers_.empty()) break;
    std::vector<Answer> answers;
    answers.swap(local_answers_);
    for (Answer& a : answers) Answered(a.conn, std::move(a.response), now);
  }
  // Still waiting (an answer from another thread): read nothing more from them until it comes.
  for (Conn* c : asked_)
    if (c->waiting && c->fd >= 0) SetInterest(c, Interest::kNone);
  asked_.clear();
}

void FastLane::Loop::TakeAnswers(int64_t now) {
  std::vector<Answer> answers;
  std::vector<Incoming> incoming;
  {
    std::lock_guard lock(mu_);
    answers.swap(answers_);
    incoming.swap(incoming_);
  }
  for (Incoming& in : incoming) Adopt(std::move(in), now);
  for (Answer& a : answers) Answered(a.conn, std::move(a.response), now);
}

void FastLane::Loop::Answered(Conn* c, std::optional<Response> r, int64_t now) {
  c->waiting = false;
  if (c->fd < 0) return Release(c);  // closed while its answer was due (drain timeout)
  if (!r) return Slow(c);
  c->req.reset();
  Respond(c, std::move(*r));
  if (c->fd < 0) return;
  SetInterest(c, Interest::kRead);
  Process(c, now);
}

void FastLane::Loop::Slow(Conn* c) {
  // The route's full handler, on the server's handler threads (it may read the store); the answer
  // comes back here, so the connection stays in the lane.
  c->waiting = true;
  SetInterest(c, Interest::kNone);
  lane_.hooks_.handle_slow(*c->req,
                           [this, c](Response r) { Done(c, std::optional<Response>(std::move(r))); });
}

void FastLane::Loop::Respond(Conn* c, Response r) {
  if (!AppendResponse(r, c->minor, c->keep_alive, c->head_only, c->out)) {
    spdlog::error("http: a response field holds CR, LF or NUL; answered 500 instead");
    (void)AppendResponse(ErrorResponse(Error::Internal("invalid response header")), c->minor, c->keep_alive,
                         c->head_only, c->out);
  }
  if (!c->keep_alive) c->closing = true;
}

bool FastLane::Loop::Flush(Conn* c, int64_t now) {
  while (c->out_off < c->out.size()) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (c->interest != Interest::kWrite) c->deadline_ms = now + lane_.options_.write_timeout.count();
      SetInterest(c, Interest::kWrite);
      return false;
    }
    Close(c);
    return false;
  }
  c->out.clear();
  c->out_off = 0;
  if (c->closing) {
    Close(c);
    return false;
  }
  // The wait for the next request (keep-alive) is bounded as a head's read is.
  c->deadline_ms = now + lane_.options_.header_timeout.count();
  if (!c->waiting) SetInterest(c, Interest::kRead);
  return true;
}

void FastLane::Loop::SetInterest(Conn* c, Interest i) {
  if (c->interest == i || c->fd < 0) return;
  epoll_event ev{};
  ev.events = i == Interest::kRead ? EPOLLIN : i == Interest::kWrite ? EPOLLOUT : 0;
  ev.data.ptr = c;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
  c->interest = i;
}

void FastLane::Loop::HandOff(Conn* c) {
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  LaneHandOff h;
  h.fd = c->fd;
  h.v6 = c->v6;
  h.peer_ip = std::move(c->peer_ip);
  h.pending.assign(c->buf.get(), c->len);
  c->fd = -1;
  lane_.open_.fetch_sub(1, std::memory_order_relaxed);
  Release(c);
  lane_.hooks_.hand_off(std::move(h));
}

void FastLane::Loop::Close(Conn* c) {
  if (c->fd < 0) return;
  ::close(c->fd);  // also leaves the epoll set
  c->fd = -1;
  lane_.open_.fetch_sub(1, std::memory_order_relaxed);
  if (!c->waiting) Release(c);  // else when its answer comes (Answered)
}

void FastLane::Loop::Release(Conn* c) {
  size_t i = c->index;
  std::unique_ptr<Conn> owned = std::move(conns_[i]);
  if (i + 1 != conns_.size()) {
    conns_[i] = std::move(conns_.back());
    conns_[i]->index = i;
  }
  conns_.pop_back();
  graveyard_.push_back(std::move(owned));
}

void FastLane::Loop::Sweep(int64_t now) {
  next_sweep_ = now + 1000;
  if (!listening_ && !stopping_ && now >= accept_paused_until_) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = kListener;
    listening_ = ::epoll_ctl(epfd_, EPOLL_CTL_ADD, lane_.listen_fd_, &ev) == 0;
  }
  for (size_t i = conns_.size(); i-- > 0;) {
    Conn* c = conns_[i].get();
    if (c->fd >= 0 && !c->waiting && now >= c->deadline_ms) Close(c);  // idle, mid-head or stuck writing
  }
}

FastLane::FastLane(Api& api, int listen_fd, Options options, Hooks hooks)
    : api_(api), listen_fd_(listen_fd), options_(options), hooks_(std::move(hooks)) {}

FastLane::~FastLane() {
  Stop();
  Join();
}

Status FastLane::Init() {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    auto loop = std::make_unique<Loop>(*this);
    if (!loop->Init()) {
      loops_.clear();
      return Error::Unavailable(std::string("cannot set up the HTTP fast lane's epoll: ") +
                                std::strerror(errno));
    }
    loops_.push_back(std::move(loop));
  }
  return {};
}

void FastLane::Start() {
  running_ = static_cast<int>(loops_.size());
  for (auto& loop : loops_)
    threads_.emplace_back([this, l = loop.get()] {
      NameThisThread("http-lane");
      l->Run();
      if (running_.fetch_sub(1) == 1 && hooks_.finished) hooks_.finished();
    });
}

void FastLane::Stop() {
  if (stopping_.exchange(true, std::memory_order_acq_rel)) return;
  // No new connection from now on: a listening socket shut down refuses them (and resets those
  // still in its backlog), as the Beast acceptor's close does; the fd stays the caller's to close.
  ::shutdown(listen_fd_, SHUT_RDWR);
  for (auto& loop : loops_) loop->Wake();
}

void FastLane::Join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

}  // namespace rapport::http
