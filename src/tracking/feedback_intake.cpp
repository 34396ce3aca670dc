#include "tracking/feedback_intake.h"

#include "delivery/bounce_classifier.h"
#include "delivery/provider_groups.h"
#include "mail/feedback_report.h"

namespace rapport::tracking {

namespace {

bool IsComplaintType(std::string_view t) {
  return t == "abuse" || t == "fraud" || t == "virus" || t == "other";
}

// The basic reply code a DSN implies when its diagnostic has none: its status class.
int CodeFor(int smtp_code, std::string_view status) {
  if (smtp_code) return smtp_code;
  if (!status.empty() && status[0] == '4') return 450;
  if (!status.empty() && status[0] == '5') return 550;
  return 550;  // a failed action is permanent
}

IngestResult Ignored(std::string reason) {
  IngestResult r;
  r.ignored = true;
  r.ignored_reason = std::move(reason);
  return r;
}

}  // namespace

Result<IngestResult> FeedbackIntake::Record(WorkspaceId ws, MessageId id, FeedbackKind kind,
                                            DeliveryFailure failure, std::string status,
                                            std::string diagnostic, std::string source,
                                            std::string reporter) {
  RAPPORT_ASSIGN_OR_RETURN(OutboxMessage m, store_.outbox().Get(ws, id));
  FeedbackInput in;
  in.workspace_id = ws;
  in.message_id = id;
  in.kind = kind;
  in.failure = failure;
  in.status = std::move(status);
  in.diagnostic = std::move(diagnostic);
  in.source = std::move(source);
  in.reporter = std::move(reporter);
  in.provider = delivery::ProviderGroup(delivery::RecipientDomain(m.rcpt_to));
  in.at = clock_.Now();
  RAPPORT_ASSIGN_OR_RETURN(FeedbackOutcome outcome, store_.feedback().Record(in, policy_));
  IngestResult r;
  r.workspace_id = ws;
  r.message_id = id;
  r.kind = kind;
  r.failure = failure;
  r.provider = in.provider;
  r.outcome = outcome;
  return r;
}

Result<IngestResult> FeedbackIntake::IngestMessage(std::string_view raw, std::string_view envelope_rcpt,
                                                   std::optional<WorkspaceId> only_workspace) {
  RAPPORT_ASSIGN_OR_RETURN(mail::FeedbackReport report, mail::ParseFeedbackReport(raw));
  std::optional<VerpClaims> claims;
  std::vector<std::string> candidates;
  if (!envelope_rcpt.empty()) candidates.emplace_back(envelope_rcpt);
  candidates.insert(candidates.end(), report.verp_candidates.begin(), report.verp_candidates.end());
  for (const std::string& c : candidates) {
    auto decoded = verp_.Decode(c);
    if (decoded.ok()) {
      claims = *decoded;
      break;
    }
  }
  if (!claims) return Error::NotFound("the report names no message of ours (no valid VERP address)");
  if (only_workspace && claims->workspace_id != *only_workspace)
    return Error::NotFound("the report names no message of this workspace");

  if (report.kind == mail::ReportKind::kComplaint) {
    const std::string& type = report.complaint.feedback_type;
    if (!IsComplaintType(type)) return Ignored("feedback type '" + type + "' is not a complaint");
    return Record(claims->workspace_id, claims->message_id, FeedbackKind::kComplaint, DeliveryFailure::kNone,
                  "", type, "arf",
                  report.reporting_mta.empty() ? report.complaint.user_agent : report.reporting_mta);
  }
  // A DSN: the first recipient whose delivery failed (rapport sends one recipient per message).
  const mail::DsnRecipient* failed = nullptr;
  for (const auto& r : report.recipients)
    if (r.action == "failed") {
      failed = &r;
      break;
    }
  if (!failed) return Ignored("no failed recipient (action " + report.recipients.front().action + ")");
  DeliveryFailure failure =
      delivery::ClassifyReply(CodeFor(failed->smtp_code, failed->status), failed->status, failed->diagnostic,
                              delivery::SmtpStep::kRcptTo);
  if (failure == DeliveryFailure::kNone) failure = DeliveryFailure::kOther;
  std::string reporter = failed->remote_mta.empty() ? report.reporting_mta : failed->remote_mta;
  return Record(claims->workspace_id, claims->message_id, FeedbackKindOf(failure), failure, failed->status,
                failed->diagnostic, "dsn", reporter);
}

Result<IngestResult> FeedbackIntake::IngestNotice(WorkspaceId ws, const FeedbackNotice& n) {
  if (n.type != "bounce" && n.type != "complaint")
    return Error::Invalid("type", "type is \"bounce\" or \"complaint\"");
  MessageId id = 0;
  if (n.message_id) {
    if (*n.message_id <= 0) return Error::Invalid("message_id", "message_id is a positive integer");
    id = *n.message_id;
  } else if (!n.envelope_sender.empty()) {
    auto c = verp_.Decode(n.envelope_sender);
    if (!c.ok()) {
      if (c.error().code == ErrorCode::kNotFound)
        return Error::Invalid("envelope_sender", "envelope_sender is not a VERP address of this deployment");
      return Error::NotFound("no message with this envelope sender");
    }
    if (c->workspace_id != ws) return Error::NotFound("no message with this envelope sender");
    id = c->message_id;
  } else {
    return Error::Invalid("message_id", "give message_id or envelope_sender");
  }
  if (n.type == "complaint") {
    std::string type = n.feedback_type.empty() ? "abuse" : n.feedback_type;
    if (!IsComplaintType(type) && type != "not-spam")
      return Error::Invalid("feedback_type", "feedback_type is abuse, fraud, virus, other or not-spam");
    if (!IsComplaintType(type)) return Ignored("feedback type '" + type + "' is not a complaint");
    return Record(ws, id, FeedbackKind::kComplaint, DeliveryFailure::kNone, "", type, "api", n.reporter);
  }
  if (n.smtp_code != 0 && (n.smtp_code < 200 || n.smtp_code > 599))
    return Error::Invalid("smtp_code", "smtp_code is a reply code, 200 to 599");
  if (!n.permanent) return Ignored("a delay notice, not a failure");
  if (n.status.empty() && n.smtp_code == 0 && n.diagnostic.empty())
    return Error::Invalid("status", "a bounce needs a status, an smtp_code or a diagnostic");
  DeliveryFailure failure = delivery::ClassifyReply(CodeFor(n.smtp_code, n.status), n.status, n.diagnostic,
                                                    delivery::SmtpStep::kRcptTo);
  if (failure == DeliveryFailure::kNone) failure = DeliveryFailure::kOther;
  return Record(ws, id, FeedbackKindOf(failure), failure, n.status, n.diagnostic, "api", n.reporter);
}

}  // namespace rapport::tracking
