// The seam between the store's SQL logic (store/sql/) and its backends (store/sqlite,
// store/postgres): a Database runs transactions on a Session, a Session runs one parameterized
// statement at a time.
//
// SQL text uses PostgreSQL's placeholders ($1, $2 ...); the SQLite backend binds them as named
// parameters, so one statement text serves both where the dialects agree. Values are never
// spliced into SQL text. Statements are prepared once per connection and cached by their text.
//
// Thread-safety: a Database is thread-safe; a Session belongs to the one thread that runs the
// transaction it was handed for, and lives only for the duration of that callback.
// Failure: errors are Error values with the store's codes (kConflict for unique keys with the
// key's column as field, kInvalid for checks, kUnavailable when busy or unreachable).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/error.h"

namespace rapport::sql {

// Binary data (a bytea in PostgreSQL, a BLOB in SQLite).
struct Blob {
  std::string_view bytes;
};

// A statement parameter: NULL, an integer, text, or binary data. Text views must outlive Exec.
using Param = std::variant<std::nullptr_t, int64_t, std::string_view, Blob>;

// One result row; column indexes are 0-based. Views are valid until the callback returns.
class Row {
 public:
  virtual ~Row() = default;
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual std::string_view Text(int col) const = 0;
  virtual std::string Bytes(int col) const = 0;
};

using RowFn = std::function<void(const Row&)>;

enum class Dialect { kSqlite, kPostgres };

class Session {
 public:
  virtual ~Session() = default;
  // Runs one statement. Calls `on_row` for every row it returns. Returns the number of rows
  // returned (queries, RETURNING) or changed (other DML).
  virtual Result<int64_t> Exec(std::string_view sql, std::span<const Param> params, const RowFn& on_row) = 0;
  // Runs a script of several statements without parameters (migrations only).
  virtual Status ExecScript(std::string_view sql) = 0;
  virtual Dialect dialect() const = 0;

  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Param> params,
                       const RowFn& on_row = nullptr) {
    return Exec(sql, std::span<const Param>(params.begin(), params.size()), on_row);
  }
  bool pg() const { return dialect() == Dialect::kPostgres; }
};

using TxFn = std::function<Status(Session&)>;

class Database {
 public:
  virtual ~Database() = default;
  // Runs fn in one write transaction: committed when fn returns OK (durable on return),
  // rolled back otherwise (and fn's error returned). fn may run again when the backend asks
  // for a retry (PostgreSQL serialization failures), so it must not have side effects outside
  // the session besides resetting its own outputs.
  virtual Status Write(const TxFn& fn) = 0;
  // Write() with foreign keys unenforced while fn runs (schema rebuilds: SQLite drops and renames
  // parent tables), then every foreign key checked before the commit (kInternal if one fails).
  // PostgreSQL has nothing to turn off: the same as Write().
  virtual Status WriteWithoutForeignKeys(const TxFn& fn) { return Write(fn); }
  // Write() for a transaction that deletes personal data (erasure), after which no copy of what
  // it deleted may stay in a file of the store. SQLite overwrites the deleted content with zeros
  // (secure_delete) and, after the commit, checkpoints the WAL into the database file and
  // truncates it to zero bytes, waiting for readers that still see older pages. PostgreSQL keeps
  // dead row versions until VACUUM reclaims them (docs/architecture.md, "Erasure"): the same as
  // Write().
  virtual Status WriteAndPurge(const TxFn& fn) { return Write(fn); }
  // Runs fn in a read-only snapshot.
  virtual Status Read(const TxFn& fn) = 0;
  virtual Dialect dialect() const = 0;
};

}  // namespace rapport::sql
