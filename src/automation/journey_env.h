// The world as a journey step sees it: the contact, segment membership, the one send service,
// what became of a message (opened, clicked), contact updates and webhooks. Owned here so the
// engine stays pure: the service (journey_service.h) implements it over the store and the ports
// app/ wires (JourneyPorts); the simulator over a recording copy that sends nothing.
//
// Thread-safety: whatever the implementation says; the engine calls it from one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/model.h"
#include "core/outbox.h"

namespace rapport::automation {

struct SendAsk {
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  std::string template_name;
  MessageClass message_class = MessageClass::kMarketing;
  std::optional<std::string> topic;
  boost::json::object data;
  std::string idempotency_key;       // deterministic per run, step and visit: a retry queues nothing
  std::optional<int64_t> sender_id;  // the step's "sender" (core/sender.h); absent: the default
  // The frequency governor (docs/governor.md): who sends ("journey:<id>:<step>"), the step's
  // priority and what it does when a cap stops it (skip, else defer).
  std::string source;
  int priority = 0;
  bool skip_on_cap = false;
};

struct SendReply {
  bool queued = false;       // false: refused by the rules (skipped_reason says why)
  bool replayed = false;     // queued by an earlier try of the same step
  MessageId message_id = 0;  // when queued
  std::string skipped_reason;
  std::string subject;  // the rendered subject
};

// The client signs the body: X-Rapport-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
// with the X-Rapport-Timestamp header's value (docs/journeys.md, "Webhooks").
struct WebhookAsk {
  std::string url;
  std::string body;
  std::string secret;
  int64_t timestamp = 0;  // Unix seconds
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WebhookReply {
  int status = 0;     // the HTTP status; 0 when no answer came
  std::string error;  // why no answer came
};

struct Engagement {
  bool opened = false;   // a human open (not a machine's)
  bool clicked = false;  // a human click
};

// Sends through the one send service (app/ wires it). Preview renders the subject only.
class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual Result<SendReply> Send(const SendAsk& ask) = 0;
  virtual Result<std::string> PreviewSubject(const SendAsk& ask) = 0;
  // Several sends at once, one reply per ask in order, each as Send would answer it (an
  // implementation queues them in fewer transactions). Default: Send one by one.
  virtual std::vector<Result<SendReply>> SendMany(const std::vector<SendAsk>& asks) {
    std::vector<Result<SendReply>> out;
    out.reserve(asks.size());
    for (const SendAsk& ask : asks) out.push_back(Send(ask));
    return out;
  }
};

// Membership of saved segments and matches of segment expressions (the segment service).
class SegmentMembership {
 public:
  virtual ~SegmentMembership() = default;
  virtual Result<bool> InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) = 0;
  // Whether the contact matches a segment-language expression now (docs/segments.md).
  virtual Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression) = 0;
  // kInvalid with the parser's message (line, column, a "did you mean" hint) when the expression
  // does not compile against the workspace.
  virtual Status CheckExpression(WorkspaceId ws, const std::string& expression) = 0;
};

// POSTs a webhook (app/ wires an HTTP client).
class WebhookClient {
 public:
  virtual ~WebhookClient() = default;
  virtual WebhookReply Post(const WebhookAsk& ask) = 0;
};

class JourneyEnv {
 public:
  virtual ~JourneyEnv() = default;
  virtual Result<Contact> GetContact(WorkspaceId ws, ContactId contact) = 0;
  virtual Result<bool> InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) = 0;
  // Whether the contact matches a segment-language expression now (entry.expression, a branch's
  // {"expression": ...}).
  virtual Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression) = 0;
  virtual Result<SendReply> Send(const SendAsk& ask) = 0;
  // Several sends at once (Mailer::SendMany). Default: Send one by one.
  virtual std::vector<Result<SendReply>> SendMany(const std::vector<SendAsk>& asks) {
    std::vector<Result<SendReply>> out;
    out.reserve(asks.size());
    for (const SendAsk& ask : asks) out.push_back(Send(ask));
    return out;
  }
  virtual Result<Engagement> MessageEngagement(WorkspaceId ws, ContactId contact, MessageId message) = 0;
  // Merges attributes (null removes) and sets topic subscriptions (true subscribed).
  virtual Status UpdateContact(WorkspaceId ws, ContactId contact, const boost::json::object& attributes,
                               const std::map<std::string, bool>& topics) = 0;
  virtual WebhookReply PostWebhook(const WebhookAsk& ask) = 0;
  // The contact's best moment to get mail in [from, to) (send-time optimization, core/send_time.h);
  // `from` when no advisor runs in this process, as a campaign's "sto" schedule does.
  virtual Result<Timestamp> BestSendTime(WorkspaceId ws, ContactId contact, Timestamp from, Timestamp to) = 0;
};

}  // namespace rapport::automation
