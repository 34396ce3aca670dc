// Chooses and opens the store named by a URL or path:
//   "postgres://..." or "postgresql://..."  -> PostgreSQL (store/postgres)
//   "sqlite:PATH", "sqlite://PATH", or a plain file path -> SQLite (store/sqlite); the file and
//   its parent directory are created when missing. The sqlite: forms take one option,
//   "?synchronous=normal" (the default: WAL fsynced at checkpoints) or "?synchronous=full" (the
//   WAL fsynced at every commit); see sqlite_database.h.
// Does not migrate (call Store::Migrate). Failure: kInvalid (field "database") for an empty
// name or an unknown option, kUnavailable when the database cannot be opened or reached. Error
// messages never carry the URL's password (core/redact.h).
#pragma once

#include <memory>
#include <string_view>

#include "core/clock.h"
#include "core/store.h"

namespace rapport {

// How much memory the store may hold (SQLite only; PostgreSQL's is the server's own): per
// connection, a page cache of sqlite_cache_mb and a memory map of at most sqlite_mmap_mb of the
// file (docs/configuration.md, "SQLite memory"). Config keys store.sqlite_cache_mb and
// store.sqlite_mmap_mb.
struct StoreOptions {
  int64_t sqlite_cache_mb = 64;
  int64_t sqlite_mmap_mb = 256;
};

Result<std::unique_ptr<Store>> OpenStore(std::string_view url_or_path,
                                         const Clock& clock = SystemClock::Instance());
Result<std::unique_ptr<Store>> OpenStore(std::string_view url_or_path, const StoreOptions& store_options,
                                         const Clock& clock = SystemClock::Instance());

}  // namespace rapport
