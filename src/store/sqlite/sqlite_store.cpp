#include "store/sqlite/sqlite_store.h"

#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_database.h"
#include "store/sqlite/sqlite_event_store.h"
#include "store/sqlite/sqlite_schema.h"

namespace rapport {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock,
                                               const SqliteOptions& options) {
  RAPPORT_ASSIGN_OR_RETURN(auto db,
                           sqlite::SqliteDatabase::Open(path, {.synchronous_full = options.synchronous_full,
                                                               .cache_mb = options.cache_mb,
                                                               .mmap_mb = options.mmap_mb}));
  auto events = [](sql::Database& d, const Clock& c, const sql::ErasureKey& e) {
    return std::make_unique<sqlite::SqliteEventStore>(d, c, e);
  };
  return std::unique_ptr<Store>(
      std::make_unique<sql::SqlStore>(std::move(db), sqlite::SqliteMigrations(), "sqlite", clock, events));
}

}  // namespace rapport
