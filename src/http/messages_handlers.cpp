// Routes: POST /api/v1/messages (send a template to a contact now), GET/DELETE
// /api/v1/messages/{id}, GET /api/v1/contacts/{id}/messages.
//
// POST decodes the body and calls the send service (send/send_service.h), which renders the
// template for the contact (lax mode: a missing attribute renders empty), builds the MIME message
// and queues it in the outbox; the delivery worker sends it. With an Idempotency-Key header, a
// retried request returns the first response (with Idempotent-Replayed: true) and queues
// nothing; the same key with another template or contact is a 409. A contact the mail rule
// refuses (core/mail_rule.h: unsubscribed, bounced, complained, erased, or not subscribed to the
// marketing topic) gets a 422 "suppressed" and nothing is queued.
#include <fmt/format.h>

#include "http/error_response.h"
#include "http/handlers.h"
#include "http/send_request_codec.h"

namespace rapport::http {

namespace {

// The POST response: facts fixed when the message was accepted, so a replay returns the same body.
// A marketing message the frequency governor deferred or skipped (docs/governor.md) says so: state
// "suppressed" when skipped, and "governor": {decision, reason, send_at} (first response only).
json::object EncodeAccepted(const OutboxMessage& m) {
  json::object o{{"id", m.id},
                 {"state", m.state == MessageState::kSuppressed ? "suppressed" : "queued"},
                 {"class", MessageClassName(m.message_class)},
                 {"template", m.template_name},
                 {"contact_id", m.contact_id},
                 {"to", m.rcpt_to},
                 {"subject", m.subject},
                 {"created_at", FormatTimestamp(m.created_at)}};
  if (m.governance && (m.governance->verdict != GovernorVerdict::kAllow || !m.governance->reason.empty())) {
    json::object g{{"decision", GovernorVerdictName(m.governance->verdict)},
                   {"reason", m.governance->reason}};
    if (m.governance->verdict != GovernorVerdict::kSkip) g["send_at"] = FormatTimestamp(m.next_attempt_at);
    o["governor"] = std::move(g);
  }
  return o;
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

// The Idempotency-Key header, checked for shape (the send service checks its length too).
Result<std::optional<std::string>> IdempotencyKey(const Request& req) {
  const std::string* key = req.Header("idempotency-key");
  if (!key) return std::optional<std::string>();
  if (key->empty() || key->size() > send::kMaxIdempotencyKeyBytes)
    return Error::Invalid("Idempotency-Key", "Idempotency-Key is 1 to 255 characters");
  for (unsigned char c : *key)
    if (c < 0x21 || c > 0x7e)
      return Error::Invalid("Idempotency-Key", "Idempotency-Key is printable ASCII without spaces");
  return std::optional<std::string>(*key);
}

}  // namespace

void AddMessageRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/messages", Access::kSend, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKey(call.request));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    std::optional<std::string> from_email;
    RAPPORT_ASSIGN_OR_RETURN(send::SendRequest req, DecodeSendRequest(body, &from_email));
    if (from_email) {  // "from" named a sender by its address: it must be one of the workspace's
      auto sender = s.store.senders().GetByEmail(call.key.workspace_id, *from_email);
      if (!sender.ok()) {
        if (sender.error().code != ErrorCode::kNotFound) return sender.error();
        return Error::Invalid("from", "no sender of this workspace sends from " + *from_email +
                                          " (POST /api/v1/senders creates one)");
      }
      req.sender_id = sender->id;
    }
    req.idempotency_key = std::move(key);
    RAPPORT_ASSIGN_OR_RETURN(send::SendOutcome sent, s.sender.Send(call.key.workspace_id, std::move(req)));
    Response r = JsonResponse(202, EncodeAccepted(sent.message));
    if (sent.replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
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
