// Test helper for http/ tests: a TempSqliteStore (workspace "test") on the system clock, and a
// way to mint API keys. Header only, for tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/store.h"
#include "http/api_key.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::http {

// The clock is a base so that it is built before the store that reads it.
struct TestStoreClock {
  SystemClock clock;
};

struct TestStore : TestStoreClock, TempSqliteStore {
  TestStore() : TempSqliteStore(clock, "test") {}

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
};

}  // namespace rapport::http
