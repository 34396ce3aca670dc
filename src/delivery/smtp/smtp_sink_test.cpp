// The SMTP client against Postfix's smtp-sink (a real server) on loopback.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "delivery/smtp/smtp_transport.h"
#include "delivery/testing/smtp_servers.h"

namespace rapport::delivery {
namespace {

using namespace testing;

SmtpConfig Config(int port, int pool = 4) {
  auto c = ParseSmtpUrl("smtp://127.0.0.1:" + std::to_string(port) +
                        "?command_timeout=10&pool=" + std::to_string(pool));
  return c.value();
}

std::string Message(int i, std::string_view body) {
  return "From: a@example.com\r\nTo: r" + std::to_string(i) + "@example.org\r\nSubject: m" +
         std::to_string(i) + "\r\n\r\n" + std::string(body);
}

TEST(SmtpSink, DeliversManyMessagesOverPooledConnections) {
  TempDir dump;
  ::chmod(dump.path().c_str(), 0777);  // smtp-sink runs as nobody
  SmtpSink sink;
  ASSERT_TRUE(sink.Start({"-d", dump.path() + "/%M."})) << sink.error;
  SmtpTransport t(Config(sink.port, 4));
  std::vector<OutgoingMessage> batch;
  for (int i = 0; i < 40; ++i) {
    batch.push_back({{"bounce@example.com", {"r" + std::to_string(i) + "@example.org"}},
                     Message(i, "line one\r\n.leading dot\r\n..two dots\r\nend\r\n")});
  }
  auto results = t.Send(batch);
  ASSERT_EQ(results.size(), 40u);
  for (const auto& r : results) {
    ASSERT_EQ(r.recipients.size(), 1u);
    EXPECT_EQ(r.recipients[0].code, 250) << r.recipients[0].text;
    EXPECT_EQ(r.remote, "127.0.0.1:" + std::to_string(sink.port));
  }
  auto s = t.stats();
  EXPECT_EQ(s.connections_opened, 4);  // reused, not one per message
  EXPECT_EQ(s.pipelined, 40);          // smtp-sink advertises PIPELINING
  EXPECT_EQ(s.chained, 36);            // all but the first message of each connection
  // A second batch reuses the pooled connections.
  auto again = t.Send(std::span(batch).first(8));
  for (const auto& r : again) EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(t.stats().connections_opened, 4);
  EXPECT_EQ(t.idle_connections(), 4u);

  // What smtp-sink stored (with LF line ends): 48 transactions, dots un-stuffed by the server.
  std::vector<std::string> files;
  for (int i = 0; i < 100 && files.size() < 48; ++i) {
    files = FilesIn(dump.path());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(files.size(), 48u);
  std::string content = ReadFile(files[0]);
  EXPECT_NE(content.find("\n.leading dot\n..two dots\nend\n"), std::string::npos) << content;
}

TEST(SmtpSink, SeveralRecipientsAndBigMessageWithoutPipelining) {
  SmtpSink sink;
  ASSERT_TRUE(sink.Start({"-p"})) << sink.error;  // no PIPELINING
  SmtpTransport t(Config(sink.port, 2));
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + " of a large message\r\n";
  std::vector<OutgoingMessage> batch = {
      {{"bounce@example.com", {"a@example.org", "b@example.org", "c@example.org"}}, Message(1, big)}};
  auto results = t.Send(batch);
  ASSERT_EQ(results[0].recipients.size(), 3u);
  for (const auto& r : results[0].recipients) EXPECT_EQ(r.code, 250) << r.text;
  EXPECT_EQ(t.stats().pipelined, 0);
}

TEST(SmtpSink, HardAndSoftRejectionsPerCommand) {
  SmtpSink sink;
  ASSERT_TRUE(sink.Start({"-f", "RCPT"})) << sink.error;  // 5xx to every RCPT
  SmtpTransport t(Config(sink.port, 1));
  std::vector<OutgoingMessage> batch = {{{"b@example.com", {"x@example.org"}}, Message(1, "x\r\n")},
                                        {{"b@example.com", {"y@example.org"}}, Message(2, "y\r\n")}};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code / 100, 5) << r[0].recipients[0].text;
  EXPECT_EQ(r[1].recipients[0].code / 100, 5);
  EXPECT_EQ(t.stats().connections_opened, 1);  // RSET and go on, on the same connection

  SmtpSink soft;
  ASSERT_TRUE(soft.Start({"-r", "MAIL"})) << soft.error;
  SmtpTransport t2(Config(soft.port, 1));
  auto r2 = t2.Send(batch);
  EXPECT_EQ(r2[0].recipients[0].code / 100, 4) << r2[0].recipients[0].text;
  EXPECT_EQ(r2[0].recipients[0].enhanced_code, "4.3.0");
}

TEST(SmtpSink, Reply421ClosesAndTheNextMessageReconnects) {
  SmtpSink sink;
  ASSERT_TRUE(sink.Start({"-Q", "DATA"})) << sink.error;  // 421 and disconnect on DATA
  SmtpTransport t(Config(sink.port, 1));
  std::vector<OutgoingMessage> batch = {{{"b@example.com", {"x@example.org"}}, Message(1, "x\r\n")},
                                        {{"b@example.com", {"y@example.org"}}, Message(2, "y\r\n")}};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 421) << r[0].recipients[0].text;
  EXPECT_EQ(r[1].recipients[0].code, 421);
  EXPECT_EQ(t.stats().connections_opened, 2);
}

TEST(SmtpSink, ConnectionRefusedIsATransportFailure) {
  int port = FreePort();  // nothing listens here
  SmtpTransport t(Config(port, 2));
  std::vector<OutgoingMessage> batch = {{{"b@example.com", {"x@example.org"}}, Message(1, "x\r\n")}};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 0);
  EXPECT_NE(r[0].recipients[0].text.find("connecting"), std::string::npos) << r[0].recipients[0].text;
}

TEST(SmtpSink, OutlivesNoProcessThatEndsWithoutStoppingIt) {
  // smtp-sink changes user, so no parent-death signal reaches it: when the process that started
  // it ends without Stop() (an aborted test binary), its watchdog kills it.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);  // not inherited by the sink: end of file when the child ends
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto* sink = new SmtpSink;  // never stopped
    pid_t pid = sink->Start() ? sink->process.pid() : 0;
    ssize_t n = ::write(fds[1], &pid, sizeof pid);
    ::_exit(n == sizeof pid && pid > 0 ? 0 : 1);
  }
  ::close(fds[1]);
  pid_t sink_pid = 0;
  ssize_t n = ::read(fds[0], &sink_pid, sizeof sink_pid);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(n == sizeof sink_pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the sink did not start";
  auto running = [&] {  // a zombie (not reaped yet by whoever adopted it) does not run
    std::ifstream stat("/proc/" + std::to_string(sink_pid) + "/stat");
    std::string pid, comm, state;
    return ::kill(sink_pid, 0) == 0 && stat >> pid >> comm >> state && state != "Z";
  };
  bool alive = true;
  for (int i = 0; i < 100 && alive; ++i) {
    alive = running();
    if (alive) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(alive) << "smtp-sink " << sink_pid << " still runs after the process that started it ended";
  if (alive) ::kill(sink_pid, SIGKILL);
}

}  // namespace
}  // namespace rapport::delivery
