// Api::Admit: what is refused on the request line and headers alone, before a body is read, and
// the per-client limits on failed keys and public pages.
#include <gtest/gtest.h>

#include "http/api_test_fixture.h"

namespace rapport::http {
namespace {

using namespace std::chrono_literals;

class AdmissionTest : public ApiTest {
 protected:
  // The same API over a clock the test moves (the limits refill with time).
  void SetUp() override {
    ApiTest::SetUp();
    ApiOptions opts;
    opts.public_url = "https://mail.shop.example";
    opts.link_secret = std::string(32, 's');
    opts.sender.from = mail::Mailbox{"Tea Shop", EmailAddress{"hello", "shop.example"}};
    api_ = std::make_unique<Api>(*env_->store, clock_, opts);
  }
  FakeClock clock_{FromMicros(1'800'000'000'000'000)};
  Request Head(std::string method, std::string path, const std::string* key,
               std::string ip = "198.51.100.4") {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    if (key) r.headers.emplace_back("authorization", "Bearer " + *key);
    r.headers.emplace_back("content-type", "application/json");
    r.peer_ip = std::move(ip);
    return r;
  }
};

TEST_F(AdmissionTest, RefusesAMissingOrWrongKeyOnTheHeadersAlone) {
  auto none = api_->Admit(Head("POST", "/api/v1/events", nullptr));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  std::string wrong = "rk_live_not_a_key";
  auto bad = api_->Admit(Head("POST", "/api/v1/events", &wrong));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  auto scope = api_->Admit(Head("POST", "/api/v1/events", &reader_));
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->status, 403);
  auto unknown = api_->Admit(Head("POST", "/api/v1/nothing", &admin_));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  Request no_json = Head("POST", "/api/v1/events", &writer_);
  no_json.headers.pop_back();
  ASSERT_TRUE(api_->Admit(no_json));
  EXPECT_EQ(api_->Admit(no_json)->status, 415);
  // A good request is admitted: the server reads its body and calls HandleAdmitted.
  Request good = Head("POST", "/api/v1/events", &writer_);
  EXPECT_FALSE(api_->Admit(good));
  good.body = R"({"events":[{"name":"page_viewed","email":"ann@example.com"}]})";
  EXPECT_EQ(api_->HandleAdmitted(good).status, 202);
}

TEST_F(AdmissionTest, TooManyFailedKeysFromOneClientGet429WithRetryAfter) {
  std::string wrong = "rk_live_guess";
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(api_->Admit(Head("GET", "/api/v1/contacts", &wrong))->status, 401) << i;
  auto refused = api_->Admit(Head("GET", "/api/v1/contacts", &wrong));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(ErrorOf(*refused).first, "too_many_requests");
  bool has_retry_after = false;
  for (const auto& [k, v] : refused->headers)
    if (k == "Retry-After") has_retry_after = std::stoi(v) >= 1;
  EXPECT_TRUE(has_retry_after);
  // While refused, a good key from the same address waits too; other addresses do not.
  EXPECT_EQ(api_->Admit(Head("GET", "/api/v1/contacts", &reader_))->status, 429);
  EXPECT_FALSE(api_->Admit(Head("GET", "/api/v1/contacts", &reader_, "198.51.100.5")));
  // Handle() applies the same limit (a request that did not go through Admit first).
  Request whole = Head("GET", "/api/v1/contacts", &reader_);
  EXPECT_EQ(api_->Handle(whole).status, 429);
  // A good key that was admitted is not counted again.
  clock_.Advance(1h);
  EXPECT_EQ(api_->HandleAdmitted(whole).status, 200);
}

TEST_F(AdmissionTest, PublicPagesAreRateLimitedPerClient) {
  int refused = 0;
  for (int i = 0; i < 150; ++i) {
    auto r = api_->Admit(Head("GET", "/u/not-a-token", nullptr));
    if (r && r->status == 429) ++refused;
  }
  EXPECT_EQ(refused, 50);  // a burst of 5 x 20 per second, and no time passes
  clock_.Advance(1s);
  EXPECT_FALSE(api_->Admit(Head("GET", "/u/not-a-token", nullptr)));
}

}  // namespace
}  // namespace rapport::http
