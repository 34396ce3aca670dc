#include "store/sqlite/sqlite_checkpointer.h"

#include "core/thread_name.h"

namespace rapport::sqlite {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path, Connection& writer,
                                                          const Connection::Options& options, Limits limits) {
  RAPPORT_ASSIGN_OR_RETURN(auto conn, Connection::Open(path, options));
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(conn), writer, limits));
  c->thread_ = std::thread([p = c.get()] {
    NameThisThread("sqlite-ckpt");
    p->Loop();
  });
  sqlite3_wal_hook(writer.handle(), &Checkpointer::OnCommit, c.get());
  return c;
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

int Checkpointer::OnCommit(void* arg, sqlite3* db, const char* schema, int frames) {
  auto* self = static_cast<Checkpointer*>(arg);
  bool run_inline = frames >= self->limits_.hard_frames;
  if (!run_inline && frames < self->limits_.soft_frames) return SQLITE_OK;
  {
    std::lock_guard lock(self->mu_);
    if (self->caught_up_) {
      run_inline = true;
      self->caught_up_ = false;
    } else if (!run_inline) {
      if (self->pending_) return SQLITE_OK;
      self->pending_ = true;
    }
  }
  if (!run_inline) {
    self->cv_.notify_one();
    return SQLITE_OK;
  }
  sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  std::lock_guard lock(self->mu_);
  ++self->inline_;
  return SQLITE_OK;  // the commit itself succeeded; a failed checkpoint is retried at the next one
}

void Checkpointer::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || pending_; });
    if (stop_) return;
    lock.unlock();
    // Again while the writer added more than a small fraction of the limit during the last pass:
    // what is left when the thread stops is checkpointed by the writer, holding the write lock.
    for (int pass = 0; pass < 8; ++pass) {
      int log = 0, done = 0;
      int rc = sqlite3_wal_checkpoint_v2(conn_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK || log - done <= limits_.soft_frames / 64) break;
    }
    lock.lock();
    pending_ = false;
    caught_up_ = true;
    ++background_;
  }
}

int Checkpointer::background_checkpoints() const {
  std::lock_guard lock(mu_);
  return background_;
}

int Checkpointer::inline_checkpoints() const {
  std::lock_guard lock(mu_);
  return inline_;
}

}  // namespace rapport::sqlite
