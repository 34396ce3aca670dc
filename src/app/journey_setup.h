// The journey engine's ports wired to the real parts (automation/journey_env.h): sends through the
// one send service, segment membership from the segment service, webhooks over HTTP(S) signed
// with HMAC-SHA256. Thread-safe as the parts they wrap are.
#pragma once

#include <memory>

#include "automation/journey_env.h"
#include "automation/step_registry.h"
#include "send/send_service.h"

namespace rapport::segment {
class SegmentService;
}

namespace rapport::app {

// A refusal of the send service (suppressed, no consent, template or topic gone) is a skipped
// send with its reason; store and other failures are errors (the step is tried again).
class SendServiceMailer final : public automation::Mailer {
 public:
  SendServiceMailer(Store& store, send::SendService& sender, const Clock& clock)
      : store_(store), sender_(sender), clock_(clock) {}
  Result<automation::SendReply> Send(const automation::SendAsk& ask) override;
  // Asks of one template, class, topic, sender and step share one SendBulk (one transaction).
  std::vector<Result<automation::SendReply>> SendMany(const std::vector<automation::SendAsk>& asks) override;
  Result<std::string> PreviewSubject(const automation::SendAsk& ask) override;

 private:
  Store& store_;
  send::SendService& sender_;
  const Clock& clock_;
};

class SegmentServiceMembership final : public automation::SegmentMembership {
 public:
  explicit SegmentServiceMembership(segment::SegmentService& segments) : segments_(segments) {}
  Result<bool> InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) override;
  // SegmentService::Matches and CheckExpression (compiled once per workspace and text).
  Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression) override;
  Status CheckExpression(WorkspaceId ws, const std::string& expression) override;

 private:
  segment::SegmentService& segments_;
};

// POST with a 10 s timeout; no redirects. Adds X-Rapport-Timestamp and
// X-Rapport-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>.
class HttpWebhookClient final : public automation::WebhookClient {
 public:
  automation::WebhookReply Post(const automation::WebhookAsk& ask) override;
};

// The signature header's value for a body (exposed for tests and receivers' docs).
std::string WebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body);

// The registry of step kinds with every built-in kind.
std::unique_ptr<automation::StepRegistry> BuildStepRegistry();

}  // namespace rapport::app
