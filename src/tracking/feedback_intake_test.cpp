// The feedback intake against a real SQLite store, fed the samples of tests/feedback/ with the
// VERP envelope sender of a delivered message put where the provider puts it.
#include "tracking/feedback_intake.h"

#include <gtest/gtest.h>

#include <optional>

#include <fstream>
#include <sstream>

#include "source_dir.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::tracking {
namespace {

using namespace std::chrono_literals;

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(RAPPORT_SOURCE_DIR) + "/tests/feedback/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

class FeedbackIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_.emplace(clock_, "shop");
    store_ = temp_->store.get();
    ws_ = temp_->workspace;
    intake_.emplace(*store_, verp_, BouncePolicy{}, clock_);
  }
  // A delivered marketing message to `email`; returns its id.
  MessageId Delivered(const std::string& email) {
    ContactInput in;
    in.email = email;
    EXPECT_TRUE(ValidateContactInput(in).ok());
    auto c = store_->contacts().Upsert(ws_, in);
    OutboxMessage m;
    m.workspace_id = ws_;
    m.contact_id = c->contact.id;
    m.message_class = MessageClass::kMarketing;
    m.mail_from = "bounces@rapport.test";
    m.rcpt_to = email;
    m.subject = "News";
    m.mime = "Subject: News\r\n\r\nHi\r\n";
    m.next_attempt_at = clock_.Now();
    auto q = store_->outbox().Enqueue(m);
    EXPECT_TRUE(store_->outbox().Claim(MessageClass::kMarketing, 10, "w", clock_.Now(), 30s).ok());
    DeliveryAttempt a;
    a.attempt = 1;
    a.at = clock_.Now();
    a.outcome = MessageState::kSent;
    EXPECT_TRUE(store_->outbox().Complete(q->message.id, "w", a, {}).ok());
    return q->message.id;
  }
  // The sample with the message's VERP address where the provider put the envelope sender.
  std::string Report(const std::string& file, MessageId id) {
    return ReplaceAll(Sample(file), "bounces@rapport.test", verp_.Encode("bounces@rapport.test", ws_, id));
  }
  ContactStatus StatusOf(const std::string& email) {
    return store_->contacts().GetByEmail(ws_, email)->status;
  }

  FakeClock clock_{FromMicros(1'790'000'000'000'000)};
  std::optional<TempSqliteStore> temp_;  // the services below are destroyed before it
  Store* store_ = nullptr;
  WorkspaceId ws_ = 0;
  VerpCodec verp_ = *VerpCodec::Create("0123456789abcdef0123456789abcdef");
  std::optional<FeedbackIntake> intake_;
};

TEST_F(FeedbackIntakeTest, ProviderBouncesAreClassifiedAndApplied) {
  struct Case {
    const char* file;
    const char* email;
    FeedbackKind kind;
    ContactStatus after;
  } cases[] = {
      {"gmail_address_not_found.eml", "nobody.here@gmail.com", FeedbackKind::kHardBounce,
       ContactStatus::kBounced},
      {"outlook_recipient_not_found.eml", "gone.user@outlook.com", FeedbackKind::kHardBounce,
       ContactStatus::kBounced},
      {"yahoo_no_account.eml", "no.account@yahoo.com", FeedbackKind::kHardBounce, ContactStatus::kBounced},
      {"gmail_dmarc_rejected.eml", "someone@gmail.com", FeedbackKind::kBlock, ContactStatus::kActive},
      {"outlook_blocked_spamhaus.eml", "someone@hotmail.com", FeedbackKind::kBlock, ContactStatus::kActive},
      {"yahoo_mailbox_full.eml", "full.box@yahoo.com", FeedbackKind::kSoftBounce, ContactStatus::kActive},
      {"rfc3464_permanent_failure.eml", "louisl@larry.slip.umd.edu", FeedbackKind::kSoftBounce,
       ContactStatus::kActive},
      {"yahoo_cfl_complaint.eml", "complainer@yahoo.com", FeedbackKind::kComplaint,
       ContactStatus::kComplained},
      {"outlook_jmrp_complaint.eml", "redacted@hotmail.com", FeedbackKind::kComplaint,
       ContactStatus::kComplained},
      {"rfc5965_abuse_report.eml", "user@example.com", FeedbackKind::kComplaint, ContactStatus::kComplained},
  };
  for (const Case& c : cases) {
    MessageId id = Delivered(c.email);
    auto r = intake_->IngestMessage(Report(c.file, id));
    ASSERT_TRUE(r.ok()) << c.file << ": " << r.error().message;
    EXPECT_FALSE(r->ignored) << c.file;
    EXPECT_EQ(r->message_id, id) << c.file;
    EXPECT_EQ(r->kind, c.kind) << c.file << " " << DeliveryFailureName(r->failure);
    EXPECT_EQ(StatusOf(c.email), c.after) << c.file;
  }
}

TEST_F(FeedbackIntakeTest, TheEnvelopeRecipientFindsTheMessage) {
  MessageId id = Delivered("nobody.here@gmail.com");
  // The sample untouched (no VERP inside): only the RCPT TO the listener saw names the message.
  auto r = intake_->IngestMessage(Sample("gmail_address_not_found.eml"),
                                  verp_.Encode("bounces@rapport.test", ws_, id));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->message_id, id);
  auto none = intake_->IngestMessage(Sample("gmail_address_not_found.eml"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  // A forged tag is no better than none.
  std::string forged = verp_.Encode("bounces@rapport.test", ws_, id);
  forged[forged.find('@') - 1] = forged[forged.find('@') - 1] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(intake_->IngestMessage(Sample("gmail_address_not_found.eml"), forged).ok());
  EXPECT_EQ(intake_->IngestMessage(Sample("not_a_report.eml")).error().code, ErrorCode::kInvalid);
  // Through the API a key acts on its own workspace only: nothing is recorded for another.
  auto foreign = intake_->IngestMessage(Sample("gmail_address_not_found.eml"),
                                        verp_.Encode("bounces@rapport.test", ws_, id), ws_ + 1);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
  auto own = intake_->IngestMessage(Sample("gmail_address_not_found.eml"),
                                    verp_.Encode("bounces@rapport.test", ws_, id), ws_);
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->outcome.duplicate);  // recorded once, above
}

TEST_F(FeedbackIntakeTest, SoftBouncesOfThreeMessagesBounceTheContact) {
  std::vector<MessageId> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Delivered("full.box@yahoo.com"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(StatusOf("full.box@yahoo.com"), ContactStatus::kActive);
    auto r = intake_->IngestMessage(Report("yahoo_mailbox_full.eml", ids[i]));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->outcome.soft_in_window, i + 1);
  }
  EXPECT_EQ(StatusOf("full.box@yahoo.com"), ContactStatus::kBounced);
  // The same DSN again changes nothing.
  auto again = intake_->IngestMessage(Report("yahoo_mailbox_full.eml", ids[0]));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->outcome.duplicate);
}

