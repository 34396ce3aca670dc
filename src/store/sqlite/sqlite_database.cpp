#include "store/sqlite/sqlite_database.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

namespace rapport::sqlite {

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             const Options& options) {
  bool memory = path == ":memory:";
  if (!memory) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      // The directories it creates are private (0700): they hold the contacts.
      std::vector<std::filesystem::path> missing;
      for (std::filesystem::path p = parent; !p.empty() && !std::filesystem::exists(p); p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) break;
      }
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) return Error::Unavailable("cannot create directory " + parent.string() + ": " + ec.message());
      for (const std::filesystem::path& p : missing) {
        std::filesystem::permissions(p, std::filesystem::perms::owner_all, ec);
        if (ec)
          return Error::Unavailable("cannot make directory " + p.string() + " private: " + ec.message());
      }
    }
    // A new database file is private (0600); SQLite gives its -wal and -shm files the same mode.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return Error::Unavailable("cannot open SQLite database " + path + ": " + std::strerror(errno));
    ::close(fd);
  }
  RAPPORT_ASSIGN_OR_RETURN(auto writer, Connection::Open(path, {.synchronous_full = options.synchronous_full,
                                                                .cache_mb = options.cache_mb,
                                                                .mmap_mb = options.mmap_mb}));
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, options, std::move(writer), memory));
  if (!memory) {
    RAPPORT_ASSIGN_OR_RETURN(
        db->checkpointer_,
        Checkpointer::Start(path, *db->writer_, db->ConnectionOptions(/*read_only=*/false), {}));
  }
  return db;
}

Status SqliteDatabase::RunTx(Connection& conn, std::string_view begin, const sql::TxFn& fn) {
  // BEGIN, COMMIT and ROLLBACK run as the connection's cached prepared statements: through
  // sqlite3_exec each was parsed again on every transaction (~2% of a journey batch's CPU).
  RAPPORT_TRY(conn.Exec(begin, {}));
  Status st = fn(conn);
  if (!st.ok()) {
    (void)conn.Exec("ROLLBACK", {});
    return st;
  }
  Result<int64_t> commit = conn.Exec("COMMIT", {});
  if (!commit.ok()) {
    (void)conn.Exec("ROLLBACK", {});
    return commit.error();
  }
  return {};
}

Status SqliteDatabase::Write(const sql::TxFn& fn) {
  std::lock_guard lock(write_mu_);
  return RunTx(*writer_, "BEGIN IMMEDIATE", fn);
}

Status SqliteDatabase::WriteWithoutForeignKeys(const sql::TxFn& fn) {
  std::lock_guard lock(write_mu_);
  // The pragma is a no-op inside a transaction: set it around one.
  RAPPORT_TRY(writer_->ExecScript("PRAGMA foreign_keys = OFF"));
  Status st = RunTx(*writer_, "BEGIN IMMEDIATE", [&](sql::Session& s) -> Status {
    RAPPORT_TRY(fn(s));
    int64_t broken = 0;
    RAPPORT_TRY(s.Exec("PRAGMA foreign_key_check", {}, [&](const sql::Row&) { ++broken; }));
    if (broken > 0) return Error::Internal(std::to_string(broken) + " rows break a foreign key");
    return {};
  });
  Status on = writer_->ExecScript("PRAGMA foreign_keys = ON");
  if (!st.ok()) return st;
  return on;
}

Status SqliteDatabase::WriteAndPurge(const sql::TxFn& fn) {
  std::lock_guard lock(write_mu_);
  // secure_delete is the connection's setting, outside any transaction: on for this one only,
  // so ordinary writes do not pay for zeroing what they free.
  RAPPORT_TRY(writer_->ExecScript("PRAGMA secure_delete = ON"));
  Status st = RunTx(*writer_, "BEGIN IMMEDIATE", fn);
  Status off = writer_->ExecScript("PRAGMA secure_delete = OFF");
  RAPPORT_TRY(st);
  RAPPORT_TRY(off);
  if (memory_) return {};
  return TruncateWal();
}

Status SqliteDatabase::TruncateWal() {
  // The committed transaction's frames (and older frames still holding the deleted rows) are in
  // the WAL: copy every frame into the database file, then truncate the WAL. A reader whose
  // snapshot predates the last frame makes the checkpoint report busy (after busy_timeout);
  // readers here are short, so try again for a while.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    int64_t busy = 1, log = -1, done = -1;
    RAPPORT_TRY(writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", {}, [&](const sql::Row& r) {
      busy = r.Int(0);
      log = r.Int(1);
      done = r.Int(2);
    }));
    if (busy == 0 && log == done) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return Error::Unavailable(
          "the erasure is committed, but the WAL could not be truncated: a reader held "
          "it for 30 s (it is truncated at the next erasure or checkpoint)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status SqliteDatabase::Read(const sql::TxFn& fn) {
  if (memory_) {
    std::lock_guard lock(write_mu_);
    return RunTx(*writer_, "BEGIN", fn);
  }
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [&] { return !idle_readers_.empty() || open_readers_ < kMaxReaders; });
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++open_readers_;
    }
  }
  if (!conn) {
    auto opened = Connection::Open(path_, ConnectionOptions(/*read_only=*/true));
    if (!opened.ok()) {
      std::lock_guard lock(pool_mu_);
      --open_readers_;
      pool_cv_.notify_one();
      return opened.error();
    }
    conn = std::move(opened).value();
  }
  Status st = RunTx(*conn, "BEGIN", fn);
  {
    std::lock_guard lock(pool_mu_);
    idle_readers_.push_back(std::move(conn));
  }
  pool_cv_.notify_one();
  return st;
}

}  // namespace rapport::sqlite
