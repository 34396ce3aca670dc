#include "store/sql/sql_store.h"

#include "store/sql/codec.h"
#include "store/sql/notifying_database.h"

namespace rapport::sql {

namespace {
constexpr std::string_view kCreateMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL)";
// Serializes migrations of several nodes sharing one PostgreSQL database.
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(72706170)";

Result<int> CurrentVersion(Session& s) {
  int version = 0;
  RAPPORT_TRY(s.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {},
                     [&](const Row& r) { version = static_cast<int>(r.Int(0)); }));
  return version;
}
}  // namespace

SqlStore::SqlStore(std::unique_ptr<Database> db, std::vector<Migration> migrations, std::string backend,
                   const Clock& clock, const EventStoreFactory& events)
    : db_(std::make_unique<NotifyingDatabase>(std::move(db), notifier_)),
      migrations_(std::move(migrations)),
      backend_(std::move(backend)),
      workspaces_(*db_, clock),
      contacts_(*db_, clock, erasure_),
      events_(events ? events(*db_, clock, erasure_)
                     : std::make_unique<SqlEventStore>(*db_, clock, erasure_)),
      topics_(*db_, clock),
      keys_(*db_, clock),
      audit_(*db_),
      outbox_(*db_, clock),
      templates_(*db_, clock),
      feed_(*db_, clock, notifier_),
      work_(*db_, clock),
      segments_(*db_, clock),
      tracking_(*db_),
      feedback_(*db_, clock),
      consents_(*db_, clock),
      analytics_(*db_, clock),
      journeys_(*db_, clock),
      senders_(*db_, clock),
      governor_(*db_, clock),
      campaigns_(*db_, clock) {}

SqlStore::~SqlStore() = default;

Result<int> SqlStore::Migrate() {
  int applied = 0;
  RAPPORT_TRY(db_->Write([&](Session& s) -> Status {
    if (s.pg()) RAPPORT_TRY(s.Exec(kMigrationLock, {}));
    RAPPORT_TRY(s.ExecScript(kCreateMigrations));
    RAPPORT_ASSIGN_OR_RETURN(applied, CurrentVersion(s));
    return {};
  }));
  int version = applied;
  for (const Migration& m : migrations_) {
    if (m.version <= applied) continue;
    auto apply = [&](Session& s) -> Status {
      if (s.pg()) RAPPORT_TRY(s.Exec(kMigrationLock, {}));
      RAPPORT_ASSIGN_OR_RETURN(int current, CurrentVersion(s));
      version = current;
      if (current >= m.version) return {};  // applied already (maybe by another node)
      RAPPORT_TRY(s.ExecScript(m.script));
      RAPPORT_TRY(
          s.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                 {int64_t{m.version}, std::string_view(m.name), ToMicros(SystemClock::Instance().Now())}));
      version = m.version;
      return {};
    };
    RAPPORT_TRY(m.foreign_keys_off ? db_->WriteWithoutForeignKeys(apply) : db_->Write(apply));
  }
  return version;
}

Result<int> SqlStore::SchemaVersion() {
  int version = 0;
  RAPPORT_TRY(db_->Read([&](Session& s) -> Status {
    bool exists = false;
    std::string_view probe = s.pg() ? "SELECT 1 FROM pg_tables WHERE tablename = 'schema_migrations' "
                                      "AND schemaname = current_schema()"
                                    : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                                      "'schema_migrations'";
    RAPPORT_TRY(s.Exec(probe, {}, [&](const Row&) { exists = true; }));
    if (!exists) return {};
    RAPPORT_ASSIGN_OR_RETURN(version, CurrentVersion(s));
    return {};
  }));
  return version;
}

Status SqlStore::Ping() {
  return db_->Read([](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT 1", {}));
    return {};
  });
}

// ---- workspaces -------------------------------------------------------------------------------

namespace {
constexpr std::string_view kWorkspaceColumns = "id, name, default_timezone, created_at";
Workspace ReadWorkspace(const Row& r) {
  return Workspace{r.Int(0), std::string(r.Text(1)), std::string(r.Text(2)), FromMicros(r.Int(3))};
}
}  // namespace

Result<Workspace> SqlWorkspaceStore::Create(std::string_view name) {
  if (name.empty() || name.size() > 200)
    return Error::Invalid("name", "a workspace name is 1 to 200 characters");
  Workspace ws;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(
        s.Exec("INSERT INTO workspaces (name, default_timezone, created_at) VALUES ($1, 'UTC', $2) "
               "RETURNING " +
                   std::string(kWorkspaceColumns),
               {name, ToMicros(now)}, [&](const Row& r) { ws = ReadWorkspace(r); }));
    return {};
  }));
  return ws;
}

Result<Workspace> SqlWorkspaceStore::Get(WorkspaceId id) {
  std::optional<Workspace> ws;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kWorkspaceColumns) + " FROM workspaces WHERE id = $1", {id},
                       [&](const Row& r) { ws = ReadWorkspace(r); }));
    return {};
  }));
  if (!ws) return Error::NotFound("no workspace " + std::to_string(id));
  return *ws;
}

