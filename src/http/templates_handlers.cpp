// Routes: /api/v1/templates[/{id}] and /api/v1/templates/{id}/preview.
// Every part is compiled on save (compose::CompiledTemplate), so a template in the store always
// parses; errors name the part and say line:column.
#include "compose/composer.h"
#include "http/handlers.h"

namespace rapport::http {

namespace {

json::object EncodeTemplate(const MessageTemplate& t) {
  json::object snippets;
  for (const auto& [k, v] : t.snippets) snippets[k] = v;
  return json::object{{"id", t.id},
                      {"name", t.name},
                      {"subject", t.subject},
                      {"preheader", t.preheader},
                      {"html", t.html},
                      {"text", t.text},
                      {"snippets", std::move(snippets)},
                      {"tracking", t.tracking},
                      {"created_at", FormatTimestamp(t.created_at)},
                      {"updated_at", FormatTimestamp(t.updated_at)}};
}

Result<std::string> StringField(const json::object& o, std::string_view key, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return Error::Invalid(std::string(key), std::string(key) + " is required");
    return std::string();
  }
  if (!it->value().is_string())
    return Error::Invalid(std::string(key), std::string(key) + " must be a string");
  return std::string(it->value().get_string());
}

Result<MessageTemplate> DecodeTemplate(const json::value& body) {
  if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
  const json::object& o = body.get_object();
  for (const auto& [k, v] : o) {
    if (k != "name" && k != "subject" && k != "preheader" && k != "html" && k != "text" && k != "snippets" &&
        k != "tracking")
      return Error::Invalid(std::string(k), "unknown field '" + std::string(k) + "'");
  }
  MessageTemplate t;
  RAPPORT_ASSIGN_OR_RETURN(t.name, StringField(o, "name", true));
  RAPPORT_ASSIGN_OR_RETURN(t.subject, StringField(o, "subject", true));
  RAPPORT_ASSIGN_OR_RETURN(t.preheader, StringField(o, "preheader", false));
  RAPPORT_ASSIGN_OR_RETURN(t.html, StringField(o, "html", false));
  RAPPORT_ASSIGN_OR_RETURN(t.text, StringField(o, "text", false));
  if (auto it = o.find("snippets"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object())
      return Error::Invalid("snippets", "snippets is an object of name -> Liquid source");
    for (const auto& [k, v] : it->value().get_object()) {
      if (!v.is_string()) return Error::Invalid("snippets." + std::string(k), "a snippet is a string");
      t.snippets.emplace(std::string(k), std::string(v.get_string()));
    }
  }
  if (auto it = o.find("tracking"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_bool()) return Error::Invalid("tracking", "tracking is true or false");
    t.tracking = it->value().get_bool();
  }
  RAPPORT_TRY(compose::CompiledTemplate::Compile(t));
  return t;
}

}  // namespace

void AddTemplateRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/templates", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<MessageTemplate> list,
                             s.store.templates().List(call.key.workspace_id));
    json::array data;
    for (const MessageTemplate& t : list) data.push_back(EncodeTemplate(t));
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("POST", "/api/v1/templates", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(MessageTemplate t, DecodeTemplate(body));
    t.workspace_id = call.key.workspace_id;
    RAPPORT_ASSIGN_OR_RETURN(MessageTemplate created, s.store.templates().Create(t));
    Audit(s, call, "template.create", "template", std::to_string(created.id),
          json::object{{"name", created.name}});
    return JsonResponse(201, EncodeTemplate(created));
  });

  router.Add("GET", "/api/v1/templates/{id}", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(TemplateId id, PathId(call, "id", "template"));
    RAPPORT_ASSIGN_OR_RETURN(MessageTemplate t, s.store.templates().Get(call.key.workspace_id, id));
    return JsonResponse(200, EncodeTemplate(t));
  });

  router.Add("PUT", "/api/v1/templates/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(TemplateId id, PathId(call, "id", "template"));
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(MessageTemplate t, DecodeTemplate(body));
    t.workspace_id = call.key.workspace_id;
    t.id = id;
    RAPPORT_ASSIGN_OR_RETURN(MessageTemplate updated, s.store.templates().Update(t));
    Audit(s, call, "template.update", "template", std::to_string(id), json::object{{"name", updated.name}});
    return JsonResponse(200, EncodeTemplate(updated));
  });

  router.Add("DELETE", "/api/v1/templates/{id}", Access::kWrite, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(TemplateId id, PathId(call, "id", "template"));
    RAPPORT_TRY(s.store.templates().Delete(call.key.workspace_id, id));
    Audit(s, call, "template.delete", "template", std::to_string(id));
    return NoContent();
  });

  // Renders against a stored contact ({"contact_id": N}) or inline data ({"contact": {...}}),
  // with optional "data" and "event" objects; "strict": true reports undefined variables.
  router.Add(
      "POST", "/api/v1/templates/{id}/preview", Access::kRead, [&s](CallContext& call) -> Result<Response> {
        RAPPORT_ASSIGN_OR_RETURN(TemplateId id, PathId(call, "id", "template"));
        RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
        if (!body.is_object()) return Error::Invalid("", "the body must be a JSON object");
        const json::object& o = body.get_object();
        RAPPORT_ASSIGN_OR_RETURN(MessageTemplate stored, s.store.templates().Get(call.key.workspace_id, id));
        RAPPORT_ASSIGN_OR_RETURN(auto compiled, compose::CompiledTemplate::Compile(stored));

        Contact contact;
        if (auto it = o.find("contact_id"); it != o.end()) {
          if (!it->value().is_int64()) return Error::Invalid("contact_id", "contact_id must be an integer");
          RAPPORT_ASSIGN_OR_RETURN(contact,
                                   s.store.contacts().Get(call.key.workspace_id, it->value().get_int64()));
        } else if (auto it = o.find("contact"); it != o.end()) {
          if (!it->value().is_object()) return Error::Invalid("contact", "contact must be an object");
          const json::object& c = it->value().get_object();
          for (const auto& [k, v] : c) {
            if (k == "email" && v.is_string())
              contact.email = std::string(v.get_string());
            else if (k == "timezone" && v.is_string())
              contact.timezone = std::string(v.get_string());
            else if (k == "locale" && v.is_string())
              contact.locale = std::string(v.get_string());
            else if (k == "attributes" && v.is_object())
              contact.attributes = v.get_object();
            else
              contact.attributes[k] = v;
          }
          if (!contact.timezone.empty() && !IsValidTimezone(contact.timezone))
            return Error::Invalid("contact.timezone", "timezone must be an IANA zone name");
        } else {
          return Error::Invalid("contact_id", "preview needs a contact_id or inline contact data");
        }

        compose::ComposeRequest req;
        req.contact = &contact;
        if (auto it = o.find("data"); it != o.end() && it->value().is_object())
          req.data = it->value().get_object();
        if (auto it = o.find("event"); it != o.end() && it->value().is_object())
          req.event = it->value().get_object();
        if (auto it = o.find("strict"); it != o.end() && it->value().is_bool())
          req.strict = it->value().get_bool();
        req.now = s.clock.Now();
        std::string base = s.options.public_url.empty() ? "https://localhost" : s.options.public_url;
        req.unsubscribe_url = base + "/u/preview";
        req.preferences_url = base + "/p/preview";
        req.view_in_browser_url = base + "/v/preview";
        RAPPORT_ASSIGN_OR_RETURN(compose::ComposedMessage m, compose::RenderParts(*compiled, req));
        return JsonResponse(200, json::object{{"subject", m.subject}, {"html", m.html}, {"text", m.text}});
      });
}

}  // namespace rapport::http
