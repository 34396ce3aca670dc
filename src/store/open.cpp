#include "store/open.h"

#include <string>

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace rapport {

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Clock& clock) {
  auto starts = [&](std::string_view prefix) { return url.substr(0, prefix.size()) == prefix; };
  if (starts("postgres://") || starts("postgresql://")) return OpenPostgresStore(std::string(url), clock);
  std::string_view path = url;
  if (starts("sqlite://")) path.remove_prefix(9);
  else if (starts("sqlite:")) path.remove_prefix(7);
  if (path.empty()) return Error::Invalid("database", "the database path is empty");
  return OpenSqliteStore(std::string(path), clock);
}

}  // namespace rapport
