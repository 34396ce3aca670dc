// Issue 14 item 8: reads that hold at a million contacts. Speed is measured in bench/contacts,
// never asserted here; what these pin is the shape that makes it: every page of the contact list
// (first, by cursor, by email) and every export chunk is a keyset read of an index in id order,
// with no full scan and no sort of the workspace, on both backends; the export streams the
// workspace in chunks, live contacts only, in id order.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_database.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;

ContactQuery Query(int limit, std::string cursor = {}, std::optional<std::string> email = {}) {
  ContactQuery q;
  q.limit = limit;
  q.cursor = std::move(cursor);
  q.email = std::move(email);
  return q;
}

class ContactScale : public StoreContract {
 protected:
  // The plan the backend chooses for `sql` with `params`, one line per step.
  std::vector<std::string> Plan(const std::string& sql, std::vector<sql::Param> params) {
    auto* store = dynamic_cast<sql::SqlStore*>(store_.get());
    EXPECT_NE(store, nullptr);
    std::vector<std::string> lines;
    if (!store) return lines;
    Status st = store->database().Write([&](sql::Session& s) -> Status {
      lines.clear();
      if (s.pg()) {
        // A handful of rows costs less to scan and sort than to read by an index: with scans
        // priced out, the plan shows whether an index serves the ORDER BY as well as the WHERE.
        RAPPORT_TRY(s.Exec("SET LOCAL enable_seqscan = off", {}));
        RAPPORT_TRY(
            s.Exec("EXPLAIN " + sql, params, [&](const sql::Row& r) { lines.emplace_back(r.Text(0)); }));
        return {};
      }
      RAPPORT_TRY(s.Exec("EXPLAIN QUERY PLAN " + sql, params,
                         [&](const sql::Row& r) { lines.emplace_back(r.Text(3)); }));
      return {};
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return lines;
  }

  static std::string Joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out;
  }

  // Read by `index`: no full scan of contacts; `sorted_by_index` also refuses a sort (the index
  // gives the rows in id order, so a page reads `limit` entries, not the workspace).
  void ExpectIndexRead(const std::vector<std::string>& plan, std::string_view index, bool sorted_by_index) {
    const std::string text = Joined(plan);
    EXPECT_NE(text.find(index), std::string::npos) << "the plan does not use " << index << ":\n" << text;
    if (sorted_by_index) {
      EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << "SQLite sorts the rows:\n" << text;
      EXPECT_EQ(text.find("Sort"), std::string::npos) << "PostgreSQL sorts the rows:\n" << text;
    }
    for (const std::string& line : plan) {
      EXPECT_FALSE(line.starts_with("SCAN")) << "SQLite scans every contact:\n" << text;
      EXPECT_EQ(line.find("Seq Scan"), std::string::npos) << "PostgreSQL scans every contact:\n" << text;
    }
  }
  void ExpectKeysetRead(const std::vector<std::string>& plan, std::string_view index) {
    ExpectIndexRead(plan, index, /*sorted_by_index=*/true);
  }

  void ImportContacts(int n) {
    std::vector<ContactInput> inputs(n);
    for (int i = 0; i < n; ++i) {
      inputs[i].email = "c" + std::to_string(i) + "@example.com";
      inputs[i].attributes = json::object{{"i", i}};
    }
    ASSERT_OK(store_->contacts().Import(ws_, inputs, [](size_t, const Result<UpsertResult>& r) {
      EXPECT_TRUE(r.ok()) << r.error().message;
    }));
  }
};

TEST_P(ContactScale, EveryListPageIsAKeysetReadOfTheLiveIndex) {
  MakeContact("a@example.com");
  const int64_t fetch = 101;
  // The first page and a page by cursor.
  ExpectKeysetRead(Plan(sql::SqlContactStore::ListSql(Query(100)), {ws_, int64_t{0}, fetch}),
                   "contacts_live");
  ExpectKeysetRead(Plan(sql::SqlContactStore::ListSql(Query(100, "x")), {ws_, int64_t{500}, fetch}),
                   "contacts_live");
}

TEST_P(ContactScale, TheEmailFilterIsALookupOfTheEmailKey) {
  MakeContact("a@example.com");
  ContactQuery q = Query(50, "", std::string("a@example.com"));
  auto plan = Plan(sql::SqlContactStore::ListSql(q),
                   {ws_, int64_t{0}, int64_t{51}, std::string_view("a@example.com")});
  // The unique email key: one row at most (PostgreSQL may still put a Sort of that row on top).
  ExpectIndexRead(plan, "email_key", /*sorted_by_index=*/false);
}

TEST_P(ContactScale, EveryExportChunkIsAKeysetReadOfTheLiveIndex) {
  MakeContact("a@example.com");
  ExpectKeysetRead(Plan(sql::SqlContactStore::ChunkSql(), {ws_, int64_t{1000}}), "contacts_live");
}

TEST_P(ContactScale, ForEachStreamsLiveContactsInIdOrderAcrossChunks) {
  ImportContacts(2500);  // three chunks of the export's 1,000
  auto page = store_->contacts().List(ws_, Query(1000));
  ASSERT_OK(page);
  // Erase contacts on both sides of the first chunk boundary.
  std::vector<ContactId> erased = {page->items[0].id, page->items[998].id, page->items[999].id};
  for (ContactId id : erased) ASSERT_OK(store_->contacts().Erase(ws_, id));
  ASSERT_OK(store_->workspaces().Create("other"));

  std::vector<ContactId> seen;
  ASSERT_OK(store_->contacts().ForEach(ws_, [&](const Contact& c) {
    EXPECT_NE(c.status, ContactStatus::kErased);
    EXPECT_EQ(c.workspace_id, ws_);
    seen.push_back(c.id);
    return true;
  }));
  EXPECT_EQ(seen.size(), 2497u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  for (ContactId id : erased) EXPECT_EQ(std::find(seen.begin(), seen.end(), id), seen.end());
  EXPECT_EQ(*store_->contacts().Count(ws_), 2497);

  // Every page of the list, by cursor, gives the same contacts.
  std::vector<ContactId> listed;
  std::string cursor;
  do {
    auto p = store_->contacts().List(ws_, Query(333, cursor));
    ASSERT_OK(p);
    for (const Contact& c : p->items) listed.push_back(c.id);
    cursor = p->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(listed, seen);

  // Stopping early stops the stream.
  int calls = 0;
  ASSERT_OK(store_->contacts().ForEach(ws_, [&](const Contact&) { return ++calls < 1500; }));
  EXPECT_EQ(calls, 1500);
}

// Counts the statements run in write transactions: all of them, and the erasure list's per-address
// lookups (erasure_list.h IsErasedIn).
class CountingDatabase final : public sql::Database {
 public:
  explicit CountingDatabase(std::unique_ptr<sql::Database> inner) : inner_(std::move(inner)) {}
  Status Write(const sql::TxFn& fn) override {
    return inner_->Write([&](sql::Session& s) {
      Counting counting(s, *this);
      return fn(counting);
    });
  }
  Status Read(const sql::TxFn& fn) override { return inner_->Read(fn); }
  sql::Dialect dialect() const override { return inner_->dialect(); }
  int64_t statements = 0;
  int64_t erasure_lookups = 0;

 private:
  class Counting final : public sql::Session {
   public:
    Counting(sql::Session& inner, CountingDatabase& db) : inner_(inner), db_(db) {}
    Result<int64_t> Exec(std::string_view sql, std::span<const sql::Param> params,
                         const sql::RowFn& on_row) override {
      ++db_.statements;
      if (sql.find("email_hash IN") != std::string_view::npos) ++db_.erasure_lookups;
      return inner_.Exec(sql, params, on_row);
    }
    Status ExecScript(std::string_view sql) override { return inner_.ExecScript(sql); }
    sql::Dialect dialect() const override { return inner_.dialect(); }

   private:
    sql::Session& inner_;
    CountingDatabase& db_;
  };
  std::unique_ptr<sql::Database> inner_;
};

// An import into a workspace without tombstones runs no per-address erasure lookup (a keyed hash
// and a query per row, 15% of an import's CPU) and at most three statements per new contact
// (two lookups and the insert; the events go in per batch); once the workspace has a tombstone,
// every address is checked again and the erased one refused.
TEST(ContactScaleSqlite, ImportChecksTheErasureListPerRowOnlyWhenItHoldsSomething) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport-scale-import-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  FakeClock clock{kT0};
  {
    auto opened = sqlite::SqliteDatabase::Open((dir / "import.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto counting = std::make_unique<CountingDatabase>(std::move(opened).value());
    CountingDatabase& db = *counting;
    sql::SqlStore store(std::move(counting), sqlite::SqliteMigrations(), "sqlite", clock);
    store.SetErasureKey("scale-import-key-0123456789abcdef0123");
    ASSERT_OK(store.Migrate());
    WorkspaceId ws = store.workspaces().Create("acme")->id;
    auto import = [&](int from, int n, std::vector<std::string>* refused) {
      std::vector<ContactInput> inputs(n);
      for (int i = 0; i < n; ++i) {
        inputs[i].email = "p" + std::to_string(from + i) + "@example.com";
        inputs[i].external_id = "x" + std::to_string(from + i);
      }
      ASSERT_OK(store.contacts().Import(ws, inputs, [&](size_t i, const Result<UpsertResult>& r) {
        if (!r.ok()) refused->push_back(*inputs[i].email);
      }));
    };
    std::vector<std::string> refused;
    db.statements = db.erasure_lookups = 0;
    import(0, 1000, &refused);
    EXPECT_TRUE(refused.empty());
    EXPECT_EQ(db.erasure_lookups, 0);
    EXPECT_LE(db.statements, 3 * 1000 + 50);  // + per batch: the probe, the events in chunks

    auto erased = store.contacts().GetByEmail(ws, "p7@example.com");
    ASSERT_OK(erased);
    ASSERT_OK(store.contacts().Erase(ws, erased->id));
    db.erasure_lookups = 0;
    import(1000, 100, &refused);
    EXPECT_TRUE(refused.empty());
    EXPECT_EQ(db.erasure_lookups, 100);  // the workspace holds a tombstone: every address checked
    ContactInput again;
    again.email = "P7@example.com";
    std::vector<ContactInput> inputs = {again};
    bool refused_again = false;
    ASSERT_OK(store.contacts().Import(ws, inputs, [&](size_t, const Result<UpsertResult>& r) {
      refused_again = !r.ok() && r.error().message.starts_with("erased:");
    }));
    EXPECT_TRUE(refused_again);
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, ContactScale, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
