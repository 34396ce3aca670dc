// The outbox worker end to end on real parts: the SQLite OutboxStore (store/open.h), the mail
// module's DKIM signer, the SMTP transport, and tests/smtp/scripted_server.py on loopback. The
// signature is verified with python3-dkim.
#include <gtest/gtest.h>

#include "delivery/maildir/maildir_transport.h"
#include "delivery/outbox_worker.h"
#include "delivery/smtp/smtp_transport.h"
#include "delivery/testing/smtp_servers.h"
#include "delivery/transport_registry.h"
#include "mail/dkim_keyring.h"
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

  // The keyring serve uses, loaded from a key file the same way.
  auto pem = mail::GenerateDkimKeyPem(mail::DkimAlgorithm::kRsaSha256);
  ASSERT_TRUE(pem.ok());
  std::ofstream(dir.path() + "/s1.pem") << *pem;
  std::vector<mail::DkimKeyFile> key_files = {
      {"example.com", "s1", dir.path() + "/s1.pem", mail::DkimAlgorithm::kRsaSha256}};
  auto keyring = mail::DkimKeyring::FromFiles(key_files);
  ASSERT_TRUE(keyring.ok()) << keyring.error().message;
  auto key = mail::DkimKeyFromPem("example.com", "s1", *pem, mail::DkimAlgorithm::kRsaSha256);
  ASSERT_TRUE(key.ok());

  TransportRegistry registry;
  RegisterBuiltinTransports(registry);
  auto smtp = registry.Create("smtp://127.0.0.1:" + std::to_string(server.port) + "?pool=2");
  ASSERT_TRUE(smtp.ok());
  MaildirTransport unused(dir.path() + "/marketing");
  RateLimiter limiter(SystemClock::Instance(), {});
  OutboxWorkerOptions options;
  options.owner = "test-node";
  OutboxWorker worker(outbox, SystemClock::Instance(), limiter, **smtp, unused, DkimMessageSigner(*keyring),
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

// Issue 13 item 5: every class of permanent reply, from a real server through the worker into the
// real SQLite store. Only a reply about the recipient's address bounces the message and the
// contact; blocks, policy, content, size, sender authentication and full or disabled mailboxes
// fail the message and leave the contact mailable (transactional mail still reaches them).
TEST(OutboxWorkerSmtp, Issue13OnlyAnAddressFailureBouncesTheContact) {
  TempDir dir;
  ScriptedServer server;
  ASSERT_TRUE(server.Start({"--out", dir.path(), "--log", dir.path() + "/log"})) << server.error;
  auto store = OpenStore("sqlite:" + dir.path() + "/rapport.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().ok());
  auto ws = (*store)->workspaces().Create("acme");
  ASSERT_TRUE(ws.ok()) << ws.error().message;
  OutboxStore& outbox = (*store)->outbox();

  struct Case {
    std::string local;
    MessageState state;
    DeliveryFailure failure;
    ContactStatus contact;
    std::string step;
  };
  const std::vector<Case> cases = {
      {"p550", MessageState::kBounced, DeliveryFailure::kRecipientAddress, ContactStatus::kBounced,
       "rcpt_to"},
      {"p553dom", MessageState::kBounced, DeliveryFailure::kRecipientAddress, ContactStatus::kBounced,
       "rcpt_to"},
      {"p550txt", MessageState::kBounced, DeliveryFailure::kRecipientAddress, ContactStatus::kBounced,
       "rcpt_to"},
      {"p554", MessageState::kFailed, DeliveryFailure::kPolicyBlock, ContactStatus::kActive, "rcpt_to"},
      {"p554spam", MessageState::kFailed, DeliveryFailure::kPolicyBlock, ContactStatus::kActive, "rcpt_to"},
      {"p554bl", MessageState::kFailed, DeliveryFailure::kPolicyBlock, ContactStatus::kActive, "rcpt_to"},
      {"p550dmarc", MessageState::kFailed, DeliveryFailure::kSenderAuth, ContactStatus::kActive, "rcpt_to"},
      {"p552full", MessageState::kFailed, DeliveryFailure::kMailboxFull, ContactStatus::kActive, "rcpt_to"},
      {"p550off", MessageState::kFailed, DeliveryFailure::kMailboxDisabled, ContactStatus::kActive,
       "rcpt_to"},
      {"d554", MessageState::kFailed, DeliveryFailure::kContent, ContactStatus::kActive, "end_of_data"},
      {"dbig", MessageState::kFailed, DeliveryFailure::kMessageSize, ContactStatus::kActive, "end_of_data"},
      {"t451", MessageState::kDeferred, DeliveryFailure::kTransient, ContactStatus::kActive, "rcpt_to"},
      {"ok", MessageState::kSent, DeliveryFailure::kNone, ContactStatus::kActive, "end_of_data"},
  };
  auto queue = [&](ContactId contact, const std::string& rcpt) {
    OutboxMessage m;
    m.workspace_id = ws->id;
    m.contact_id = contact;
    m.message_class = MessageClass::kTransactional;
    m.mail_from = "bounce@example.com";
    m.rcpt_to = rcpt;
    m.subject = "Receipt";
    m.mime = "From: hello@example.com\r\nTo: " + rcpt + "\r\nSubject: Receipt\r\n\r\nThanks!\r\n";
    m.next_attempt_at = SystemClock::Instance().Now();
    auto e = outbox.Enqueue(m);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return e.ok() ? e->message.id : MessageId{0};
  };
  std::vector<ContactId> contacts;
  std::vector<MessageId> ids;
  for (const Case& c : cases) {
    ContactInput in;
    in.email = c.local + "@example.org";
    auto contact = (*store)->contacts().Create(ws->id, in);
    ASSERT_TRUE(contact.ok()) << contact.error().message;
    contacts.push_back(contact->id);
    ids.push_back(queue(contact->id, *in.email));
  }

  TransportRegistry registry;
  RegisterBuiltinTransports(registry);
  auto smtp = registry.Create("smtp://127.0.0.1:" + std::to_string(server.port) + "?pool=2");
  ASSERT_TRUE(smtp.ok()) << smtp.error().message;
  MaildirTransport unused(dir.path() + "/marketing");
  RateLimiter limiter(SystemClock::Instance(), {});
  OutboxWorkerOptions options;
  options.owner = "test-node";
  OutboxWorker worker(outbox, SystemClock::Instance(), limiter, **smtp, unused, {}, options);
  auto round = worker.RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->bounced, 3);
  EXPECT_EQ(round->failed, 8);
  EXPECT_EQ(round->deferred, 1);
  EXPECT_EQ(round->sent, 1);

  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.local);
    EXPECT_EQ(MessageStateName(outbox.Get(ws->id, ids[i])->state), MessageStateName(c.state));
    EXPECT_EQ(ContactStatusName((*store)->contacts().Get(ws->id, contacts[i])->status),
              ContactStatusName(c.contact));
    auto timeline = (*store)->events().ListForContact(ws->id, contacts[i], {});
    ASSERT_TRUE(timeline.ok());
    ASSERT_FALSE(timeline->items.empty());
    const auto& props = timeline->items.front().properties;
    EXPECT_EQ(timeline->items.front().name, "message." + std::string(MessageStateName(c.state)));
    if (c.failure == DeliveryFailure::kNone) {
      EXPECT_FALSE(props.contains("failure"));
    } else {
      ASSERT_TRUE(props.contains("failure"));
      EXPECT_EQ(props.at("failure").as_string(), DeliveryFailureName(c.failure));
    }
    ASSERT_TRUE(props.contains("smtp_step"));
    EXPECT_EQ(props.at("smtp_step").as_string(), c.step);
  }
  auto failures = worker.Failures();
  EXPECT_EQ((failures[{"example.org", DeliveryFailure::kPolicyBlock}]), 3);
  EXPECT_EQ((failures[{"example.org", DeliveryFailure::kRecipientAddress}]), 3);

  // The blocked contact still gets mail; the bounced one is suppressed at the next claim.
  MessageId again_blocked = queue(contacts[3], "p554@example.org");
  MessageId again_gone = queue(contacts[0], "p550@example.org");
  auto claimed = outbox.Claim(MessageClass::kTransactional, 10, "other-node", SystemClock::Instance().Now(),
                              std::chrono::seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id, again_blocked);
  EXPECT_EQ(outbox.Get(ws->id, again_gone)->state, MessageState::kSuppressed);
}

