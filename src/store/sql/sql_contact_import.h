// How SqlContactStore::Import (sql_contact_import.cpp) wrote its rows, for tests and store_perf.
#pragma once

#include <cstdint>

namespace rapport::sql {

// Contacts created by Import's set path in this process so far (committed transactions only).
// Thread-safe.
int64_t ContactsImportedBySetPath();

}  // namespace rapport::sql
