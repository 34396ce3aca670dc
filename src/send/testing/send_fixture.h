// The send module's test fixture: a SendService over a real SQLite store (a fresh file per test,
// workspace "shop") and a FakeClock, with the links signed by a fixed key. A test class derives
// from it, calls OpenStore(), adds its templates and topics, then StartService() with the options
// it needs on top of DefaultOptions().
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/clock.h"
#include "mail/header.h"
#include "send/send_service.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::send::testing {

class SendFixture : public ::testing::Test {
 protected:
  explicit SendFixture(Timestamp start = FromMicros(1'700'000'000'000'000)) : clock_(start) {}

  void OpenStore() {
    temp_.emplace(clock_, "shop");
    store_ = temp_->store.get();
    ws_ = temp_->workspace;
  }
  void AddTemplate(std::string name, std::string subject, std::string html, std::string text = "") {
    MessageTemplate t;
    t.workspace_id = ws_;
    t.name = std::move(name);
    t.subject = std::move(subject);
    t.html = std::move(html);
    t.text = std::move(text);
    auto created = store_->templates().Create(t);
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  void AddTopic(std::string key, std::string name, bool double_opt_in = false) {
    Topic t;
    t.workspace_id = ws_;
    t.key = std::move(key);
    t.name = std::move(name);
    t.double_opt_in = double_opt_in;
    auto created = store_->topics().Create(ws_, t);
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  // From "Shop <hello@shop.example>", links under https://mail.shop.example.
  static SendOptions DefaultOptions() {
    SendOptions options;
    options.sender.from = *mail::ParseMailbox("from", "Shop <hello@shop.example>");
    options.public_url = "https://mail.shop.example";
    return options;
  }
  // The link signer: a single key, unless the test set links_ itself.
  void StartService(SendOptions options = DefaultOptions()) {
    if (!links_) links_.emplace(std::move(tracking::LinkSigner::Create(std::string(32, 'k'))).value());
    service_.emplace(*store_, clock_, *links_, std::move(options));
  }

  FakeClock clock_;
  std::optional<TempSqliteStore> temp_;  // the services below are destroyed before it
  Store* store_ = nullptr;
  WorkspaceId ws_ = 0;
  std::optional<tracking::LinkSigner> links_;
  std::optional<SendService> service_;
};

}  // namespace rapport::send::testing
