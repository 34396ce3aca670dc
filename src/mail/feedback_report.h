// Reading what mailbox providers send back about a message: delivery status notifications (DSN,
// RFC 3464, the multipart/report of a bounce) and complaint reports (ARF, RFC 5965, a
// multipart/report with a message/feedback-report part). Parsed with GMime 3.2; pure (no I/O,
// no clock); thread-safe (GMime is initialized once, on first use).
//
//   Result<FeedbackReport> r = ParseFeedbackReport(raw_rfc5322_message);
//   // r->kind == ReportKind::kDeliveryStatus: r->recipients (action, status, diagnostic)
//   // r->kind == ReportKind::kComplaint: r->complaint (feedback type, original recipient ...)
//
// What the reader returns about the original message is what finds it again: the addresses
// that may carry its VERP envelope sender (the report's own recipients, the original's
// Return-Path, the ARF Original-Mail-From) in `verp_candidates`, and its Message-ID.
// A message that is not a report (no multipart/report, or a report of another type) is
// kInvalid (field "report"); a report without any recipient or feedback field is kInvalid too.
// Input is untrusted: every field is bounded (kMaxFieldLength), at most kMaxRecipients
// recipients are read, and the whole message at most kMaxReportBytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rapport::mail {

inline constexpr size_t kMaxReportBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxRecipients = 100;
inline constexpr size_t kMaxFieldLength = 1000;

enum class ReportKind { kDeliveryStatus, kComplaint };

// One per-recipient block of a DSN (RFC 3464 section 2.3).
struct DsnRecipient {
  std::string final_recipient;     // the address, its type ("rfc822;") removed
  std::string original_recipient;  // may be empty
  std::string action;              // lower case: failed, delayed, delivered, relayed, expanded
  std::string status;              // "5.1.1" (RFC 3463 form), as given
  std::string diagnostic;          // Diagnostic-Code without its type ("550 5.1.1 ... unknown")
  std::string diagnostic_type;     // lower case, usually "smtp"
  int smtp_code = 0;               // the reply code at the start of an smtp diagnostic, else 0
  std::string remote_mta;          // without its type
};

// The machine-readable part of an ARF report (RFC 5965 section 3.1 and 3.2).
struct ComplaintFields {
  std::string feedback_type;  // lower case: abuse, fraud, virus, other, not-spam, auth-failure
  std::string user_agent;
  std::string original_mail_from;
  std::string original_rcpt_to;  // often absent or redacted by the provider
  std::string source_ip;
  std::string arrival_date;
  std::string reported_domain;
};

struct FeedbackReport {
  ReportKind kind = ReportKind::kDeliveryStatus;
  std::string reporting_mta;             // DSN Reporting-MTA / ARF Reporting-MTA, without type
  std::vector<DsnRecipient> recipients;  // DSN only
  ComplaintFields complaint;             // ARF only
  std::string original_message_id;       // Message-ID of the returned original, if any
  std::string original_to;               // To of the returned original, if any
  // Addresses where the original's VERP envelope sender may be found, most telling first:
  // the envelope recipient the local MTA recorded (Delivered-To, X-Original-To, Envelope-To), the
  // report's To (a bounce goes to the envelope sender), the original's Return-Path,
  // ARF Original-Mail-From. Bare addresses, no angle brackets; may repeat.
  std::vector<std::string> verp_candidates;
};

Result<FeedbackReport> ParseFeedbackReport(std::string_view raw);

// A block of header-style fields ("Name: value", folded lines joined) as in a
// message/delivery-status or message/feedback-report body. Names are lower-cased; values have
// comments kept and surrounding blanks removed. Blocks are separated by empty lines. Pure;
// exposed for tests and the fuzz target.
struct Field {
  std::string name;
  std::string value;
};
std::vector<std::vector<Field>> ParseFieldBlocks(std::string_view body);

// "rfc822; ada@example.com" -> "ada@example.com" (the part after the first ';', trimmed; the
// whole value when there is none). Angle brackets around an address are removed.
std::string StripAddressType(std::string_view value);

}  // namespace rapport::mail
