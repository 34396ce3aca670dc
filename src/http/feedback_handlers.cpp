// Routes: POST /api/v1/feedback (a bounce or a complaint reported by a relay or a provider's
// webhook, or a raw DSN/ARF message it forwards), GET /api/v1/deliverability (per mailbox provider
// and day: counts, rates and complaint warnings). The intake (tracking/feedback_intake.h) finds
// the message, classifies and records; the health summary is tracking/deliverability_health.h.
// The JSON shape is in docs/feedback.md and docs/api.md.
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "core/report_period.h"
#include "http/error_response.h"
#include "http/handlers.h"
#include "tracking/deliverability_health.h"
#include "tracking/feedback_intake.h"

namespace rapport::http {

namespace {

constexpr size_t kMaxText = 1000;

Result<std::string> OptString(const json::object& o, std::string_view key, size_t max = kMaxText) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return Error::Invalid(std::string(key), std::string(key) + " must be a string");
  if (v->as_string().size() > max)
    return Error::Invalid(std::string(key), fmt::format("{} is at most {} bytes", key, max));
  return std::string(v->as_string());
}

Result<tracking::FeedbackNotice> DecodeNotice(const json::object& o) {
  static constexpr std::string_view kKnown[] = {"type",      "message_id", "envelope_sender",   "status",
                                                "smtp_code", "diagnostic", "feedback_type",     "reporter",
                                                "permanent", "raw",        "envelope_recipient"};
  for (const auto& [key, value] : o) {
    bool known = false;
    for (std::string_view k : kKnown) known |= key == k;
    if (!known) return Error::Invalid(std::string(key), "unknown field '" + std::string(key) + "'");
  }
  tracking::FeedbackNotice n;
  RAPPORT_ASSIGN_OR_RETURN(n.type, OptString(o, "type", 32));
  if (const json::value* id = o.if_contains("message_id"); id && !id->is_null()) {
    if (!id->is_int64() || id->as_int64() <= 0)
      return Error::Invalid("message_id", "message_id is a positive integer");
    n.message_id = id->as_int64();
  }
  RAPPORT_ASSIGN_OR_RETURN(n.envelope_sender, OptString(o, "envelope_sender", 320));
  RAPPORT_ASSIGN_OR_RETURN(n.status, OptString(o, "status", 32));
  if (const json::value* c = o.if_contains("smtp_code"); c && !c->is_null()) {
    if (!c->is_int64()) return Error::Invalid("smtp_code", "smtp_code is an integer");
    n.smtp_code = static_cast<int>(std::clamp<int64_t>(c->as_int64(), -1, 100000));
  }
  RAPPORT_ASSIGN_OR_RETURN(n.diagnostic, OptString(o, "diagnostic"));
  RAPPORT_ASSIGN_OR_RETURN(n.feedback_type, OptString(o, "feedback_type", 32));
  RAPPORT_ASSIGN_OR_RETURN(n.reporter, OptString(o, "reporter", 255));
  if (const json::value* p = o.if_contains("permanent"); p && !p->is_null()) {
    if (!p->is_bool()) return Error::Invalid("permanent", "permanent is true or false");
    n.permanent = p->as_bool();
  }
  return n;
}

json::object EncodeResult(const tracking::IngestResult& r) {
  if (r.ignored) return json::object{{"recorded", false}, {"ignored", r.ignored_reason}};
  json::object o{{"recorded", !r.outcome.duplicate},
                 {"duplicate", r.outcome.duplicate},
                 {"message_id", r.message_id},
                 {"contact_id", r.outcome.contact_id},
                 {"kind", FeedbackKindName(r.kind)},
                 {"provider", r.provider},
                 {"contact_status", ContactStatusName(r.outcome.status_after)}};
  if (r.kind != FeedbackKind::kComplaint) o["failure"] = DeliveryFailureName(r.failure);
  if (r.kind == FeedbackKind::kSoftBounce) o["soft_bounces_in_window"] = r.outcome.soft_in_window;
  return o;
}

}  // namespace

void AddFeedbackRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/feedback", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    if (!body.is_object()) return Error::BadRequest("the body must be a JSON object");
    const json::object& o = body.as_object();
    Result<tracking::IngestResult> result = Error::Internal("unset");
    if (const json::value* raw = o.if_contains("raw"); raw && !raw->is_null()) {
      if (!raw->is_string()) return Error::Invalid("raw", "raw is the report message as a string");
      if (o.size() > 2 || (o.size() == 2 && !o.contains("envelope_recipient")))
        return Error::Invalid("raw", "raw goes alone (with envelope_recipient at most)");
      RAPPORT_ASSIGN_OR_RETURN(std::string rcpt, OptString(o, "envelope_recipient", 320));
      result = s.feedback.IngestMessage(raw->as_string(), rcpt, call.key.workspace_id);
    } else {
      RAPPORT_ASSIGN_OR_RETURN(tracking::FeedbackNotice notice, DecodeNotice(o));
      result = s.feedback.IngestNotice(call.key.workspace_id, notice);
    }
    if (!result.ok()) return result.error();
    if (!result->ignored && !result->outcome.duplicate)
      s.metrics.AddFeedback(FeedbackKindName(result->kind), result->provider);
    return JsonResponse(result->ignored || result->outcome.duplicate ? 200 : 201, EncodeResult(*result));
  });

  router.Add("GET", "/api/v1/deliverability", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    int64_t today = ToMicros(s.clock.Now()) / 86'400'000'000;
    std::optional<int64_t> from_day, to_day;
    if (const std::string* v = call.request.Query("to")) {
      RAPPORT_ASSIGN_OR_RETURN(to_day, ParseDay(*v, "to"));
    }
    if (const std::string* v = call.request.Query("from")) {
      RAPPORT_ASSIGN_OR_RETURN(from_day, ParseDay(*v, "from"));
    }
    RAPPORT_ASSIGN_OR_RETURN(DayPeriod period,
                             ReportPeriod(today, from_day, to_day, /*default_days=*/7, /*max_days=*/367));
    const int64_t from = period.from, to = period.to;
    RAPPORT_ASSIGN_OR_RETURN(auto rows, s.store.feedback().Deliverability(call.key.workspace_id, from, to));
    json::array days;
    json::array warnings;
    for (const tracking::ProviderHealth& h : tracking::SummarizeDeliverability(rows)) {
      const DeliverabilityCounts& c = h.counts;
      json::object d{{"day", FormatDay(h.day)},
                     {"provider", h.provider},
                     {"delivered", c.delivered},
                     {"rejected", c.rejected},
                     {"hard_bounces", c.hard_bounces},
                     {"soft_bounces", c.soft_bounces},
                     {"blocks", c.blocks},
                     {"complaints", c.complaints},
                     {"bounce_rate", h.bounce_rate},
                     {"block_rate", h.block_rate},
                     {"complaint_rate", h.complaint_rate}};
      d["warning"] = h.warning.empty() ? json::value(nullptr) : json::value(h.warning);
      if (!h.warning.empty())
        warnings.push_back(
            json::object{{"day", FormatDay(h.day)}, {"provider", h.provider}, {"warning", h.warning}});
      days.push_back(std::move(d));
    }
    return JsonResponse(200, json::object{{"from", FormatDay(from)},
                                          {"to", FormatDay(to)},
                                          {"providers", std::move(days)},
                                          {"warnings", std::move(warnings)}});
  });
}

}  // namespace rapport::http
