// Opens rapport's embedded store: a SQLite 3 file in WAL mode (see sqlite_database.h for the
// durability it gives and its threading). The returned Store owns its connections.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/store.h"

namespace rapport {

struct SqliteOptions {
  // synchronous=FULL instead of NORMAL: every commit fsyncs the WAL (survives power loss).
  bool synchronous_full = false;
  // Memory per connection, in MiB (sqlite_database.h, docs/configuration.md "SQLite memory").
  int64_t cache_mb = 64;
  int64_t mmap_mb = 256;
};

// Opens (creating the file and its directory when missing) the database at `path`; does not
// migrate. `clock` stamps created_at/updated_at and must outlive the store.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const Clock& clock = SystemClock::Instance(),
                                               const SqliteOptions& options = {});

}  // namespace rapport
