// The PostgreSQL sql::Database: a small pool of libpq connections.
//
// Write transactions run BEGIN ... COMMIT on one pooled connection (READ COMMITTED, with
// synchronous_commit on: durable when COMMIT returns); a serialization failure or deadlock
// (40001, 40P01) reruns the transaction up to kMaxAttempts times. Reads run in autocommit.
// Connections that lost the server are dropped and reopened on demand.
// Thread-safety: thread-safe; at most kMaxConnections are open, callers beyond wait.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/pg_connection.h"
#include "store/sql/database.h"

namespace rapport::postgres {

class PgDatabase final : public sql::Database {
 public:
  // Connects once to check the URL (a libpq connection string or postgres:// URI).
  static Result<std::unique_ptr<PgDatabase>> Open(const std::string& conninfo);

  Status Write(const sql::TxFn& fn) override;
  Status Read(const sql::TxFn& fn) override;
  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }

  static constexpr size_t kMaxConnections = 8;
  static constexpr int kMaxAttempts = 5;

 private:
  explicit PgDatabase(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  Result<std::unique_ptr<PgConnection>> Acquire();
  void Release(std::unique_ptr<PgConnection> conn);

  const std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                  // guarded by mu_
};

}  // namespace rapport::postgres
