// Routes: GET and PUT /api/v1/governor, the workspace's frequency governor policy
// (campaign/governor.h, docs/governor.md). PUT changes the members it names.
#include "campaign/governor.h"
#include "http/handlers.h"

namespace rapport::http {

void AddGovernorRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/governor", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(campaign::GovernorPolicy policy, s.sender.GovernorPolicy(call.key.workspace_id));
    return JsonResponse(200, campaign::PolicyToJson(policy));
  });

  router.Add("PUT", "/api/v1/governor", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(campaign::GovernorPolicy policy,
                             s.sender.SetGovernorPolicy(call.key.workspace_id, body));
    json::object encoded = campaign::PolicyToJson(policy);
    Audit(s, call, "governor.set", "workspace", std::to_string(call.key.workspace_id), encoded);
    return JsonResponse(200, encoded);
  });
}

}  // namespace rapport::http
