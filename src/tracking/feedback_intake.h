// The one way bounces and complaints come in, whatever carried them: a DSN or ARF message read
// from the inbound maildir or the inbound SMTP listener (IngestMessage), or a notice posted by a
// relay or a provider's webhook to POST /api/v1/feedback (IngestNotice).
//
// Finding the message: a notice may name it by id; otherwise the VERP envelope sender
// (verp_address.h) is looked for in the envelope recipient of the report, then in the report's
// candidates (mail/feedback_report.h). A report that names no message of ours is kNotFound.
// Classifying: a failed DSN recipient's reply goes through the delivery bounce classifier
// (delivery/bounce_classifier.h) and FeedbackKindOf (core/feedback.h); a "delayed",
// "delivered", "relayed" or "expanded" action is not a failure and records nothing
// (IngestResult::ignored); ARF Feedback-Type abuse, fraud, virus and other are complaints,
// not-spam and auth-failure record nothing. Recording: FeedbackStore::Record, one transaction.
// Thread-safe (the store is); no I/O but the store's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/feedback.h"
#include "core/store.h"
#include "tracking/verp_address.h"

namespace rapport::tracking {

// A report as a relay or a provider states it (the JSON body of POST /api/v1/feedback).
struct FeedbackNotice {
  std::string type;  // "bounce" or "complaint"
  std::optional<int64_t> message_id;
  std::string envelope_sender;  // the VERP address, when message_id is not given
  std::string status;           // RFC 3463 code, "5.1.1"
  int smtp_code = 0;            // 550 ...; 0 when unknown
  std::string diagnostic;       // the reply text
  std::string feedback_type;    // complaints: abuse (default), fraud, virus, other
  std::string reporter;         // who reports it ("ses", "postmark", "mx.example.com")
  bool permanent = true;        // bounces: false for a delay notice (records nothing)
};

struct IngestResult {
  bool ignored = false;  // a delay, a success notice, a not-spam report: nothing recorded
  std::string ignored_reason;
  WorkspaceId workspace_id = 0;
  MessageId message_id = 0;
  FeedbackKind kind = FeedbackKind::kHardBounce;
  DeliveryFailure failure = DeliveryFailure::kNone;
  std::string provider;
  FeedbackOutcome outcome;
};

class FeedbackIntake {
 public:
  // `store` and `verp` must outlive the intake.
  FeedbackIntake(Store& store, const VerpCodec& verp, BouncePolicy policy, const Clock& clock)
      : store_(store), verp_(verp), policy_(policy), clock_(clock) {}

  // A raw DSN or ARF message; `envelope_rcpt` is the RCPT TO it arrived for (empty when unknown,
  // as for a maildir file). kInvalid (field "report") for what is not a report. With
  // `only_workspace` (the API key's), a report about another workspace's message is kNotFound
  // and records nothing.
  Result<IngestResult> IngestMessage(std::string_view raw, std::string_view envelope_rcpt = {},
                                     std::optional<WorkspaceId> only_workspace = std::nullopt);
  // A notice of workspace `ws` (the API key's): a message id or a VERP address of another
  // workspace is kNotFound. kInvalid naming the field for a bad notice.
  Result<IngestResult> IngestNotice(WorkspaceId ws, const FeedbackNotice& notice);

  const BouncePolicy& policy() const { return policy_; }

 private:
  Result<IngestResult> Record(WorkspaceId ws, MessageId id, FeedbackKind kind, DeliveryFailure failure,
                              std::string status, std::string diagnostic, std::string source,
                              std::string reporter);
  Store& store_;
  const VerpCodec& verp_;
  BouncePolicy policy_;
  const Clock& clock_;
};

}  // namespace rapport::tracking
