// Test helper for http/ tests: a real SQLite store in a fresh temp dir, migrated, with one
// workspace and a way to mint API keys. Not part of the library (header only, tests include it).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/store.h"
#include "http/api_key.h"
#include "store/open.h"

namespace rapport::http {

struct TestStore {
  TestStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rapport-http-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (!made) ADD_FAILURE() << "mkdtemp failed";
    dir = tmpl;
    db_path = dir + "/rapport.db";
    auto opened = OpenStore("sqlite:" + db_path, clock);
    if (!opened.ok()) {
      ADD_FAILURE() << "OpenStore: " << opened.error().message;
      std::abort();
    }
    store = std::move(opened).value();
    auto migrated = store->Migrate();
    if (!migrated.ok()) {
      ADD_FAILURE() << "Migrate: " << migrated.error().message;
      std::abort();
    }
    auto ws = store->workspaces().Create("test");
    if (!ws.ok()) {
      ADD_FAILURE() << "workspace: " << ws.error().message;
      std::abort();
    }
    workspace = ws->id;
  }
  ~TestStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // Stores a new key with these scopes and returns the key itself.
  std::string AddKey(WorkspaceId ws, const std::string& name, Scopes scopes) {
    std::string secret = GenerateApiKey();
    ApiKey k;
    k.workspace_id = ws;
    k.name = name;
    k.prefix = secret.substr(0, kApiKeyShownPrefix);
    k.hash = HashApiKey(secret);
    k.scopes = scopes;
    k.created_at = clock.Now();
    auto created = store->keys().Create(k);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    return secret;
  }

  SystemClock clock;
  std::string dir;
  std::string db_path;
  std::unique_ptr<Store> store;
  WorkspaceId workspace = 0;
};

}  // namespace rapport::http
