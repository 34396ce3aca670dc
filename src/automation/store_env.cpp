// The service's JourneyEnv: contacts, topics and engagement from the store; sends, segment
// membership and webhooks through the ports app/ wires.
#include <fmt/format.h>

#include "automation/journey_service.h"

namespace rapport::automation {

namespace {

// A safety bound on the opens and clicks (of any message) read for one message's engagement: the
// store reads only those names, from the message's creation when the outbox still has it.
constexpr int kEngagementScan = 10'000;

class StoreEnv final : public JourneyEnv {
 public:
  StoreEnv(Store& store, const Clock& clock, JourneyPorts ports)
      : store_(store), clock_(clock), ports_(ports) {}

  Result<Contact> GetContact(WorkspaceId ws, ContactId contact) override {
    return store_.contacts().Get(ws, contact);
  }

  Result<bool> InSegment(WorkspaceId ws, ContactId contact, std::string_view segment) override {
    if (!ports_.segments) return Error::Unavailable("segments are not running in this process");
    return ports_.segments->InSegment(ws, contact, segment);
  }

  Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression) override {
    if (!ports_.segments) return Error::Unavailable("segments are not running in this process");
    return ports_.segments->Matches(ws, contact, expression);
  }

  Result<SendReply> Send(const SendAsk& ask) override {
    if (!ports_.mailer) return Error::Unavailable("no mailer: journeys cannot send in this process");
    return ports_.mailer->Send(ask);
  }

  std::vector<Result<SendReply>> SendMany(const std::vector<SendAsk>& asks) override {
    if (!ports_.mailer)
      return std::vector<Result<SendReply>>(
          asks.size(), Error::Unavailable("no mailer: journeys cannot send in this process"));
    return ports_.mailer->SendMany(asks);
  }

  Result<Engagement> MessageEngagement(WorkspaceId ws, ContactId contact, MessageId message) override {
    Engagement out;
    // Only opens and clicks, and none from before the message was queued when the outbox still
    // has it: the store filters them, so a busy timeline (page views) hides none of them.
    EventQuery q;
    q.limit = 1000;
    q.names = {"email_opened", "email_clicked"};
    if (Result<OutboxMessage> m = store_.outbox().Get(ws, message); m.ok() && m->contact_id == contact)
      q.since = m->created_at;
    int seen = 0;
    while (seen < kEngagementScan && !(out.opened && out.clicked)) {
      RAPPORT_ASSIGN_OR_RETURN(Page<Event> page, store_.events().ListForContact(ws, contact, q));
      for (const Event& e : page.items) {
        const json::value* id = e.properties.if_contains("message_id");
        const json::value* machine = e.properties.if_contains("machine");
        if (!id || !id->is_int64() || id->get_int64() != message) continue;
        if (machine && machine->is_bool() && machine->get_bool()) continue;
        (e.name == "email_opened" ? out.opened : out.clicked) = true;
      }
      seen += static_cast<int>(page.items.size());
      if (page.next_cursor.empty() || page.items.empty()) break;
      q.cursor = page.next_cursor;
    }
    return out;
  }

  Status UpdateContact(WorkspaceId ws, ContactId contact, const json::object& attributes,
                       const std::map<std::string, bool>& topics) override {
    if (!attributes.empty()) {
      ContactInput patch;
      patch.attributes = attributes;
      RAPPORT_TRY(store_.contacts().Update(ws, contact, patch, json::object{{"via", "journey"}}));
    }
    for (const auto& [key, on] : topics) {
      Consent consent;
      consent.source = "journey";
      consent.at = clock_.Now();
      RAPPORT_TRY(store_.topics().SetSubscription(
          ws, contact, key, on ? SubscriptionStatus::kSubscribed : SubscriptionStatus::kUnsubscribed,
          consent));
    }
    return {};
  }

  Result<Timestamp> BestSendTime(WorkspaceId ws, ContactId contact, Timestamp from, Timestamp to) override {
    if (!ports_.send_time) return from;
    RAPPORT_ASSIGN_OR_RETURN(SendTimeChoice best, ports_.send_time->BestTime(ws, contact, from, to));
    return best.at;
  }

  WebhookReply PostWebhook(const WebhookAsk& ask) override {
    if (!ports_.webhooks) return WebhookReply{0, "no webhook client in this process"};
    return ports_.webhooks->Post(ask);
  }

 private:
  Store& store_;
  const Clock& clock_;
  JourneyPorts ports_;
};

}  // namespace

std::unique_ptr<JourneyEnv> MakeStoreEnv(Store& store, const Clock& clock, JourneyPorts ports) {
  return std::make_unique<StoreEnv>(store, clock, ports);
}

}  // namespace rapport::automation
