#include "store/sql/sql_segment_store.h"

#include <fmt/format.h>

namespace rapport::sql {

namespace {

constexpr std::string_view kColumns =
    "id, workspace_id, name, description, expression, created_at, updated_at";

SavedSegment ReadSegment(const Row& r) {
  SavedSegment s;
  s.id = r.Int(0);
  s.workspace_id = r.Int(1);
  s.name = std::string(r.Text(2));
  s.description = std::string(r.Text(3));
  s.expression = std::string(r.Text(4));
  s.created_at = FromMicros(r.Int(5));
  s.updated_at = FromMicros(r.Int(6));
  return s;
}

Status Validate(const SavedSegment& s) {
  RAPPORT_TRY(ValidateSlug(s.name, "name", "a segment name"));
  if (s.expression.empty()) return Error::Invalid("expression", "a segment needs an expression");
  if (s.expression.size() > kMaxSegmentExpressionBytes)
    return Error::Invalid("expression",
                          fmt::format("an expression is at most {} bytes", kMaxSegmentExpressionBytes));
  if (s.description.size() > kMaxSegmentDescriptionBytes)
    return Error::Invalid("description",
                          fmt::format("a description is at most {} bytes", kMaxSegmentDescriptionBytes));
  return {};
}

Result<std::optional<SavedSegment>> FindBy(Session& s, WorkspaceId ws, std::string_view column, Param value) {
  std::optional<SavedSegment> out;
  std::string sql = "SELECT " + std::string(kColumns) + " FROM segments WHERE workspace_id = $1 AND " +
                    std::string(column) + " = $2";
  RAPPORT_TRY(s.Exec(sql, {ws, value}, [&](const Row& r) { out = ReadSegment(r); }));
  return out;
}

}  // namespace

Result<SavedSegment> SqlSegmentStore::Create(const SavedSegment& seg) {
  RAPPORT_TRY(Validate(seg));
  SavedSegment out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(auto existing, FindBy(s, seg.workspace_id, "name", std::string_view(seg.name)));
    if (existing) return Error::Conflict("a segment with this name exists", "name");
    RAPPORT_TRY(
        s.Exec("INSERT INTO segments (workspace_id, name, description, expression, created_at, updated_at) "
               "VALUES ($1, $2, $3, $4, $5, $5) RETURNING " +
                   std::string(kColumns),
               {seg.workspace_id, std::string_view(seg.name), std::string_view(seg.description),
                std::string_view(seg.expression), ToMicros(now)},
               [&](const Row& r) { out = ReadSegment(r); }));
    return {};
  }));
  return out;
}

Result<SavedSegment> SqlSegmentStore::Get(WorkspaceId ws, SegmentId id) {
  std::optional<SavedSegment> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindBy(s, ws, "id", id));
    return {};
  }));
  if (!out) return Error::NotFound("no segment " + std::to_string(id));
  return std::move(*out);
}

Result<SavedSegment> SqlSegmentStore::GetByName(WorkspaceId ws, std::string_view name) {
  std::optional<SavedSegment> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindBy(s, ws, "name", name));
    return {};
  }));
  if (!out) return Error::NotFound("no segment named '" + std::string(name) + "'");
  return std::move(*out);
}

Result<std::vector<SavedSegment>> SqlSegmentStore::List(WorkspaceId ws) {
  std::vector<SavedSegment> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kColumns) + " FROM segments WHERE workspace_id = $1 ORDER BY name",
               {ws}, [&](const Row& r) { out.push_back(ReadSegment(r)); }));
    return {};
  }));
  return out;
}

Result<std::vector<SavedSegment>> SqlSegmentStore::ListAll() {
  std::vector<SavedSegment> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kColumns) + " FROM segments ORDER BY id", {},
                       [&](const Row& r) { out.push_back(ReadSegment(r)); }));
    return {};
  }));
  return out;
}

Result<SavedSegment> SqlSegmentStore::Update(const SavedSegment& seg) {
  RAPPORT_TRY(Validate(seg));
  std::optional<SavedSegment> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(auto clash, FindBy(s, seg.workspace_id, "name", std::string_view(seg.name)));
    if (clash && clash->id != seg.id) return Error::Conflict("a segment with this name exists", "name");
    RAPPORT_TRY(
        s.Exec("UPDATE segments SET name = $3, description = $4, expression = $5, updated_at = $6 "
               "WHERE workspace_id = $1 AND id = $2 RETURNING " +
                   std::string(kColumns),
               {seg.workspace_id, seg.id, std::string_view(seg.name), std::string_view(seg.description),
                std::string_view(seg.expression), ToMicros(now)},
               [&](const Row& r) { out = ReadSegment(r); }));
    return {};
  }));
  if (!out) return Error::NotFound("no segment " + std::to_string(seg.id));
  return std::move(*out);
}

Status SqlSegmentStore::Delete(WorkspaceId ws, SegmentId id) {
  int64_t changed = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(changed,
                             s.Exec("DELETE FROM segments WHERE workspace_id = $1 AND id = $2", {ws, id}));
    return {};
  }));
  if (changed == 0) return Error::NotFound("no segment " + std::to_string(id));
  return {};
}

}  // namespace rapport::sql
