// SqlContactStore::Import's set path (new contacts written set-based on SQLite) against its row
// path (every row through UpsertContactIn) on the same random imports: the same results row for
// row, the same contacts and change events afterwards, and the same next id.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "store/sql/codec.h"
#include "store/sql/sql_contact_import.h"
#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/testing/store_dump.h"

namespace rapport::sql {
namespace {

const Timestamp kT0 = FromMicros(1'790'000'000'000'000);

class ContactImportPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rapport-contact-import-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (auto [name, store] : {std::pair{"set.db", &set_}, std::pair{"rows.db", &rows_}}) {
      auto opened = OpenSqliteStore((dir_ / name).string(), clock_);
      ASSERT_TRUE(opened.ok()) << opened.error().message;
      *store = std::move(opened).value();
      ASSERT_TRUE((*store)->Migrate().ok());
      ASSERT_EQ((*store)->workspaces().Create("acme")->id, ws_);
    }
    dynamic_cast<SqlContactStore&>(rows_->contacts()).SetSetBasedImport(false);
  }
  void TearDown() override {
    set_.reset();
    rows_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> Dump(Store& s) { return testing::DumpWorkspace(s, ws_); }

  // Runs the same import on both stores; expects the same result for every row.
  void ImportBoth(const std::vector<ContactInput>& rows, int round) {
    std::vector<std::string> got, want;
    auto describe = [](std::vector<std::string>& out) {
      return [&out](size_t i, const Result<UpsertResult>& r) {
        out.push_back(std::to_string(i) + " " +
                      (r.ok() ? (r->created ? "created c" : "updated c") + std::to_string(r->contact.id) +
                                    " " + r->contact.email + " " + json::serialize(r->contact.attributes) +
                                    " " + std::to_string(ToMicros(r->contact.created_at))
                              : std::string(ErrorCodeName(r.error().code)) + " '" + r.error().message + "' " +
                                    r.error().field));
      };
    };
    ASSERT_TRUE(set_->contacts().Import(ws_, rows, describe(got)).ok());
    ASSERT_TRUE(rows_->contacts().Import(ws_, rows, describe(want)).ok());
    ASSERT_EQ(got.size(), rows.size());
    ASSERT_EQ(want.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(got[i], want[i]) << "round " << round;
  }

  FakeClock clock_{kT0};
  const WorkspaceId ws_ = 1;
  std::filesystem::path dir_;
  std::unique_ptr<Store> set_, rows_;
};

TEST_F(ContactImportPathsTest, RandomImportsMatchTheRowPath) {
  const int64_t set_path_before = ContactsImportedBySetPath();
  std::mt19937 rng(20261207);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const ContactStatus statuses[] = {ContactStatus::kActive, ContactStatus::kUnsubscribed,
                                    ContactStatus::kBounced};
  for (int round = 0; round < 8; ++round) {
    std::vector<ContactInput> rows;
    // Some rounds span more than one transaction (kImportBatch rows each).
    const int size =
        round % 3 == 1 ? static_cast<int>(SqlContactStore::kImportBatch) + 1 + pick(700) : 1 + pick(900);
    for (int i = 0; i < size; ++i) {
      ContactInput in;
      const int who = pick(round % 3 == 1 ? 9000 : 1500);
      switch (pick(8)) {
        case 0: in.external_id = "ext-" + std::to_string(who); break;
        case 1:
          in.email = "both" + std::to_string(who) + "@example.com";
          in.external_id = "ext-" + std::to_string(pick(1500));  // may belong to another contact
          break;
        case 2: in.email = "User" + std::to_string(who) + "@Example.com"; break;  // a letter-case variant
        case 3: break;                                                            // neither: refused
        default: in.email = "user" + std::to_string(who) + "@example.com";
      }
      if (pick(3) == 0) in.status = statuses[pick(3)];
      if (pick(2) == 0)
        in.attributes = json::object{{"plan", pick(2) ? "pro" : "free"}, {"score", pick(100) + 0.5}};
      if (pick(10) == 0) {  // a null removes the attribute (and is never stored)
        if (!in.attributes) in.attributes = json::object{};
        (*in.attributes)["gone"] = nullptr;
      }
      if (pick(4) == 0) in.timezone = "Europe/Paris";
      if (pick(4) == 0) in.locale = "fr-FR";
      if (pick(60) == 0) in.email = "not an address";  // invalid
      rows.push_back(std::move(in));
    }
    ImportBoth(rows, round);
    if (round == 4) {  // a tombstone: the workspace's later imports take the row path in both
      ContactId victim = 1 + pick(50);
      EXPECT_EQ(set_->contacts().Erase(ws_, victim).ok(), rows_->contacts().Erase(ws_, victim).ok());
    }
    clock_.Advance(Micros(1000));
  }
  EXPECT_EQ(Dump(*set_), Dump(*rows_));
  // The set path wrote most new contacts of one side (the row path all of the other's).
  EXPECT_GT(ContactsImportedBySetPath() - set_path_before, 3000);
  // The next id is the same (the set path's explicit ids moved the AUTOINCREMENT mark).
  ContactInput next;
  next.email = "next@example.com";
  auto a = set_->contacts().Create(ws_, next);
  auto b = rows_->contacts().Create(ws_, next);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
}

TEST_F(ContactImportPathsTest, AFreshImportCreatesEveryContactInOrderWithItsEvent) {
  std::vector<ContactInput> rows;
  for (int i = 0; i < 300; ++i) {
    ContactInput in;
    in.email = "fresh" + std::to_string(i) + "@example.com";
    in.external_id = "x" + std::to_string(i);
    rows.push_back(std::move(in));
  }
  int created = 0;
  const int64_t set_path_before = ContactsImportedBySetPath();
  ASSERT_TRUE(
      set_->contacts()
          .Import(ws_, rows, [&](size_t, const Result<UpsertResult>& r) { created += r.ok() && r->created; })
          .ok());
  EXPECT_EQ(created, 300);
  EXPECT_EQ(ContactsImportedBySetPath() - set_path_before, 300);
  auto c = set_->contacts().GetByExternalId(ws_, "x299");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->id, 300);
  EXPECT_EQ(c->email, "fresh299@example.com");
  EventQuery q;
  q.limit = 10;
  auto page = set_->events().ListForContact(ws_, c->id, q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "contact.imported");
}

}  // namespace
}  // namespace rapport::sql
