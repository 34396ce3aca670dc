// The fixture of the store contract suite (store_contract_test.cpp, feed_contract_test.cpp):
// every case runs against SQLite (a temp file) and against a real PostgreSQL 15 that the suite
// starts itself (tests/pg/pg_fixture.h), once per test binary; the environment that stops it is
// registered in store_contract_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "../../tests/pg/pg_fixture.h"
#include "core/store.h"
#include "store/open.h"
#include "store/sqlite/sqlite_connection.h"

namespace rapport::contract {

// Starts PostgreSQL on first use; stops it when the test binary ends.
class PgEnvironment : public ::testing::Environment {
 public:
  static testing::PgServer* Server(std::string* error) {
    std::lock_guard lock(mu_);
    if (!server_ && error_.empty()) {
      server_ = testing::PgServer::Start(&error_);
      if (!server_ && error_.empty()) error_ = "unknown failure";
    }
    *error = error_;
    return server_.get();
  }
  void TearDown() override {
    std::lock_guard lock(mu_);
    server_.reset();
  }

 private:
  static inline std::mutex mu_;
  static inline std::unique_ptr<testing::PgServer> server_;
  static inline std::string error_;
};

template <typename T>
std::optional<ErrorCode> CodeOf(const Result<T>& r) {
  if (r.ok()) return std::nullopt;
  return r.error().code;
}

inline const Timestamp kT0 = FromMicros(1'790'000'000'000'000);

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    int n = counter++;
    if (GetParam() == "postgres") {
      std::string error;
      testing::PgServer* pg = PgEnvironment::Server(&error);
      ASSERT_NE(pg, nullptr) << "PostgreSQL 15 could not be started for the store contract suite: " << error;
      db_ = "contract_" + std::to_string(getpid()) + "_" + std::to_string(n);
      ASSERT_TRUE(pg->CreateDatabase(db_, &error)) << error;
      url_ = pg->Url(db_);
    } else {
      dir_ = std::filesystem::temp_directory_path() /
             ("rapport-store-" + std::to_string(getpid()) + "-" + std::to_string(n));
      std::filesystem::remove_all(dir_);
      url_ = "sqlite:" + (dir_ / "sub" / "rapport.db").string();
    }
    auto opened = OpenStore(url_, clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    auto v = store_->Migrate();
    ASSERT_TRUE(v.ok()) << v.error().message;
    auto ws = store_->workspaces().Create("acme");
    ASSERT_TRUE(ws.ok()) << ws.error().message;
    ws_ = ws->id;
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Contact MakeContact(const std::string& email, json::object attrs = {}) {
    ContactInput in;
    in.email = email;
    in.attributes = std::move(attrs);
    auto c = store_->contacts().Create(ws_, in);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? *c : Contact{};
  }

  NewEvent EventFor(const std::string& email, const std::string& name, std::optional<std::string> key = {}) {
    NewEvent e;
    e.contact.email = email;
    e.name = name;
    e.properties = {{"n", 1}};
    e.idempotency_key = std::move(key);
    return e;
  }

  OutboxMessage Message(ContactId contact, std::optional<std::string> key = {},
                        MessageClass lane = MessageClass::kTransactional) {
    OutboxMessage m;
    m.workspace_id = ws_;
    m.contact_id = contact;
    m.message_class = lane;
    m.template_name = "welcome";
    m.mail_from = "bounce@acme.test";
    m.rcpt_to = "to@example.com";
    m.subject = "Hello";
    m.mime = std::string("Subject: Hello\r\n\r\nbody \xff\x00 end\r\n", 30);
    m.idempotency_key = std::move(key);
    m.next_attempt_at = kT0;
    return m;
  }

  // Every byte the store holds, to search for what must not be there: on PostgreSQL the pg_dump of
  // the case's database (bytea columns come out in hex); on SQLite, after a checkpoint, the bytes
  // of every file of the store (the database, its WAL and shm). A failure fails the case.
  std::string DumpAll() {
    std::string out;
    if (GetParam() == "postgres") {
      std::string error;
      testing::PgServer* pg = PgEnvironment::Server(&error);
      EXPECT_NE(pg, nullptr) << error;
      if (pg != nullptr) EXPECT_TRUE(pg->Dump(db_, &out, &error)) << error;
      return out;
    }
    {
      auto conn = sqlite::Connection::Open((dir_ / "sub" / "rapport.db").string(), {});
      EXPECT_TRUE(conn.ok()) << conn.error().message;
      if (conn.ok()) {
        Status checkpoint = (*conn)->ExecScript("PRAGMA wal_checkpoint(TRUNCATE)");
        EXPECT_TRUE(checkpoint.ok()) << checkpoint.error().message;
      }
    }
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
  }

  // True for the events a store write records about its own change (feed_contract_test.cpp
  // checks those); the other cases look at the rest.
  static bool IsChangeEvent(std::string_view name) {
    return name.starts_with("contact.") || name.starts_with("topic.");
  }

  // The workspace's events that are not change events.
  int64_t UserEventCount() {
    int64_t n = 0, after = 0;
    while (true) {
      auto events = store_->feed().Read(after, 1000);
      EXPECT_TRUE(events.ok());
      if (!events.ok() || events->empty()) return n;
      for (const Event& e : *events) n += e.workspace_id == ws_ && !IsChangeEvent(e.name);
      after = events->back().position;
    }
  }

  // The contact's timeline without change events.
  std::vector<std::string> TimelineNames(ContactId c) {
    std::vector<std::string> names;  // newest first, every page
    std::string cursor;
    do {
      auto page = store_->events().ListForContact(ws_, c, {.limit = 100, .cursor = cursor});
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      for (auto& e : page->items)
        if (!IsChangeEvent(e.name)) names.push_back(e.name);
      cursor = page->next_cursor;
    } while (!cursor.empty());
    return names;
  }

  FakeClock clock_{kT0};
  std::string url_;
  std::string db_;  // the case's PostgreSQL database
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  WorkspaceId ws_ = 0;
};

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    auto&& r_ = (expr);                                          \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().message; \
  } while (0)

}  // namespace rapport::contract
