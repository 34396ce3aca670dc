#include "http/api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <openssl/rand.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <random>

#include "http/client_limiter.h"
#include "http/error_response.h"
#include "http/handlers.h"
#include "http/hit_batcher.h"
#include "tracking/machine_classifier.h"

namespace rapport::http {

namespace {

bool NeedsBody(std::string_view method) { return method == "POST" || method == "PUT" || method == "PATCH"; }

bool IsJsonContentType(const std::string* ct) {
  if (!ct) return false;
  std::string_view v = *ct;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (v.size() < kJson.size() || strncasecmp(v.data(), kJson.data(), kJson.size()) != 0) return false;
  v.remove_prefix(kJson.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return true;
  if (v.front() != ';') return false;
  // A charset, when given, must be UTF-8.
  std::string lower;
  for (char c : v) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  size_t cs = lower.find("charset=");
  if (cs == std::string::npos) return true;
  std::string_view charset = std::string_view(lower).substr(cs + 8);
  if (!charset.empty() && charset.front() == '"') charset.remove_prefix(1);
  return charset.substr(0, 5) == "utf-8" || charset.substr(0, 4) == "utf8";
}

Response TooManyRequests(int retry_after) {
  Response r = HttpErrorResponse(
      429, "too_many_requests",
      "too many requests from this address; retry after " + std::to_string(retry_after) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

// The caller's X-Request-Id when it is a plain token (so a proxy's id follows the request), else a
// new random one. Never the path or a header value that could carry a secret.
std::string RequestId(const Request& req) {
  if (const std::string* given = req.Header("x-request-id")) {
    bool plain = !given->empty() && given->size() <= 64 &&
                 std::all_of(given->begin(), given->end(), [](unsigned char c) {
                   return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                 });
    if (plain) return *given;
  }
  thread_local std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{:016x}", rng());
}

std::string_view MethodLabel(std::string_view m) {
  for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
    if (m == known) return known;
  return "OTHER";
}

Scope ScopeFor(Access a) {
  switch (a) {
    case Access::kRead: return kScopeRead;
    case Access::kWrite: return kScopeWrite;
    case Access::kSend: return kScopeSend;
    case Access::kAdmin:
    case Access::kPublic: break;
  }
  return kScopeAdmin;
}

std::string_view ScopeName(Access a) {
  switch (a) {
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    case Access::kSend: return "send";
    default: return "admin";
  }
}

std::shared_ptr<tracking::LinkSigner> MakeLinkSigner(const ApiOptions& options) {
  if (options.link_signer) return options.link_signer;
  const std::string& secret = options.link_secret;
  if (auto s = tracking::LinkSigner::Create(secret); s.ok())
    return std::make_shared<tracking::LinkSigner>(std::move(s).value());
  if (!secret.empty()) spdlog::warn("the link secret is shorter than 32 bytes; using a random one");
  std::string random(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(random.size())) != 1)
    std::abort();  // no randomness: nothing safe to sign with
  return std::make_shared<tracking::LinkSigner>(std::move(tracking::LinkSigner::Create(random)).value());
}

ApiOptions WithRanges(ApiOptions o) {
  if (!o.tracking.ranges)
    o.tracking.ranges = std::make_shared<const tracking::MachineRanges>(*tracking::MachineRanges::Parse(""));
  return o;
}

// The VERP codec shares the link secret (a key of its own is derived from it); a random one when
// the secret is too short, as for links.
tracking::VerpCodec MakeVerpCodec(const std::string& secret) {
  if (auto v = tracking::VerpCodec::Create(secret); v.ok()) return std::move(v).value();
  std::string random(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(random.size())) != 1)
    std::abort();
  return std::move(tracking::VerpCodec::Create(random)).value();
}

}  // namespace

struct Api::Impl {
  Impl(Store& store, Clock& clock, ApiOptions opts)
      : options(WithRanges(std::move(opts))),
        auth(store.keys(), clock, options.key_cache_ttl),
        links(MakeLinkSigner(options)),
        auth_failures(clock, options.auth_failures_per_minute / 60.0, options.auth_failures_per_minute),
        public_hits(clock, options.public_requests_per_second, options.public_requests_per_second * 5),
        sender(store, clock, *links,
               send::SendOptions{options.sender, options.public_url,
                                 [this](MessageClass c) {
                                   metrics.AddMessagesQueued(1);
                                   if (options.on_queued) options.on_queued(c);
                                 },
                                 options.dkim_domains}),
        bursts(tracking::kBurstWindow),
        verp(MakeVerpCodec(options.link_secret)),
        feedback(store, verp, options.bounce_policy, clock),
        subscribe_limit(clock, options.subscribes_per_minute / 60.0,
                        std::max(1.0, options.subscribes_per_minute)),
        signup(store, clock, *links, sender, options.signup),
        hits(store.events(), clock),
        link_cache({options.tracking.link_cache_entries, options.tracking.link_cache_ttl}),
        services{.store = store,
                 .clock = clock,
                 .metrics = metrics,
                 .auth = auth,
                 .options = options,
                 .links = *links,
                 .sender = sender,
                 .segments = options.segments,
                 .bursts = bursts,
                 .feedback = feedback,
                 .signup = signup,
                 .subscribe_limit = subscribe_limit,
                 .hits = hits,
                 .analytics = options.analytics,
                 .journeys = options.journeys,
                 .campaigns = options.campaigns,
                 .link_cache = link_cache,
                 .hit_log = options.hit_log,
                 .hit_loader = options.hit_loader} {
    AddSystemRoutes(router, services);
    AddContactRoutes(router, services);
    AddEventRoutes(router, services);
    AddTopicRoutes(router, services);
    AddKeyRoutes(router, services);
    AddTemplateRoutes(router, services);
    AddMessageRoutes(router, services);
    AddLinkRoutes(router, services);
    AddSegmentRoutes(router, services);
    AddTrackingRoutes(router, services);
    AddFeedbackRoutes(router, services);
    AddExportRoutes(router, services);
    AddConsentRoutes(router, services);
    AddReportRoutes(router, services);
    AddSendTimeRoutes(router, services);
    AddJourneyRoutes(router, services);
    AddSenderRoutes(router, services);
    AddGovernorRoutes(router, services);
    AddCampaignRoutes(router, services);
  }

