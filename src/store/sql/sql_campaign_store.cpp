#include "store/sql/sql_campaign_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace rapport::sql {

namespace {

constexpr std::string_view kCampaignColumns =
    "id, workspace_id, name, state, definition, archive, created_at, updated_at";
constexpr std::string_view kOccurrenceColumns =
    "id, workspace_id, campaign_id, seq, scheduled_at, state, send_variant, decide_at, decision, recipients, "
    "started_at, finished_at";
constexpr std::string_view kRecipientColumns =
    "occurrence_id, contact_id, arm, variant, due_at, status, message_id, reason";

Campaign ReadCampaign(const Row& r) {
  Campaign c;
  c.id = r.Int(0);
  c.workspace_id = r.Int(1);
  c.name = std::string(r.Text(2));
  c.state = ParseCampaignState(r.Text(3)).value_or(CampaignState::kDraft);
  c.definition = std::string(r.Text(4));
  c.archive = r.Int(5) != 0;
  c.created_at = FromMicros(r.Int(6));
  c.updated_at = FromMicros(r.Int(7));
  return c;
}

CampaignOccurrence ReadOccurrence(const Row& r) {
  CampaignOccurrence o;
  o.id = r.Int(0);
  o.workspace_id = r.Int(1);
  o.campaign_id = r.Int(2);
  o.seq = r.Int(3);
  o.scheduled_at = FromMicros(r.Int(4));
  o.state = ParseOccurrenceState(r.Text(5)).value_or(OccurrenceState::kSending);
  o.send_variant = static_cast<int>(r.Int(6));
  if (!r.IsNull(7)) o.decide_at = FromMicros(r.Int(7));
  o.decision = std::string(r.Text(8));
  o.recipients = r.Int(9);
  o.started_at = FromMicros(r.Int(10));
  if (!r.IsNull(11)) o.finished_at = FromMicros(r.Int(11));
  return o;
}

CampaignRecipient ReadRecipient(const Row& r) {
  CampaignRecipient x;
  x.occurrence_id = r.Int(0);
  x.contact_id = r.Int(1);
  x.arm = ParseRecipientArm(r.Text(2)).value_or(RecipientArm::kTest);
  x.variant = static_cast<int>(r.Int(3));
  x.due_at = FromMicros(r.Int(4));
  x.status = ParseRecipientStatus(r.Text(5)).value_or(RecipientStatus::kPending);
  x.message_id = r.Int(6);
  x.reason = std::string(r.Text(7));
  return x;
}

Status Validate(const Campaign& c) {
  RAPPORT_TRY(ValidateSlug(c.name, "name", "a campaign name"));
  if (c.definition.empty()) return Error::Invalid("definition", "a campaign needs its settings");
  if (c.definition.size() > kMaxCampaignDocumentBytes)
    return Error::Invalid(
        "definition", fmt::format("a campaign's settings are at most {} bytes", kMaxCampaignDocumentBytes));
  return {};
}

Result<std::optional<Campaign>> FindBy(Session& s, WorkspaceId ws, std::string_view column, Param value) {
  std::optional<Campaign> out;
  std::string sql = "SELECT " + std::string(kCampaignColumns) +
                    " FROM campaigns WHERE workspace_id = $1 AND " + std::string(column) + " = $2";
  RAPPORT_TRY(s.Exec(sql, {ws, value}, [&](const Row& r) { out = ReadCampaign(r); }));
  return out;
}

Result<std::optional<CampaignOccurrence>> FindOccurrence(Session& s, std::string_view where,
                                                         std::initializer_list<Param> params) {
  std::optional<CampaignOccurrence> out;
  RAPPORT_TRY(s.Exec(
      "SELECT " + std::string(kOccurrenceColumns) + " FROM campaign_occurrences WHERE " + std::string(where),
      params, [&](const Row& r) { out = ReadOccurrence(r); }));
  return out;
}

Param OptionalTime(const std::optional<Timestamp>& t) {
  if (!t) return nullptr;
  return ToMicros(*t);
}

Status CheckLimit(int limit) {
  if (limit < 1 || limit > 10000) return Error::Invalid("limit", "limit is 1..10000");
  return {};
}

}  // namespace

