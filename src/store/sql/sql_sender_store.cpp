#include "store/sql/sql_sender_store.h"

#include "core/email_address.h"

namespace rapport::sql {

namespace {

constexpr std::string_view kColumns =
    "id, workspace_id, name, email, reply_to_email, reply_to_name, postal_address, is_default, created_at, "
    "updated_at";

SenderIdentity ReadSender(const Row& r) {
  SenderIdentity s;
  s.id = r.Int(0);
  s.workspace_id = r.Int(1);
  s.name = std::string(r.Text(2));
  s.email = std::string(r.Text(3));
  s.reply_to_email = std::string(r.Text(4));
  s.reply_to_name = std::string(r.Text(5));
  s.postal_address = std::string(r.Text(6));
  s.is_default = r.Int(7) != 0;
  s.created_at = FromMicros(r.Int(8));
  s.updated_at = FromMicros(r.Int(9));
  return s;
}

std::string Select(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM senders WHERE workspace_id = $1 AND " +
         std::string(where);
}

Result<std::optional<SenderIdentity>> FindIn(Session& s, WorkspaceId ws, std::string_view where,
                                             Param value) {
  std::optional<SenderIdentity> out;
  RAPPORT_TRY(s.Exec(Select(where), {ws, value}, [&](const Row& r) { out = ReadSender(r); }));
  return out;
}

Result<int64_t> CountIn(Session& s, WorkspaceId ws) {
  int64_t n = 0;
  RAPPORT_TRY(s.Exec("SELECT COUNT(*) FROM senders WHERE workspace_id = $1", {ws},
                     [&](const Row& r) { n = r.Int(0); }));
  return n;
}

// Takes the default flag from every other sender of the workspace (before `id` gets it).
Status ClearDefaultIn(Session& s, WorkspaceId ws, SenderId id, Timestamp now) {
  RAPPORT_TRY(
      s.Exec("UPDATE senders SET is_default = 0, updated_at = $3 "
             "WHERE workspace_id = $1 AND is_default = 1 AND id <> $2",
             {ws, id, ToMicros(now)}));
  return {};
}

Status CheckEmailFree(Session& s, WorkspaceId ws, const std::string& key, SenderId self) {
  RAPPORT_ASSIGN_OR_RETURN(auto clash, FindIn(s, ws, "email_key = $2", std::string_view(key)));
  if (clash && clash->id != self)
    return Error::Conflict("sender " + std::to_string(clash->id) + " already sends from " + clash->email,
                           "email");
  return {};
}

}  // namespace

Result<SenderIdentity> SqlSenderStore::Create(const SenderIdentity& in) {
  SenderIdentity sender = in;
  RAPPORT_TRY(ValidateSender(sender));
  std::string key = EmailIdentityKey(sender.email);
  SenderIdentity out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(CheckEmailFree(s, sender.workspace_id, key, 0));
    RAPPORT_ASSIGN_OR_RETURN(int64_t existing, CountIn(s, sender.workspace_id));
    bool is_default = sender.is_default || existing == 0;  // the first sender is the default
    if (is_default) RAPPORT_TRY(ClearDefaultIn(s, sender.workspace_id, 0, now));
    RAPPORT_TRY(s.Exec(
        "INSERT INTO senders (workspace_id, name, email, email_key, reply_to_email, reply_to_name, "
        "postal_address, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
        "RETURNING " +
            std::string(kColumns),
        {sender.workspace_id, std::string_view(sender.name), std::string_view(sender.email),
         std::string_view(key), std::string_view(sender.reply_to_email),
         std::string_view(sender.reply_to_name), std::string_view(sender.postal_address),
         int64_t{is_default ? 1 : 0}, ToMicros(now)},
        [&](const Row& r) { out = ReadSender(r); }));
    return {};
  }));
  return out;
}

Result<SenderIdentity> SqlSenderStore::Get(WorkspaceId ws, SenderId id) {
  std::optional<SenderIdentity> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindIn(s, ws, "id = $2", id));
    return {};
  }));
  if (!out) return Error::NotFound("no sender " + std::to_string(id));
  return std::move(*out);
}

Result<SenderIdentity> SqlSenderStore::GetByEmail(WorkspaceId ws, std::string_view email) {
  auto normalized = NormalizeEmail(email, "email");
  if (!normalized.ok()) return Error::NotFound("no sender sends from '" + std::string(email) + "'");
  std::string key = EmailIdentityKey(*normalized);
  std::optional<SenderIdentity> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindIn(s, ws, "email_key = $2", std::string_view(key)));
    return {};
  }));
  if (!out) return Error::NotFound("no sender sends from " + *normalized);
  return std::move(*out);
}

Result<std::optional<SenderIdentity>> SqlSenderStore::GetDefault(WorkspaceId ws) {
  std::optional<SenderIdentity> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindIn(s, ws, "is_default = $2", int64_t{1}));
    return {};
  }));
  return out;
}

Result<std::vector<SenderIdentity>> SqlSenderStore::List(WorkspaceId ws) {
  std::vector<SenderIdentity> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kColumns) + " FROM senders WHERE workspace_id = $1 ORDER BY id", {ws},
               [&](const Row& r) { out.push_back(ReadSender(r)); }));
    return {};
  }));
  return out;
}

Result<SenderIdentity> SqlSenderStore::Update(const SenderIdentity& in) {
  SenderIdentity sender = in;
  RAPPORT_TRY(ValidateSender(sender));
  std::string key = EmailIdentityKey(sender.email);
  std::optional<SenderIdentity> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_ASSIGN_OR_RETURN(auto current, FindIn(s, sender.workspace_id, "id = $2", sender.id));
    if (!current) return {};
    RAPPORT_TRY(CheckEmailFree(s, sender.workspace_id, key, sender.id));
    if (sender.is_default) RAPPORT_TRY(ClearDefaultIn(s, sender.workspace_id, sender.id, now));
    RAPPORT_TRY(
        s.Exec("UPDATE senders SET name = $3, email = $4, email_key = $5, reply_to_email = $6, "
               "reply_to_name = $7, postal_address = $8, is_default = $9, updated_at = $10 "
               "WHERE workspace_id = $1 AND id = $2 RETURNING " +
                   std::string(kColumns),
               {sender.workspace_id, sender.id, std::string_view(sender.name), std::string_view(sender.email),
                std::string_view(key), std::string_view(sender.reply_to_email),
                std::string_view(sender.reply_to_name), std::string_view(sender.postal_address),
                int64_t{sender.is_default ? 1 : 0}, ToMicros(now)},
               [&](const Row& r) { out = ReadSender(r); }));
    return {};
  }));
  if (!out) return Error::NotFound("no sender " + std::to_string(sender.id));
  return std::move(*out);
}

Status SqlSenderStore::Delete(WorkspaceId ws, SenderId id) {
  int64_t changed = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(changed,
                             s.Exec("DELETE FROM senders WHERE workspace_id = $1 AND id = $2", {ws, id}));
    return {};
  }));
  if (changed == 0) return Error::NotFound("no sender " + std::to_string(id));
  return {};
}

}  // namespace rapport::sql
