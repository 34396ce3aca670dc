// Fuzzes the DSN/ARF reader (mail/feedback_report.h) with arbitrary messages. Invariants: it
// never crashes, a parsed report keeps its bounds (recipients, field lengths) and has what its
// kind requires (a recipient for a DSN, a Feedback-Type for ARF). Seeds: tests/feedback/*.eml.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mail/feedback_report.h"

using namespace rapport::mail;

namespace {
void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "feedback_report_fuzz: %s\n", what);
    abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = ParseFeedbackReport(in);
  if (r.ok()) {
    Check(r->recipients.size() <= kMaxRecipients, "too many recipients");
    if (r->kind == ReportKind::kDeliveryStatus) Check(!r->recipients.empty(), "a DSN without recipients");
    if (r->kind == ReportKind::kComplaint) Check(!r->complaint.feedback_type.empty(), "ARF without type");
    for (const auto& d : r->recipients) {
      Check(d.final_recipient.size() <= kMaxFieldLength, "unbounded recipient");
      Check(d.diagnostic.size() <= kMaxFieldLength, "unbounded diagnostic");
      Check(d.smtp_code == 0 || (d.smtp_code >= 100 && d.smtp_code <= 999), "bad smtp code");
    }
    for (const auto& c : r->verp_candidates) Check(c.find('@') != std::string::npos, "candidate without @");
  } else {
    Check(r.error().field == "report", "an error that names no field");
  }
  // The field-block parser alone, on the same bytes.
  auto blocks = ParseFieldBlocks(in);
  for (const auto& b : blocks)
    for (const auto& f : b) Check(f.value.size() <= kMaxFieldLength, "unbounded field");
  return 0;
}