TEST_F(FeedbackIntakeTest, Notices) {
  MessageId id = Delivered("ann@example.com");
  FeedbackNotice n;
  n.type = "bounce";
  n.message_id = id;
  n.smtp_code = 550;
  n.status = "5.7.1";
  n.diagnostic = "Service unavailable, client host blocked using zen.spamhaus.org";
  auto block = intake_->IngestNotice(ws_, n);
  ASSERT_TRUE(block.ok()) << block.error().message;
  EXPECT_EQ(block->kind, FeedbackKind::kBlock);
  EXPECT_EQ(StatusOf("ann@example.com"), ContactStatus::kActive);

  FeedbackNotice c;
  c.type = "complaint";
  c.envelope_sender = verp_.Encode("bounces@rapport.test", ws_, id);
  auto complaint = intake_->IngestNotice(ws_, c);
  ASSERT_TRUE(complaint.ok()) << complaint.error().message;
  EXPECT_EQ(StatusOf("ann@example.com"), ContactStatus::kComplained);
  // Another workspace cannot act on this message.
  EXPECT_EQ(intake_->IngestNotice(ws_ + 1, c).error().code, ErrorCode::kNotFound);

  FeedbackNotice bad;
  bad.type = "bounce";
  EXPECT_EQ(intake_->IngestNotice(ws_, bad).error().field, "message_id");
  bad.type = "spam";
  EXPECT_EQ(intake_->IngestNotice(ws_, bad).error().field, "type");
  FeedbackNotice delay;
  delay.type = "bounce";
  delay.message_id = id;
  delay.permanent = false;
  delay.status = "4.2.2";
  EXPECT_TRUE(intake_->IngestNotice(ws_, delay)->ignored);
}

}  // namespace
}  // namespace rapport::tracking
