// The public tracking routes (no API key; the token's HMAC is the credential, and each client
// address is rate-limited like /u/):
//   GET|HEAD /o/{token}  the open pixel: a 43-byte transparent GIF, Cache-Control: no-store
//   GET|HEAD /c/{token}  a tracked link: 302 to the link's target as stored with the message
//   GET      /v/{token}  the message in a browser (its HTML as sent, without the pixel)
// Each open and click is an "email_opened" / "email_clicked" event on the contact's timeline,
// appended (committed, in a group commit shared with the hits that arrive meanwhile:
// http/hit_batcher.h) before the response is sent, with the user agent, the client address
// truncated (/24 and /48 by default) and the machine verdict (tracking/machine_classifier.h). A
// click goes only where the stored message pointed: the token names the message and the link's
// index, never a URL. A tampered, unknown or expired token gets a 404 that says nothing more; so
// does a message erased since. A machine click still redirects; a click whose event cannot be
// stored still redirects too (the store error is logged and counted), while the pixel answers 503.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/handlers.h"
#include "http/hit_batcher.h"
#include "tracking/click_bursts.h"
#include "tracking/link_signer.h"
#include "tracking/machine_classifier.h"
#include "tracking/machine_ranges.h"

namespace rapport::http {

namespace {

constexpr unsigned char kGif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                  0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04,
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                  0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
static_assert(sizeof(kGif) == 43);

void NoStore(Response& r) {
  r.headers.emplace_back("Cache-Control", "no-store, max-age=0");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Robots-Tag", "noindex, nofollow");
}

Response NotFound() {
  Response r;
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "Not found\n";
  NoStore(r);
  return r;
}

bool SafeTarget(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return url.starts_with("https://") || url.starts_with("http://") || url.starts_with("HTTPS://") ||
         url.starts_with("HTTP://");
}

struct Located {
  tracking::LinkClaims claims;
  TrackedMessage message;
};

// The verified token's message; nullopt (-> 404) when the token or the message is not valid.
Result<std::optional<Located>> Locate(Services& s, const CallContext& call, tracking::LinkKind kind) {
  auto claims = s.links.Verify(call.params.at(0).second, kind);
  if (!claims.ok() || claims->message_key == 0) return std::optional<Located>();
  auto message = s.store.tracking().FindByKey(claims->workspace_id, claims->message_key);
  if (!message.ok()) {
    if (message.error().code == ErrorCode::kNotFound) return std::optional<Located>();
    return message.error();
  }
  return std::optional<Located>(Located{*claims, std::move(message).value()});
}

// Appends the hit's event; committed when this returns OK.
Status RecordHit(Services& s, const CallContext& call, const Located& at, tracking::HitKind kind,
                 const tracking::MachineVerdict& verdict, const std::string& ua, const std::string& ip,
                 int32_t index) {
  NewEvent e;
  e.contact.id = at.message.contact_id;
  e.contact.create_contact = false;
  e.name = kind == tracking::HitKind::kOpen ? "email_opened" : "email_clicked";
  json::object p;
  p["message_id"] = at.message.message_id;
  if (!at.message.template_name.empty()) p["template"] = at.message.template_name;
  p["class"] = MessageClassName(at.message.message_class);
  if (kind == tracking::HitKind::kClick) {
    p["link_index"] = index;
    p["url"] = at.message.links[static_cast<size_t>(index)];
  }
  p["user_agent"] = ua.substr(0, 512);
  p["ip"] = tracking::TruncateIp(ip, s.options.tracking.ipv4_prefix, s.options.tracking.ipv6_prefix);
  p["method"] = call.request.method;
  p["machine"] = verdict.machine;
  if (verdict.machine) p["machine_reason"] = verdict.reason;
  e.properties = std::move(p);
  // Group commit (http/hit_batcher.h): returns once the transaction holding the event returned.
  RAPPORT_ASSIGN_OR_RETURN(AppendResult appended, s.hits.Submit(at.message.workspace_id, std::move(e)));
  if (appended.outcome == AppendOutcome::kFailed) return appended.error;
  return {};
}

tracking::Hit MakeHit(Services& s, const CallContext& call, const Located& at, tracking::HitKind kind,
                      const std::string& ua, const std::string& ip) {
  tracking::Hit hit;
  hit.kind = kind;
  hit.method = call.request.method;
  hit.user_agent = ua;
  hit.ip = ip;
  if (at.message.state == MessageState::kSent) hit.since_sent = s.clock.Now() - at.message.updated_at;
  hit.links_in_message = static_cast<int>(at.message.links.size());
  return hit;
}

const std::string& Agent(const Request& req) {
  static const std::string kNone;
  const std::string* ua = req.Header("user-agent");
  return ua ? *ua : kNone;
}

Result<Response> Open(Services& s, CallContext& call) {
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Located> at, Locate(s, call, tracking::LinkKind::kOpen));
  if (!at) return NotFound();
  const std::string& ua = Agent(call.request);
  std::string ip = ClientAddress(s.options.trust_forwarded_for, call.request);
  tracking::Hit hit = MakeHit(s, call, *at, tracking::HitKind::kOpen, ua, ip);
  tracking::MachineVerdict verdict = tracking::ClassifyHit(hit, *s.options.tracking.ranges);
  Status recorded = RecordHit(s, call, *at, tracking::HitKind::kOpen, verdict, ua, ip, 0);
  if (!recorded.ok()) {
    if (recorded.error().code == ErrorCode::kNotFound) return NotFound();  // erased meanwhile
    return recorded.error();
  }
  Response r;
  r.content_type = "image/gif";
  if (call.request.method != "HEAD") r.body.assign(reinterpret_cast<const char*>(kGif), sizeof(kGif));
  NoStore(r);
  return r;
}

Result<Response> Click(Services& s, CallContext& call) {
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Located> at, Locate(s, call, tracking::LinkKind::kClick));
  if (!at) return NotFound();
  int32_t index = at->claims.link_index;
  if (index < 0 || static_cast<size_t>(index) >= at->message.links.size()) return NotFound();
  const std::string& target = at->message.links[static_cast<size_t>(index)];
  if (!SafeTarget(target)) return NotFound();
  const std::string& ua = Agent(call.request);
  std::string ip = ClientAddress(s.options.trust_forwarded_for, call.request);
  tracking::Hit hit = MakeHit(s, call, *at, tracking::HitKind::kClick, ua, ip);
  hit.distinct_links_in_burst = s.bursts.Record(at->claims.message_key, index, s.clock.Now());
  tracking::MachineVerdict verdict = tracking::ClassifyHit(hit, *s.options.tracking.ranges);
  Status recorded = RecordHit(s, call, *at, tracking::HitKind::kClick, verdict, ua, ip, index);
  if (!recorded.ok()) {
    if (recorded.error().code == ErrorCode::kNotFound) return NotFound();
    // The person still reaches the link; the lost hit is logged and counted.
    s.metrics.AddStoreError();
    spdlog::error("click of message {} not recorded: {}", at->message.message_id, recorded.error().message);
  }
  Response r;
  r.status = 302;
  r.content_type = "";
  r.headers.emplace_back("Location", target);
  NoStore(r);
  return r;
}

Result<Response> View(Services& s, CallContext& call) {
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Located> at, Locate(s, call, tracking::LinkKind::kView));
  if (!at || at->message.html.empty()) return NotFound();
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = at->message.html;
  NoStore(r);
  // The message's own images may load; nothing may run, and forms go nowhere.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
                         "form-action 'none'; frame-ancestors 'none'");
  return r;
}

}  // namespace

void AddTrackingRoutes(Router& router, Services& s) {
  for (const char* method : {"GET", "HEAD"}) {
    router.Add(method, "/o/{token}", Access::kPublic, [&s](CallContext& call) { return Open(s, call); });
    router.Add(method, "/c/{token}", Access::kPublic, [&s](CallContext& call) { return Click(s, call); });
  }
  router.Add("GET", "/v/{token}", Access::kPublic, [&s](CallContext& call) { return View(s, call); });
}

}  // namespace rapport::http
