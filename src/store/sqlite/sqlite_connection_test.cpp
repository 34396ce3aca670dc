// Connection::Open: the PRAGMAs each connection runs with.
#include "store/sqlite/sqlite_connection.h"

#include "store/open.h"
#include "store/sql/sql_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace rapport::sqlite {
namespace {

int64_t Pragma(Connection& c, std::string_view name) {
  int64_t v = -1;
  EXPECT_TRUE(c.Exec("PRAGMA " + std::string(name), {}, [&](const sql::Row& r) { v = r.Int(0); }).ok());
  return v;
}

TEST(SqliteConnectionTest, SynchronousIsNormalUnlessFullIsAsked) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport-sqlite-conn-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "db.sqlite").string();
  {
    auto normal = Connection::Open(path, {});
    ASSERT_TRUE(normal.ok()) << normal.error().message;
    EXPECT_EQ(Pragma(**normal, "synchronous"), 1);  // NORMAL
    auto full = Connection::Open(path, {.synchronous_full = true});
    ASSERT_TRUE(full.ok()) << full.error().message;
    EXPECT_EQ(Pragma(**full, "synchronous"), 2);  // FULL
    std::string mode;
    ASSERT_TRUE((*full)->Exec("PRAGMA journal_mode", {}, [&](const sql::Row& r) { mode = r.Text(0); }).ok());
    EXPECT_EQ(mode, "wal");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::sqlite

namespace rapport::sqlite {
namespace {

// Issue 14: the memory a connection may hold is what the configuration says (page cache and
// memory map), on the writer and on every reader (docs/configuration.md, "SQLite memory").
TEST(SqliteConnectionTest, Issue14CacheAndMmapAreConfigured) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport-sqlite-mem-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "db.sqlite").string();
  {
    auto defaults = Connection::Open(path, {});
    ASSERT_TRUE(defaults.ok()) << defaults.error().message;
    EXPECT_EQ(Pragma(**defaults, "cache_size"), -64 * 1024);
    EXPECT_EQ(Pragma(**defaults, "mmap_size"), int64_t{256} << 20);
    auto small = Connection::Open(path, {.cache_mb = 8, .mmap_mb = 0});
    ASSERT_TRUE(small.ok()) << small.error().message;
    EXPECT_EQ(Pragma(**small, "cache_size"), -8 * 1024);
    EXPECT_EQ(Pragma(**small, "mmap_size"), 0);

    auto store = OpenStore("sqlite:" + path, StoreOptions{.sqlite_cache_mb = 3, .sqlite_mmap_mb = 5});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto* sql_store = dynamic_cast<sql::SqlStore*>(store->get());
    ASSERT_NE(sql_store, nullptr);
    for (bool write : {true, false}) {
      int64_t cache = 0, mmap = -1;
      auto read = [&](sql::Session& s) -> Status {
        RAPPORT_TRY(s.Exec("PRAGMA cache_size", {}, [&](const sql::Row& r) { cache = r.Int(0); }));
        RAPPORT_TRY(s.Exec("PRAGMA mmap_size", {}, [&](const sql::Row& r) { mmap = r.Int(0); }));
        return {};
      };
      ASSERT_TRUE((write ? sql_store->database().Write(read) : sql_store->database().Read(read)).ok());
      EXPECT_EQ(cache, -3 * 1024) << (write ? "writer" : "reader");
      EXPECT_EQ(mmap, int64_t{5} << 20) << (write ? "writer" : "reader");
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::sqlite
