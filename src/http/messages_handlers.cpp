// Routes: POST /api/v1/messages (send a template to a contact now), GET/DELETE
// /api/v1/messages/{id}, GET /api/v1/contacts/{id}/messages.
//
// POST renders the template for the contact (lax mode: a missing attribute renders empty),
// builds the MIME message and queues it in the outbox in one step; the delivery worker sends it.
// With an Idempotency-Key header, a retried request returns the first response (with
// Idempotent-Replayed: true) and queues nothing; the same key with another template or contact
// is a 409. A contact that must not get this class of mail (unsubscribed, bounced, complained,
// erased; see SuppressionReason) gets a 422 "suppressed" and nothing is queued.
#include <fmt/format.h>

#include "compose/composer.h"
#include "core/send_request.h"
#include "http/error_response.h"
#include "http/handlers.h"
#include "mail/mime_writer.h"
#include "tracking/link_signer.h"

namespace rapport::http {

namespace {

constexpr size_t kMaxIdempotencyKeyBytes = 255;

// The POST response: facts fixed when the message was accepted, so a replay returns the same body.
json::object EncodeAccepted(const OutboxMessage& m) {
  return json::object{{"id", m.id},
                      {"state", "queued"},
                      {"class", MessageClassName(m.message_class)},
                      {"template", m.template_name},
                      {"contact_id", m.contact_id},
                      {"to", m.rcpt_to},
                      {"subject", m.subject},
                      {"created_at", FormatTimestamp(m.created_at)}};
}

json::object EncodeMessage(const OutboxMessage& m) {
  json::object o{{"id", m.id},
                 {"state", MessageStateName(m.state)},
                 {"class", MessageClassName(m.message_class)},
                 {"template", m.template_name},
                 {"contact_id", m.contact_id},
                 {"from", m.mail_from},
                 {"to", m.rcpt_to},
                 {"subject", m.subject},
                 {"size", m.size},
                 {"attempts", m.attempts},
                 {"last_reply", m.last_reply},
                 {"created_at", FormatTimestamp(m.created_at)},
                 {"updated_at", FormatTimestamp(m.updated_at)}};
  if (m.state == MessageState::kQueued || m.state == MessageState::kDeferred)
    o["next_attempt_at"] = FormatTimestamp(m.next_attempt_at);
  if (m.idempotency_key) o["idempotency_key"] = *m.idempotency_key;
  return o;
}

json::object EncodeAttempt(const DeliveryAttempt& a) {
  json::object o{{"attempt", a.attempt},
                 {"at", FormatTimestamp(a.at)},
                 {"outcome", MessageStateName(a.outcome)},
                 {"smtp_code", a.smtp_code},
                 {"reply", a.reply},
                 {"remote", a.remote}};
  o["enhanced_code"] = a.enhanced_code.empty() ? json::value(nullptr) : json::value(a.enhanced_code);
  return o;
}

Response SuppressedResponse(std::string_view reason, MessageClass c) {
  Response r;
  r.status = 422;
  r.body = json::serialize(json::object{
      {"error",
       json::object{{"code", "suppressed"},
                    {"message", fmt::format("{}: no {} mail is sent to it", reason, MessageClassName(c))},
                    {"field", "contact"}}}});
  return r;
}

Result<std::optional<std::string>> IdempotencyKey(const Request& req) {
  const std::string* key = req.Header("idempotency-key");
  if (!key) return std::optional<std::string>();
  if (key->empty() || key->size() > kMaxIdempotencyKeyBytes)
    return Error::Invalid("Idempotency-Key", "Idempotency-Key is 1 to 255 characters");
  for (unsigned char c : *key)
    if (c < 0x21 || c > 0x7e)
      return Error::Invalid("Idempotency-Key", "Idempotency-Key is printable ASCII without spaces");
  return std::optional<std::string>(*key);
}

Response Replay(const OutboxMessage& m) {
  Response r = JsonResponse(202, EncodeAccepted(m));
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

// The replayed message must be the one this request would have queued.
Result<Response> ReplayOrConflict(const OutboxMessage& m, const SendRequest& req, const MessageTemplate* tpl,
                                  const Contact* contact, bool contact_differs = false) {
  bool same = m.message_class == req.message_class && !contact_differs;
  if (req.contact_id) same = same && m.contact_id == *req.contact_id;
  if (req.contact.email) same = same && m.rcpt_to == *req.contact.email;
  if (contact) same = same && m.contact_id == contact->id;
  if (!req.template_name.empty()) same = same && m.template_name == req.template_name;
  if (tpl) same = same && m.template_name == tpl->name;
  if (!same)
    return Error::Conflict(
        "this Idempotency-Key was used for another message (id " + std::to_string(m.id) + ")",
        "Idempotency-Key");
  return Replay(m);
}

Result<Contact> ResolveContact(Services& s, WorkspaceId ws, const SendRequest& req) {
  if (req.contact_id) return s.store.contacts().Get(ws, *req.contact_id);
  if (req.contact.email) {
    auto found = s.store.contacts().GetByEmail(ws, *req.contact.email);
    if (found.ok() || found.error().code != ErrorCode::kNotFound) return found;
    RAPPORT_ASSIGN_OR_RETURN(UpsertResult up, s.store.contacts().Upsert(ws, req.contact));
    return std::move(up.contact);
  }
  auto found = s.store.contacts().GetByExternalId(ws, *req.contact.external_id);
  if (!found.ok() && found.error().code == ErrorCode::kNotFound)
    return Error{ErrorCode::kNotFound, "no contact with external_id '" + *req.contact.external_id + "'",
                 "contact.external_id"};
  return found;
}

Result<std::vector<mail::HeaderField>> CheckHeaders(const SendRequest& req) {
  std::vector<mail::HeaderField> out;
  for (const auto& [name, value] : req.headers) {
    std::string field = "headers." + name;
    Status st = mail::ValidateHeaderName(name);
    if (st.ok() && mail::IsReservedHeaderName(name))
      st = Error::Invalid(field, "'" + name + "' is set by rapport and cannot be given");
    if (st.ok()) st = mail::ValidateHeaderValue(field, value);
    if (!st.ok()) return Error::Invalid(field, st.error().message);
    out.push_back({name, value});
  }
  return out;
}

}  // namespace

void AddMessageRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/messages", Access::kSend, [&s](CallContext& call) -> Result<Response> {
    WorkspaceId ws = call.key.workspace_id;
    RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKey(call.request));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(SendRequest req, DecodeSendRequest(body));
    if (key) {
      RAPPORT_ASSIGN_OR_RETURN(std::optional<OutboxMessage> first,
                               s.store.outbox().FindByIdempotencyKey(ws, *key));
      if (first) {
        std::optional<Contact> named;  // the contact the request names, when by external_id
        if (!req.contact_id && !req.contact.email) {
          auto c = s.store.contacts().GetByExternalId(ws, *req.contact.external_id);
          if (c.ok())
            named = std::move(c).value();
          else if (c.error().code != ErrorCode::kNotFound)
            return c.error();
          else
            return ReplayOrConflict(*first, req, nullptr, nullptr, /*contact_differs=*/true);
        }
        return ReplayOrConflict(*first, req, nullptr, named ? &*named : nullptr);
      }
    }
    RAPPORT_ASSIGN_OR_RETURN(std::vector<mail::HeaderField> headers, CheckHeaders(req));
    if (req.message_class == MessageClass::kMarketing && !s.options.public_url.starts_with("https://"))
      return Error::Invalid(
          "class",
          "marketing mail carries a one-click unsubscribe link, which must be https:// (RFC 8058); "
          "set server.public_url to this server's https:// address (it is \"" +
              s.options.public_url + "\")");

