// The SQLite schema, as numbered migrations (applied by sql::SqlStore::Migrate).
// Timestamps are INTEGER microseconds since the Unix epoch, UTC; JSON columns hold JSON text.
#pragma once

#include <vector>

#include "store/sql/sql_store.h"

namespace rapport::sqlite {

std::vector<sql::Migration> SqliteMigrations();

}  // namespace rapport::sqlite
