// What the route handlers share: the services they call and small helpers to parse and answer.
// Internal to http/. Thread-safe (the services are).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/store.h"
#include "http/api.h"
#include "http/auth.h"
#include "http/client_limiter.h"
#include "http/hit_batcher.h"
#include "http/hit_loader.h"
#include "http/hit_log.h"
#include "http/json_codec.h"
#include "http/metrics.h"
#include "http/router.h"
#include "send/send_service.h"
#include "send/signup.h"
#include "tracking/click_bursts.h"
#include "tracking/feedback_intake.h"
#include "tracking/link_signer.h"
#include "tracking/link_table_cache.h"

namespace rapport::segment {
class SegmentService;
}
namespace rapport::analytics {
class AnalyticsService;
}
namespace rapport::automation {
class JourneyService;
}
namespace rapport::campaign {
class CampaignService;
}

namespace rapport::http {

struct Services {
  Store& store;
  Clock& clock;
  Metrics& metrics;
  Authenticator& auth;
  const ApiOptions& options;
  const tracking::LinkSigner& links;
  send::SendService& sender;
  segment::SegmentService* segments;  // null: the segment routes answer 503
  tracking::ClickBursts& bursts;      // recent clicks per message (the machine rule)
  tracking::FeedbackIntake& feedback;
  send::Signup& signup;                    // POST /api/v1/subscribe and /confirm/ (consent_handlers.cpp)
  ClientLimiter& subscribe_limit;          // sign-ups per client address
  HitBatcher& hits;                        // group commit of the open and click events (hit_batcher.h)
  analytics::AnalyticsService* analytics;  // null: the report routes answer 503
  automation::JourneyService* journeys;    // null: the journey routes answer 503
  campaign::CampaignService* campaigns;    // null: the campaign routes answer 503
  tracking::LinkTableCache& link_cache;    // sent messages' link tables, for the hits (tracking_handlers.cpp)
  HitLog* hit_log = nullptr;               // null: hits go through `hits` (ApiOptions::hit_log)
  HitLoader* hit_loader = nullptr;
};

// The body as JSON, parsed with this thread's reusable parser: valid until the next ParseBody on
// the same thread (i.e. for the handler's duration). kBadRequest says where the syntax fails.
Result<json::value> ParseBody(const Request& request);
Response JsonResponse(int status, const json::value& body);
Response NoContent();
// A day of the query string ("2026-12-07", field `from`, `to`) as days since the epoch;
// kInvalid naming the field otherwise. FormatDay writes one back the same way.
Result<int64_t> ParseDay(std::string_view s, std::string_view field);
std::string FormatDay(int64_t day);
// An entity id from the path; kNotFound for anything that is not a positive integer.
Result<int64_t> PathId(const CallContext& call, std::string_view name, std::string_view what);
// ?limit= within 1..1000 (default 50); kInvalid naming "limit" otherwise.
Result<int> LimitParam(const Request& request);
// Records the audit entry of a successful write (actor "key:<id>"). A failure is logged and
// counted, not returned: the write itself has happened and was acknowledged.
void Audit(Services& s, const CallContext& call, std::string action, std::string entity,
           std::string entity_id, json::object details = {});

void AddContactRoutes(Router& router, Services& s);
void AddEventRoutes(Router& router, Services& s);
void AddTopicRoutes(Router& router, Services& s);
void AddKeyRoutes(Router& router, Services& s);
void AddTemplateRoutes(Router& router, Services& s);
void AddSystemRoutes(Router& router, Services& s);
void AddMessageRoutes(Router& router, Services& s);
// Saved segments, counts, members, previews, a contact's segments and explain (segments_handlers.cpp).
void AddSegmentRoutes(Router& router, Services& s);
// The public pages behind signed links: /u/{token} (unsubscribe, RFC 8058 one-click on POST).
void AddLinkRoutes(Router& router, Services& s);
// The public tracking routes: /o/{token} (open pixel), /c/{token} (click), /v/{token} (web view).
void AddTrackingRoutes(Router& router, Services& s);
// POST /api/v1/feedback, GET /api/v1/deliverability (feedback_handlers.cpp).
void AddFeedbackRoutes(Router& router, Services& s);
// GET /api/v1/contacts/{id}/export (export_handlers.cpp).
void AddExportRoutes(Router& router, Services& s);
// The preference center /p/{token}, double opt-in /confirm/{token}, POST /api/v1/subscribe and
// GET /api/v1/contacts/{id}/consents (consent_handlers.cpp).
void AddConsentRoutes(Router& router, Services& s);
// GET /api/v1/reports/..., /api/v1/contacts/{id}/analytics (reports_handlers.cpp).
void AddReportRoutes(Router& router, Services& s);
// Journeys, their versions, status, entries, stats, simulation and recipes (journeys_handlers.cpp).
void AddJourneyRoutes(Router& router, Services& s);
// GET /api/v1/contacts/{id}/send-time (send_time_handlers.cpp).
void AddSendTimeRoutes(Router& router, Services& s);

// Sender identities: /api/v1/senders[/{id}] (senders_handlers.cpp).
void AddSenderRoutes(Router& router, Services& s);
// GET/PUT /api/v1/governor: the frequency governor's policy (governor_handlers.cpp).
void AddGovernorRoutes(Router& router, Services& s);
// Campaigns, their schedule, pause/resume/cancel, proofs, reports and the public archive
// /archive/{workspace}/{campaign} (campaigns_handlers.cpp).
void AddCampaignRoutes(Router& router, Services& s);

}  // namespace rapport::http
