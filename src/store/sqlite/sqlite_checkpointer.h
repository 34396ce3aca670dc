// Runs the WAL checkpoints of a SQLite database on a thread of its own, so that the writer does
// not copy pages into the database file and fsync it while it holds the write lock.
//
// It replaces the writer connection's automatic checkpoint (wal_autocheckpoint) with a WAL hook.
// Past soft_frames frames in the WAL after a commit, the hook wakes the thread, which runs PASSIVE
// checkpoints on its own connection (they neither wait for nor block the writer and the readers)
// until it has nearly caught up with the writer. The WAL can only restart from its beginning
// once every frame is checkpointed, which under a steady stream of commits the thread never
// quite sees; so at the next commit past soft_frames, the writer checkpoints the few frames
// committed meanwhile itself (inline, as SQLite's automatic checkpoint would), and its next
// transaction restarts the WAL. Past hard_frames (the thread fell behind) the writer
// checkpoints inline regardless, so the WAL stays bounded. Durability is unchanged: a
// checkpoint fsyncs the WAL before it copies pages and the database file after.
//
// Ownership: owns its thread and its connection; `writer` must outlive it, and no transaction
// may run on `writer` while it is destroyed. Thread-safety: the hook runs on whichever thread
// commits on `writer` (the caller serializes those); everything else is internal.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_connection.h"

namespace rapport::sqlite {

class Checkpointer {
 public:
  struct Limits {
    int soft_frames = 10000;  // ~40 MB of WAL at 4 KiB pages (SQLite's own default is 1000)
    int hard_frames = 40000;
  };

  // Opens the checkpointing connection to `path`, starts the thread and hooks `writer`.
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path, Connection& writer,
                                                     const Connection::Options& options, Limits limits);
  ~Checkpointer();  // unhooks `writer`, stops the thread
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints run so far by the thread and inline by the writer (for tests and metrics).
  int background_checkpoints() const;
  int inline_checkpoints() const;

 private:
  Checkpointer(std::unique_ptr<Connection> conn, Connection& writer, Limits limits)
      : conn_(std::move(conn)), writer_(writer), limits_(limits) {}
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);
  void Loop();

  std::unique_ptr<Connection> conn_;  // used by the thread only
  Connection& writer_;
  const Limits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;    // guarded by mu_: the thread was asked and has not finished
  bool caught_up_ = false;  // guarded by mu_: the thread finished; the writer completes it
  bool stop_ = false;       // guarded by mu_
  int background_ = 0;      // guarded by mu_
  int inline_ = 0;          // guarded by mu_ (written under the writer's serialization too)
  std::thread thread_;
};

}  // namespace rapport::sqlite
