// A sql::Database that signals a FeedNotifier after every committed write transaction that
// inserted into the events table, whatever facet wrote them (the store's own facets and the
// backends' set-based appends all write through it). Reads pass through.
// Thread-safety: as the Database it wraps; the notifier is thread-safe.
#pragma once

#include <memory>

#include "core/feed_notifier.h"
#include "store/sql/database.h"

namespace rapport::sql {

class NotifyingDatabase final : public Database {
  Status Noting(const TxFn& fn, bool purge);

 public:
  NotifyingDatabase(std::unique_ptr<Database> inner, FeedNotifier& notifier)
      : inner_(std::move(inner)), notifier_(notifier) {}
  Status Write(const TxFn& fn) override;
  Status WriteWithoutForeignKeys(const TxFn& fn) override { return inner_->WriteWithoutForeignKeys(fn); }
  Status WriteAndPurge(const TxFn& fn) override;
  Status Read(const TxFn& fn) override { return inner_->Read(fn); }
  Dialect dialect() const override { return inner_->dialect(); }

 private:
  std::unique_ptr<Database> inner_;
  FeedNotifier& notifier_;
};

}  // namespace rapport::sql