  struct Admission {
    const Route* route = nullptr;
    std::string_view route_label = "unmatched";
    std::vector<std::pair<std::string, std::string>> params;
    ApiKey key;
    std::optional<Response> refused;
  };
  Admission Admit(const Request& req, bool count_limits);
  // Stamps the request id on the response and writes the access log line.
  void Finish(const Request& req, std::string_view route, Response& r, double seconds);
  Response Dispatch(const Request& req, Admission admission);
  // A handler's result as the response (errors mapped, logged and counted).
  Response Answer(const Request& req, const Route& route, Result<Response> result);

  ApiOptions options;
  Metrics metrics;
  Authenticator auth;
  std::shared_ptr<tracking::LinkSigner> links;
  ClientLimiter auth_failures;
  ClientLimiter public_hits;
  send::SendService sender;
  tracking::ClickBursts bursts;
  tracking::VerpCodec verp;
  tracking::FeedbackIntake feedback;
  ClientLimiter subscribe_limit;
  send::Signup signup;
  HitBatcher hits;
  tracking::LinkTableCache link_cache;
  Services services;
  Router router;
};

// What can be decided from the request line, the headers and the peer: the route, the key, the
// scope, the Content-Type and the limits on strangers. The server asks this before it reads a
// body, so a request that will be refused never makes it buffer one.
Api::Impl::Admission Api::Impl::Admit(const Request& req, bool count_limits) {
  Admission a;
  Router::Match match = router.Find(req.method, req.path);
  if (!match.route) {
    if (!match.allow.empty()) {
      Response r = HttpErrorResponse(405, "method_not_allowed",
                                     req.method + " is not allowed here; allowed: " + match.allow);
      r.headers.emplace_back("Allow", match.allow);
      a.refused = std::move(r);
      return a;
    }
    a.refused = ErrorResponse(Error::NotFound("no route for " + req.method + " " + req.path.substr(0, 200)));
    return a;
  }
  a.route = match.route;
  a.route_label = match.route->pattern;
  a.params = std::move(match.params);
  const std::string client = ClientAddress(options.trust_forwarded_for, req);
  if (a.route->access == Access::kPublic) {
    if (count_limits && !public_hits.Take(client))
      a.refused = TooManyRequests(public_hits.RetryAfter(client));
    return a;
  }
  // A client that keeps presenting bad keys is refused before its key is even looked up.
  if (count_limits && !auth_failures.Allowed(client)) {
    a.refused = TooManyRequests(auth_failures.RetryAfter(client));
    return a;
  }
  auto key = auth.Authenticate(req.Header("authorization"));
  if (!key.ok()) {
    if (key.error().code == ErrorCode::kUnauthenticated) {
      if (count_limits) auth_failures.Take(client);
    } else {
      metrics.AddStoreError();
    }
    a.refused = ErrorResponse(key.error());
    return a;
  }
  a.key = std::move(key).value();
  if (!HasScope(a.key.scopes, ScopeFor(a.route->access))) {
    a.refused = ErrorResponse(
        {ErrorCode::kPermissionDenied,
         "this API key lacks the '" + std::string(ScopeName(a.route->access)) + "' scope this route needs",
         {}});
    return a;
  }
  if (req.path.starts_with("/api/") && NeedsBody(req.method) &&
      !IsJsonContentType(req.Header("content-type")))
    a.refused = HttpErrorResponse(415, "unsupported_media_type",
                                  "send the body as JSON with Content-Type: application/json");
  return a;
}

void Api::Impl::Finish(const Request& req, std::string_view route, Response& r, double seconds) {
  std::string id = RequestId(req);
  if (options.access_log)
    spdlog::info("access {} {} {} {:.1f}ms id={}", MethodLabel(req.method), route, r.status, seconds * 1e3,
                 id);
  r.headers.emplace_back("X-Request-Id", std::move(id));
}

Response Api::Impl::Dispatch(const Request& req, Admission admission) {
  if (admission.refused) return std::move(*admission.refused);
  const Route& route = *admission.route;
  CallContext call{req, std::move(admission.params), std::move(admission.key)};
  return Answer(req, route, route.handler(call));
}

Response Api::Impl::Answer(const Request& req, const Route& route, Result<Response> result) {
  if (result.ok()) return std::move(result).value();
  const Error& err = result.error();
  if (err.code == ErrorCode::kInternal || err.code == ErrorCode::kUnavailable) {
    metrics.AddStoreError();
    spdlog::error("{} {}: {} ({})", req.method, route.pattern, err.message, ErrorCodeName(err.code));
  }
  return ErrorResponse(err);
}

Api::Api(Store& store, Clock& clock, ApiOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {}
Api::~Api() = default;

Metrics& Api::metrics() { return impl_->metrics; }

bool Api::HasFastRoute(std::string_view method, std::string_view path) const {
  const Route* route = impl_->router.Find(method, path).route;
  return route && route->fast;
}

send::SendService& Api::sender() { return impl_->sender; }

std::vector<std::pair<std::string, std::string>> Api::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : impl_->router.routes()) out.emplace_back(r.method, r.pattern);
  return out;
}

Response Api::Run(const Request& request, bool admitted) {
  auto start = std::chrono::steady_clock::now();
  std::string_view route_label = "unmatched";
  Response r;
  try {
    Impl::Admission admission = impl_->Admit(request, /*count_limits=*/!admitted);
    route_label = admission.route_label;
    r = impl_->Dispatch(request, std::move(admission));
  } catch (const std::exception& e) {
    spdlog::error("{} {}: unexpected exception: {}", request.method, route_label, e.what());
    r = ErrorResponse(Error::Internal(e.what()));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  impl_->metrics.ObserveRequest(route_label, MethodLabel(request.method), r.status, seconds);
  impl_->Finish(request, route_label, r, seconds);
  return r;
}

Response Api::Handle(const Request& request) { return Run(request, /*admitted=*/false); }

std::optional<Response> Api::Admit(const Request& request) {
  Impl::Admission admission;
  try {
    admission = impl_->Admit(request, /*count_limits=*/true);
  } catch (const std::exception& e) {
    spdlog::error("{} admission: unexpected exception: {}", request.method, e.what());
    return ErrorResponse(Error::Internal(e.what()));
  }
  if (!admission.refused) return std::nullopt;
  impl_->metrics.ObserveRequest(admission.route_label, MethodLabel(request.method), admission.refused->status,
                                0);
  impl_->Finish(request, admission.route_label, *admission.refused, 0);
  return std::move(admission.refused);
}

Response Api::HandleAdmitted(const Request& request) { return Run(request, /*admitted=*/true); }

bool Api::HandleAdmittedFast(const Request& request, std::function<void(std::optional<Response>)> done) {
  auto start = std::chrono::steady_clock::now();
  Impl* impl = impl_.get();
  try {
    Impl::Admission admission = impl->Admit(request, /*count_limits=*/false);
    if (admission.refused || !admission.route->fast) return false;
    const Route& route = *admission.route;
    CallContext call{request, std::move(admission.params), std::move(admission.key)};
    return route.fast(call, [impl, &request, &route, start,
                             done = std::move(done)](std::optional<Result<Response>> result) mutable {
      if (!result) return done(std::nullopt);
      Response r;
      try {
        r = impl->Answer(request, route, std::move(*result));
      } catch (const std::exception& e) {
        spdlog::error("{} {}: unexpected exception: {}", request.method, route.pattern, e.what());
        r = ErrorResponse(Error::Internal(e.what()));
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      impl->metrics.ObserveRequest(route.pattern, MethodLabel(request.method), r.status, seconds);
      impl->Finish(request, route.pattern, r, seconds);
      done(std::move(r));
    });
  } catch (const std::exception& e) {
    // Nothing was handed on (a fast handler calls nothing after it queued the hit): the slow path.
    spdlog::error("{} fast path: unexpected exception: {}", request.method, e.what());
    return false;
  }
}

}  // namespace rapport::http