// Issue 14 item 6: a 421 in the greeting is recorded as 421 (it was code 0 with the text in the
// reply), so rate control's 421 rule halves the provider's rate; the message is deferred.
TEST(OutboxWorkerSmtp, Issue14AGreeting421IsRecordedAndSlowsTheProviderDown) {
  TempDir dir;
  ScriptedServer server;
  ASSERT_TRUE(server.Start({"--reply", "greeting=421 4.7.0 too many connections from your host"}))
      << server.error;
  auto store = OpenStore("sqlite:" + dir.path() + "/rapport.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().ok());
  auto ws = (*store)->workspaces().Create("acme");
  ASSERT_TRUE(ws.ok());
  ContactInput in;
  in.email = "ok@gmail.com";
  auto contact = (*store)->contacts().Create(ws->id, in);
  ASSERT_TRUE(contact.ok());
  OutboxMessage m;
  m.workspace_id = ws->id;
  m.contact_id = contact->id;
  m.mail_from = "bounce@example.com";
  m.rcpt_to = "ok@gmail.com";
  m.mime = "From: hello@example.com\r\nTo: ok@gmail.com\r\nSubject: x\r\n\r\nhi\r\n";
  m.next_attempt_at = SystemClock::Instance().Now();
  auto queued = (*store)->outbox().Enqueue(m);
  ASSERT_TRUE(queued.ok());

  TransportRegistry registry;
  RegisterBuiltinTransports(registry);
  auto smtp = registry.Create("smtp://127.0.0.1:" + std::to_string(server.port) + "?pool=1");
  ASSERT_TRUE(smtp.ok());
  MaildirTransport unused(dir.path() + "/marketing");
  RateLimiterOptions limits;
  limits.default_limits.rate = 40;
  RateLimiter limiter(SystemClock::Instance(), limits);
  OutboxWorkerOptions options;
  options.owner = "test-node";
  OutboxWorker worker((*store)->outbox(), SystemClock::Instance(), limiter, **smtp, unused, {}, options);
  ASSERT_DOUBLE_EQ(limiter.CurrentRate("gmail.com"), 40);
  auto round = worker.RunOnce(MessageClass::kTransactional);
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->deferred, 1);
  auto attempts = (*store)->outbox().Attempts(ws->id, queued->message.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].smtp_code, 421);
  EXPECT_EQ((*attempts)[0].enhanced_code, "4.7.0");
  EXPECT_EQ((*attempts)[0].reply, "too many connections from your host");
  EXPECT_DOUBLE_EQ(limiter.CurrentRate("gmail.com"), 20);  // halved by the 421
  EXPECT_EQ((worker.Failures()[{"gmail.com", DeliveryFailure::kThrottled}]), 1);
}

}  // namespace
}  // namespace rapport::delivery
