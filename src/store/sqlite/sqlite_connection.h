// A thin RAII wrapper over one sqlite3 connection with a cache of prepared statements, and the
// sql::Session that runs statements on it.
//
// Ownership: a Connection owns its sqlite3 handle and its cached statements (finalized before the
// handle is closed). Thread-safety: none; a Connection is used by one thread at a time (the
// SqliteDatabase hands it out under a mutex or from a pool). Failure: errors are Error values
// (SQLITE_BUSY past busy_timeout -> kUnavailable, UNIQUE -> kConflict naming the column,
// CHECK/NOT NULL/FOREIGN KEY -> kInvalid, others -> kInternal).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sql/database.h"

namespace rapport::sqlite {

class Connection final : public sql::Session {
 public:
  struct Options {
    bool read_only = false;  // PRAGMA query_only on this connection
    int busy_timeout_ms = 5000;
    bool synchronous_full = false;  // synchronous=FULL rather than NORMAL
    // The connection's page cache (PRAGMA cache_size) and how much of the file it reads through
    // a memory map (PRAGMA mmap_size), in MiB: together they bound the memory it holds
    // (docs/configuration.md, "SQLite memory"). mmap 0 reads every page with pread.
    int64_t cache_mb = 64;
    int64_t mmap_mb = 256;
  };
  // Opens (creating when missing) the database file and applies the connection's PRAGMAs:
  // journal_mode=WAL, synchronous=NORMAL (or FULL), foreign_keys=ON, busy_timeout, cache_size,
  // mmap_size.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, const Options& options);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<int64_t> Exec(std::string_view sql, std::span<const sql::Param> params,
                       const sql::RowFn& on_row) override;
  using sql::Session::Exec;
  Status ExecScript(std::string_view sql) override;
  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  sqlite3* handle() { return db_; }

 private:
  struct Statement {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> param_index;  // $1..$n -> bind index (0: not used by the statement)
  };
  explicit Connection(sqlite3* db) : db_(db) {}
  Result<Statement*> Prepare(std::string_view sql);
  Error LastError(int rc, std::string_view what) const;

  // Looked up by the SQL text without copying it (transparent hash).
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_;
  std::unordered_map<std::string, Statement, TextHash, std::equal_to<>> cache_;
};

}  // namespace rapport::sqlite
