// The PostgreSQL schema, as numbered migrations (applied by sql::SqlStore::Migrate).
// Timestamps are BIGINT microseconds since the Unix epoch, UTC (as in SQLite); JSON columns are
// jsonb. Every contact-scoped table is keyed by contact_id first (ready for distribution by
// contact id). Unique constraints are named "<table>_uq__<field>" so a conflict names its field.
#pragma once

#include <vector>

#include "store/sql/sql_store.h"

namespace rapport::postgres {

std::vector<sql::Migration> PgMigrations();

}  // namespace rapport::postgres
