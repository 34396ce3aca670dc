// The SQLite sql::Database: one writer connection behind a mutex, and a pool of reader
// connections (WAL lets readers run while the writer writes).
//
// Durability: WAL mode with synchronous=NORMAL by default. A committed transaction survives a
// crash of the process (it is in the WAL, written before COMMIT returns); it may be lost on a
// power failure or an OS crash before the next checkpoint's fsync. With synchronous_full, every
// COMMIT fsyncs the WAL first, so a committed transaction survives those too.
// Write transactions are BEGIN IMMEDIATE, so they never fail half-way on a lock upgrade; another
// process holding the write lock is waited for up to busy_timeout, then kUnavailable.
// Checkpoints run on a thread of their own (sqlite_checkpointer.h), not in the writer's commit.
// Thread-safety: thread-safe. ":memory:" databases use the writer connection for reads too.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sql/database.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_connection.h"

namespace rapport::sqlite {

struct DatabaseOptions {
  bool synchronous_full = false;  // see Durability above
  // Per connection (the writer and each of up to kMaxReaders readers): Connection::Options.
  int64_t cache_mb = 64;
  int64_t mmap_mb = 256;
};

class SqliteDatabase final : public sql::Database {
 public:
  using Options = DatabaseOptions;
  // Opens `path` (creating its parent directory and the file when missing).
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path, const Options& options = {});

  Status Write(const sql::TxFn& fn) override;
  Status WriteWithoutForeignKeys(const sql::TxFn& fn) override;
  Status WriteAndPurge(const sql::TxFn& fn) override;
  Status Read(const sql::TxFn& fn) override;
  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  static constexpr size_t kMaxReaders = 8;

 private:
  SqliteDatabase(std::string path, Options options, std::unique_ptr<Connection> writer, bool memory)
      : path_(std::move(path)), options_(options), writer_(std::move(writer)), memory_(memory) {}
  Connection::Options ConnectionOptions(bool read_only) const {
    return {.read_only = read_only,
            .synchronous_full = options_.synchronous_full,
            .cache_mb = options_.cache_mb,
            .mmap_mb = options_.mmap_mb};
  }
  Status RunTx(Connection& conn, std::string_view begin, const sql::TxFn& fn);
  Status TruncateWal();  // with write_mu_ held

  const std::string path_;
  const Options options_;
  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;  // guarded by write_mu_
  const bool memory_;
  std::unique_ptr<Checkpointer> checkpointer_;  // after writer_: destroyed before it; none in memory

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by pool_mu_
  size_t open_readers_ = 0;                                // guarded by pool_mu_
};

}  // namespace rapport::sqlite
