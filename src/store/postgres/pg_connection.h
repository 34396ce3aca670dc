// One libpq connection with a cache of prepared statements, and the sql::Session over it.
//
// Every statement is prepared once per connection (PQprepare) and run with PQexecPrepared:
// values travel apart from the SQL text. Text values go in text format, binary values (Blob) in
// binary format as bytea, so any bytes round-trip. Results come back in text format, except for
// a statement that returns bytea and otherwise only integers, booleans and text (learned once,
// with PQdescribePrepared, when it is prepared): its results come in binary format, so a MIME
// body is neither hex-encoded by the server nor unescaped here.
// Ownership: owns its PGconn. Thread-safety: none; one thread at a time (the pool hands it out).
// Failure: SQLSTATE mapped to Error codes (23505 -> kConflict naming the key's field, 23xxx and
// 22xxx -> kInvalid, 08xxx/57Pxx/53xxx/40001/40P01 -> kUnavailable, others kInternal).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/sql/database.h"

namespace rapport::postgres {

class PgConnection final : public sql::Session {
 public:
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Result<int64_t> Exec(std::string_view sql, std::span<const sql::Param> params,
                       const sql::RowFn& on_row) override;
  using sql::Session::Exec;
  Status ExecScript(std::string_view sql) override;
  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }

  // False once the server connection is lost; the pool then drops this connection.
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The SQLSTATE of the last failed statement ("" after a success).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  Error ResultError(PGresult* res, std::string_view what);

  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Prepared {
    std::string name;
    int result_format = 0;  // 1: binary
  };
  PGconn* conn_;
  // SQL text -> prepared statement.
  std::unordered_map<std::string, Prepared, TextHash, std::equal_to<>> prepared_;
  std::string last_sqlstate_;
};

}  // namespace rapport::postgres
