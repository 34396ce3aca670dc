// The HTTP API server: Boost.Beast over Asio, JSON via Boost.JSON, routes under /api/v1.
//
// Owns its io_context and worker threads. Start() binds and listens (kUnavailable naming the
// address when it cannot); Run() serves until Shutdown(), which stops accepting, lets in-flight
// requests finish (up to drain_timeout), and returns. Shutdown() may be called from any thread
// or a signal handler's watcher thread. The Store and Clock must outlive the Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/store.h"
#include "http/api.h"

namespace rapport::http {

// The API options a server starts from: ApiOptions' defaults, with the access log on.
inline ApiOptions ServerApiOptions() {
  ApiOptions o;
  o.access_log = true;
  return o;
}

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (see Server::port())
  int threads = 2;       // I/O threads
  // Threads that run the request handlers (0: the I/O threads run them). A tracking hit waits on
  // its handler thread for its group commit (hit_batcher.h): this many hits can share a commit.
  int handler_threads = 64;
  size_t body_limit = 32 * 1024 * 1024;  // bytes; larger bodies get 413
  // Connections open at once; more are closed as they are accepted.
  size_t max_connections = 1024;
  // The fast lane (fast_lane.h): the server's own HTTP/1.1 loop accepts every connection and
  // answers the tracking hits itself; any other request goes to Beast with its connection.
  bool fast_lane = true;
  // Reading a request's line and headers (and a keep-alive connection's wait for its next
  // request); then reading its body; then writing the response. A peer slower than these is
  // disconnected, so a slow client holds a connection for a bounded time.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds drain_timeout{30};  // graceful shutdown budget
  // What the API is given (api.h: the sender, the link secret and signer, the engines, the limits on
  // strangers, the access log ...); the server passes it on as it is. The access log is on here.
  ApiOptions api = ServerApiOptions();
};

class Server {
 public:
  Server(Store& store, Clock& clock, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  uint16_t port() const;  // the bound port, after Start()
  void Run();             // blocks until Shutdown() completes the drain
  void Shutdown();
  // The API's metrics (api.h Api::metrics), for the other parts of the process that count into
  // them (the inbound bounce and complaint paths). Lives as long as the Server.
  Metrics& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::http
