#include "delivery/bounce_classifier.h"

#include <gtest/gtest.h>

namespace rapport::delivery {
namespace {

using F = DeliveryFailure;

struct Case {
  int code;
  std::string_view enhanced;
  std::string_view text;
  F want;
  SmtpStep step = SmtpStep::kRcptTo;
};

void Check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(DeliveryFailureName(ClassifyReply(c.code, c.enhanced, c.text, c.step)),
              DeliveryFailureName(c.want))
        << c.code << " " << c.enhanced << " " << c.text << " at " << SmtpStepName(c.step);
  }
}

TEST(BounceClassifier, DeliveredAndNoReply) {
  Check({{250, "2.0.0", "ok", F::kNone},
         {251, "", "user not local; will forward", F::kNone},
         {0, "", "connection refused", F::kConnection},
         {0, "", "timeout reading greeting", F::kConnection, SmtpStep::kGreeting},
         {999, "", "nonsense", F::kConnection}});
}

TEST(BounceClassifier, Rfc3463RecipientAddressCodes) {
  Check({{550, "5.1.1", "", F::kRecipientAddress},
         {550, "5.1.2", "", F::kRecipientAddress},
         {553, "5.1.3", "", F::kRecipientAddress},
         {550, "5.1.10", "", F::kRecipientAddress},
         {550, "5.1.6", "mailbox has moved", F::kRecipientAddress},
         // The sender's address, not the recipient's.
         {553, "5.1.7", "bad sender's mailbox address syntax", F::kSenderAuth},
         {553, "5.1.8", "bad sender's system address", F::kSenderAuth},
         // Postfix checks the sender at RCPT time and says so in the text.
         {550, "5.1.0", "<a@b>: Sender address rejected: User unknown in local recipient table",
          F::kSenderAuth},
         {550, "5.1.1", "<a@b>: Sender address rejected: undeliverable address", F::kSenderAuth},
         {550, "5.1.0", "", F::kOther},  // "other address status": which address is not said
         {550, "5.1.0", "Address rejected: user unknown", F::kRecipientAddress}});
}

TEST(BounceClassifier, Rfc3463OtherPermanentCodesLeaveTheAddressAlone) {
  Check(
      {{554, "5.7.1", "rejected by policy", F::kPolicyBlock},
       {550, "5.7.1", "no such user", F::kPolicyBlock},  // a specific security code wins
       {550, "5.7.606", "Access denied, banned sending IP", F::kPolicyBlock},
       {550, "5.7.26", "unauthenticated email from example.com is not accepted due to DMARC", F::kSenderAuth},
       {550, "5.7.23", "SPF validation failed", F::kSenderAuth},
       {550, "5.7.1", "Message rejected: SPF fail", F::kSenderAuth},
       {535, "5.7.8", "authentication credentials invalid", F::kSenderAuth, SmtpStep::kAuth},
       {550, "5.7.25", "reverse DNS validation failed", F::kPolicyBlock},
       {552, "5.3.4", "message too big", F::kMessageSize},
       {552, "5.2.3", "", F::kMessageSize},
       {552, "5.2.2", "", F::kMailboxFull},
       {550, "5.2.1", "", F::kMailboxDisabled},
       {554, "5.6.0", "message content rejected", F::kContent},
       {553, "5.6.7", "non-ASCII address and no SMTPUTF8", F::kContent},
       {500, "5.5.2", "syntax error", F::kProtocol},
       {554, "5.3.0", "", F::kOther},
       {554, "5.4.4", "", F::kOther},
       {554, "5.4.4", "Host or domain name not found", F::kRecipientAddress},
       {550, "5.7.0", "", F::kPolicyBlock},
       {550, "5.7.0", "recipient rejected", F::kPolicyBlock}});
}

TEST(BounceClassifier, GmailReplies) {
  Check({{550, "5.1.1",
          "The email account that you tried to reach does not exist. Please try double-checking the "
          "recipient's email address for typos or unnecessary spaces.",
          F::kRecipientAddress},
         {550, "5.2.1", "The email account that you tried to reach is disabled.", F::kMailboxDisabled},
         {552, "5.2.2", "The email account that you tried to reach is over quota.", F::kMailboxFull},
         {552, "5.3.4", "Your message exceeded Google's message size limits.", F::kMessageSize},
         {550, "5.7.1",
          "Our system has detected that this message is likely unsolicited mail. To reduce the amount of "
          "spam sent to Gmail, this message has been blocked.",
          F::kPolicyBlock},
         {550, "5.7.26", "This mail has been blocked because the sender is unauthenticated.", F::kSenderAuth},
         {421, "4.7.28", "Our system has detected an unusual rate of unsolicited mail", F::kThrottled},
         {450, "4.2.1", "The user you are trying to contact is receiving mail too quickly", F::kThrottled},
         {552, "5.7.0", "Our system detected an illegal attachment on your message.", F::kContent}});
}

