#include <boost/json.hpp>

#include "store/sql/codec.h"
#include "store/sql/sql_store.h"

namespace rapport::sql {

namespace {

constexpr std::string_view kColumns =
    "id, workspace_id, name, subject, preheader, html, text, snippets, created_at, updated_at, tracking";

MessageTemplate ReadTemplate(const Row& r) {
  MessageTemplate t;
  t.id = r.Int(0);
  t.workspace_id = r.Int(1);
  t.name = std::string(r.Text(2));
  t.subject = std::string(r.Text(3));
  t.preheader = std::string(r.Text(4));
  t.html = std::string(r.Text(5));
  t.text = std::string(r.Text(6));
  for (const auto& [k, v] : ParseObject(r.Text(7)))
    if (v.is_string()) t.snippets.emplace(std::string(k), std::string(v.get_string()));
  t.created_at = FromMicros(r.Int(8));
  t.updated_at = FromMicros(r.Int(9));
  t.tracking = r.Int(10) != 0;
  return t;
}

std::string SnippetsJson(const MessageTemplate& t) {
  json::object o;
  for (const auto& [k, v] : t.snippets) o[k] = v;
  return SerializeObject(o);
}

Result<std::optional<MessageTemplate>> FindBy(Session& s, WorkspaceId ws, std::string_view column,
                                              Param value) {
  std::optional<MessageTemplate> out;
  std::string sql = "SELECT " + std::string(kColumns) + " FROM templates WHERE workspace_id = $1 AND " +
                    std::string(column) + " = $2";
  RAPPORT_TRY(s.Exec(sql, {ws, value}, [&](const Row& r) { out = ReadTemplate(r); }));
  return out;
}

}  // namespace

Result<MessageTemplate> SqlTemplateStore::Create(const MessageTemplate& tpl) {
  RAPPORT_TRY(ValidateSlug(tpl.name, "name", "a template name"));
  MessageTemplate out;
  Timestamp now = clock_.Now();
  std::string snippets = SnippetsJson(tpl);
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(auto existing, FindBy(s, tpl.workspace_id, "name", std::string_view(tpl.name)));
    if (existing) return Error::Conflict("a template with this name exists", "name");
    RAPPORT_TRY(s.Exec(
        "INSERT INTO templates (workspace_id, name, subject, preheader, html, text, snippets, "
        "created_at, updated_at, tracking) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING " +
            std::string(kColumns),
        {tpl.workspace_id, std::string_view(tpl.name), std::string_view(tpl.subject),
         std::string_view(tpl.preheader), std::string_view(tpl.html), std::string_view(tpl.text),
         std::string_view(snippets), ToMicros(now), int64_t{tpl.tracking ? 1 : 0}},
        [&](const Row& r) { out = ReadTemplate(r); }));
    return {};
  }));
  return out;
}

Result<MessageTemplate> SqlTemplateStore::Get(WorkspaceId ws, TemplateId id) {
  std::optional<MessageTemplate> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindBy(s, ws, "id", id));
    return {};
  }));
  if (!out) return Error::NotFound("no template " + std::to_string(id));
  return std::move(*out);
}

Result<MessageTemplate> SqlTemplateStore::GetByName(WorkspaceId ws, std::string_view name) {
  std::optional<MessageTemplate> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindBy(s, ws, "name", name));
    return {};
  }));
  if (!out) return Error::NotFound("no template named '" + std::string(name) + "'");
  return std::move(*out);
}

Result<std::vector<MessageTemplate>> SqlTemplateStore::List(WorkspaceId ws) {
  std::vector<MessageTemplate> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kColumns) + " FROM templates WHERE workspace_id = $1 ORDER BY name",
               {ws}, [&](const Row& r) { out.push_back(ReadTemplate(r)); }));
    return {};
  }));
  return out;
}

Result<MessageTemplate> SqlTemplateStore::Update(const MessageTemplate& tpl) {
  RAPPORT_TRY(ValidateSlug(tpl.name, "name", "a template name"));
  std::optional<MessageTemplate> out;
  Timestamp now = clock_.Now();
  std::string snippets = SnippetsJson(tpl);
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(auto clash, FindBy(s, tpl.workspace_id, "name", std::string_view(tpl.name)));
    if (clash && clash->id != tpl.id) return Error::Conflict("a template with this name exists", "name");
    RAPPORT_TRY(s.Exec(
        "UPDATE templates SET name = $3, subject = $4, preheader = $5, html = $6, text = $7, "
        "snippets = $8, updated_at = $9, tracking = $10 WHERE workspace_id = $1 AND id = $2 RETURNING " +
            std::string(kColumns),
        {tpl.workspace_id, tpl.id, std::string_view(tpl.name), std::string_view(tpl.subject),
         std::string_view(tpl.preheader), std::string_view(tpl.html), std::string_view(tpl.text),
         std::string_view(snippets), ToMicros(now), int64_t{tpl.tracking ? 1 : 0}},
        [&](const Row& r) { out = ReadTemplate(r); }));
    return {};
  }));
  if (!out) return Error::NotFound("no template " + std::to_string(tpl.id));
  return std::move(*out);
}

Status SqlTemplateStore::Delete(WorkspaceId ws, TemplateId id) {
  int64_t changed = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(changed,
                             s.Exec("DELETE FROM templates WHERE workspace_id = $1 AND id = $2", {ws, id}));
    return {};
  }));
  if (changed == 0) return Error::NotFound("no template " + std::to_string(id));
  return {};
}

}  // namespace rapport::sql