Result<Campaign> SqlCampaignStore::Create(const Campaign& c) {
  RAPPORT_TRY(Validate(c));
  Campaign out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(auto existing, FindBy(s, c.workspace_id, "name", std::string_view(c.name)));
    if (existing) return Error::Conflict("a campaign with this name exists", "name");
    RAPPORT_TRY(
        s.Exec("INSERT INTO campaigns (workspace_id, name, state, definition, archive, created_at, "
               "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING " +
                   std::string(kCampaignColumns),
               {c.workspace_id, std::string_view(c.name), CampaignStateName(c.state),
                std::string_view(c.definition), int64_t{c.archive ? 1 : 0}, ToMicros(now)},
               [&](const Row& r) { out = ReadCampaign(r); }));
    return {};
  }));
  return out;
}

Result<Campaign> SqlCampaignStore::Get(WorkspaceId ws, CampaignId id) {
  std::optional<Campaign> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindBy(s, ws, "id", id));
    return {};
  }));
  if (!out) return Error::NotFound("no campaign " + std::to_string(id));
  return std::move(*out);
}

Result<Campaign> SqlCampaignStore::GetByName(WorkspaceId ws, std::string_view name) {
  std::optional<Campaign> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindBy(s, ws, "name", name));
    return {};
  }));
  if (!out) return Error::NotFound("no campaign named '" + std::string(name) + "'");
  return std::move(*out);
}

Result<std::vector<Campaign>> SqlCampaignStore::List(WorkspaceId ws) {
  std::vector<Campaign> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kCampaignColumns) +
                           " FROM campaigns WHERE workspace_id = $1 ORDER BY id DESC",
                       {ws}, [&](const Row& r) { out.push_back(ReadCampaign(r)); }));
    return {};
  }));
  return out;
}

Result<std::vector<Campaign>> SqlCampaignStore::ListArchived(WorkspaceId ws) {
  std::vector<Campaign> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kCampaignColumns) +
                           " FROM campaigns WHERE workspace_id = $1 AND archive = 1 ORDER BY id DESC",
                       {ws}, [&](const Row& r) { out.push_back(ReadCampaign(r)); }));
    return {};
  }));
  return out;
}

Result<Campaign> SqlCampaignStore::Update(const Campaign& c) {
  RAPPORT_TRY(Validate(c));
  std::optional<Campaign> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_ASSIGN_OR_RETURN(auto clash, FindBy(s, c.workspace_id, "name", std::string_view(c.name)));
    if (clash && clash->id != c.id) return Error::Conflict("a campaign with this name exists", "name");
    RAPPORT_TRY(
        s.Exec("UPDATE campaigns SET name = $3, definition = $4, archive = $5, updated_at = $6 "
               "WHERE workspace_id = $1 AND id = $2 RETURNING " +
                   std::string(kCampaignColumns),
               {c.workspace_id, c.id, std::string_view(c.name), std::string_view(c.definition),
                int64_t{c.archive ? 1 : 0}, ToMicros(now)},
               [&](const Row& r) { out = ReadCampaign(r); }));
    return {};
  }));
  if (!out) return Error::NotFound("no campaign " + std::to_string(c.id));
  return std::move(*out);
}

Result<Campaign> SqlCampaignStore::SetState(WorkspaceId ws, CampaignId id, CampaignState state,
                                            const std::vector<CampaignState>& expect) {
  std::optional<Campaign> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_ASSIGN_OR_RETURN(auto current, FindBy(s, ws, "id", id));
    if (!current) return Error::NotFound("no campaign " + std::to_string(id));
    if (!expect.empty() && std::find(expect.begin(), expect.end(), current->state) == expect.end())
      return Error::Conflict(fmt::format("the campaign is {}", CampaignStateName(current->state)), "state");
    RAPPORT_TRY(s.Exec(
        "UPDATE campaigns SET state = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2 "
        "RETURNING " +
            std::string(kCampaignColumns),
        {ws, id, CampaignStateName(state), ToMicros(now)}, [&](const Row& r) { out = ReadCampaign(r); }));
    return {};
  }));
  if (!out) return Error::NotFound("no campaign " + std::to_string(id));
  return std::move(*out);
}

