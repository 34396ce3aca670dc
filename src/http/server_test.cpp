// The Beast server over real loopback sockets (plain POSIX on the client side): keep-alive, 413,
// 100-continue, malformed requests, and a graceful shutdown that finishes a request in flight.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "http/test_store.h"

namespace rapport::http {
namespace {

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << "send failed";
    data.remove_prefix(static_cast<size_t>(n));
  }
}

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// Reads one response (Content-Length framed). status 0: the connection closed first.
RawResponse ReadResponse(int fd, std::string& pending) {
  RawResponse r;
  char buf[65536];
  size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return r;
    pending.append(buf, static_cast<size_t>(n));
  }
  r.head = pending.substr(0, end + 2);
  pending.erase(0, end + 4);
  r.status = std::stoi(r.head.substr(9, 3));
  size_t length = 0;
  std::string lower = r.head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (size_t cl = lower.find("content-length:"); cl != std::string::npos)
    length = std::stoul(lower.substr(cl + 15));
  while (pending.size() < length) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
  }
  r.body = pending.substr(0, length);
  pending.erase(0, length);
  return r;
}

// Reads one answer's status line and fields only (the answer to a HEAD), leaving what follows
// them in `pending`. Empty: the connection closed first.
std::string ReadHead(int fd, std::string& pending) {
  char buf[4096];
  size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    pending.append(buf, static_cast<size_t>(n));
  }
  std::string head = pending.substr(0, end);
  pending.erase(0, end + 4);
  return head;
}

bool PeerClosed(int fd) {
  char c;
  return recv(fd, &c, 1, 0) == 0;
}

std::string Post(const std::string& path, const std::string& key, const std::string& body,
                 const std::string& extra_headers = {}) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions opts) {
    opts.port = 0;
    server_ = std::make_unique<Server>(*env_.store, env_.clock, opts);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_NE(server_->port(), 0);
    run_ = std::async(std::launch::async, [this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Shutdown();
      EXPECT_EQ(run_.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    }
  }

  TestStore env_;
  std::string key_ = env_.AddKey(env_.workspace, "admin", kScopeAdmin);
  std::unique_ptr<Server> server_;
  std::future<void> run_;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer({});
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  std::string pending;
  for (int i = 0; i < 3; ++i) {
    SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    RawResponse r = ReadResponse(fd, pending);
    ASSERT_EQ(r.status, 200) << r.head;
    EXPECT_NE(r.body.find("\"ok\""), std::string::npos);
    EXPECT_EQ(r.head.find("Server:"), std::string::npos) << r.head;  // no product banner
  }
  SendAll(fd, Post("/api/v1/contacts", key_, R"({"email":"keep@example.com"})"));
  RawResponse r = ReadResponse(fd, pending);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.head.find("application/json"), std::string::npos);
  // Two requests written back to back (pipelined) are both answered, in order.
  SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/nope HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ReadResponse(fd, pending).status, 200);
  EXPECT_EQ(ReadResponse(fd, pending).status, 404);
  close(fd);
}

TEST_F(ServerTest, BodyOverTheLimitIs413Json) {
  ServerOptions opts;
  opts.body_limit = 4096;
  StartServer(opts);
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  std::string body = R"({"email":"big@example.com","attributes":{"a":")" + std::string(200000, 'x') + "\"}}";
  SendAll(fd, Post("/api/v1/contacts", key_, body));
  std::string pending;
  RawResponse r = ReadResponse(fd, pending);
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_NE(r.body.find("\"too_large\""), std::string::npos) << r.body;
  close(fd);
}

TEST_F(ServerTest, ExpectContinueAndMalformedRequests) {
  StartServer({});
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  std::string body = R"({"email":"cont@example.com"})";
  std::string req = Post("/api/v1/contacts", key_, body, "Expect: 100-continue\r\n");
  SendAll(fd, req.substr(0, req.size() - body.size()));
  std::string pending;
  RawResponse cont = ReadResponse(fd, pending);
  EXPECT_EQ(cont.status, 100) << cont.head;
  SendAll(fd, body);
  EXPECT_EQ(ReadResponse(fd, pending).status, 201);
  close(fd);

  fd = Connect(server_->port());
  SendAll(fd, "GARBAGE\r\n\r\n");
  pending.clear();
  RawResponse bad = ReadResponse(fd, pending);
  EXPECT_EQ(bad.status, 400) << bad.head;
  EXPECT_NE(bad.body.find("\"bad_request\""), std::string::npos);
  close(fd);
}