    Result<MessageTemplate> tpl = req.template_id ? s.store.templates().Get(ws, *req.template_id)
                                                  : s.store.templates().GetByName(ws, req.template_name);
    if (!tpl.ok()) {
      Error e = tpl.error();
      if (e.code == ErrorCode::kNotFound) e.field = req.template_id ? "template_id" : "template";
      return e;
    }
    RAPPORT_ASSIGN_OR_RETURN(auto compiled, s.templates.Compiled(*tpl));
    RAPPORT_ASSIGN_OR_RETURN(Contact contact, ResolveContact(s, ws, req));
    if (auto reason = SuppressionReason(contact.status, req.message_class))
      return SuppressedResponse(*reason, req.message_class);

    compose::ComposeRequest cr;
    cr.contact = &contact;
    cr.message_class = req.message_class;
    cr.data = std::move(req.data);
    cr.now = s.clock.Now();
    cr.unsubscribe_url =
        tracking::LinkUrl(s.options.public_url, tracking::LinkKind::kUnsubscribe,
                          s.links.Sign({tracking::LinkKind::kUnsubscribe, ws, contact.id, 0}));
    if (req.message_class == MessageClass::kMarketing)
      cr.feedback_id = fmt::format("{}:{}:{}:rapport", tpl->name, MessageClassName(req.message_class), ws);
    if (req.reply_to) cr.reply_to = mail::Mailbox{req.reply_to_name, *req.reply_to};
    cr.headers = std::move(headers);
    RAPPORT_ASSIGN_OR_RETURN(compose::ComposedMessage composed,
                             compose::Compose(*compiled, s.options.sender, cr));

