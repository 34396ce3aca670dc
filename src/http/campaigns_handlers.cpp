// Routes: /api/v1/campaigns[/{id}[/schedule|pause|resume|cancel|report|test]] and the public web
// archive /archive/{workspace}/{campaign}. The campaign service (campaign/) does the work; a bad
// document is refused with the JSON path of the fault in "field" (docs/campaigns.md).
#include "campaign/campaign_service.h"
#include "compose/composer.h"
#include "core/json_parse.h"
#include "http/handlers.h"
#include "template/html_escape.h"

namespace rapport::http {

namespace {

using campaign::CampaignService;

Result<CampaignService*> Service(Services& s) {
  if (!s.campaigns) return Error::Unavailable("campaigns are not running in this process");
  return s.campaigns;
}

Response Html(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'");
  r.body = std::move(body);
  return r;
}

Response NotFoundPage() {
  return Html(404, "<!doctype html><title>Not found</title><p>No such archived campaign.</p>");
}

// The archive page: the campaign's first variant rendered for a contact with no personal data
// (no email, no attributes, no tracking, no unsubscribe link), so nothing of a person shows.
Result<Response> Archive(Services& s, CallContext& call) {
  auto ws = s.store.workspaces().FindByName(call.Param("workspace"));
  if (!ws.ok()) return ws.error();
  if (!*ws) return NotFoundPage();
  auto c = s.store.campaigns().GetByName((*ws)->id, call.Param("campaign"));
  if (!c.ok() && c.error().code == ErrorCode::kNotFound) return NotFoundPage();
  if (!c.ok()) return c.error();
  if (!c->archive || c->state == CampaignState::kDraft) return NotFoundPage();
  json::value doc;
  try {
    doc = ParseJsonExact(c->definition);
  } catch (const std::exception&) {
    return NotFoundPage();
  }
  RAPPORT_ASSIGN_OR_RETURN(campaign::CampaignDef def, campaign::ParseCampaign(doc));
  const campaign::Variant& v = def.variants.front();
  auto tpl = s.store.templates().GetByName((*ws)->id, v.template_name);
  if (!tpl.ok() && tpl.error().code == ErrorCode::kNotFound) return NotFoundPage();
  if (!tpl.ok()) return tpl.error();
  MessageTemplate t = std::move(tpl).value();
  if (v.subject) t.subject = *v.subject;
  if (v.preheader) t.preheader = *v.preheader;
  RAPPORT_ASSIGN_OR_RETURN(auto compiled, compose::CompiledTemplate::Compile(t));
  Contact nobody;
  nobody.workspace_id = (*ws)->id;
  compose::ComposeRequest req;
  req.contact = &nobody;
  req.message_class = MessageClass::kTransactional;
  req.data = def.data;
  req.data["campaign"] = json::object{{"id", c->id}, {"name", c->name}, {"archive", true}};
  req.default_timezone = (*ws)->default_timezone;
  req.now = s.clock.Now();
  RAPPORT_ASSIGN_OR_RETURN(compose::ComposedMessage m, compose::RenderParts(*compiled, req));
  std::string title = liquid::EscapeHtml(m.subject);
  std::string body = m.html.empty() ? "<pre>" + liquid::EscapeHtml(m.text) + "</pre>" : m.html;
  return Html(200, "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
                       "</title></head><body><header><h1 style=\"font:600 1.2em sans-serif\">" + title +
                       "</h1></header><main>" + body + "</main></body></html>");
}

Result<std::vector<std::string>> Addresses(const json::object& o) {
  const json::value* to = o.if_contains("to");
  if (!to || !to->is_array()) return Error::Invalid("to", "a list of 1 to 20 addresses");
  std::vector<std::string> out;
  for (const json::value& v : to->get_array()) {
    if (!v.is_string()) return Error::Invalid("to", "addresses are strings");
    out.emplace_back(v.get_string());
  }
  return out;
}

}  // namespace

void AddCampaignRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/campaigns", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Campaign> list, s.store.campaigns().List(call.key.workspace_id));
    json::array items;
    for (const Campaign& c : list) items.emplace_back(CampaignService::ToJson(c));
    return JsonResponse(200, json::object{{"data", std::move(items)}});
  });
  router.Add("POST", "/api/v1/campaigns", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(CampaignService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(Campaign c, svc->Create(call.key.workspace_id, body));
    Audit(s, call, "campaign.create", "campaign", std::to_string(c.id), json::object{{"name", c.name}});
    return JsonResponse(201, CampaignService::ToJson(c));
  });
  router.Add("GET", "/api/v1/campaigns/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "campaign"));
    RAPPORT_ASSIGN_OR_RETURN(Campaign c, s.store.campaigns().Get(call.key.workspace_id, id));
    json::object o = CampaignService::ToJson(c);
    RAPPORT_ASSIGN_OR_RETURN(auto occs, s.store.campaigns().ListOccurrences(call.key.workspace_id, id));
    json::array list;
    for (const CampaignOccurrence& x : occs)
      list.emplace_back(json::object{{"id", x.id},
                                     {"seq", x.seq},
                                     {"state", OccurrenceStateName(x.state)},
                                     {"scheduled_at", FormatTimestamp(x.scheduled_at)},
                                     {"recipients", x.recipients}});
    o["occurrences"] = std::move(list);
    return JsonResponse(200, o);
  });
  router.Add("PUT", "/api/v1/campaigns/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(CampaignService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "campaign"));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(Campaign c, svc->Update(call.key.workspace_id, id, body));
    Audit(s, call, "campaign.update", "campaign", std::to_string(c.id));
    return JsonResponse(200, CampaignService::ToJson(c));
  });
  using Op = Result<Campaign> (CampaignService::*)(WorkspaceId, CampaignId);
  for (auto [verb, op] :
       std::initializer_list<std::pair<std::string_view, Op>>{{"schedule", &CampaignService::Schedule},
                                                              {"pause", &CampaignService::Pause},
                                                              {"resume", &CampaignService::Resume},
                                                              {"cancel", &CampaignService::Cancel}}) {
    std::string action = "campaign." + std::string(verb);
    router.Add("POST", "/api/v1/campaigns/{id}/" + std::string(verb), Access::kWrite,
               [&s, op, action](CallContext& call) -> Result<Response> {
                 RAPPORT_ASSIGN_OR_RETURN(CampaignService * svc, Service(s));
                 RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "campaign"));
                 RAPPORT_ASSIGN_OR_RETURN(Campaign c, (svc->*op)(call.key.workspace_id, id));
                 Audit(s, call, action, "campaign", std::to_string(c.id));
                 return JsonResponse(200, CampaignService::ToJson(c));
               });
  }
  router.Add("GET", "/api/v1/campaigns/{id}/report", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(CampaignService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "campaign"));
               RAPPORT_ASSIGN_OR_RETURN(json::object report, svc->Report(call.key.workspace_id, id));
               return JsonResponse(200, report);
             });
  router.Add("POST", "/api/v1/campaigns/{id}/test", Access::kSend,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(CampaignService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "campaign"));
               RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
               if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
               const json::object& o = body.get_object();
               RAPPORT_ASSIGN_OR_RETURN(std::vector<std::string> to, Addresses(o));
               int variant = 0;
               if (const json::value* v = o.if_contains("variant")) {
                 if (v->is_int64()) {
                   variant = static_cast<int>(v->get_int64());
                 } else if (v->is_string()) {
                   RAPPORT_ASSIGN_OR_RETURN(Campaign c, s.store.campaigns().Get(call.key.workspace_id, id));
                   RAPPORT_ASSIGN_OR_RETURN(campaign::CampaignDef def,
                                            campaign::ParseCampaign(ParseJsonExact(c.definition)));
                   variant = -1;
                   for (size_t i = 0; i < def.variants.size(); ++i)
                     if (def.variants[i].name == v->get_string()) variant = static_cast<int>(i);
                 } else {
                   return Error::Invalid("variant", "a variant's name or index");
                 }
               }
               RAPPORT_ASSIGN_OR_RETURN(auto items, svc->SendProof(call.key.workspace_id, id, to, variant));
               json::array out;
               for (size_t i = 0; i < items.size() && i < to.size(); ++i) {
                 json::object r{{"to", to[i]}, {"queued", items[i].queued}};
                 if (items[i].queued) r["message_id"] = items[i].message_id;
                 if (!items[i].reason.empty()) r["reason"] = items[i].reason;
                 out.emplace_back(std::move(r));
               }
               Audit(s, call, "campaign.test", "campaign", std::to_string(id),
                     json::object{{"recipients", static_cast<int64_t>(to.size())}});
               return JsonResponse(202, json::object{{"items", std::move(out)}});
             });
  router.Add("GET", "/archive/{workspace}/{campaign}", Access::kPublic,
             [&s](CallContext& call) { return Archive(s, call); });
}

}  // namespace rapport::http
