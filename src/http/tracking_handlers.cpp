// The public tracking routes (no API key; the token's HMAC is the credential, and each client
// address is rate-limited like /u/):
//   GET|HEAD /o/{token}  the open pixel: a 43-byte transparent GIF, Cache-Control: no-store
//   GET|HEAD /c/{token}  a tracked link: 302 to the link's target as stored with the message
//   GET      /v/{token}  the message in a browser (its HTML as sent, without the pixel)
// Each open and click is an "email_opened" / "email_clicked" event on the contact's timeline:
// written to the hit log (http/hit_log.h, loaded into events by http/hit_loader.h) before the
// response is sent, or, without a hit log, appended (committed, in a group commit shared with the
// hits that arrive meanwhile: http/hit_batcher.h) before it is sent; with the user agent, the client address
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
#include "tracking/hit_record.h"
#include "tracking/link_rewriter.h"
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

struct Located {
  tracking::LinkClaims claims;
  std::shared_ptr<const TrackedMessage> message;
};

// The verified token's message, from the cache of sent messages' link tables or else from the
// store (then cached if it may be); nullopt (-> 404) when the token or the message is not valid.
Result<std::optional<Located>> Locate(Services& s, const CallContext& call, tracking::LinkKind kind) {
  auto claims = s.links.Verify(call.params.at(0).second, kind);
  if (!claims.ok() || claims->message_key == 0) return std::optional<Located>();
  Timestamp now = s.clock.Now();
  if (auto cached = s.link_cache.Find(claims->workspace_id, claims->message_key, now))
    return std::optional<Located>(Located{*claims, std::move(cached)});
  auto message = s.store.tracking().FindByKey(claims->workspace_id, claims->message_key);
  if (!message.ok()) {
    if (message.error().code == ErrorCode::kNotFound) return std::optional<Located>();
    return message.error();
  }
  s.link_cache.Put(claims->message_key, *message, now);
  return std::optional<Located>(
      Located{*claims, std::make_shared<const TrackedMessage>(std::move(message).value())});
}

const std::string& Agent(const Request& req) {
  static const std::string kNone;
  const std::string* ua = req.Header("user-agent");
  return ua ? *ua : kNone;
}

// The hit as the hit log keeps it: verified, located, classified
// (tracking/machine_classifier.h), its address truncated. `index` is the link's index for a click
// (checked by the caller), 0 for an open. Its event is tracking::HitRecordEvent.
tracking::HitRecord HitRecordOf(Services& s, const CallContext& call, const Located& at,
                                tracking::HitKind kind, int32_t index) {
  const TrackedMessage& m = *at.message;
  const std::string& ua = Agent(call.request);
  std::string ip = ClientAddress(s.options.trust_forwarded_for, call.request);
  Timestamp now = s.clock.Now();
  tracking::Hit hit;
  hit.kind = kind;
  hit.method = call.request.method;
  hit.user_agent = ua;
  hit.ip = ip;
  if (m.state == MessageState::kSent) hit.since_sent = now - m.updated_at;
  hit.links_in_message = static_cast<int>(m.links.size());
  if (kind == tracking::HitKind::kClick)
    hit.distinct_links_in_burst = s.bursts.Record(at.claims.message_key, index, now);
  tracking::MachineVerdict verdict = tracking::ClassifyHit(hit, *s.options.tracking.ranges);

  tracking::HitRecord r;
  r.kind = kind;
  r.workspace_id = m.workspace_id;
  r.contact_id = m.contact_id;
  r.message_id = m.message_id;
  r.at = now;
  r.template_name = m.template_name;
  r.source = m.source;
  r.message_class = MessageClassName(m.message_class);
  if (kind == tracking::HitKind::kClick) {
    r.link_index = index;
    r.url = m.links[static_cast<size_t>(index)];
  }
  r.user_agent = std::string_view(ua).substr(0, 512);
  r.ip = tracking::TruncateIp(ip, s.options.tracking.ipv4_prefix, s.options.tracking.ipv6_prefix);
  r.method = call.request.method;
  r.machine = verdict.machine;
  if (verdict.machine) r.machine_reason = std::move(verdict.reason);
  return r;
}

