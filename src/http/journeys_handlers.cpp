// Routes: /api/v1/journeys[/{id}[/activate|pause|resume|archive|enter|stats|simulate]],
// /api/v1/journeys/recipes[/{name}], /api/v1/contacts/{id}/journeys. The journey service
// (automation/) does the work; a bad document is refused with the JSON path of the fault in
// "field" (docs/journeys.md).
#include "automation/journey_service.h"
#include "automation/recipes.h"
#include "core/json_parse.h"
#include "http/handlers.h"

namespace rapport::http {

namespace {

using automation::JourneyService;

json::value Definition(const std::string& text) {
  boost::system::error_code ec;
  json::value v = ParseJsonExact(text, ec);
  return ec ? json::value(text) : v;
}

json::object EncodeJourney(const Journey& j) {
  return json::object{{"id", j.id},
                      {"name", j.name},
                      {"status", JourneyStatusName(j.status)},
                      {"version", j.version},
                      {"definition", Definition(j.definition)},
                      {"created_at", FormatTimestamp(j.created_at)},
                      {"updated_at", FormatTimestamp(j.updated_at)}};
}

json::object EncodeRun(const JourneyRun& r) {
  json::object o{{"id", r.id},
                 {"journey_id", r.journey_id},
                 {"version", r.version},
                 {"state", RunStateName(r.state)},
                 {"step", r.step},
                 {"entered_at", FormatTimestamp(r.entered_at)},
                 {"updated_at", FormatTimestamp(r.updated_at)}};
  if (!r.run_key.empty()) o["key"] = r.run_key;
  if (!r.reason.empty()) o["reason"] = r.reason;
  if (r.state == RunState::kConverted) o["revenue"] = static_cast<double>(r.revenue_cents) / 100.0;
  return o;
}

json::object EncodeStats(const JourneyStatsRow& r) {
  json::object o{{"version", r.version},
                 {"entered", r.entered},
                 {"completed", r.completed},
                 {"waiting", r.waiting},
                 {"exited", r.exited},
                 {"converted", r.converted},
                 {"revenue", static_cast<double>(r.revenue_cents) / 100.0}};
  if (!r.step.empty()) o["step"] = r.step;
  return o;
}

Result<JourneyService*> Service(Services& s) {
  if (!s.journeys) return Error::Unavailable("journeys are not running in this process");
  return s.journeys;
}

Result<Timestamp> TimeField(const json::object& o, std::string_view key, std::string_view field,
                            Timestamp dflt) {
  const json::value* v = o.if_contains(key);
  if (!v) return dflt;
  if (!v->is_string()) return Error::Invalid(std::string(field), "a time is an RFC 3339 string");
  auto t = ParseTimestamp(v->get_string());
  if (!t) return Error::Invalid(std::string(field), "a time is an RFC 3339 string");
  return *t;
}

Result<automation::SimulationRequest> DecodeSimulation(const json::value& body, Timestamp now) {
  if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
  const json::object& o = body.get_object();
  automation::SimulationRequest req;
  for (const auto& [k, v] : o)
    if (k != "contacts" && k != "events" && k != "version" && k != "horizon")
      return Error::Invalid(std::string(k), "unknown field '" + std::string(k) + "'");
  if (const json::value* c = o.if_contains("contacts")) {
    if (!c->is_array() || c->get_array().size() > 100)
      return Error::Invalid("contacts", "contacts is a list of at most 100 contact ids");
    for (size_t i = 0; i < c->get_array().size(); ++i) {
      const json::value& x = c->get_array()[i];
      if (!x.is_int64() || x.get_int64() <= 0)
        return Error::Invalid("contacts[" + std::to_string(i) + "]", "a contact id");
      req.contacts.push_back(x.get_int64());
    }
  }
  if (const json::value* e = o.if_contains("events")) {
    if (!e->is_array() || e->get_array().size() > 10000)
      return Error::Invalid("events", "events is a list of at most 10000 events");
    Timestamp at = now;
    for (size_t i = 0; i < e->get_array().size(); ++i) {
      std::string path = "events[" + std::to_string(i) + "]";
      const json::value& x = e->get_array()[i];
      if (!x.is_object()) return Error::Invalid(path, "an event is an object");
      const json::object& eo = x.get_object();
      automation::SimEvent se;
      const json::value* cid = eo.if_contains("contact_id");
      if (!cid || !cid->is_int64() || cid->get_int64() <= 0)
        return Error::Invalid(path + ".contact_id", "contact_id is required");
      se.contact_id = cid->get_int64();
      const json::value* name = eo.if_contains("name");
      if (!name || !name->is_string() || name->get_string().empty())
        return Error::Invalid(path + ".name", "name is required");
      se.name = std::string(name->get_string());
      if (const json::value* p = eo.if_contains("properties")) {
        if (!p->is_object()) return Error::Invalid(path + ".properties", "properties is an object");
        se.properties = p->get_object();
      }
      RAPPORT_ASSIGN_OR_RETURN(se.at, TimeField(eo, "at", path + ".at", at));
      at = se.at;
      req.events.push_back(std::move(se));
    }
  }
  if (req.contacts.empty() && req.events.empty())
    return Error::Invalid("contacts", "give contacts to replay or events to play");
  if (const json::value* v = o.if_contains("version")) {
    if (!v->is_int64() || v->get_int64() < 1) return Error::Invalid("version", "a version number");
    req.version = static_cast<int>(v->get_int64());
  }
  if (const json::value* h = o.if_contains("horizon")) {
    RAPPORT_ASSIGN_OR_RETURN(req.options.horizon, automation::ParseDuration(*h, "horizon"));
  }
  return req;
}

json::object EncodePath(const automation::SimPath& p) {
  json::array steps, messages, skipped;
  for (const auto& s : p.steps)
    steps.push_back(json::object{{"at", FormatTimestamp(s.at)}, {"step", s.step}});
  for (const auto& m : p.messages)
    messages.push_back(json::object{{"at", FormatTimestamp(m.at)},
                                    {"step", m.step},
                                    {"template", m.template_name},
                                    {"subject", m.subject}});
  for (const auto& s : p.skipped) skipped.push_back(json::value(s));
  json::object o{{"contact_id", p.contact_id},
                 {"runs", p.runs},
                 {"path", std::move(steps)},
                 {"messages", std::move(messages)},
                 {"skipped", std::move(skipped)}};
  if (!p.state.empty()) o["state"] = p.state;
  if (!p.reason.empty()) o["reason"] = p.reason;
  if (p.revenue != 0) o["revenue"] = p.revenue;
  return o;
}

using Action = Result<Journey> (JourneyService::*)(WorkspaceId, JourneyId);

}  // namespace

void AddJourneyRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/journeys/recipes", Access::kRead, [](CallContext&) -> Result<Response> {
    json::array data;
    for (const automation::Recipe& r : automation::Recipes()) {
      json::array templates;
      for (const auto& t : r.templates) templates.push_back(json::value(t.name));
      data.push_back(json::object{{"name", r.name},
                                  {"description", r.description},
                                  {"definition", r.document},
                                  {"templates", std::move(templates)}});
    }
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("POST", "/api/v1/journeys/recipes/{name}", Access::kWrite,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(JourneyService * svc, Service(s));
               json::object options;
               if (!call.request.body.empty()) {
                 RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
                 if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
                 options = body.get_object();
               }
               RAPPORT_ASSIGN_OR_RETURN(
                   automation::InstalledRecipe r,
                   automation::InstallRecipe(*svc, call.key.workspace_id, call.Param("name"), options));
               Audit(s, call, "journey.install", "journey", std::to_string(r.journey.id),
                     json::object{{"recipe", call.Param("name")}});
               json::object out = EncodeJourney(r.journey);
               json::array created;
               for (const auto& t : r.templates_created) created.push_back(json::value(t));
               out["templates_created"] = std::move(created);
               return JsonResponse(201, out);
             });

  router.Add("GET", "/api/v1/journeys", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Journey> list, s.store.journeys().List(call.key.workspace_id));
    json::array data;
    for (const Journey& j : list) data.push_back(EncodeJourney(j));
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("POST", "/api/v1/journeys", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(JourneyService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(Journey j, svc->Create(call.key.workspace_id, body));
    Audit(s, call, "journey.create", "journey", std::to_string(j.id), json::object{{"name", j.name}});
    return JsonResponse(201, EncodeJourney(j));
  });

  router.Add("GET", "/api/v1/journeys/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "journey"));
    RAPPORT_ASSIGN_OR_RETURN(Journey j, s.store.journeys().Get(call.key.workspace_id, id));
    return JsonResponse(200, EncodeJourney(j));
  });

  router.Add("PUT", "/api/v1/journeys/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(JourneyService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "journey"));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(Journey j, svc->Update(call.key.workspace_id, id, body));
    Audit(s, call, "journey.update", "journey", std::to_string(j.id), json::object{{"version", j.version}});
    return JsonResponse(200, EncodeJourney(j));
  });

  for (auto [name, action] :
       std::initializer_list<std::pair<const char*, Action>>{{"activate", &JourneyService::Activate},
                                                             {"pause", &JourneyService::Pause},
                                                             {"resume", &JourneyService::Resume},
                                                             {"archive", &JourneyService::Archive}}) {
    std::string verb = name;
    router.Add("POST", "/api/v1/journeys/{id}/" + verb, Access::kWrite,
               [&s, verb, action](CallContext& call) -> Result<Response> {
                 RAPPORT_ASSIGN_OR_RETURN(JourneyService * svc, Service(s));
                 RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "journey"));
                 RAPPORT_ASSIGN_OR_RETURN(Journey j, (svc->*action)(call.key.workspace_id, id));
                 Audit(s, call, "journey." + verb, "journey", std::to_string(j.id));
                 return JsonResponse(200, EncodeJourney(j));
               });
  }

  router.Add("POST", "/api/v1/journeys/{id}/enter", Access::kWrite,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(JourneyService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "journey"));
               RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
               if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
               const json::object& o = body.get_object();
               for (const auto& [k, v] : o)
                 if (k != "contact_id" && k != "properties")
                   return Error::Invalid(std::string(k), "unknown field '" + std::string(k) + "'");
               const json::value* c = o.if_contains("contact_id");
               if (!c || !c->is_int64() || c->get_int64() <= 0)
                 return Error::Invalid("contact_id", "contact_id is required");
               json::object props;
               if (const json::value* p = o.if_contains("properties")) {
                 if (!p->is_object()) return Error::Invalid("properties", "properties is an object");
                 props = p->get_object();
               }
               RAPPORT_ASSIGN_OR_RETURN(automation::EnterResult r,
                                        svc->Enter(call.key.workspace_id, id, c->get_int64(), props));
               json::object out{{"entered", r.entered}};
               if (r.entered) out["run_id"] = r.run_id;
               if (!r.reason.empty()) out["reason"] = r.reason;
               return JsonResponse(r.entered ? 201 : 200, out);
             });

  router.Add("GET", "/api/v1/journeys/{id}/stats", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "journey"));
               RAPPORT_ASSIGN_OR_RETURN(Journey j, s.store.journeys().Get(call.key.workspace_id, id));
               RAPPORT_ASSIGN_OR_RETURN(std::vector<JourneyStatsRow> rows,
                                        s.store.journeys().Stats(call.key.workspace_id, id));
               json::array versions, steps;
               for (const JourneyStatsRow& r : rows)
                 (r.step.empty() ? versions : steps).push_back(EncodeStats(r));
               return JsonResponse(200, json::object{{"journey_id", j.id},
                                                     {"name", j.name},
                                                     {"versions", std::move(versions)},
                                                     {"steps", std::move(steps)}});
             });

  router.Add(
      "POST", "/api/v1/journeys/{id}/simulate", Access::kRead, [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(JourneyService * svc, Service(s));
        RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "journey"));
        RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
        RAPPORT_ASSIGN_OR_RETURN(automation::SimulationRequest req, DecodeSimulation(body, s.clock.Now()));
        RAPPORT_ASSIGN_OR_RETURN(std::vector<automation::SimPath> paths,
                                 svc->Simulate(call.key.workspace_id, id, req));
        json::array data;
        for (const auto& p : paths) data.push_back(EncodePath(p));
        return JsonResponse(200, json::object{{"data", std::move(data)}});
      });

  router.Add("GET", "/api/v1/contacts/{id}/journeys", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "contact"));
               RAPPORT_TRY(s.store.contacts().Get(call.key.workspace_id, id));
               RAPPORT_ASSIGN_OR_RETURN(int limit, LimitParam(call.request));
               RAPPORT_ASSIGN_OR_RETURN(std::vector<JourneyRun> runs,
                                        s.store.journeys().ContactRuns(call.key.workspace_id, id, limit));
               json::array data;
               for (const JourneyRun& r : runs) data.push_back(EncodeRun(r));
               return JsonResponse(200, json::object{{"data", std::move(data)}});
             });
}

}  // namespace rapport::http
