// Routes: /api/v1/senders[/{id}]: the workspace's sender identities (core/sender.h,
// docs/senders.md; the JSON: sender_codec.h). PUT replaces every field (an absent optional field is cleared).
// Checks are the store's (ValidateSender: addresses, no CR/LF anywhere), errors name the field.
#include "http/handlers.h"
#include "http/sender_codec.h"

namespace rapport::http {

void AddSenderRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/senders", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<SenderIdentity> list, s.store.senders().List(call.key.workspace_id));
    json::array data;
    for (const SenderIdentity& x : list) data.push_back(EncodeSender(x));
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("POST", "/api/v1/senders", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(SenderIdentity in, DecodeSender(body));
    in.workspace_id = call.key.workspace_id;
    RAPPORT_ASSIGN_OR_RETURN(SenderIdentity created, s.store.senders().Create(in));
    Audit(s, call, "sender.create", "sender", std::to_string(created.id),
          json::object{{"email", created.email}});
    return JsonResponse(201, EncodeSender(created));
  });

  router.Add("GET", "/api/v1/senders/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(SenderId id, PathId(call, "id", "sender"));
    RAPPORT_ASSIGN_OR_RETURN(SenderIdentity found, s.store.senders().Get(call.key.workspace_id, id));
    return JsonResponse(200, EncodeSender(found));
  });

  router.Add("PUT", "/api/v1/senders/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(SenderId id, PathId(call, "id", "sender"));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(SenderIdentity in, DecodeSender(body));
    in.workspace_id = call.key.workspace_id;
    in.id = id;
    RAPPORT_ASSIGN_OR_RETURN(SenderIdentity updated, s.store.senders().Update(in));
    Audit(s, call, "sender.update", "sender", std::to_string(id), json::object{{"email", updated.email}});
    return JsonResponse(200, EncodeSender(updated));
  });

  router.Add("DELETE", "/api/v1/senders/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(SenderId id, PathId(call, "id", "sender"));
    RAPPORT_TRY(s.store.senders().Delete(call.key.workspace_id, id));
    Audit(s, call, "sender.delete", "sender", std::to_string(id));
    return NoContent();
  });
}

}  // namespace rapport::http