// The link's target, or null when the index is not one of the message's links or the stored
// target is not a safe http(s) URL (-> 404).
const std::string* ClickTarget(const Located& at) {
  int32_t index = at.claims.link_index;
  if (index < 0 || static_cast<size_t>(index) >= at.message->links.size()) return nullptr;
  const std::string& target = at.message->links[static_cast<size_t>(index)];
  // The rewriter's own rule: a link it tracked redirects ("Https://..." included).
  return tracking::IsTrackableUrl(target) ? &target : nullptr;
}

Response Pixel(bool head) {
  Response r;
  r.content_type = "image/gif";
  if (!head) r.body.assign(reinterpret_cast<const char*>(kGif), sizeof(kGif));
  NoStore(r);
  return r;
}

Response Redirect(const std::string& target) {
  Response r;
  r.status = 302;
  r.content_type = "";
  r.headers.emplace_back("Location", target);
  NoStore(r);
  return r;
}

// What a hit answers once its event's transaction returned. `recorded` not OK: kNotFound (the
// contact was erased or merged away meanwhile) -> 404; another error: the pixel fails (503/500),
// while the person still reaches the link (the lost click is logged and counted).
Result<Response> AfterRecord(Services& s, tracking::HitKind kind, bool head, const TrackedMessage& m,
                             const std::string* target, const Status& recorded) {
  if (!recorded.ok()) {
    if (recorded.error().code == ErrorCode::kNotFound) return NotFound();
    if (kind == tracking::HitKind::kOpen) return recorded.error();
    s.metrics.AddStoreError();
    spdlog::error("click of message {} not recorded: {}", m.message_id, recorded.error().message);
  }
  return kind == tracking::HitKind::kOpen ? Pixel(head) : Redirect(*target);
}

Status Recorded(const Result<AppendResult>& appended) {
  if (!appended.ok()) return appended.error();
  if (appended->outcome == AppendOutcome::kFailed) return appended->error;
  return {};
}

// Records a located hit on the handler thread. With the hit log, the hit is durable once written
// there (its loader makes the event); without, once its event's group commit returned. kNotFound
// (the contact was erased or merged away since the message was cached) drops the cache's entry.
Status RecordHit(Services& s, const Located& at, const tracking::HitRecord& record) {
  Status recorded = s.hit_log
                        ? s.hit_log->Append(record)
                        : Recorded(s.hits.Submit(record.workspace_id, tracking::HitRecordEvent(record)));
  if (!recorded.ok() && recorded.error().code == ErrorCode::kNotFound)
    s.link_cache.Drop(at.claims.workspace_id, at.claims.message_key);
  return recorded;
}

// The handler-thread path: may read the store, and waits for the hit's group commit
// (http/hit_batcher.h).
Result<Response> Hit(Services& s, CallContext& call, tracking::HitKind kind) {
  tracking::LinkKind link_kind =
      kind == tracking::HitKind::kOpen ? tracking::LinkKind::kOpen : tracking::LinkKind::kClick;
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Located> at, Locate(s, call, link_kind));
  if (!at) return NotFound();
  const std::string* target = nullptr;
  if (kind == tracking::HitKind::kClick && !(target = ClickTarget(*at))) return NotFound();
  int32_t index = kind == tracking::HitKind::kClick ? at->claims.link_index : 0;
  Status recorded = RecordHit(s, *at, HitRecordOf(s, call, *at, kind, index));
  return AfterRecord(s, kind, call.request.method == "HEAD", *at->message, target, recorded);
}

