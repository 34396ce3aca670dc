#include "automation/batch_send.h"

namespace rapport::automation {

namespace {

Error Stop() { return Error::Unavailable("probe stopped"); }

}  // namespace

Result<Contact> ProbeEnv::GetContact(WorkspaceId ws, ContactId contact) {
  return real_.GetContact(ws, contact);
}

Result<bool> ProbeEnv::InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) {
  return real_.InSegment(ws, contact, segment);
}

Result<bool> ProbeEnv::Matches(WorkspaceId ws, ContactId contact, const std::string& expression) {
  return real_.Matches(ws, contact, expression);
}

Result<SendReply> ProbeEnv::Send(const SendAsk& ask) {
  if (!stopped_ && !ask.idempotency_key.empty()) asks_.push_back(ask);
  stopped_ = true;
  return Stop();
}

Result<Engagement> ProbeEnv::MessageEngagement(WorkspaceId ws, ContactId contact, MessageId message) {
  return real_.MessageEngagement(ws, contact, message);
}

Status ProbeEnv::UpdateContact(WorkspaceId, ContactId, const boost::json::object&,
                               const std::map<std::string, bool>&) {
  stopped_ = true;
  return Stop();
}

WebhookReply ProbeEnv::PostWebhook(const WebhookAsk&) {
  // A reply must be given; the probe records no send after it.
  stopped_ = true;
  return WebhookReply{0, "probe stopped"};
}

Result<SendReply> PrefetchedEnv::Send(const SendAsk& ask) {
  auto it = replies_.find(ask.idempotency_key);
  if (it == replies_.end()) return real_.Send(ask);
  SendReply reply = std::move(it->second);
  replies_.erase(it);
  return reply;
}

}  // namespace rapport::automation
