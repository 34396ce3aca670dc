// Opens rapport's PostgreSQL store (scale-out): a pool of libpq connections to one database.
// The returned Store owns its connections; see pg_database.h for transactions and durability.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/store.h"

namespace rapport {

// `url` is a postgres:// URI or a libpq connection string. Connects once to check it
// (kUnavailable when the server cannot be reached); does not migrate.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const Clock& clock = SystemClock::Instance());

}  // namespace rapport
