// The API v1 as a function: Request -> Response. Routing, authentication, scope checks, the
// Content-Type rule, error mapping and metrics happen here; the handlers (*_handlers.cpp) parse,
// call the store once, and format.
//
// The Server (server.cpp) owns one Api and calls Handle from its I/O threads; tests call Handle
// directly. Handle never throws: every failure is a JSON error response. Thread-safe. The Store
// and Clock must outlive the Api.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compose/composer.h"
#include "core/clock.h"
#include "core/store.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/tracking_options.h"
#include "send/send_service.h"
#include "send/signup.h"
#include "tracking/link_signer.h"

namespace rapport::analytics {
class AnalyticsService;
}
namespace rapport::segment {
class SegmentService;
}
namespace rapport::automation {
class JourneyService;
}
namespace rapport::campaign {
class CampaignService;
}

namespace rapport::http {

class HitLog;
class HitLoader;

struct ApiOptions {
  // Take the consent IP from the first X-Forwarded-For address (only behind a trusted proxy).
  bool trust_forwarded_for = false;
  size_t max_events_per_request = 10000;  // more -> 413 too_large
  std::chrono::seconds key_cache_ttl{5};
  std::string public_url;  // base of the links templates see ("https://mail.example.com")
  // Sending (POST /api/v1/messages): who the mail is from, the secret that signs unsubscribe
  // links (at least 32 bytes; empty: a random one for this process, so links die with it), and
  // a hook told when a message was queued (wakes the delivery worker).
  compose::Sender sender;
  std::string link_secret;
  std::function<void(MessageClass)> on_queued;
  // Strangers: failed authentications allowed per client address and minute (then 429 with
  // Retry-After), and hits per second on the public link pages (a burst of 5x).
  int auth_failures_per_minute = 20;
  double public_requests_per_second = 20;
  // One log line per request: method, route pattern (never the path, which may hold a token),
  // status, time and the request id (also sent back as X-Request-Id). Never a key or a body.
  bool access_log = false;
  // The copies of delivered mail that the transports keep (the maildir's files), erased with a
  // contact (tracking/erasure.h); null when there are none.
  DeliveredCopies* copies = nullptr;
  // The segment service behind /api/v1/segments (segment/segment_service.h); null: those routes
  // answer 503. Must outlive the Api.
  segment::SegmentService* segments = nullptr;
  TrackingOptions tracking;
  // The deployment's link signer (its key ring, rotated by `rapport links rotate`); null: a
  // signer of one key, link_secret.
  std::shared_ptr<tracking::LinkSigner> link_signer;
  // Bounces and complaints (POST /api/v1/feedback): when a contact is bounced after soft bounces.
  BouncePolicy bounce_policy;
  // Sign-up and double opt-in (POST /api/v1/subscribe, /confirm/): the confirmation template and
  // how long its link works; sign-ups allowed per client address and minute (then 429).
  send::SignupOptions signup;
  double subscribes_per_minute = 6;
  // The analytics consumer behind /api/v1/reports (analytics/analytics_service.h); null: those
  // routes answer 503. Must outlive the Api.
  analytics::AnalyticsService* analytics = nullptr;
  // The journey engine behind /api/v1/journeys (automation/journey_service.h); null: those routes
  // answer 503. Must outlive the Api.
  automation::JourneyService* journeys = nullptr;
  // The domains of the configured DKIM keys: marketing mail from a sender identity of another
  // domain is refused (send::SendOptions::dkim_domains, core/sender.h).
  std::vector<std::string> dkim_domains;
  // The campaign engine behind /api/v1/campaigns (campaign/campaign_service.h); null: those
  // routes answer 503. Must outlive the Api.
  campaign::CampaignService* campaigns = nullptr;
  // The tracking hit log and its loader (hit_log.h, hit_loader.h): opens and clicks are written
  // there before they are answered; null: each is committed to the store first (hit_batcher.h).
  // Both or neither; they must outlive the Api.
  HitLog* hit_log = nullptr;
  HitLoader* hit_loader = nullptr;
};

class Api {
 public:
  Api(Store& store, Clock& clock, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // The whole request: admission (below), then the route's handler.
  Response Handle(const Request& request);
  // For a server that has read only the request line and headers (the body is empty): the
  // response when the request is refused whatever its body (unknown route, 405, no or bad key,
  // missing scope, wrong Content-Type, too many failed keys or public hits from this client:
  // 429 with Retry-After), or nullopt to read the body and call HandleAdmitted. Counts the
  // client's limits, which HandleAdmitted then does not count again.
  std::optional<Response> Admit(const Request& request);
  Response HandleAdmitted(const Request& request);
  // The same, without blocking, for the routes that have a fast handler (router.h: the open
  // pixel and the click, when their message is cached): false when the route has none or it
  // declines (call HandleAdmitted). True: `done` is called exactly once, from any thread, with the
  // response, or with nullopt to call HandleAdmitted after all. `request` must stay alive until
  // `done` is called. For the server's I/O threads.
  bool HandleAdmittedFast(const Request& request, std::function<void(std::optional<Response>)> done);
  // Whether a route with a fast handler matches (the server's fast lane takes only those).
  bool HasFastRoute(std::string_view method, std::string_view path) const;
  Metrics& metrics();
  // The send service behind POST /api/v1/messages, for the other senders of this process.
  send::SendService& sender();
  // (method, pattern) of every route, in registration order (the OpenAPI test checks them).
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  Response Run(const Request& request, bool admitted);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The embedded OpenAPI 3.0 document (src/http/openapi.json).
std::string_view OpenApiDocument();

}  // namespace rapport::http
