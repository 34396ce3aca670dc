#include "store/sqlite/sqlite_connection.h"

#include <string>

namespace rapport::sqlite {

namespace {

class StatementRow final : public sql::Row {
 public:
  explicit StatementRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  std::string_view Text(int col) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    if (p == nullptr) return {};
    return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }
  std::string Bytes(int col) const override {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    if (p == nullptr) return {};
    return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }

 private:
  sqlite3_stmt* stmt_;
};

// "UNIQUE constraint failed: contacts.workspace_id, contacts.email_key" -> "email" (the identity
// key is the address's, so a conflict on it is about the email the caller gave).
std::string ConflictField(std::string_view message) {
  size_t dot = message.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string_view field = message.substr(dot + 1);
  if (field == "email_key") return "email";
  return std::string(field);
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, const Options& options) {
  // Before SQLite initializes: no global allocation statistics (we read none), which spares a
  // global mutex on every allocation. A no-op (SQLITE_MISUSE) if SQLite was initialized already.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error::Unavailable("cannot open SQLite database " + path + ": " + msg);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  std::string pragmas =
      std::string("PRAGMA journal_mode = WAL; PRAGMA synchronous = ") +
      (options.synchronous_full ? "FULL" : "NORMAL") +
      "; PRAGMA foreign_keys = ON; "
      "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -" +
      std::to_string(options.cache_mb * 1024) +
      "; "
      // Checkpoint every ~40 MB of WAL rather than 4 MB (bulk imports), and trim the WAL after.
      // (A SqliteDatabase's writer hands its checkpoints to a Checkpointer thread instead.)
      "PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864; "
      // Read pages (message bodies of 50 KB span a dozen) from the mapped file, not by pread.
      "PRAGMA mmap_size = " +
      std::to_string(options.mmap_mb * 1024 * 1024) + ";";
  if (options.read_only) pragmas += " PRAGMA query_only = ON;";
  RAPPORT_TRY(conn->ExecScript(pragmas));
  return conn;
}

Connection::~Connection() {
  for (auto& [text, st] : cache_) sqlite3_finalize(st.stmt);
  sqlite3_close(db_);
}

Error Connection::LastError(int rc, std::string_view what) const {
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Error::Unavailable(msg);
  if (primary == SQLITE_CONSTRAINT) {
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
      return Error::Conflict(msg, ConflictField(sqlite3_errmsg(db_)));
    return Error::Invalid("", msg);
  }
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
    return Error::Unavailable(msg);
  return Error::Internal(msg);
}

Result<Connection::Statement*> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return &it->second;
  Statement st;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &st.stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st.stmt);
    return LastError(rc, "prepare");
  }
  int count = sqlite3_bind_parameter_count(st.stmt);
  for (int i = 1; i <= count; ++i) {
    std::string name = "$" + std::to_string(i);
    st.param_index.push_back(sqlite3_bind_parameter_index(st.stmt, name.c_str()));
  }
  return &cache_.emplace(std::string(sql), std::move(st)).first->second;
}

Result<int64_t> Connection::Exec(std::string_view sql, std::span<const sql::Param> params,
                                 const sql::RowFn& on_row) {
  RAPPORT_ASSIGN_OR_RETURN(Statement * st, Prepare(sql));
  sqlite3_stmt* stmt = st->stmt;
  // Placeholders are $1..$n in order; `count` may exceed the distinct ones when numbers repeat.
  for (size_t i = 0; i < params.size(); ++i) {
    int index = i < st->param_index.size() ? st->param_index[i] : 0;
    if (index == 0) {
      std::string name = "$" + std::to_string(i + 1);
      index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) continue;  // not used by this statement
    }
    const sql::Param& p = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::nullptr_t>(p)) {
      rc = sqlite3_bind_null(stmt, index);
    } else if (auto* n = std::get_if<int64_t>(&p)) {
      rc = sqlite3_bind_int64(stmt, index, *n);
    } else if (auto* s = std::get_if<std::string_view>(&p)) {
      rc =
          sqlite3_bind_text64(stmt, index, s->data() ? s->data() : "", s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else if (auto* b = std::get_if<sql::Blob>(&p)) {
      rc = sqlite3_bind_blob64(stmt, index, b->bytes.data() ? b->bytes.data() : "", b->bytes.size(),
                               SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      return LastError(rc, "bind");
    }
  }
  int64_t rows = 0;
  int rc;
  StatementRow row(stmt);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    ++rows;
    if (on_row) on_row(row);
  }
  bool returns_rows = sqlite3_column_count(stmt) > 0;
  if (rc != SQLITE_DONE) {
    Error e = LastError(rc, "step");
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return e;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return returns_rows ? rows : static_cast<int64_t>(sqlite3_changes64(db_));
}

Status Connection::ExecScript(std::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Error e = LastError(rc, "exec");
    e.message = "exec: " + msg;
    return e;
  }
  return {};
}

}  // namespace rapport::sqlite
