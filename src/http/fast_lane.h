// FastLane: the server's own HTTP/1.1 loop for the routes that have a fast handler (router.h: the
// open pixel and the click), in front of the Beast server.
//
// A tracking hit is a tiny GET answered with a 43-byte GIF or a 302 at rates an API request never
// sees. Through Beast and Asio each one paid ~25 us of per-request machinery (a parser object, a
// strand hop, two timers, a serializer over a buffer sequence, a response object with its own
// field list) before its handler ran: more than nginx's whole cost of ~8 us (bench/RESULTS.md,
// "## tracking"). The lane owns the listening socket: its threads (one epoll each, the listener
// shared with EPOLLEXCLUSIVE) accept, read into one buffer per connection, parse the request line
// and fields strictly (ParseRequestHead), call the Api's admission and fast handler as the Beast
// session does, and write the answer with one send(2).
//
// Everything else leaves the lane: a request for another route, one with a body, anything the
// strict parser finds unusual (Beast then answers it, malformed or not, exactly as before), a hit
// whose fast handler declines. The connection is then handed to the Beast server with the bytes
// read and not yet consumed, and the lane forgets it. A hit whose fast handler declines (its
// message is not in the link cache yet) runs its full handler on the server's handler threads and
// its answer comes back to the lane: the connection stays. So the lane changes the cost of hits
// and the behaviour of nothing.
//
// Timeouts (ServerOptions): a connection idle or mid-head longer than header_timeout is closed, as
// one whose answer is not sent within write_timeout. Shutdown: Stop() stops accepting and closes
// idle connections; one mid-request finishes (its answer says Connection: close); the threads end
// when no connection is left or drain_timeout has passed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "http/api.h"
#include "http/message.h"
#include "http/request_head.h"

namespace rapport::http {

// A connection leaving the lane for the Beast server.
struct LaneHandOff {
  int fd = -1;
  bool v6 = false;
  std::string peer_ip;
  std::string pending;  // read and not consumed (the next request's bytes first)
};

class FastLane {
 public:
  struct Options {
    int threads = 2;
    size_t max_connections = 1024;  // with the Beast server's (others())
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds drain_timeout{30'000};
  };
  struct Hooks {
    std::function<size_t()> others;             // connections open in the Beast server
    std::function<void(LaneHandOff)> hand_off;  // takes the fd (called on a lane thread)
    // Runs Api::HandleAdmitted for a request whose fast handler declined (the message is not in
    // the link cache) and calls `done` with its answer, from any thread; `request` stays alive
    // until then.
    std::function<void(const Request& request, std::function<void(Response)> done)> handle_slow;
    std::function<void()> finished;  // the last lane thread is ending (after Stop)
    // On each lane thread: once when it starts, and after each batch of events the epoll gave it,
    // before the answers are sent (the hit log defers the hits' writes to one write(2) a batch:
    // HitLog::DeferOnThisThread, FlushDeferred).
    std::function<void()> thread_started;
    std::function<void()> batch_done;
  };

  // `listen_fd`: a listening socket (not owned: the caller closes it after `finished`).
  FastLane(Api& api, int listen_fd, Options options, Hooks hooks);
  ~FastLane();  // joins the threads (Stop first)
  FastLane(const FastLane&) = delete;
  FastLane& operator=(const FastLane&) = delete;

  Status Init();  // the loops' epoll sets (kUnavailable when the system refuses them)
  void Start();   // the threads (after Init)
  void Stop();    // any thread; returns at once
  void Join();
  size_t connections() const { return open_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  class Loop;
  friend class Loop;
  Api& api_;
  int listen_fd_;
  Options options_;
  Hooks hooks_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> next_loop_{0};  // round robin of accepted connections
  std::atomic<uint64_t> refused_{0};
  std::atomic<int> running_{0};
  std::atomic<int64_t> last_cap_warning_{0};
};

}  // namespace rapport::http