    OutboxMessage m;
    m.workspace_id = ws;
    m.contact_id = contact.id;
    m.message_class = req.message_class;
    m.state = MessageState::kQueued;
    m.template_name = tpl->name;
    m.mail_from = std::move(composed.mail_from);
    m.rcpt_to = std::move(composed.rcpt_to);
    m.subject = std::move(composed.subject);
    m.mime = std::move(composed.mime);
    m.idempotency_key = key;
    m.next_attempt_at = cr.now;
    RAPPORT_ASSIGN_OR_RETURN(EnqueueResult queued, s.store.outbox().Enqueue(m));
    // Another request with the same key won the race: answer as its replay.
    if (!queued.created) return ReplayOrConflict(queued.message, req, &*tpl, &contact);
    s.metrics.AddMessagesQueued(1);
    if (s.options.on_queued) s.options.on_queued(req.message_class);
    return JsonResponse(202, EncodeAccepted(queued.message));
  });

  router.Add("GET", "/api/v1/messages/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(MessageId id, PathId(call, "id", "message"));
    RAPPORT_ASSIGN_OR_RETURN(OutboxMessage m, s.store.outbox().Get(call.key.workspace_id, id));
    RAPPORT_ASSIGN_OR_RETURN(std::vector<DeliveryAttempt> attempts,
                             s.store.outbox().Attempts(call.key.workspace_id, id));
    json::object o = EncodeMessage(m);
    json::array list;
    for (const DeliveryAttempt& a : attempts) list.push_back(EncodeAttempt(a));
    o["delivery_attempts"] = std::move(list);
    return JsonResponse(200, o);
  });

  router.Add("DELETE", "/api/v1/messages/{id}", Access::kSend, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(MessageId id, PathId(call, "id", "message"));
    RAPPORT_TRY(s.store.outbox().Cancel(call.key.workspace_id, id));
    Audit(s, call, "message.cancel", "message", std::to_string(id));
    return NoContent();
  });

  router.Add(
      "GET", "/api/v1/contacts/{id}/messages", Access::kRead, [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
        RAPPORT_ASSIGN_OR_RETURN(int limit, LimitParam(call.request));
        OutboxQuery q;
        q.limit = limit;
        if (const std::string* c = call.request.Query("cursor")) q.cursor = *c;
        RAPPORT_TRY(s.store.contacts().Get(call.key.workspace_id, id));
        RAPPORT_ASSIGN_OR_RETURN(Page<OutboxMessage> page,
                                 s.store.outbox().ListForContact(call.key.workspace_id, id, q));
        json::array data;
        for (const OutboxMessage& m : page.items) data.push_back(EncodeMessage(m));
        json::object out{{"data", std::move(data)}};
        out["next_cursor"] = page.next_cursor.empty() ? json::value(nullptr) : json::value(page.next_cursor);
        return JsonResponse(200, out);
      });
}

}  // namespace rapport::http
