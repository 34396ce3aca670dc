// OpenStore: which backend a URL or path selects, and how it fails.
#include "store/open.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace rapport {
namespace {

class OpenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rapport-open-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(OpenStoreTest, SqliteFormsCreateTheFileAndItsDirectory) {
  for (std::string prefix : {"sqlite:", "sqlite://", ""}) {
    std::filesystem::path file = dir_ / ("form" + std::to_string(prefix.size())) / "nested" / "rapport.db";
    auto store = OpenStore(prefix + file.string());
    ASSERT_TRUE(store.ok()) << prefix << ": " << store.error().message;
    EXPECT_EQ((*store)->Backend(), "sqlite");
    auto v = (*store)->Migrate();
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_GE(*v, 1);
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  }
}

TEST_F(OpenStoreTest, SqliteSynchronousOption) {
  for (std::string option : {"?synchronous=full", "?synchronous=normal", "?"}) {
    std::filesystem::path file = dir_ / ("sync" + std::to_string(option.size())) / "rapport.db";
    auto store = OpenStore("sqlite:" + file.string() + option);
    ASSERT_TRUE(store.ok()) << option << ": " << store.error().message;
    ASSERT_TRUE((*store)->Migrate().ok());
    EXPECT_TRUE(std::filesystem::exists(file)) << file;  // the option is not part of the name
  }
  auto bad = OpenStore("sqlite:" + (dir_ / "bad.db").string() + "?synchronous=off");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(bad.error().field, "database");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.db"));
}

TEST_F(OpenStoreTest, EmptyNameIsInvalid) {
  auto store = OpenStore("sqlite:");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store.error().field, "database");
}

TEST_F(OpenStoreTest, UnreachablePostgresIsUnavailable) {
  for (std::string url : {"postgres:///rapport?host=/nonexistent-rapport-dir&port=1",
                          "postgresql:///rapport?host=/nonexistent-rapport-dir&port=1"}) {
    auto store = OpenStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().code, ErrorCode::kUnavailable) << store.error().message;
  }
}

TEST_F(OpenStoreTest, SqliteFileThatCannotBeCreatedIsUnavailable) {
  std::filesystem::create_directories(dir_);
  std::filesystem::path blocker = dir_ / "file";
  { std::ofstream(blocker) << "x"; }
  auto store = OpenStore((blocker / "db.sqlite").string());  // a directory under a plain file
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
}

// Issue 14 item 3: a store URL's password never shows in an error (libpq quotes malformed URIs).
TEST_F(OpenStoreTest, Issue14PostgresErrorsNeverShowThePassword) {
  for (std::string url : {"postgres://rapport:hunter2@[::1", "postgresql://rapport:hunter2@127.0.0.1:1/x",
                          "postgres://rapport:hunter2@/x?sslmode=bogus",
                          "postgres://rapport:hunt%65r2@127.0.0.1:1/x?connect_timeout=1"}) {
    auto store = OpenStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().message.find("hunter2"), std::string::npos) << store.error().message;
    EXPECT_EQ(store.error().message.find("hunt%65r2"), std::string::npos) << store.error().message;
  }
}

}  // namespace
}  // namespace rapport
