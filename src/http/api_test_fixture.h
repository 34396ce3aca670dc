// The fixture of the API tests: an Api over a real SQLite store in a temp dir, keys of each
// scope, and helpers to call it and read errors. Test-only (header only).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "http/api.h"
#include "http/json_codec.h"
#include "http/test_store.h"

namespace rapport::http {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<TestStore>();
    ws_ = env_->workspace;
    admin_ = env_->AddKey(ws_, "admin", kScopeAdmin);
    writer_ = env_->AddKey(ws_, "writer", kScopeWrite);
    reader_ = env_->AddKey(ws_, "reader", kScopeRead);
    ApiOptions opts;
    opts.max_events_per_request = 5;
    opts.public_url = "https://mail.shop.example";
    opts.link_secret = std::string(32, 's');
    opts.sender.from = mail::Mailbox{"Tea Shop", EmailAddress{"hello", "shop.example"}};
    opts.sender.bounce_address = "bounces@shop.example";
    opts.on_queued = [this](MessageClass) { ++queued_wakeups_; };
    api_ = std::make_unique<Api>(*env_->store, env_->clock, opts);
  }

  Response Call(std::string method, std::string path, std::string body = {}, const std::string* key = nullptr,
                std::string content_type = "application/json") {
    Request r;
    r.method = std::move(method);
    size_t q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = ParseQuery(path.substr(q + 1));
    if (key) r.headers.emplace_back("authorization", "Bearer " + *key);
    if (!body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH")
      if (!content_type.empty()) r.headers.emplace_back("content-type", content_type);
    r.headers.emplace_back("user-agent", "api-test/1.0");
    r.body = std::move(body);
    r.peer_ip = "192.0.2.7";
    return api_->Handle(r);
  }
  Response Admin(std::string method, std::string path, std::string body = {}) {
    return Call(std::move(method), std::move(path), std::move(body), &admin_);
  }
  static json::value Json(const Response& r) {
    auto v = ParseJson(r.body);
    EXPECT_TRUE(v.ok()) << r.body;
    return v.ok() ? *v : json::value();
  }
  // Checks the error shape and returns {code, field}.
  static std::pair<std::string, std::string> ErrorOf(const Response& r) {
    json::value v = Json(r);
    EXPECT_TRUE(v.is_object() && v.as_object().size() == 1 && v.as_object().contains("error")) << r.body;
    const json::object& e = v.at("error").as_object();
    EXPECT_FALSE(e.at("message").as_string().empty());
    std::string field = e.at("field").is_null() ? "" : std::string(e.at("field").as_string());
    return {std::string(e.at("code").as_string()), field};
  }
  int64_t CreateContact(const std::string& email) {
    Response r = Admin("POST", "/api/v1/contacts", R"({"email":")" + email + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r).at("id").as_int64();
  }

  std::unique_ptr<TestStore> env_;
  WorkspaceId ws_ = 0;
  std::string admin_, writer_, reader_;
  std::unique_ptr<Api> api_;
  int queued_wakeups_ = 0;
};

}  // namespace rapport::http