TEST_F(ServerTest, ShutdownFinishesTheRequestInFlightAndClosesIdleConnections) {
  StartServer({});
  int idle = Connect(server_->port());
  std::string idle_pending;
  SendAll(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(ReadResponse(idle, idle_pending).status, 200);

  int busy = Connect(server_->port());
  std::string body =
      R"({"events":[{"name":"a","email":"drain@example.com"},{"name":"b","email":"drain@example.com"}]})";
  std::string req = Post("/api/v1/events", key_, body);
  size_t half = req.size() - body.size() / 2;
  SendAll(busy, req.substr(0, half));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  server_->Shutdown();
  EXPECT_TRUE(PeerClosed(idle));           // the idle keep-alive connection is closed
  EXPECT_LT(Connect(server_->port()), 0);  // no new connections
  EXPECT_EQ(run_.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);  // still draining

  SendAll(busy, req.substr(half));
  std::string pending;
  RawResponse r = ReadResponse(busy, pending);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos) << r.head;
  EXPECT_EQ(run_.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  close(idle);
  close(busy);
  auto count = env_.store->events().Count(env_.workspace);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3);  // acknowledged means stored: the two events and their contact's "contact.created"
}

TEST_F(ServerTest, DrainTimeoutEndsRunWhenAClientNeverFinishes) {
  ServerOptions opts;
  opts.drain_timeout = std::chrono::seconds(1);
  StartServer(opts);
  int stuck = Connect(server_->port());
  SendAll(stuck, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  ASSERT_EQ(run_.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  server_.reset();  // destroys the connection still held by the stopped io_context
  close(stuck);
}

// --- The fast lane (fast_lane.h): hits answered by the server's own loop, the rest handed on. ---

std::string Get(const std::string& target, const std::string& extra = {}, const char* version = "HTTP/1.1") {
  return "GET " + target + " " + version + "\r\nHost: x\r\nUser-Agent: test\r\n" + extra + "\r\n";
}

TEST_F(ServerTest, TheFastLaneAnswersHitsAndHandsTheRestOnWithTheConnection) {
  StartServer({});
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  std::string pending;
  // Pipelined: a hit (the lane: a token that does not verify is a 404), a request for another
  // route (handed to the full server with the connection), a hit again (now the full server's).
  SendAll(fd, Get("/o/not-a-token") + Get("/healthz") + Get("/c/not-a-token"));
  RawResponse a = ReadResponse(fd, pending);
  RawResponse b = ReadResponse(fd, pending);
  RawResponse c = ReadResponse(fd, pending);
  EXPECT_EQ(a.status, 404) << a.head;
  EXPECT_FALSE(a.body.empty());
  EXPECT_EQ(b.status, 200) << b.head;
  EXPECT_NE(b.body.find("\"ok\""), std::string::npos);
  EXPECT_EQ(c.status, 404) << c.head;
  EXPECT_EQ(a.body, c.body);  // the same answer from either server
  SendAll(fd, Post("/api/v1/contacts", key_, R"({"email":"lane@example.com"})"));
  EXPECT_EQ(ReadResponse(fd, pending).status, 201);
  close(fd);
}

TEST_F(ServerTest, TheFastLaneTakesAHitSentAByteAtATime) {
  StartServer({});
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  std::string req = Get("/o/abc");
  for (size_t i = 0; i < req.size(); ++i) {
    SendAll(fd, req.substr(i, 1));
    if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::string pending;
  EXPECT_EQ(ReadResponse(fd, pending).status, 404);
  SendAll(fd, Get("/o/abc"));  // and the connection stays open
  EXPECT_EQ(ReadResponse(fd, pending).status, 404);
  close(fd);
}

TEST_F(ServerTest, TheFastLaneAnswersHeadWithoutABody) {
  StartServer({});
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "HEAD /o/abc HTTP/1.1\r\nHost: x\r\n\r\n" + Get("/o/abc"));
  std::string pending;
  std::string head = ReadHead(fd, pending);
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 404") << head;
  size_t cl = head.find("Content-Length: ");
  ASSERT_NE(cl, std::string::npos) << head;
  // No body after the HEAD's head: what follows is the GET's whole answer.
  RawResponse get = ReadResponse(fd, pending);
  EXPECT_EQ(get.status, 404) << get.head;
  EXPECT_FALSE(get.body.empty());
  EXPECT_EQ(std::stoul(head.substr(cl + 16)), get.body.size());  // the HEAD's length is the GET's
  close(fd);
}

// The full server answers a HEAD with the GET's fields and no content, so the next answer on the
// connection is read from the right byte (a 405 here: no other route takes HEAD).
TEST_F(ServerTest, TheFullServerAnswersHeadWithoutABody) {
  StartServer({});
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + Get("/healthz"));
  std::string pending;
  std::string head = ReadHead(fd, pending);
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 405") << head;
  RawResponse get = ReadResponse(fd, pending);  // starts right after the HEAD's fields
  EXPECT_EQ(get.status, 200) << get.head;
  EXPECT_NE(get.body.find("\"ok\""), std::string::npos);
  close(fd);
}

TEST_F(ServerTest, TheFastLaneKeepsHttp10AndConnectionClose) {
  StartServer({});
  std::string pending;
  int fd = Connect(server_->port());
  SendAll(fd, Get("/o/abc", {}, "HTTP/1.0"));
  RawResponse r = ReadResponse(fd, pending);
  EXPECT_EQ(r.head.substr(0, 12), "HTTP/1.0 404") << r.head;
  EXPECT_TRUE(PeerClosed(fd));  // HTTP/1.0 without keep-alive
  close(fd);

  fd = Connect(server_->port());
  pending.clear();
  SendAll(fd, Get("/o/abc", "Connection: keep-alive\r\n", "HTTP/1.0"));
  r = ReadResponse(fd, pending);
  EXPECT_NE(r.head.find("Connection: keep-alive"), std::string::npos) << r.head;
  SendAll(fd, Get("/o/abc", "Connection: close\r\n"));
  r = ReadResponse(fd, pending);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos) << r.head;
  EXPECT_TRUE(PeerClosed(fd));
  close(fd);
}

