// The tracking hit log and its loader (hit_log.h, hit_loader.h) on a real SQLite store: hits become
// events in order and exactly once, across a crash between a commit and the file's deletion; the
// leftovers of a crashed process are loaded at start; an erased contact's hits are dropped and no
// file keeps them.
#include <gtest/gtest.h>

#include <thread>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "http/hit_loader.h"
#include "http/hit_log.h"
#include "http/test_store.h"

namespace rapport::http {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kConsumer[] = "hit_log/test";

struct HitLogTest : ::testing::Test {
  TestStore db;
  std::string dir = db.dir + "/hits";

  ContactId NewContact(const std::string& email) {
    ContactInput in;
    in.email = email;
    auto c = db.store->contacts().Create(db.workspace, in);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? c->id : 0;
  }

  tracking::HitRecord Hit(ContactId contact, int64_t message, std::string agent = "Mozilla/5.0 (test)") {
    tracking::HitRecord r;
    r.kind = message % 2 ? tracking::HitKind::kClick : tracking::HitKind::kOpen;
    r.workspace_id = db.workspace;
    r.contact_id = contact;
    r.message_id = message;
    r.at = db.clock.Now();
    r.link_index = r.kind == tracking::HitKind::kClick ? 1 : 0;
    r.url = r.kind == tracking::HitKind::kClick ? "https://shop.example/b" : "";
    r.message_class = "marketing";
    r.user_agent = std::move(agent);
    r.ip = "192.0.2.0";
    r.method = "GET";
    return r;
  }

  std::unique_ptr<HitLog> OpenLog(int64_t segment_bytes = 8 << 20,
                                  std::chrono::milliseconds segment_age = 1000ms) {
    auto loaded = HitLoader::LoadedPosition(db.store->feed(), kConsumer);
    EXPECT_TRUE(loaded.ok());
    auto log = HitLog::Open({dir, 10ms, segment_bytes, segment_age}, loaded.ok() ? *loaded : 0);
    EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().message);
    return log.ok() ? std::move(log).value() : nullptr;
  }

  std::unique_ptr<HitLoader> StartLoader(HitLog& log, HitLoaderOptions options = {}) {
    options.consumer = kConsumer;
    auto loaded = HitLoader::LoadedPosition(db.store->feed(), kConsumer);
    EXPECT_TRUE(loaded.ok());
    return std::make_unique<HitLoader>(log, db.store->events(), db.clock, loaded.ok() ? *loaded : 0, options);
  }

  // The message_id of every hit event of `contact`, oldest first.
  std::vector<int64_t> HitMessages(ContactId contact) {
    EventQuery q;
    q.limit = 1000;
    auto page = db.store->events().ListForContact(db.workspace, contact, q);
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
    std::vector<int64_t> out;
    if (!page.ok()) return out;
    for (const Event& e : page->items)
      if (e.name == "email_opened" || e.name == "email_clicked")
        out.insert(out.begin(), e.properties.at("message_id").as_int64());
    return out;
  }

