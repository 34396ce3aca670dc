#include "store/postgres/pg_store.h"

#include "store/postgres/pg_database.h"
#include "store/postgres/pg_event_store.h"
#include "store/postgres/pg_schema.h"

namespace rapport {

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, const Clock& clock) {
  RAPPORT_ASSIGN_OR_RETURN(auto db, postgres::PgDatabase::Open(url));
  auto events = [](sql::Database& d, const Clock& c, const sql::ErasureKey& e) {
    return std::make_unique<postgres::PgEventStore>(d, c, e);
  };
  return std::unique_ptr<Store>(
      std::make_unique<sql::SqlStore>(std::move(db), postgres::PgMigrations(), "postgres", clock, events));
}

}  // namespace rapport
