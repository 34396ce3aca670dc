// Routes: /api/v1/segments[/{id}[/count|/members]], /api/v1/segments/preview,
// /api/v1/contacts/{id}/segments[/{segment}/explain]. The segment service (segment/) does the
// work; an expression is checked on save and errors say line and column (docs/segments.md).
#include "http/handlers.h"
#include "segment/segment_service.h"

namespace rapport::http {

namespace {

json::object EncodeSegment(const SavedSegment& s) {
  return json::object{{"id", s.id},
                      {"name", s.name},
                      {"description", s.description},
                      {"expression", s.expression},
                      {"created_at", FormatTimestamp(s.created_at)},
                      {"updated_at", FormatTimestamp(s.updated_at)}};
}

json::array EncodeContacts(const std::vector<segment::ContactBrief>& list) {
  json::array out;
  for (const auto& c : list) out.push_back(json::object{{"id", c.id}, {"email", c.email}});
  return out;
}

Result<SavedSegment> DecodeSegment(const json::value& body) {
  if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
  const json::object& o = body.get_object();
  SavedSegment s;
  for (const auto& [k, v] : o) {
    if (k != "name" && k != "description" && k != "expression")
      return Error::Invalid(std::string(k), "unknown field '" + std::string(k) + "'");
    if (!v.is_string() && !(k == "description" && v.is_null()))
      return Error::Invalid(std::string(k), std::string(k) + " must be a string");
  }
  auto text = [&](std::string_view k) -> std::string {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
  };
  s.name = text("name");
  s.description = text("description");
  s.expression = text("expression");
  if (s.name.empty()) return Error::Invalid("name", "name is required");
  if (s.expression.empty()) return Error::Invalid("expression", "expression is required");
  return s;
}

Result<segment::SegmentService*> Service(Services& s) {
  if (!s.segments) return Error::Unavailable("segments are not running in this process");
  return s.segments;
}

}  // namespace

void AddSegmentRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/segments", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> list, s.store.segments().List(call.key.workspace_id));
    json::array data;
    for (const SavedSegment& x : list) data.push_back(EncodeSegment(x));
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("POST", "/api/v1/segments", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(SavedSegment in, DecodeSegment(body));
    RAPPORT_ASSIGN_OR_RETURN(SavedSegment created, svc->Create(call.key.workspace_id, in));
    Audit(s, call, "segment.create", "segment", std::to_string(created.id),
          json::object{{"name", created.name}});
    return JsonResponse(201, EncodeSegment(created));
  });

  router.Add("POST", "/api/v1/segments/preview", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
    const json::value* e = body.get_object().if_contains("expression");
    if (!e || !e->is_string()) return Error::Invalid("expression", "expression is required (a string)");
    RAPPORT_ASSIGN_OR_RETURN(segment::PreviewResult p,
                             svc->Preview(call.key.workspace_id, std::string(e->get_string())));
    return JsonResponse(200, json::object{{"count", p.count},
                                          {"sample", EncodeContacts(p.sample)},
                                          {"evaluation_us", p.micros},
                                          {"canonical", p.canonical}});
  });

  router.Add("GET", "/api/v1/segments/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(SegmentId id, PathId(call, "id", "segment"));
    RAPPORT_ASSIGN_OR_RETURN(SavedSegment x, s.store.segments().Get(call.key.workspace_id, id));
    return JsonResponse(200, EncodeSegment(x));
  });

  router.Add("PUT", "/api/v1/segments/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(SegmentId id, PathId(call, "id", "segment"));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(SavedSegment in, DecodeSegment(body));
    in.id = id;
    RAPPORT_ASSIGN_OR_RETURN(SavedSegment updated, svc->Update(call.key.workspace_id, in));
    Audit(s, call, "segment.update", "segment", std::to_string(id), json::object{{"name", updated.name}});
    return JsonResponse(200, EncodeSegment(updated));
  });

  router.Add("DELETE", "/api/v1/segments/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(SegmentId id, PathId(call, "id", "segment"));
    RAPPORT_TRY(svc->Delete(call.key.workspace_id, id));
    Audit(s, call, "segment.delete", "segment", std::to_string(id));
    return NoContent();
  });

  router.Add("GET", "/api/v1/segments/{id}/count", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(SegmentId id, PathId(call, "id", "segment"));
               RAPPORT_ASSIGN_OR_RETURN(int64_t count, svc->Count(call.key.workspace_id, id));
               return JsonResponse(200, json::object{{"id", id}, {"count", count}});
             });

  router.Add(
      "GET", "/api/v1/segments/{id}/members", Access::kRead, [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
        RAPPORT_ASSIGN_OR_RETURN(SegmentId id, PathId(call, "id", "segment"));
        RAPPORT_ASSIGN_OR_RETURN(int limit, LimitParam(call.request));
        std::string cursor;
        if (const std::string* c = call.request.Query("cursor")) cursor = *c;
        RAPPORT_ASSIGN_OR_RETURN(segment::MembersPage page,
                                 svc->Members(call.key.workspace_id, id, limit, cursor));
        json::value next = page.next_cursor.empty() ? json::value(nullptr) : json::value(page.next_cursor);
        return JsonResponse(200, json::object{{"data", EncodeContacts(page.items)}, {"next_cursor", next}});
      });

  router.Add("GET", "/api/v1/contacts/{id}/segments", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
               RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> list,
                                        svc->ContactSegments(call.key.workspace_id, id));
               json::array data;
               for (const SavedSegment& x : list)
                 data.push_back(json::object{{"id", x.id}, {"name", x.name}});
               return JsonResponse(200, json::object{{"data", std::move(data)}});
             });

  router.Add("GET", "/api/v1/contacts/{id}/segments/{segment}/explain", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(segment::SegmentService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(ContactId id, PathId(call, "id", "contact"));
               RAPPORT_ASSIGN_OR_RETURN(SegmentId seg, PathId(call, "segment", "segment"));
               RAPPORT_ASSIGN_OR_RETURN(segment::Explanation x, svc->Explain(call.key.workspace_id, id, seg));
               json::array steps;
               for (const auto& st : x.steps) {
                 json::object o{{"predicate", st.predicate}, {"result", st.result}, {"depth", st.depth}};
                 if (!st.op.empty())
                   o["op"] = st.op;
                 else
                   o["value"] = st.value;
                 steps.push_back(std::move(o));
               }
               return JsonResponse(200, json::object{{"contact_id", id},
                                                     {"segment_id", seg},
                                                     {"member", x.member},
                                                     {"predicates", std::move(steps)}});
             });
}

}  // namespace rapport::http
