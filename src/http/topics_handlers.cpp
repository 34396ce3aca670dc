// Routes: /api/v1/topics and /api/v1/contacts/{id}/subscriptions[/{topic}].
#include "http/handlers.h"
#include "tracking/machine_ranges.h"

namespace rapport::http {

namespace {

// The consent IP: the TCP peer, or the first X-Forwarded-For hop when the proxy is trusted,
// truncated as the tracking endpoints truncate it (docs/consent.md).
std::string ClientIp(const Services& s, const Request& req) {
  return tracking::TruncateIp(ClientAddress(s.options.trust_forwarded_for, req),
                              s.options.tracking.ipv4_prefix, s.options.tracking.ipv6_prefix);
}

std::string UserAgent(const Request& req) {
  const std::string* ua = req.Header("user-agent");
  if (!ua) return {};
  std::string out;
  for (unsigned char c : ua->substr(0, 512)) out.push_back(c < 0x20 || c == 0x7F ? ' ' : char(c));
  return out;
}

}  // namespace

void AddTopicRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/topics", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Topic> topics, s.store.topics().List(call.key.workspace_id));
    json::array data;
    for (const Topic& t : topics) data.push_back(EncodeTopic(t));
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("POST", "/api/v1/topics", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(Topic topic, DecodeTopicInput(body));
    topic.workspace_id = call.key.workspace_id;
    topic.created_at = s.clock.Now();
    RAPPORT_ASSIGN_OR_RETURN(Topic created, s.store.topics().Create(call.key.workspace_id, topic));
    Audit(s, call, "topic.create", "topic", std::to_string(created.id), json::object{{"key", created.key}});
    return JsonResponse(201, EncodeTopic(created));
  });

  router.Add("GET", "/api/v1/contacts/{id}/subscriptions", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
               RAPPORT_TRY(s.store.contacts().Get(call.key.workspace_id, id));
               RAPPORT_ASSIGN_OR_RETURN(std::vector<Subscription> subs,
                                        s.store.topics().ListSubscriptions(call.key.workspace_id, id));
               json::array data;
               for (const Subscription& sub : subs) data.push_back(EncodeSubscription(sub));
               return JsonResponse(200, json::object{{"data", std::move(data)}});
             });

  router.Add("PUT", "/api/v1/contacts/{id}/subscriptions/{topic}", Access::kWrite,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
               RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
               RAPPORT_ASSIGN_OR_RETURN(SubscriptionInput in, DecodeSubscriptionInput(body));
               in.consent.at = s.clock.Now();
               in.consent.ip = ClientIp(s, call.request);
               in.consent.user_agent = UserAgent(call.request);
               const std::string& topic = call.Param("topic");
               RAPPORT_ASSIGN_OR_RETURN(
                   Subscription sub,
                   s.store.topics().SetSubscription(call.key.workspace_id, id, topic, in.status, in.consent));
               Audit(s, call, "subscription.set", "contact", std::to_string(id),
                     json::object{{"topic", topic},
                                  {"status", SubscriptionStatusName(in.status)},
                                  {"source", in.consent.source}});
               return JsonResponse(200, EncodeSubscription(sub));
             });

  router.Add(
      "DELETE", "/api/v1/contacts/{id}/subscriptions/{topic}", Access::kWrite,
      [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
        const std::string& topic = call.Param("topic");
        RAPPORT_TRY(s.store.topics().DeleteSubscription(call.key.workspace_id, id, topic));
        Audit(s, call, "subscription.delete", "contact", std::to_string(id), json::object{{"topic", topic}});
        return NoContent();
      });
}

}  // namespace rapport::http
