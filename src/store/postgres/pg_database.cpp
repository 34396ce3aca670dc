#include "store/postgres/pg_database.h"

namespace rapport::postgres {

Result<std::unique_ptr<PgDatabase>> PgDatabase::Open(const std::string& conninfo) {
  std::unique_ptr<PgDatabase> db(new PgDatabase(conninfo));
  RAPPORT_ASSIGN_OR_RETURN(auto conn, db->Acquire());
  db->Release(std::move(conn));
  return db;
}

Result<std::unique_ptr<PgConnection>> PgDatabase::Acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxConnections; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  auto conn = PgConnection::Connect(conninfo_);
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }
  return conn;
}

void PgDatabase::Release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn->healthy())
    idle_.push_back(std::move(conn));
  else
    --open_;
  cv_.notify_one();
}

Status PgDatabase::Write(const sql::TxFn& fn) {
  RAPPORT_ASSIGN_OR_RETURN(auto conn, Acquire());
  Status result;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    result = conn->ExecScript("BEGIN");
    if (!result.ok()) break;
    result = fn(*conn);
    if (result.ok()) result = conn->ExecScript("COMMIT");
    if (result.ok()) break;
    std::string state = conn->last_sqlstate();
    (void)conn->ExecScript("ROLLBACK");
    if (!conn->healthy() || (state != "40001" && state != "40P01")) break;
  }
  Release(std::move(conn));
  return result;
}

Status PgDatabase::Read(const sql::TxFn& fn) {
  RAPPORT_ASSIGN_OR_RETURN(auto conn, Acquire());
  Status result = fn(*conn);
  Release(std::move(conn));
  return result;
}

}  // namespace rapport::postgres
