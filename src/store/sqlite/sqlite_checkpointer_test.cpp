// Checkpointer: checkpoints leave the writer's commit for the thread, and the WAL stays bounded
// when the thread cannot keep up.
#include "store/sqlite/sqlite_checkpointer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace rapport::sqlite {
namespace {

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rapport-checkpointer-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "db.sqlite").string();
    auto writer = Connection::Open(path_, {});
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    writer_ = std::move(writer).value();
    ASSERT_TRUE(writer_->ExecScript("CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB NOT NULL)").ok());
  }
  void TearDown() override {
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  // One committed transaction that dirties a few pages.
  void Commit(int i) {
    std::string blob(3000, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(writer_->ExecScript("BEGIN IMMEDIATE").ok());
    ASSERT_TRUE(
        writer_->Exec("INSERT INTO t (id, blob) VALUES ($1, $2)", {int64_t{i}, sql::Blob{blob}}).ok());
    ASSERT_TRUE(writer_->ExecScript("COMMIT").ok());
  }

  // Frames in the WAL now (since its last restart), asked of a connection of its own.
  int WalFrames() const {
    auto conn = Connection::Open(path_, {});
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) return -1;
    int log = -1, done = -1;
    EXPECT_EQ(sqlite3_wal_checkpoint_v2((*conn)->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done),
              SQLITE_OK);
    return log;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Connection> writer_;
};

TEST_F(CheckpointerTest, TheThreadCheckpointsPastTheSoftLimit) {
  auto c = Checkpointer::Start(path_, *writer_, {}, {.soft_frames = 20, .hard_frames = 1'000'000});
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (int i = 0; i < 5; ++i) Commit(i);  // ~10 frames: below the limit
  EXPECT_EQ((*c)->background_checkpoints(), 0);
  int i = 5;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*c)->background_checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    Commit(i++);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT((*c)->background_checkpoints(), 0);
  // The WAL restarts rather than growing: 300 more commits (>= 300 frames) leave it short.
  for (int end = i + 300; i < end; ++i) {
    Commit(i);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT((*c)->background_checkpoints(), 1);
  EXPECT_GT((*c)->inline_checkpoints(), 0);  // the writer completed what the thread started
  c->reset();
  EXPECT_LT(WalFrames(), 150);
  // Everything committed is readable by a new connection.
  auto reader = Connection::Open(path_, {.read_only = true});
  ASSERT_TRUE(reader.ok());
  int64_t rows = 0;
  ASSERT_TRUE(
      (*reader)->Exec("SELECT COUNT(*) FROM t", {}, [&](const sql::Row& r) { rows = r.Int(0); }).ok());
  EXPECT_EQ(rows, i);
}

TEST_F(CheckpointerTest, TheWriterCheckpointsInlinePastTheHardLimit) {
  // A soft limit never reached: only the writer's inline checkpoints keep the WAL bounded.
  auto c = Checkpointer::Start(path_, *writer_, {}, {.soft_frames = 1'000'000, .hard_frames = 30});
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (int i = 0; i < 300; ++i) Commit(i);
  EXPECT_GT((*c)->inline_checkpoints(), 0);
  EXPECT_EQ((*c)->background_checkpoints(), 0);
  c->reset();
  EXPECT_LT(WalFrames(), 60);
}

TEST_F(CheckpointerTest, WithoutLimitsReachedTheWalGrows) {
  // The control for the two tests above: the hook replaced SQLite's automatic checkpoint, so
  // with neither limit reached nothing checkpoints and the WAL keeps every frame.
  auto c = Checkpointer::Start(path_, *writer_, {}, {.soft_frames = 1'000'000, .hard_frames = 1'000'000});
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (int i = 0; i < 300; ++i) Commit(i);
  EXPECT_EQ((*c)->inline_checkpoints() + (*c)->background_checkpoints(), 0);
  c->reset();
  EXPECT_GT(WalFrames(), 300);
}

}  // namespace
}  // namespace rapport::sqlite