Result<std::vector<Workspace>> SqlWorkspaceStore::List() {
  std::vector<Workspace> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kWorkspaceColumns) + " FROM workspaces ORDER BY id", {},
                       [&](const Row& r) { out.push_back(ReadWorkspace(r)); }));
    return {};
  }));
  return out;
}

Result<std::optional<Workspace>> SqlWorkspaceStore::FindByName(std::string_view name) {
  std::optional<Workspace> ws;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kWorkspaceColumns) + " FROM workspaces WHERE name = $1",
                       {name}, [&](const Row& r) { ws = ReadWorkspace(r); }));
    return {};
  }));
  return ws;
}

// ---- api keys ---------------------------------------------------------------------------------

namespace {
constexpr std::string_view kKeyColumns =
    "id, workspace_id, name, prefix, hash, scopes, created_at, last_used_at, revoked_at";
ApiKey ReadKey(const Row& r) {
  ApiKey k;
  k.id = r.Int(0);
  k.workspace_id = r.Int(1);
  k.name = std::string(r.Text(2));
  k.prefix = std::string(r.Text(3));
  k.hash = std::string(r.Text(4));
  k.scopes = static_cast<Scopes>(r.Int(5));
  k.created_at = FromMicros(r.Int(6));
  if (!r.IsNull(7)) k.last_used_at = FromMicros(r.Int(7));
  if (!r.IsNull(8)) k.revoked_at = FromMicros(r.Int(8));
  return k;
}
}  // namespace

Result<ApiKey> SqlKeyStore::Create(const ApiKey& key) {
  if (key.hash.empty()) return Error::Invalid("hash", "a key needs its hash");
  if (key.scopes == 0) return Error::Invalid("scope", "at least one scope is required");
  ApiKey out;
  Timestamp created = key.created_at == Timestamp{} ? clock_.Now() : key.created_at;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    bool ws_exists = false;
    RAPPORT_TRY(s.Exec("SELECT 1 FROM workspaces WHERE id = $1", {key.workspace_id},
                       [&](const Row&) { ws_exists = true; }));
    if (!ws_exists) return Error::NotFound("no workspace " + std::to_string(key.workspace_id));
    RAPPORT_TRY(
        s.Exec("INSERT INTO api_keys (workspace_id, name, prefix, hash, scopes, created_at) "
               "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " +
                   std::string(kKeyColumns),
               {key.workspace_id, std::string_view(key.name), std::string_view(key.prefix),
                std::string_view(key.hash), int64_t{key.scopes}, ToMicros(created)},
               [&](const Row& r) { out = ReadKey(r); }));
    return {};
  }));
  return out;
}

Result<ApiKey> SqlKeyStore::FindByHash(std::string_view hash) {
  std::optional<ApiKey> key;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE hash = $1 AND revoked_at IS NULL",
               {hash}, [&](const Row& r) { key = ReadKey(r); }));
    return {};
  }));
  if (!key) return Error::NotFound("no live key with this hash");
  return *key;
}

Result<std::vector<ApiKey>> SqlKeyStore::List(WorkspaceId ws) {
  std::vector<ApiKey> keys;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    keys.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE workspace_id = $1 ORDER BY id",
               {ws}, [&](const Row& r) { keys.push_back(ReadKey(r)); }));
    return {};
  }));
  return keys;
}

Status SqlKeyStore::Revoke(WorkspaceId ws, KeyId id, Timestamp at) {
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(int64_t n, s.Exec("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) "
                                               "WHERE id = $1 AND workspace_id = $2",
                                               {id, ws, ToMicros(at)}));
    if (n == 0) return Error::NotFound("no key " + std::to_string(id));
    return {};
  });
}

Status SqlKeyStore::TouchLastUsed(KeyId id, Timestamp at) {
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t n, s.Exec("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", {id, ToMicros(at)}));
    if (n == 0) return Error::NotFound("no key " + std::to_string(id));
    return {};
  });
}

// ---- audit ------------------------------------------------------------------------------------

Status SqlAuditStore::Record(const AuditEntry& e) {
  std::string details = SerializeObject(e.details);
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec(
        "INSERT INTO audit_log (workspace_id, actor, action, entity, entity_id, details, at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {e.workspace_id, std::string_view(e.actor), std::string_view(e.action), std::string_view(e.entity),
         std::string_view(e.entity_id), std::string_view(details), ToMicros(e.at)}));
    return {};
  });
}

Result<std::vector<AuditEntry>> SqlAuditStore::List(WorkspaceId ws, int limit) {
  RAPPORT_TRY(CheckLimit(limit));
  std::vector<AuditEntry> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT id, workspace_id, actor, action, entity, entity_id, details, at FROM audit_log "
               "WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
               {ws, int64_t{limit}}, [&](const Row& r) {
                 AuditEntry a;
                 a.id = r.Int(0);
                 a.workspace_id = r.Int(1);
                 a.actor = std::string(r.Text(2));
                 a.action = std::string(r.Text(3));
                 a.entity = std::string(r.Text(4));
                 a.entity_id = std::string(r.Text(5));
                 a.details = ParseObject(r.Text(6));
                 a.at = FromMicros(r.Int(7));
                 out.push_back(std::move(a));
               }));
    return {};
  }));
  return out;
}

}  // namespace rapport::sql
