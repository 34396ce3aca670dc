// Routes without a key: /healthz, /metrics, /api/v1/openapi.json.
#include "http/error_response.h"
#include "http/handlers.h"

namespace rapport::http {

void AddSystemRoutes(Router& router, Services& s) {
  router.Add("GET", "/healthz", Access::kPublic, [&s](CallContext&) -> Result<Response> {
    Status ping = s.store.Ping();
    if (!ping.ok()) {
      s.metrics.AddStoreError();
      return ErrorResponse(Error::Unavailable("store ping failed"));
    }
    return JsonResponse(200, json::object{{"status", "ok"}, {"store", s.store.Backend()}});
  });

  router.Add("GET", "/metrics", Access::kPublic, [&s](CallContext&) -> Result<Response> {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = s.metrics.Render();
    return r;
  });

  router.Add("GET", "/api/v1/openapi.json", Access::kPublic, [](CallContext&) -> Result<Response> {
    Response r;
    r.body = std::string(OpenApiDocument());
    return r;
  });
}

}  // namespace rapport::http