Result<CampaignOccurrence> SqlCampaignStore::Freeze(const CampaignOccurrence& o,
                                                    const std::vector<CampaignRecipient>& recipients) {
  std::optional<CampaignOccurrence> out;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_ASSIGN_OR_RETURN(out, FindOccurrence(s, "campaign_id = $1 AND seq = $2", {o.campaign_id, o.seq}));
    if (out) return {};  // frozen by an earlier try
    RAPPORT_TRY(
        s.Exec("INSERT INTO campaign_occurrences (workspace_id, campaign_id, seq, scheduled_at, state, "
               "send_variant, decide_at, decision, recipients, started_at, finished_at) VALUES ($1, $2, "
               "$3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING " +
                   std::string(kOccurrenceColumns),
               {o.workspace_id, o.campaign_id, o.seq, ToMicros(o.scheduled_at), OccurrenceStateName(o.state),
                int64_t{o.send_variant}, OptionalTime(o.decide_at), std::string_view(o.decision),
                static_cast<int64_t>(recipients.size()), ToMicros(o.started_at), OptionalTime(o.finished_at)},
               [&](const Row& r) { out = ReadOccurrence(r); }));
    if (!out) return Error::Internal("the occurrence was not inserted");
    const OccurrenceId id = out->id;
    for (size_t at = 0; at < recipients.size(); at += kInsertChunk) {
      size_t n = std::min(kInsertChunk, recipients.size() - at);
      std::string sql =
          "INSERT INTO campaign_recipients (occurrence_id, contact_id, workspace_id, arm, variant, due_at, "
          "status, message_id, reason) VALUES ";
      std::vector<Param> params;
      params.reserve(n * 7 + 2);
      params.push_back(id);
      params.push_back(o.workspace_id);
      for (size_t i = 0; i < n; ++i) {
        const CampaignRecipient& r = recipients[at + i];
        size_t base = params.size();
        sql += fmt::format("{}($1, ${}, $2, ${}, ${}, ${}, ${}, 0, ${})", i ? ", " : "", base + 1, base + 2,
                           base + 3, base + 4, base + 5, base + 6);
        params.push_back(r.contact_id);
        params.push_back(RecipientArmName(r.arm));
        params.push_back(int64_t{r.variant});
        params.push_back(ToMicros(r.due_at));
        params.push_back(RecipientStatusName(r.status));
        params.push_back(std::string_view(r.reason));
      }
      RAPPORT_TRY(s.Exec(sql, std::span<const Param>(params), nullptr));
    }
    return {};
  }));
  return std::move(*out);
}

Result<CampaignOccurrence> SqlCampaignStore::GetOccurrence(WorkspaceId ws, OccurrenceId id) {
  std::optional<CampaignOccurrence> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindOccurrence(s, "workspace_id = $1 AND id = $2", {ws, id}));
    return {};
  }));
  if (!out) return Error::NotFound("no occurrence " + std::to_string(id));
  return std::move(*out);
}

Result<std::vector<CampaignOccurrence>> SqlCampaignStore::ListOccurrences(WorkspaceId ws, CampaignId id) {
  std::vector<CampaignOccurrence> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kOccurrenceColumns) +
                   " FROM campaign_occurrences WHERE workspace_id = $1 AND campaign_id = $2 ORDER BY seq",
               {ws, id}, [&](const Row& r) { out.push_back(ReadOccurrence(r)); }));
    return {};
  }));
  return out;
}

Status SqlCampaignStore::UpdateOccurrence(const CampaignOccurrence& o) {
  int64_t changed = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(
        changed,
        s.Exec("UPDATE campaign_occurrences SET state = $3, send_variant = $4, decide_at = $5, "
               "decision = $6, finished_at = $7 WHERE workspace_id = $1 AND id = $2",
               {o.workspace_id, o.id, OccurrenceStateName(o.state), int64_t{o.send_variant},
                OptionalTime(o.decide_at), std::string_view(o.decision), OptionalTime(o.finished_at)}));
    return {};
  }));
  if (changed == 0) return Error::NotFound("no occurrence " + std::to_string(o.id));
  return {};
}