// What the lane does not take gets the full server's answer, byte for byte the same status and
// body as with the lane off.
TEST_F(ServerTest, TheFastLaneLeavesUnusualRequestsToTheFullServer) {
  StartServer({});
  ServerOptions off;
  off.port = 0;
  off.fast_lane = false;
  Server beast(*env_.store, env_.clock, off);
  ASSERT_TRUE(beast.Start().ok());
  auto beast_run = std::async(std::launch::async, [&beast] { beast.Run(); });
  std::vector<std::string> requests = {
      "GET /o/abc HTTP/1.1\nHost: x\n\n",                                // bare LF
      "GET /o/%zz HTTP/1.1\r\nHost: x\r\n\r\n",                          // bad percent-encoding
      "POST /o/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",  // a body
      "GET /o/abc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET /o/" + std::string(12000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",  // longer than the lane's buffer
      "PUT /c/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",         // another method
      "GET /o/abc HTTP/1.1\r\nHost: x\r\nX: a\x01z\r\n\r\n",                 // a control character
      "GET /o/abc HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",                   // obsolete folding
  };
  for (const std::string& req : requests) {
    RawResponse got[2];
    uint16_t ports[2] = {server_->port(), beast.port()};
    for (int i = 0; i < 2; ++i) {
      int fd = Connect(ports[i]);
      ASSERT_GE(fd, 0);
      SendAll(fd, req);
      std::string pending;
      got[i] = ReadResponse(fd, pending);
      close(fd);
    }
    EXPECT_NE(got[0].status, 0) << req;
    EXPECT_EQ(got[0].status, got[1].status) << req;
    EXPECT_EQ(got[0].body, got[1].body) << req;
  }
  beast.Shutdown();
  EXPECT_EQ(beast_run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
}

TEST_F(ServerTest, TheFastLaneClosesIdleAndHalfSentConnectionsAfterTheHeaderTimeout) {
  ServerOptions opts;
  opts.header_timeout = std::chrono::seconds(1);
  StartServer(opts);
  int idle = Connect(server_->port());
  int half = Connect(server_->port());
  SendAll(half, "GET /o/abc HTTP/1.1\r\nHost: x\r\n");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(PeerClosed(idle));
  EXPECT_TRUE(PeerClosed(half));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(500));
  EXPECT_LT(waited, std::chrono::seconds(5));
  close(idle);
  close(half);
}

TEST_F(ServerTest, TheFastLaneCountsItsConnectionsAgainstTheCap) {
  ServerOptions opts;
  opts.max_connections = 2;
  StartServer(opts);
  int a = Connect(server_->port());
  int b = Connect(server_->port());
  std::string pa, pb;
  SendAll(a, Get("/o/abc"));
  SendAll(b, Get("/healthz"));  // this one is the full server's now: counted there
  EXPECT_EQ(ReadResponse(a, pa).status, 404);
  EXPECT_EQ(ReadResponse(b, pb).status, 200);
  int c = Connect(server_->port());
  ASSERT_GE(c, 0);  // the kernel completes the handshake; the server closes it at once
  EXPECT_TRUE(PeerClosed(c) || errno == ECONNRESET);
  close(c);
  close(a);
  SendAll(b, Get("/healthz"));  // the others are unaffected
  EXPECT_EQ(ReadResponse(b, pb).status, 200);
  close(b);
}

TEST_F(ServerTest, StartReportsAnAddressInUse) {
  StartServer({});
  ServerOptions opts;
  opts.port = server_->port();
  Server second(*env_.store, env_.clock, opts);
  Status st = second.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find(std::to_string(opts.port)), std::string::npos);
}

}  // namespace
}  // namespace rapport::http
