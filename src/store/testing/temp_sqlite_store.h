// For unit tests of the modules above the store: a real SQLite store in a fresh temporary
// directory, migrated, with one workspace; the directory goes with it. Header only (not part of
// rapport_store). A failure to set it up fails the test and aborts it: nothing after it could run.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/store.h"
#include "store/open.h"

namespace rapport {

struct TempSqliteStore {
  // `clock` is the store's clock and must outlive it; `workspace` names the one workspace made.
  TempSqliteStore(const Clock& clock, const std::string& workspace_name) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rapport-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp failed");
    dir = tmpl;
    db_path = dir + "/rapport.db";
    auto opened = OpenStore("sqlite:" + db_path, clock);
    if (!opened.ok()) Fail("OpenStore: " + opened.error().message);
    store = std::move(opened).value();
    auto migrated = store->Migrate();
    if (!migrated.ok()) Fail("Migrate: " + migrated.error().message);
    auto ws = store->workspaces().Create(workspace_name);
    if (!ws.ok()) Fail("workspace: " + ws.error().message);
    workspace = ws->id;
  }
  ~TempSqliteStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempSqliteStore(const TempSqliteStore&) = delete;
  TempSqliteStore& operator=(const TempSqliteStore&) = delete;

  std::string dir;
  std::string db_path;
  std::unique_ptr<Store> store;
  WorkspaceId workspace = 0;

 private:
  [[noreturn]] static void Fail(const std::string& what) {
    ADD_FAILURE() << what;
    std::abort();
  }
};

}  // namespace rapport
