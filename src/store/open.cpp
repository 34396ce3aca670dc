#include "store/open.h"

#include <string>

#include "core/redact.h"

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace rapport {

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Clock& clock) {
  return OpenStore(url, StoreOptions{}, clock);
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& store_options,
                                         const Clock& clock) {
  auto starts = [&](std::string_view prefix) { return url.substr(0, prefix.size()) == prefix; };
  if (starts("postgres://") || starts("postgresql://")) {
    auto store = OpenPostgresStore(std::string(url), clock);
    if (!store.ok()) {
      // libpq quotes the URI (or a piece of it) in some of its errors: never the password.
      Error e = std::move(store).error();
      e.message = RedactSecrets(e.message, url);
      return e;
    }
    return store;
  }
  std::string_view path = url;
  SqliteOptions options;
  options.cache_mb = store_options.sqlite_cache_mb;
  options.mmap_mb = store_options.sqlite_mmap_mb;
  if (starts("sqlite:")) {
    path.remove_prefix(starts("sqlite://") ? 9 : 7);
    if (size_t q = path.find('?'); q != std::string_view::npos) {
      std::string_view option = path.substr(q + 1);
      path = path.substr(0, q);
      if (option == "synchronous=full")
        options.synchronous_full = true;
      else if (option != "synchronous=normal" && !option.empty())
        return Error::Invalid("database", "unknown SQLite option '" + std::string(option.substr(0, 64)) +
                                              "' (known: synchronous=normal, synchronous=full)");
    }
  }
  if (path.empty()) return Error::Invalid("database", "the database path is empty");
  return OpenSqliteStore(std::string(path), clock, options);
}

}  // namespace rapport