  // Every byte of every file under the hit log's directory.
  std::string FilesText() {
    std::string all;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream s;
      s << in.rdbuf();
      all += s.str();
    }
    return all;
  }
  size_t FileCount() {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }
};

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST_F(HitLogTest, HitsBecomeEventsInOrderAndTheirFilesAreDeleted) {
  ContactId ada = NewContact("ada@example.com");
  auto log = OpenLog();
  auto loader = StartLoader(*log);
  for (int64_t m = 0; m < 50; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
  ASSERT_TRUE(loader->Drain(10s).ok());
  EXPECT_EQ(HitMessages(ada), Range(0, 50));
  EXPECT_EQ(loader->stats().loaded, 50u);
  EXPECT_EQ(FileCount(), 1u);  // the current segment, empty
  EXPECT_EQ(FilesText(), "");
  EXPECT_EQ(log->stats().pending_bytes, 0);
  // The committed position is where the log ends.
  EXPECT_EQ(*db.store->feed().Position(kConsumer), log->end());
}

// The loader reads the segment being written as it grows: no file is made per turn, and a hit
// written after a turn wakes the loader at once (not at its one-second timeout).
TEST_F(HitLogTest, TheCurrentSegmentIsLoadedAsItGrowsAndKeptUntilItIsClosed) {
  ContactId ada = NewContact("ada@example.com");
  auto log = OpenLog(8 << 20, /*segment_age=*/60s);
  auto loader = StartLoader(*log);
  auto loaded = [&](uint64_t n) {
    for (int i = 0; i < 400 && loader->stats().loaded < n; ++i) std::this_thread::sleep_for(5ms);
    return loader->stats().loaded;
  };
  for (int64_t m = 0; m < 10; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
  EXPECT_EQ(loaded(10), 10u);
  auto start = std::chrono::steady_clock::now();
  for (int64_t m = 10; m < 20; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
  EXPECT_EQ(loaded(20), 20u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(HitMessages(ada), Range(0, 20));
  EXPECT_EQ(FileCount(), 1u);  // the one segment, still being written
  EXPECT_NE(FilesText(), "");  // and holding the loaded hits until it is closed
  EXPECT_EQ(log->stats().pending_bytes, log->end());
  ASSERT_TRUE(loader->Drain(10s).ok());  // an erasure's drain closes and deletes it
  EXPECT_EQ(FilesText(), "");
  EXPECT_EQ(log->stats().pending_bytes, 0);
  EXPECT_EQ(HitMessages(ada), Range(0, 20));
}

// A loaded hit stays on disk about segment_age: the segment is then closed and deleted, hits or not.
TEST_F(HitLogTest, ALoadedSegmentIsDeletedOnceItIsSegmentAgeOld) {
  ContactId ada = NewContact("ada@example.com");
  auto log = OpenLog(8 << 20, /*segment_age=*/50ms);
  auto loader = StartLoader(*log);
  for (int64_t m = 0; m < 5; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
  auto start = std::chrono::steady_clock::now();
  while (FilesText() != "" && std::chrono::steady_clock::now() - start < 10s)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(FilesText(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // the age, then the loader's next wake
  EXPECT_EQ(HitMessages(ada), Range(0, 5));
}

TEST_F(HitLogTest, ASegmentIsClosedOnceItHoldsSegmentBytes) {
  ContactId ada = NewContact("ada@example.com");
  auto log = OpenLog(/*segment_bytes=*/1000);  // a handful of hits each
  auto loader = StartLoader(*log);
  for (int64_t m = 0; m < 200; ++m) {
    ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
    if (m % 25 == 0) std::this_thread::sleep_for(10ms);  // turns in between
  }
  for (int i = 0; i < 400 && loader->stats().loaded < 200; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(loader->stats().loaded, 200u);
  EXPECT_EQ(HitMessages(ada), Range(0, 200));
  EXPECT_LE(FileCount(), 2u);  // the loaded closed ones are deleted
  // The current one, past segment_bytes, is closed and deleted at the loader's next turn (within
  // its one-second wait), hits or not.
  for (int i = 0; i < 500 && log->stats().pending_bytes > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(log->stats().pending_bytes, 0);
  EXPECT_EQ(*db.store->feed().Position(kConsumer), log->end());
}

// The fast lane's batches: on a thread that defers, a hit is written only at FlushDeferred (all of
// the batch's with one write), and its continuation runs after that write, with its outcome.
TEST_F(HitLogTest, DeferredHitsAreWrittenTogetherBeforeTheirContinuationsRun) {
  ContactId ada = NewContact("ada@example.com");
  auto log = OpenLog();
  std::thread lane([&] {
    log->DeferOnThisThread();
    std::vector<int> answered;
    for (int64_t m = 0; m < 5; ++m)
      log->AppendThen(Hit(ada, m), [&answered, &log, m](Status st) {
        EXPECT_TRUE(st.ok());
        EXPECT_GE(log->end(), 1);  // written before it is answered
        answered.push_back(static_cast<int>(m));
      });
    EXPECT_TRUE(answered.empty());
    EXPECT_EQ(log->stats().hits, 0u);  // nothing written yet
    log->FlushDeferred();
    EXPECT_EQ(answered, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(log->stats().hits, 5u);
    log->FlushDeferred();  // nothing left: nothing happens
    EXPECT_EQ(log->stats().hits, 5u);
  });
  lane.join();
  // Another thread does not defer: written, then answered, at once.
  bool answered = false;
  log->AppendThen(Hit(ada, 5), [&](Status st) {
    EXPECT_TRUE(st.ok());
    answered = true;
  });
  EXPECT_TRUE(answered);
  auto loader = StartLoader(*log);
  ASSERT_TRUE(loader->Drain(10s).ok());
  EXPECT_EQ(HitMessages(ada), Range(0, 6));
}

TEST_F(HitLogTest, ACrashBetweenACommitAndTheDeletionLoadsNothingTwice) {
  ContactId ada = NewContact("ada@example.com");
  // Crash after the 2nd commit of 3-hit batches (mid-segment), then after the last commit of a
  // segment (before its deletion).
  for (int crash_after : {2, 4}) {
    SCOPED_TRACE(crash_after);
    size_t before = HitMessages(ada).size();
    int64_t base = static_cast<int64_t>(before);
    {
      auto log = OpenLog();
      for (int64_t m = base; m < base + 12; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
      int commits = 0;
      HitLoaderOptions options;
      options.max_batch = 3;
      options.after_commit = [&] { return ++commits < crash_after; };
      auto loader = StartLoader(*log, options);
      EXPECT_FALSE(loader->Drain(10s).ok());  // it stopped, as a killed process would
      loader.reset();
    }  // the log goes too; its files stay
    EXPECT_EQ(HitMessages(ada).size(), before + 3 * static_cast<size_t>(crash_after));
    EXPECT_NE(FilesText(), "");  // the segment holding them stays (loaded up to the crash, not deleted)
    auto log = OpenLog();
    auto loader = StartLoader(*log);
    ASSERT_TRUE(loader->Drain(10s).ok());
    EXPECT_EQ(HitMessages(ada), Range(0, base + 12));  // each hit once, in order
    EXPECT_EQ(FileCount(), 1u);
  }
}

TEST_F(HitLogTest, TheLeftoversOfAKilledProcessAreLoadedAtStartAndATornTailIsSkipped) {
  ContactId ada = NewContact("ada@example.com");
  std::string segment;
  {
    auto log = OpenLog();  // no loader: the process dies before loading
    for (int64_t m = 0; m < 5; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
    for (const auto& entry : fs::directory_iterator(dir)) segment = entry.path().string();
  }
  {
    std::ofstream torn(segment, std::ios::binary | std::ios::app);
    torn << std::string("\x40\x00\x00\x00garbage", 11);  // a frame cut short by a power loss
  }
  auto log = OpenLog();
  for (int64_t m = 5; m < 8; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());  // after the leftovers
  auto loader = StartLoader(*log);
  ASSERT_TRUE(loader->Drain(10s).ok());
  EXPECT_EQ(HitMessages(ada), Range(0, 8));
  EXPECT_FALSE(fs::exists(segment));
  EXPECT_EQ(FileCount(), 1u);
}

TEST_F(HitLogTest, AnErasedContactsHitsAreDroppedAndNoFileKeepsThem) {
  ContactId ada = NewContact("ada@example.com");
  ContactId bob = NewContact("bob@example.com");
  auto log = OpenLog();
  for (int64_t m = 0; m < 20; ++m) {
    ASSERT_TRUE(log->Append(Hit(ada, m, "AdaSecretAgent/1.0")).ok());
    ASSERT_TRUE(log->Append(Hit(bob, m)).ok());
  }
  EXPECT_NE(FilesText().find("AdaSecretAgent"), std::string::npos);
  ASSERT_TRUE(db.store->contacts().Erase(db.workspace, ada).ok());  // before the loader ran
  auto loader = StartLoader(*log);
  ASSERT_TRUE(loader->Drain(10s).ok());
  EXPECT_EQ(FilesText().find("AdaSecretAgent"), std::string::npos);
  EXPECT_EQ(FileCount(), 1u);
  EXPECT_EQ(loader->stats().dropped, 20u);
  EXPECT_EQ(HitMessages(bob), Range(0, 20));
}

TEST_F(HitLogTest, HitsOfSeveralWorkspacesKeepTheirOrder) {
  auto other = db.store->workspaces().Create("other");
  ASSERT_TRUE(other.ok());
  ContactId ada = NewContact("ada@example.com");
  ContactInput in;
  in.email = "cy@example.com";
  auto cy = db.store->contacts().Create(other->id, in);
  ASSERT_TRUE(cy.ok());
  auto log = OpenLog();
  for (int64_t m = 0; m < 30; ++m) {
    tracking::HitRecord r = Hit(ada, m);
    if (m % 3 == 0) {
      r.workspace_id = other->id;
      r.contact_id = cy->id;
    }
    ASSERT_TRUE(log->Append(r).ok());
  }
  auto loader = StartLoader(*log);
  ASSERT_TRUE(loader->Drain(10s).ok());
  std::vector<int64_t> want_ada, want_cy;
  for (int64_t m = 0; m < 30; ++m) (m % 3 == 0 ? want_cy : want_ada).push_back(m);
  EXPECT_EQ(HitMessages(ada), want_ada);
  auto page = db.store->feed().Read(0, 1000);
  ASSERT_TRUE(page.ok());
  std::vector<int64_t> feed_order;
  for (const Event& e : *page)
    if (e.name == "email_opened" || e.name == "email_clicked")
      feed_order.push_back(e.properties.at("message_id").as_int64());
  EXPECT_EQ(feed_order, Range(0, 30));  // the feed has them in the order they were written
}

TEST_F(HitLogTest, APositionNeverGoesBackAfterTheFilesAreGone) {
  ContactId ada = NewContact("ada@example.com");
  int64_t end = 0;
  {
    auto log = OpenLog();
    auto loader = StartLoader(*log);
    for (int64_t m = 0; m < 10; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
    ASSERT_TRUE(loader->Drain(10s).ok());
    end = log->end();
  }
  fs::remove_all(dir);  // an operator deleted the directory
  auto log = OpenLog();
  EXPECT_EQ(log->end(), end);
  auto loader = StartLoader(*log);
  for (int64_t m = 10; m < 15; ++m) ASSERT_TRUE(log->Append(Hit(ada, m)).ok());
  ASSERT_TRUE(loader->Drain(10s).ok());
  EXPECT_EQ(HitMessages(ada), Range(0, 15));
}

}  // namespace
}  // namespace rapport::http
