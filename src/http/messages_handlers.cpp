// Routes: POST /api/v1/messages (send a template to a contact now), POST /api/v1/messages/batch
// (up to 500 sends in one call), GET/DELETE /api/v1/messages/{id}, GET
// /api/v1/contacts/{id}/messages.
//
// POST decodes the body and calls the send service (send/send_service.h), which renders the
// template for the contact (lax mode: a missing attribute renders empty), builds the MIME message
// and queues it in the outbox; the delivery worker sends it. With an Idempotency-Key header, a
// retried request returns the first response (with Idempotent-Replayed: true) and queues
// nothing; the same key with another template or contact is a 409. A contact the mail rule
// refuses (core/mail_rule.h: unsubscribed, bounced, complained, erased, or not subscribed to the
// marketing topic) gets a 422 "suppressed" and nothing is queued.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

// An idempotency key checked for shape (the send service checks its length too); `field` names it
// in errors: the Idempotency-Key header, or a batch item's "idempotency_key".
Result<std::optional<std::string>> CheckedIdempotencyKey(std::string_view key, const std::string& field) {
  if (key.empty() || key.size() > send::kMaxIdempotencyKeyBytes)
    return Error::Invalid(field, field + " is 1 to 255 characters");
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e) return Error::Invalid(field, field + " is printable ASCII without spaces");
  return std::optional<std::string>(std::string(key));
}

Result<std::optional<std::string>> IdempotencyKey(const Request& req) {
  const std::string* key = req.Header("idempotency-key");
  if (!key) return std::optional<std::string>();
  return CheckedIdempotencyKey(*key, "Idempotency-Key");
}

Result<std::optional<std::string>> ItemIdempotencyKey(const json::value& v) {
  if (!v.is_string()) return Error::Invalid("idempotency_key", "idempotency_key must be a string");
  return CheckedIdempotencyKey(v.get_string(), "idempotency_key");
}

// A "from" given as an address names one of the workspace's senders.
Status ResolveFrom(Services& s, WorkspaceId ws, const std::optional<std::string>& from_email,
                   send::SendRequest& req) {
  if (!from_email) return {};
  auto sender = s.store.senders().GetByEmail(ws, *from_email);
  if (!sender.ok()) {
    if (sender.error().code != ErrorCode::kNotFound) return sender.error();
    return Error::Invalid("from", "no sender of this workspace sends from " + *from_email +
                                      " (POST /api/v1/senders creates one)");
  }
  req.sender_id = sender->id;
  return {};
}

// One batch item: the body of POST /api/v1/messages plus its own "idempotency_key".
Result<send::SendRequest> DecodeBatchItem(Services& s, WorkspaceId ws, const json::value& item) {
  if (!item.is_object()) return Error::Invalid("", "each message is a JSON object");
  json::object body = item.get_object();
  std::optional<std::string> key;
  if (auto it = body.find("idempotency_key"); it != body.end()) {
    RAPPORT_ASSIGN_OR_RETURN(key, ItemIdempotencyKey(it->value()));
    body.erase(it);
  }
  std::optional<std::string> from_email;
  RAPPORT_ASSIGN_OR_RETURN(send::SendRequest req,
                           DecodeSendRequest(json::value(std::move(body)), &from_email));
  RAPPORT_TRY(ResolveFrom(s, ws, from_email, req));
  req.idempotency_key = std::move(key);
  return req;
}

// A batch item's answer: {"status": 202, "message": {...}, "replayed": bool} or
// {"status": 4xx, "error": {"code", "message", "field"}}.
json::object EncodeItem(const Result<send::SendOutcome>& r) {
  if (r.ok())
    return json::object{{"status", 202}, {"message", EncodeAccepted(r->message)}, {"replayed", r->replayed}};
  const Error& e = r.error();
  Error shown{e.code, PublicMessage(e), e.field};
  if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable) {
    spdlog::error("POST /api/v1/messages/batch item: {} ({})", e.message, ErrorCodeName(e.code));
    shown.field.clear();
  }
  json::object o = EncodeError(shown);
  o["status"] = HttpStatusFor(e.code);
  return o;
}

constexpr size_t kMaxBatch = 500;

}  // namespace

void AddMessageRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/messages", Access::kSend, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> key, IdempotencyKey(call.request));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    std::optional<std::string> from_email;
    RAPPORT_ASSIGN_OR_RETURN(send::SendRequest req, DecodeSendRequest(body, &from_email));
    RAPPORT_TRY(ResolveFrom(s, call.key.workspace_id, from_email, req));
    req.idempotency_key = std::move(key);
    RAPPORT_ASSIGN_OR_RETURN(send::SendOutcome sent, s.sender.Send(call.key.workspace_id, std::move(req)));
    Response r = JsonResponse(202, EncodeAccepted(sent.message));
    if (sent.replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
  });

  // {"messages": [<a POST /api/v1/messages body with an optional "idempotency_key">, ...]}: each
  // answered in order under "data", the good ones queued in one transaction; 200 even when some
  // items failed (each item has its own status and error).
  router.Add("POST", "/api/v1/messages/batch", Access::kSend, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    const json::object* obj = body.if_object();
    const json::value* list = obj ? obj->if_contains("messages") : nullptr;
    if (!list || !list->is_array())
      return Error::Invalid("messages",
                            "the body is {\"messages\": [...]}, each a POST /api/v1/messages body");
    for (const auto& [k, v] : *obj)
      if (k != "messages") return Error::Invalid(std::string(k), "unknown field '" + std::string(k) + "'");
    const json::array& items = list->get_array();
    if (items.empty() || items.size() > kMaxBatch)
      return Error::Invalid("messages", fmt::format("a batch has 1 to {} messages", kMaxBatch));
    std::vector<Result<send::SendOutcome>> answers(items.size(), Error::Internal("not sent"));
    std::vector<send::SendRequest> requests;
    std::vector<size_t> slot;
    requests.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      auto req = DecodeBatchItem(s, call.key.workspace_id, items[i]);
      if (!req.ok()) {
        answers[i] = req.error();
        continue;
      }
      requests.push_back(std::move(req).value());
      slot.push_back(i);
    }
    if (!requests.empty()) {
      RAPPORT_ASSIGN_OR_RETURN(std::vector<Result<send::SendOutcome>> sent,
                               s.sender.SendMany(call.key.workspace_id, std::move(requests)));
      for (size_t j = 0; j < sent.size(); ++j) answers[slot[j]] = std::move(sent[j]);
    }
    json::array data;
    data.reserve(answers.size());
    int64_t accepted = 0;
    for (const auto& a : answers) {
      if (a.ok()) ++accepted;
      data.push_back(EncodeItem(a));
    }
    return JsonResponse(200, json::object{{"data", std::move(data)},
                                          {"accepted", accepted},
                                          {"failed", static_cast<int64_t>(answers.size()) - accepted}});
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