Result<std::vector<CampaignRecipient>> SqlCampaignStore::Due(OccurrenceId id, Timestamp now,
                                                             bool include_rest, int limit) {
  RAPPORT_TRY(CheckLimit(limit));
  std::vector<CampaignRecipient> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kRecipientColumns) +
                           " FROM campaign_recipients WHERE occurrence_id = $1 AND status = 'pending' AND "
                           "due_at <= $2 AND ($3 = 1 OR arm <> 'rest') ORDER BY due_at, contact_id LIMIT $4",
                       {id, ToMicros(now), int64_t{include_rest ? 1 : 0}, int64_t{limit}},
                       [&](const Row& r) { out.push_back(ReadRecipient(r)); }));
    return {};
  }));
  return out;
}

Result<std::optional<Timestamp>> SqlCampaignStore::NextDue(OccurrenceId id, bool include_rest) {
  std::optional<Timestamp> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.reset();
    RAPPORT_TRY(
        s.Exec("SELECT MIN(due_at) FROM campaign_recipients WHERE occurrence_id = $1 AND "
               "status = 'pending' AND ($2 = 1 OR arm <> 'rest')",
               {id, int64_t{include_rest ? 1 : 0}}, [&](const Row& r) {
                 if (!r.IsNull(0)) out = FromMicros(r.Int(0));
               }));
    return {};
  }));
  return out;
}

Status SqlCampaignStore::Mark(OccurrenceId id, const std::vector<RecipientOutcome>& outcomes) {
  if (outcomes.empty()) return {};
  return db_.Write([&](Session& s) -> Status {
    for (const RecipientOutcome& o : outcomes) {
      RAPPORT_TRY(
          s.Exec("UPDATE campaign_recipients SET status = $3, variant = $4, message_id = $5, reason = $6 "
                 "WHERE occurrence_id = $1 AND contact_id = $2 AND status = 'pending'",
                 {id, o.contact_id, RecipientStatusName(o.status), int64_t{o.variant}, o.message_id,
                  std::string_view(o.reason)}));
    }
    return {};
  });
}

Status SqlCampaignStore::Reschedule(OccurrenceId id,
                                    const std::vector<std::pair<ContactId, Timestamp>>& due) {
  if (due.empty()) return {};
  return db_.Write([&](Session& s) -> Status {
    for (const auto& [contact, at] : due)
      RAPPORT_TRY(s.Exec(
          "UPDATE campaign_recipients SET due_at = $3 WHERE occurrence_id = $1 AND contact_id = $2 AND "
          "status = 'pending'",
          {id, contact, ToMicros(at)}));
    return {};
  });
}

Result<std::vector<CampaignRecipient>> SqlCampaignStore::Recipients(OccurrenceId id, ContactId after_contact,
                                                                    int limit) {
  RAPPORT_TRY(CheckLimit(limit));
  std::vector<CampaignRecipient> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kRecipientColumns) +
                           " FROM campaign_recipients WHERE occurrence_id = $1 AND contact_id > $2 "
                           "ORDER BY contact_id LIMIT $3",
                       {id, after_contact, int64_t{limit}},
                       [&](const Row& r) { out.push_back(ReadRecipient(r)); }));
    return {};
  }));
  return out;
}

Result<CampaignSends> SqlCampaignStore::SentSince(WorkspaceId ws, CampaignId id, Timestamp since) {
  CampaignSends out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out = CampaignSends{};
    RAPPORT_TRY(
        s.Exec("SELECT COUNT(*), MIN(m.created_at) FROM campaign_occurrences o "
               "JOIN campaign_recipients r ON r.occurrence_id = o.id "
               "JOIN outbox_messages m ON m.id = r.message_id AND m.workspace_id = o.workspace_id "
               "WHERE o.workspace_id = $1 AND o.campaign_id = $2 AND "
               "(o.finished_at IS NULL OR o.finished_at > $3) AND r.message_id > 0 AND m.created_at > $3",
               {ws, id, ToMicros(since)}, [&](const Row& r) {
                 out.count = r.Int(0);
                 if (!r.IsNull(1)) out.first = FromMicros(r.Int(1));
               }));
    return {};
  }));
  return out;
}

}  // namespace rapport::sql
