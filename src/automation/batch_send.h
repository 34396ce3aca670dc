// Sends of a claim batch queued together. The scheduler advances each due run of a batch on a
// copy up to its first send (ProbeEnv: reads pass through; the first send is recorded instead of
// made, and anything with an effect stops the probe), queues the recorded sends in one go
// (JourneyEnv::SendMany: the send service's bulk path, one transaction per template and step
// instead of one per message), then advances the runs for real on a PrefetchedEnv, which answers
// a send whose idempotency key was queued from the reply and makes any other one itself.
//
// Why it is safe: a probe only records a send that comes before any effect of the run, from the
// same run and clock as the real pass, so the real pass makes that same send (same idempotency
// key); had a crash come in between, the retry queues nothing twice (the key). The one gap: a
// read the probe made (a segment, an engagement) that another thread changes in the
// milliseconds between the probe and the real pass; the message queued then stays queued once,
// as a send that raced the same change without batching would have.
//
// Thread-safety: none; one claim batch on one thread. The wrapped env must outlive them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "automation/journey_env.h"

namespace rapport::automation {

using SendReplies = std::map<std::string, SendReply>;  // by idempotency key

class ProbeEnv final : public JourneyEnv {
 public:
  explicit ProbeEnv(JourneyEnv& real) : real_(real) {}
  // Starts the probe of one run.
  void Reset() { stopped_ = false; }
  std::vector<SendAsk>& asks() { return asks_; }

  Result<Contact> GetContact(WorkspaceId ws, ContactId contact) override;
  Result<bool> InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) override;
  Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression) override;
  Result<SendReply> Send(const SendAsk& ask) override;
  Result<Engagement> MessageEngagement(WorkspaceId ws, ContactId contact, MessageId message) override;
  Status UpdateContact(WorkspaceId ws, ContactId contact, const boost::json::object& attributes,
                       const std::map<std::string, bool>& topics) override;
  WebhookReply PostWebhook(const WebhookAsk& ask) override;
  Result<Timestamp> BestSendTime(WorkspaceId ws, ContactId contact, Timestamp from, Timestamp to) override {
    return real_.BestSendTime(ws, contact, from, to);
  }

 private:
  JourneyEnv& real_;
  std::vector<SendAsk> asks_;
  bool stopped_ = false;
};

class PrefetchedEnv final : public JourneyEnv {
 public:
  PrefetchedEnv(JourneyEnv& real, SendReplies& replies) : real_(real), replies_(replies) {}

  Result<Contact> GetContact(WorkspaceId ws, ContactId contact) override {
    return real_.GetContact(ws, contact);
  }
  Result<bool> InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) override {
    return real_.InSegment(ws, contact, segment);
  }
  Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression) override {
    return real_.Matches(ws, contact, expression);
  }
  Result<SendReply> Send(const SendAsk& ask) override;
  Result<Engagement> MessageEngagement(WorkspaceId ws, ContactId contact, MessageId message) override {
    return real_.MessageEngagement(ws, contact, message);
  }
  Status UpdateContact(WorkspaceId ws, ContactId contact, const boost::json::object& attributes,
                       const std::map<std::string, bool>& topics) override {
    return real_.UpdateContact(ws, contact, attributes, topics);
  }
  WebhookReply PostWebhook(const WebhookAsk& ask) override { return real_.PostWebhook(ask); }
  Result<Timestamp> BestSendTime(WorkspaceId ws, ContactId contact, Timestamp from, Timestamp to) override {
    return real_.BestSendTime(ws, contact, from, to);
  }

 private:
  JourneyEnv& real_;
  SendReplies& replies_;
};

}  // namespace rapport::automation