TEST(BounceClassifier, OutlookReplies) {
  Check({{550, "5.5.0", "Requested action not taken: mailbox unavailable (abc123)", F::kRecipientAddress},
         {550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
          F::kRecipientAddress},
         {550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281)", F::kRecipientAddress},
         {550, "5.7.1",
          "Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service "
          "provider since part of their network is on our block list (S3150).",
          F::kPolicyBlock},
         {550, "5.7.520", "Access denied, Your organization does not allow external forwarding.",
          F::kPolicyBlock},
         {451, "4.7.500", "Server busy. Please try again later from [192.0.2.1]. (S77719)", F::kThrottled},
         {552, "5.2.2", "Mailbox has exceeded the limit", F::kMailboxFull},
         {550, "5.3.4", "Message size exceeds fixed maximum message size", F::kMessageSize}});
}

TEST(BounceClassifier, YahooReplies) {
  Check({{554, "", "delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]",
          F::kRecipientAddress},
         {552, "", "1 Requested mail action aborted, mailbox not found", F::kRecipientAddress},
         {554, "",
          "delivery error: dd Sorry your message to x@yahoo.com cannot be delivered. This mailbox is "
          "disabled (554.30)",
          F::kMailboxDisabled},
         {554, "5.7.9", "Message not accepted for policy reasons.", F::kPolicyBlock},
         {553, "5.7.2", "[TSS09] All messages from 192.0.2.1 will be permanently deferred", F::kPolicyBlock},
         {421, "4.7.0", "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume",
          F::kThrottled},
         {554, "", "30 Sorry, your message size exceeds 41943040 bytes.", F::kMessageSize},
         {451, "", "Message temporarily deferred - [160]", F::kThrottled}});
}

TEST(BounceClassifier, TextsWithoutEnhancedCodes) {
  Check({{550, "", "No such user here", F::kRecipientAddress},
         {550, "", "User unknown", F::kRecipientAddress},
         {550, "", "Requested action not taken: mailbox unavailable", F::kRecipientAddress},
         {550, "", "Mailbox does not exist", F::kRecipientAddress},
         {550, "", "Recipient rejected", F::kRecipientAddress},
         {554, "", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
          F::kPolicyBlock},
         {550, "", "Rejected: listed on our blacklist", F::kPolicyBlock},
         {552, "", "Requested mail action aborted: exceeded storage allocation", F::kMailboxFull},
         {552, "", "", F::kMailboxFull},
         {552, "", "", F::kMessageSize, SmtpStep::kEndOfData},
         {554, "", "Transaction failed", F::kOther},
         {550, "", "", F::kOther},
         {554, "", "Message rejected: virus found", F::kContent},
         {550, "", "Relay access denied", F::kSenderAuth}});
}

TEST(BounceClassifier, TemporaryReplies) {
  Check({{421, "", "Service not available, closing transmission channel", F::kThrottled, SmtpStep::kGreeting},
         {451, "4.3.0", "temporary failure, try later", F::kTransient},
         {451, "4.3.0", "local error in processing", F::kTransient},
         {450, "4.7.1", "greylisted", F::kTransient},
         {452, "4.2.2", "mailbox full", F::kMailboxFull},
         {452, "", "Insufficient system storage... over quota", F::kMailboxFull},
         {450, "4.1.1", "user unknown (temporarily)", F::kTransient}});
}

TEST(BounceClassifier, TheStepBoundsTheClass) {
  // A 5xx that reads like an address failure is never the recipient's before RCPT.
  Check({{554, "", "mailbox unavailable", F::kOther, SmtpStep::kGreeting},
         {554, "5.7.1", "blocked", F::kPolicyBlock, SmtpStep::kGreeting},
         {550, "5.1.1", "", F::kOther, SmtpStep::kEhlo},
         {550, "5.1.1", "", F::kSenderAuth, SmtpStep::kMailFrom},
         {550, "", "user unknown", F::kSenderAuth, SmtpStep::kMailFrom},
         {550, "5.1.1", "", F::kRecipientAddress, SmtpStep::kEndOfData},
         {550, "5.1.1", "", F::kRecipientAddress, SmtpStep::kLocal},
         {550, "5.1.1", "", F::kRecipientAddress, SmtpStep::kUnknown}});
}

TEST(BounceClassifier, MalformedEnhancedCodesAreIgnored) {
  Check({{550, "5.1", "", F::kOther},
         {550, "5..1", "", F::kOther},
         {550, "5.1.1x", "", F::kOther},
         {550, "4.1.1", "", F::kOther},  // another class than the reply's
         {550, "5.1234.1", "no such user", F::kRecipientAddress}});
}

}  // namespace
}  // namespace rapport::delivery
