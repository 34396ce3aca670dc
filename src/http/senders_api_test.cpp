// /api/v1/senders and the "from" of POST /api/v1/messages, through Api::Handle against a real
// SQLite store (no DKIM key is configured here: marketing from a sender is refused).
#include <gtest/gtest.h>

#include "http/api_test_fixture.h"

namespace rapport::http {
namespace {

using CodeField = std::pair<std::string, std::string>;

class SendersApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    Response t = Admin("POST", "/api/v1/templates",
                       R"({"name":"hello","subject":"Hi from {{ sender.name }}","text":"Hello"})");
    ASSERT_EQ(t.status, 201) << t.body;
  }
  int64_t CreateSender(const std::string& body) {
    Response r = Call("POST", "/api/v1/senders", body, &writer_);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r).at("id").as_int64() : 0;
  }
};

TEST_F(SendersApiTest, CreateReadUpdateDelete) {
  int64_t id = CreateSender(
      R"({"name":"Shop News","email":"news@Shop.Example","reply_to":"help@shop.example","postal_address":"1 Main St"})");
  Response got = Call("GET", "/api/v1/senders/" + std::to_string(id), {}, &reader_);
  ASSERT_EQ(got.status, 200) << got.body;
  json::value s = Json(got);
  EXPECT_EQ(s.at("email").as_string(), "news@shop.example");
  EXPECT_EQ(s.at("domain").as_string(), "shop.example");
  EXPECT_EQ(s.at("reply_to").at("email").as_string(), "help@shop.example");
  EXPECT_TRUE(s.at("default").as_bool());
  Response list = Call("GET", "/api/v1/senders", {}, &reader_);
  ASSERT_EQ(Json(list).at("data").as_array().size(), 1u);

  Response put = Call("PUT", "/api/v1/senders/" + std::to_string(id),
                      R"({"name":"News","email":"news@shop.example","reply_to":null})", &writer_);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_TRUE(Json(put).at("reply_to").is_null());
  EXPECT_EQ(Json(put).at("postal_address").as_string(), "");
  EXPECT_EQ(Call("DELETE", "/api/v1/senders/" + std::to_string(id), {}, &writer_).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/senders/" + std::to_string(id), {}, &reader_).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/senders/" + std::to_string(id), {}, &writer_).status, 404);
  // Writes need the write scope.
  EXPECT_EQ(Call("POST", "/api/v1/senders", R"({"email":"a@shop.example"})", &reader_).status, 403);
}

TEST_F(SendersApiTest, ErrorsAreJsonAndNameTheField) {
  CreateSender(R"({"email":"news@shop.example"})");
  Response r = Call("POST", "/api/v1/senders", R"({"email":"NEWS@shop.example"})", &writer_);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorOf(r), (CodeField{"conflict", "email"}));
  r = Call("POST", "/api/v1/senders", R"({"name":"a\r\nBcc: x@y.z","email":"x@shop.example"})", &writer_);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorOf(r).second, "name");
  r = Call("POST", "/api/v1/senders", R"({"email":"x@shop.example","postal_address":"1 Main St\nTown"})",
           &writer_);
  EXPECT_EQ(ErrorOf(r).second, "postal_address");
  r = Call("POST", "/api/v1/senders", R"({"email":"x@shop.example","reply_to":{"email":"bad"}})", &writer_);
  EXPECT_EQ(ErrorOf(r).second, "reply_to.email");
  r = Call("POST", "/api/v1/senders", R"({"name":"no address"})", &writer_);
  EXPECT_EQ(ErrorOf(r), (CodeField{"invalid", "email"}));
  r = Call("POST", "/api/v1/senders", R"({"email":"x@shop.example","default":"yes"})", &writer_);
  EXPECT_EQ(ErrorOf(r).second, "default");
  r = Call("POST", "/api/v1/senders", R"({"email":"x@shop.example","colour":"red"})", &writer_);
  EXPECT_EQ(ErrorOf(r).second, "colour");
  r = Call("PUT", "/api/v1/senders/999", R"({"email":"x@shop.example"})", &writer_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r).first, "not_found");
}

TEST_F(SendersApiTest, MessagesFromASenderByIdOrAddress) {
  int64_t ada = CreateContact("ada@example.com");
  int64_t id =
      CreateSender(R"({"name":"Shop News","email":"news@shop.example","postal_address":"1 Main St"})");
  std::string base = R"({"template":"hello","contact_id":)" + std::to_string(ada);
  Response r = Admin("POST", "/api/v1/messages", base + R"(,"from":"NEWS@shop.example"})");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Json(r).at("subject").as_string(), "Hi from Shop News");
  auto m = env_->store->outbox().Get(ws_, Json(r).at("id").as_int64());
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->mime.find("From: Shop News <news@shop.example>\r\n"), std::string::npos) << m->mime;
  r = Admin("POST", "/api/v1/messages", base + R"(,"from":)" + std::to_string(id) + "}");
  ASSERT_EQ(r.status, 202) << r.body;

  for (std::string from : {R"("other@shop.example")", "999", R"("not an address")", "true", "-1"}) {
    r = Admin("POST", "/api/v1/messages", base + R"(,"from":)" + from + "}");
    EXPECT_EQ(r.status, 422) << from << " " << r.body;
    EXPECT_EQ(ErrorOf(r).second, "from") << from;
  }
  // Marketing: no DKIM key is configured for shop.example here, so it is refused with the record.
  r = Admin("POST", "/api/v1/messages", base + R"(,"class":"marketing","from":"news@shop.example"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(ErrorOf(r).second, "from");
  EXPECT_NE(r.body.find("rapport._domainkey.shop.example"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace rapport::http
