// SqliteEventStore::Append (batched) against the row-by-row sql::SqlEventStore::Append on the
// same random batches: the same results item for item, and the same rows afterwards.
#include "store/sqlite/sqlite_event_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "store/sql/codec.h"
#include "store/sqlite/sqlite_database.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store/testing/store_dump.h"

namespace rapport::sqlite {
namespace {

const Timestamp kT0 = FromMicros(1'790'000'000'000'000);

class SqliteEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rapport-sqlite-events-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    auto batched = OpenSqliteStore((dir_ / "batched.db").string(), clock_);
    ASSERT_TRUE(batched.ok()) << batched.error().message;
    batched_ = std::move(batched).value();
    auto db = SqliteDatabase::Open((dir_ / "rows.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    rows_ = std::make_unique<sql::SqlStore>(std::move(db).value(), SqliteMigrations(), "sqlite", clock_);
    for (Store* s : {batched_.get(), rows_.get()}) {
      ASSERT_TRUE(s->Migrate().ok());
      ASSERT_EQ(s->workspaces().Create("acme")->id, ws_);
      ASSERT_EQ(s->workspaces().Create("other")->id, ws_ + 1);
    }
  }
  void TearDown() override {
    batched_.reset();
    rows_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> Dump(Store& s) { return testing::DumpWorkspace(s, ws_); }

  FakeClock clock_{kT0};
  const WorkspaceId ws_ = 1;
  std::filesystem::path dir_;
  std::unique_ptr<Store> batched_, rows_;
};

std::string Describe(const AppendResult& r) {
  return std::to_string(static_cast<int>(r.outcome)) + " e" + std::to_string(r.event_id) + " c" +
         std::to_string(r.contact_id) + " " + std::string(ErrorCodeName(r.error.code)) + " '" +
         r.error.message + "' " + r.error.field;
}

TEST_F(SqliteEventStoreTest, RandomBatchesMatchTheRowByRowAppend) {
  std::mt19937 rng(20261123);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  size_t accepted = 0, duplicates = 0, failed = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<NewEvent> batch;
    int size = round % 10 == 0 ? 1 + pick(3) : 1 + pick(300);
    for (int i = 0; i < size; ++i) {
      NewEvent e;
      e.name = pick(50) == 0 ? "" : "event." + std::to_string(pick(5));
      switch (pick(6)) {
        case 0: e.contact.id = 1 + pick(60); break;  // known, unknown, or erased
        case 1: e.contact.external_id = "ext-" + std::to_string(pick(40)); break;
        case 2:
          e.contact.email = "both" + std::to_string(pick(20)) + "@example.com";
          e.contact.external_id = "ext-" + std::to_string(pick(40));
          break;
        default: e.contact.email = "user" + std::to_string(pick(80)) + "@example.com";
      }
      if (pick(40) == 0) e.contact = {};  // names no contact
      e.contact.create_contact = pick(4) != 0;
      e.properties = {{"n", pick(1000)}, {"path", "/p/" + std::to_string(i)}};
      if (pick(200) == 0) e.properties["blob"] = std::string(70 * 1024, 'x');  // too large
      if (pick(3) == 0) e.occurred_at = kT0 - Micros(pick(1'000'000));
      if (pick(3) == 0) e.idempotency_key = "k" + std::to_string(pick(150));
      if (pick(10) == 0)
        e.contact_attributes = json::object{{"plan", pick(2) ? "pro" : "free"}, {"gone", nullptr}};
      batch.push_back(std::move(e));
    }
    auto want = rows_->events().Append(ws_, batch, clock_.Now());
    auto got = batched_->events().Append(ws_, batch, clock_.Now());
    ASSERT_TRUE(want.ok()) << want.error().message;
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(got->size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(Describe((*got)[i]), Describe((*want)[i])) << "round " << round << " item " << i;
      switch ((*want)[i].outcome) {
        case AppendOutcome::kAccepted: ++accepted; break;
        case AppendOutcome::kDuplicate: ++duplicates; break;
        case AppendOutcome::kFailed: ++failed; break;
      }
    }
    if (round % 7 == 3) {  // erase a contact in both; later events naming its id fail
      ContactId victim = 1 + pick(20);
      EXPECT_EQ(rows_->contacts().Erase(ws_, victim).ok(), batched_->contacts().Erase(ws_, victim).ok());
    }
    clock_.Advance(Micros(1000));
  }
  // Every kind of outcome happened.
  EXPECT_GT(accepted, 1000u);
  EXPECT_GT(duplicates, 50u);
  EXPECT_GT(failed, 50u);
  EXPECT_EQ(Dump(*batched_), Dump(*rows_));
  EXPECT_EQ(*batched_->events().Count(ws_), *rows_->events().Count(ws_));
}

TEST_F(SqliteEventStoreTest, LargeBatchesSpanSeveralStatementsAndKeepOrder) {
  // 1,000 + 7 events over 1,007 contacts: several full chunks and every smaller statement size.
  std::vector<NewEvent> batch;
  for (int i = 0; i < 1007; ++i) {
    NewEvent e;
    e.name = "bulk";
    e.contact.email = "bulk" + std::to_string(i) + "@example.com";
    e.properties = {{"i", i}};
    e.idempotency_key = "bulk-" + std::to_string(i % 500);  // the second half duplicates the first
    batch.push_back(std::move(e));
  }
  auto got = batched_->events().Append(ws_, batch, clock_.Now());
  ASSERT_TRUE(got.ok()) << got.error().message;
  for (int i = 0; i < 1007; ++i) {
    const AppendResult& r = (*got)[i];
    if (i < 500) {
      EXPECT_EQ(r.outcome, AppendOutcome::kAccepted) << i;
      EXPECT_EQ(r.event_id, 2 * (i + 1)) << i;  // after its contact's "contact.created"
      EXPECT_EQ(r.contact_id, i + 1) << i;
    } else {
      EXPECT_EQ(r.outcome, AppendOutcome::kDuplicate) << i;
      EXPECT_EQ(r.event_id, (*got)[i % 500].event_id) << i;
    }
  }
  // The duplicates created no contacts.
  EXPECT_EQ(*batched_->contacts().Count(ws_), 500);
  // The same batch again: all duplicates, nothing written.
  auto again = batched_->events().Append(ws_, batch, clock_.Now());
  ASSERT_TRUE(again.ok());
  for (const AppendResult& r : *again) EXPECT_EQ(r.outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ(*batched_->events().Count(ws_), 1000);  // 500 events, 500 "contact.created"
  // Keys are per workspace.
  auto other = batched_->events().Append(ws_ + 1, std::vector<NewEvent>(batch.begin(), batch.begin() + 3),
                                         clock_.Now());
  ASSERT_TRUE(other.ok());
  for (const AppendResult& r : *other) EXPECT_EQ(r.outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*other)[0].event_id, 1002);  // after its contact's "contact.created"
}

TEST_F(SqliteEventStoreTest, EmptyBatchIsEmpty) {
  auto got = batched_->events().Append(ws_, {}, clock_.Now());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

}  // namespace
}  // namespace rapport::sqlite
