// The outbox worker end to end on real parts: the SQLite OutboxStore (store/open.h), the mail
// module's DKIM signer, the SMTP transport, and tests/smtp/scripted_server.py on loopback. The
// signature is verified with python3-dkim.
#include <gtest/gtest.h>

#include "delivery/maildir/maildir_transport.h"
#include "delivery/outbox_worker.h"
#include "delivery/smtp/smtp_transport.h"
#include "delivery/testing/smtp_servers.h"
#include "delivery/transport_registry.h"
#include "mail/dkim.h"
#include "store/open.h"

namespace rapport::delivery {
namespace {

using namespace testing;

TEST(OutboxWorkerSmtp, DeliversSignedMailAndRecordsEveryOutcomeInSqlite) {
  TempDir dir;
  ScriptedServer server;
  ASSERT_TRUE(server.Start({"--out", dir.path(), "--log", dir.path() + "/log"})) << server.error;

  auto store = OpenStore("sqlite:" + dir.path() + "/rapport.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().ok());
  auto ws = (*store)->workspaces().Create("acme");
  ASSERT_TRUE(ws.ok()) << ws.error().message;
  OutboxStore& outbox = (*store)->outbox();

  std::vector<MessageId> ids;
  for (std::string rcpt : {"ok1@example.org", "ok2@example.org", "t451@example.org", "p550@example.org"}) {
    ContactInput in;
    in.email = rcpt;
    auto c = (*store)->contacts().Create(ws->id, in);
    ASSERT_TRUE(c.ok()) << c.error().message;
    OutboxMessage m;
    m.workspace_id = ws->id;
    m.contact_id = c->id;
    m.message_class = MessageClass::kTransactional;
    m.mail_from = "bounce@example.com";
    m.rcpt_to = rcpt;
    m.subject = "Welcome";
    m.mime = "From: Acme <hello@example.com>\r\nTo: " + rcpt +
             "\r\nSubject: Welcome\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
             "Message-ID: <" +
             rcpt +
             ".1@example.com>\r\nMIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\nHello!\r\n.dot line\r\n";
    m.next_attempt_at = SystemClock::Instance().Now();
    auto e = outbox.Enqueue(m);
    ASSERT_TRUE(e.ok()) << e.error().message;
    ids.push_back(e->message.id);
  }

  auto pem = mail::GenerateDkimKeyPem(mail::DkimAlgorithm::kRsaSha256);
  ASSERT_TRUE(pem.ok());
  auto key = mail::DkimKeyFromPem("example.com", "s1", *pem, mail::DkimAlgorithm::kRsaSha256);
  ASSERT_TRUE(key.ok());
  mail::DkimSigner signer({*key});

  auto smtp = CreateTransport("smtp://127.0.0.1:" + std::to_string(server.port) + "?pool=2");
  ASSERT_TRUE(smtp.ok());
  MaildirTransport unused(dir.path() + "/marketing");
  RateLimiter limiter(SystemClock::Instance(), {});
  OutboxWorkerOptions options;
  options.owner = "test-node";
  OutboxWorker worker(outbox, SystemClock::Instance(), limiter, **smtp, unused, DkimMessageSigner(signer),
                      options);
  auto round = worker.RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->claimed, 4);
  EXPECT_EQ(round->sent, 2);
  EXPECT_EQ(round->deferred, 1);
  EXPECT_EQ(round->bounced, 1);

  EXPECT_EQ(outbox.Get(ws->id, ids[0])->state, MessageState::kSent);
  EXPECT_EQ(outbox.Get(ws->id, ids[2])->state, MessageState::kDeferred);
  EXPECT_GT(outbox.Get(ws->id, ids[2])->next_attempt_at, SystemClock::Instance().Now());
  EXPECT_EQ(outbox.Get(ws->id, ids[3])->state, MessageState::kBounced);
  auto attempts = outbox.Attempts(ws->id, ids[3]);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].smtp_code, 550);
  EXPECT_EQ((*attempts)[0].enhanced_code, "5.1.1");
  EXPECT_EQ((*attempts)[0].remote, "127.0.0.1:" + std::to_string(server.port));
  // Nothing is claimable now: the deferred one is not due.
  EXPECT_EQ(worker.RunOnce(MessageClass::kTransactional)->claimed, 0);

  // The server got two signed messages; the signature verifies.
  auto files = FilesIn(dir.path());
  std::vector<std::string> emls;
  for (auto& f : files) {
    if (f.size() > 4 && f.substr(f.size() - 4) == ".eml") emls.push_back(f);
  }
  ASSERT_EQ(emls.size(), 2u);
  auto txt = mail::DkimTxtValue(*key);
  ASSERT_TRUE(txt.ok());
  std::string cmd = "/usr/bin/python3 " + SourceDir() + "/tests/smtp/verify_dkim.py '" + emls[0] + "' '" +
                    *txt + "' >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(emls[0]);
}

}  // namespace
}  // namespace rapport::delivery
