#include "mail/feedback_report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "source_dir.h"

namespace rapport::mail {
namespace {

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(RAPPORT_SOURCE_DIR) + "/tests/feedback/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool HasCandidate(const FeedbackReport& r, std::string_view a) {
  for (const auto& c : r.verp_candidates)
    if (c == a) return true;
  return false;
}

TEST(FeedbackReport, Rfc3464PermanentFailure) {
  auto r = ParseFeedbackReport(Sample("rfc3464_permanent_failure.eml"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ReportKind::kDeliveryStatus);
  EXPECT_EQ(r->reporting_mta, "cs.utk.edu");
  ASSERT_EQ(r->recipients.size(), 1u);
  const DsnRecipient& d = r->recipients[0];
  EXPECT_EQ(d.final_recipient, "louisl@larry.slip.umd.edu");
  EXPECT_EQ(d.original_recipient, "louisl@larry.slip.umd.edu");
  EXPECT_EQ(d.action, "failed");
  EXPECT_EQ(d.status, "4.0.0");
  EXPECT_EQ(d.diagnostic_type, "smtp");
  EXPECT_EQ(d.diagnostic, "426 connection timed out");
  EXPECT_EQ(d.smtp_code, 426);
  EXPECT_EQ(r->original_message_id, "<199407022110.RAA14117@rapport.test>");
  ASSERT_FALSE(r->verp_candidates.empty());
  EXPECT_EQ(r->verp_candidates.front(), "bounces@rapport.test");  // Delivered-To first
}

TEST(FeedbackReport, Rfc3464TwoRecipientsFoldedDiagnostics) {
  auto r = ParseFeedbackReport(Sample("rfc3464_multiple_recipients.eml"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->recipients.size(), 2u);
  EXPECT_EQ(r->recipients[0].final_recipient, "arathib@vnet.example.com");
  EXPECT_EQ(r->recipients[0].status, "5.0.0");
  EXPECT_EQ(r->recipients[0].smtp_code, 550);
  EXPECT_EQ(r->recipients[0].remote_mta, "vnet.example.com");
  EXPECT_EQ(r->recipients[1].status, "5.1.1");
  EXPECT_EQ(r->recipients[1].diagnostic, "550 <wsnell@sdcc13.example.edu>... User unknown");
  EXPECT_TRUE(HasCandidate(*r, "bounces@rapport.test"));  // from the text/rfc822-headers Return-Path
  EXPECT_EQ(r->original_message_id, "<199407081321.JAA13163@rapport.test>");
}

TEST(FeedbackReport, Rfc5965Abuse) {
  auto r = ParseFeedbackReport(Sample("rfc5965_abuse_report.eml"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ReportKind::kComplaint);
  EXPECT_TRUE(r->recipients.empty());
  EXPECT_EQ(r->complaint.feedback_type, "abuse");
  EXPECT_EQ(r->complaint.user_agent, "SomeGenerator/1.0");
  EXPECT_EQ(r->complaint.original_mail_from, "bounces@rapport.test");
  EXPECT_EQ(r->complaint.original_rcpt_to, "user@example.com");
  EXPECT_EQ(r->complaint.source_ip, "192.0.2.1");
  EXPECT_EQ(r->complaint.reported_domain, "rapport.test");
  EXPECT_EQ(r->reporting_mta, "mail.example.com");
  EXPECT_EQ(r->original_message_id, "8787KJKJ3K4J3K4J3K4J3.mail@rapport.test");
}

TEST(FeedbackReport, GmailAddressNotFound) {
  auto r = ParseFeedbackReport(Sample("gmail_address_not_found.eml"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->recipients.size(), 1u);
  const DsnRecipient& d = r->recipients[0];
  EXPECT_EQ(d.final_recipient, "nobody.here@gmail.com");
  EXPECT_EQ(d.status, "5.1.1");
  EXPECT_EQ(d.smtp_code, 550);
  EXPECT_NE(d.diagnostic.find("does not exist"), std::string::npos);
  EXPECT_EQ(r->original_to, "nobody.here@gmail.com");
  EXPECT_EQ(r->original_message_id, "<msg.4711@rapport.test>");
}

TEST(FeedbackReport, ProvidersSamples) {
  struct Case {
    const char* file;
    const char* recipient;
    const char* status;
    int code;
  } cases[] = {
      {"gmail_dmarc_rejected.eml", "someone@gmail.com", "5.7.26", 550},
      {"outlook_recipient_not_found.eml", "gone.user@outlook.com", "5.5.0", 550},
      {"outlook_blocked_spamhaus.eml", "someone@hotmail.com", "5.7.1", 550},
      {"yahoo_no_account.eml", "no.account@yahoo.com", "5.0.0", 554},
      {"yahoo_mailbox_full.eml", "full.box@yahoo.com", "5.2.2", 552},
  };
  for (const Case& c : cases) {
    auto r = ParseFeedbackReport(Sample(c.file));
    ASSERT_TRUE(r.ok()) << c.file << ": " << r.error().message;
    EXPECT_EQ(r->kind, ReportKind::kDeliveryStatus) << c.file;
    ASSERT_EQ(r->recipients.size(), 1u) << c.file;
    EXPECT_EQ(r->recipients[0].final_recipient, c.recipient) << c.file;
    EXPECT_EQ(r->recipients[0].action, "failed") << c.file;
    EXPECT_EQ(r->recipients[0].status, c.status) << c.file;
    EXPECT_EQ(r->recipients[0].smtp_code, c.code) << c.file;
    EXPECT_TRUE(HasCandidate(*r, "bounces@rapport.test")) << c.file;
  }
}

TEST(FeedbackReport, YahooAndMicrosoftComplaints) {
  auto y = ParseFeedbackReport(Sample("yahoo_cfl_complaint.eml"));
  ASSERT_TRUE(y.ok()) << y.error().message;
  EXPECT_EQ(y->kind, ReportKind::kComplaint);
  EXPECT_EQ(y->complaint.feedback_type, "abuse");
  EXPECT_EQ(y->complaint.user_agent, "Yahoo!-Mail-Feedback/2.0");
  EXPECT_EQ(y->complaint.original_rcpt_to, "complainer@yahoo.com");
  EXPECT_EQ(y->original_message_id, "<msg.4717@rapport.test>");

  auto m = ParseFeedbackReport(Sample("outlook_jmrp_complaint.eml"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->complaint.feedback_type, "abuse");
  EXPECT_EQ(m->complaint.original_rcpt_to, "");  // redacted: only the VERP sender finds it
  EXPECT_EQ(m->complaint.source_ip, "192.0.2.25");
  EXPECT_TRUE(HasCandidate(*m, "bounces@rapport.test"));
}

TEST(FeedbackReport, RefusesWhatIsNotAReport) {
  auto r = ParseFeedbackReport(Sample("not_a_report.eml"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().field, "report");
  EXPECT_FALSE(ParseFeedbackReport("").ok());
  EXPECT_FALSE(ParseFeedbackReport("garbage\r\n\r\n").ok());
  // A DSN whose status part has no recipient block.
  std::string empty_dsn =
      "To: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
      "boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
      "x\r\n\r\n--x--\r\n";
  auto e = ParseFeedbackReport(empty_dsn);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("without any recipient"), std::string::npos);
  // Another report type (RFC 3798 read receipts) is not ours.
  std::string mdn =
      "To: a@b\r\nContent-Type: multipart/report; report-type=disposition-notification; "
      "boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nread\r\n--x--\r\n";
  EXPECT_FALSE(ParseFeedbackReport(mdn).ok());
}

TEST(FeedbackReport, FieldBlocks) {
  auto b = ParseFieldBlocks("A: 1\r\nLong: x\r\n  y\r\nnot a field\r\n\r\n\r\nB:2\n");
  ASSERT_EQ(b.size(), 2u);
  ASSERT_EQ(b[0].size(), 2u);
  EXPECT_EQ(b[0][0].name, "a");
  EXPECT_EQ(b[0][1].value, "x y");
  EXPECT_EQ(b[1][0].value, "2");
  EXPECT_EQ(StripAddressType("rfc822; <Ada@Example.com> "), "Ada@Example.com");
  EXPECT_EQ(StripAddressType("x@y"), "x@y");
  std::string huge(5000, 'a');
  auto h = ParseFieldBlocks("N: " + huge);
  EXPECT_EQ(h[0][0].value.size(), kMaxFieldLength);
}

}  // namespace
// Found by feedback_report_fuzz: "018" is three digits but no SMTP reply code (RFC 5321: the
// first digit is 2 to 5), so the recipient carries no code rather than 18.
TEST(FeedbackReport, ADiagnosticThatIsNoReplyCodeGivesNoCode) {
  std::string dsn = Sample("yahoo_mailbox_full.eml");
  size_t at = dsn.find("Diagnostic-Code: smtp; ");
  ASSERT_NE(at, std::string::npos);
  at += std::string("Diagnostic-Code: smtp; ").size();
  std::string coded = dsn, bogus = dsn;
  bogus.replace(at, 3, "018");
  auto good = ParseFeedbackReport(coded);
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_FALSE(good->recipients.empty());
  EXPECT_GE(good->recipients[0].smtp_code, 200);
  auto r = ParseFeedbackReport(bogus);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_FALSE(r->recipients.empty());
  EXPECT_EQ(r->recipients[0].smtp_code, 0);
}

}  // namespace rapport::mail