// The I/O-thread path (router.h's FastHandler): taken only when the message is in the cache (no
// store read), it queues the hit to the group commit and answers from the commit's callback, so
// the answer still goes out only after the hit's event is committed. A token that does not verify
// is answered at once (404). When the store refuses the event as the contact's (erased or merged
// since the message was cached), the entry is dropped and the hit goes to the handler-thread
// path, which looks the message up again.
bool FastHit(Services& s, CallContext& call, const FastDone& done, tracking::HitKind kind) {
  tracking::LinkKind link_kind =
      kind == tracking::HitKind::kOpen ? tracking::LinkKind::kOpen : tracking::LinkKind::kClick;
  auto claims = s.links.Verify(call.params.at(0).second, link_kind);
  if (!claims.ok() || claims->message_key == 0) {
    done(Result<Response>(NotFound()));
    return true;
  }
  auto cached = s.link_cache.Find(claims->workspace_id, claims->message_key, s.clock.Now());
  if (!cached) return false;  // the handler thread reads the store
  Located at{*claims, std::move(cached)};
  const std::string* target = nullptr;
  if (kind == tracking::HitKind::kClick && !(target = ClickTarget(at))) {
    done(Result<Response>(NotFound()));
    return true;
  }
  int32_t index = kind == tracking::HitKind::kClick ? at.claims.link_index : 0;
  tracking::HitRecord record = HitRecordOf(s, call, at, kind, index);
  bool head = call.request.method == "HEAD";
  if (s.hit_log) {
    // Written to the hit log (one write(2), shared by the hits of a batch on the server's fast
    // lane): durable across kill -9, answered once written.
    s.hit_log->AppendThen(record,
                          [&s, kind, head, message = std::move(at.message), target, done](Status written) {
                            done(AfterRecord(s, kind, head, *message, target, written));
                          });
    return true;
  }
  WorkspaceId ws = record.workspace_id;
  s.hits.SubmitAsync(ws, tracking::HitRecordEvent(record),
                     [&s, kind, head, at = std::move(at), target, done](Result<AppendResult> appended) {
                       Status recorded = Recorded(appended);
                       if (!recorded.ok() && recorded.error().code == ErrorCode::kNotFound) {
                         s.link_cache.Drop(at.claims.workspace_id, at.claims.message_key);
                         return done(std::nullopt);
                       }
                       done(AfterRecord(s, kind, head, *at.message, target, recorded));
                     });
  return true;
}

Result<Response> Open(Services& s, CallContext& call) { return Hit(s, call, tracking::HitKind::kOpen); }
Result<Response> Click(Services& s, CallContext& call) { return Hit(s, call, tracking::HitKind::kClick); }

// The web view: the message's HTML, and the hit recorded as "email_viewed" (through the hit log,
// as opens and clicks are) before the answer. A contact erased since: 404.
Result<Response> View(Services& s, CallContext& call) {
  RAPPORT_ASSIGN_OR_RETURN(std::optional<Located> at, Locate(s, call, tracking::LinkKind::kView));
  if (!at) return NotFound();
  auto html = s.store.tracking().ViewHtml(at->claims.workspace_id, at->claims.message_key);
  if (!html.ok()) {
    if (html.error().code == ErrorCode::kNotFound) return NotFound();
    return html.error();
  }
  if (html->empty()) return NotFound();
  Status recorded = RecordHit(s, *at, HitRecordOf(s, call, *at, tracking::HitKind::kView, 0));
  if (!recorded.ok()) {
    if (recorded.error().code == ErrorCode::kNotFound) return NotFound();
    s.metrics.AddStoreError();  // the page is still shown; the lost view is logged and counted
    spdlog::error("web view of message {} not recorded: {}", at->message->message_id,
                  recorded.error().message);
  }
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html).value();
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
    router.Add(
        method, "/o/{token}", Access::kPublic, [&s](CallContext& call) { return Open(s, call); },
        [&s](CallContext& call, FastDone done) { return FastHit(s, call, done, tracking::HitKind::kOpen); });
    router.Add(
        method, "/c/{token}", Access::kPublic, [&s](CallContext& call) { return Click(s, call); },
        [&s](CallContext& call, FastDone done) { return FastHit(s, call, done, tracking::HitKind::kClick); });
  }
  router.Add("GET", "/v/{token}", Access::kPublic, [&s](CallContext& call) { return View(s, call); });
}

}  // namespace rapport::http
