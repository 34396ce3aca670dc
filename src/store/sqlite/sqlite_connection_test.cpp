// Connection::Open: the PRAGMAs each connection runs with.
#include "store/sqlite/sqlite_connection.h"

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
