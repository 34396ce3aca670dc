// Routes: /api/v1/keys (admin): create (the key is shown once), list, revoke.
#include "http/api_key.h"
#include "http/handlers.h"

namespace rapport::http {

namespace {

json::object EncodeKey(const ApiKey& k) {
  return json::object{
      {"id", k.id},
      {"name", k.name},
      {"prefix", k.prefix},
      {"scopes", FormatScopes(k.scopes)},
      {"created_at", FormatTimestamp(k.created_at)},
      {"last_used_at", k.last_used_at ? json::value(FormatTimestamp(*k.last_used_at)) : nullptr},
      {"revoked_at", k.revoked_at ? json::value(FormatTimestamp(*k.revoked_at)) : nullptr}};
}

// {"name": "...", "scopes": "read,write" | ["read","write"]}
Result<ApiKey> DecodeKeyInput(const json::value& body) {
  if (!body.is_object()) return Error::Invalid("", "a key must be a JSON object");
  ApiKey key;
  bool has_scopes = false;
  for (const auto& [k, v] : body.get_object()) {
    if (k == "name") {
      if (!v.is_string() || v.get_string().empty() || v.get_string().size() > 100)
        return Error::Invalid("name", "name is a string of 1 to 100 characters");
      key.name = v.get_string();
    } else if (k == "scopes") {
      std::string list;
      if (v.is_string()) {
        list = v.get_string();
      } else if (v.is_array()) {
        for (const auto& item : v.get_array()) {
          if (!item.is_string()) return Error::Invalid("scopes", "scopes are strings");
          if (!list.empty()) list += ",";
          list += item.get_string();
        }
      } else {
        return Error::Invalid("scopes", "scopes is a list such as [\"read\",\"write\"]");
      }
      auto scopes = ParseScopes(list);
      if (!scopes.ok()) return Error::Invalid("scopes", scopes.error().message);
      key.scopes = *scopes;
      has_scopes = true;
    } else {
      std::string name(k.data(), std::min<size_t>(k.size(), 64));
      return Error::Invalid(name, "unknown field '" + name + "'");
    }
  }
  if (key.name.empty()) return Error::Invalid("name", "a key needs a name");
  if (!has_scopes) return Error::Invalid("scopes", "a key needs scopes (admin, write, read, send)");
  return key;
}

}  // namespace

void AddKeyRoutes(Router& router, Services& s) {
  router.Add("POST", "/api/v1/keys", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(json::value body, ParseBody(call.request));
    RAPPORT_ASSIGN_OR_RETURN(ApiKey key, DecodeKeyInput(body));
    std::string secret = GenerateApiKey();
    key.workspace_id = call.key.workspace_id;
    key.prefix = secret.substr(0, kApiKeyShownPrefix);
    key.hash = HashApiKey(secret);
    key.created_at = s.clock.Now();
    RAPPORT_ASSIGN_OR_RETURN(ApiKey created, s.store.keys().Create(key));
    Audit(s, call, "key.create", "key", std::to_string(created.id),
          json::object{{"name", created.name}, {"scopes", FormatScopes(created.scopes)}});
    json::object out = EncodeKey(created);
    out["key"] = secret;  // shown once; only its hash is stored
    return JsonResponse(201, out);
  });

  router.Add("GET", "/api/v1/keys", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<ApiKey> keys, s.store.keys().List(call.key.workspace_id));
    json::array data;
    for (const ApiKey& k : keys) data.push_back(EncodeKey(k));
    return JsonResponse(200, json::object{{"data", std::move(data)}});
  });

  router.Add("DELETE", "/api/v1/keys/{id}", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(KeyId id, PathId(call, "id", "key"));
    RAPPORT_TRY(s.store.keys().Revoke(call.key.workspace_id, id, s.clock.Now()));
    s.auth.Invalidate(id);
    Audit(s, call, "key.revoke", "key", std::to_string(id));
    return NoContent();
  });
}

}  // namespace rapport::http
