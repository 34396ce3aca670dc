// POST/GET/DELETE /api/v1/messages, GET /contacts/{id}/messages and the signed unsubscribe
// pages, through Api::Handle against a real SQLite store.
#include <gtest/gtest.h>

#include "http/api_test_fixture.h"

namespace rapport::http {
namespace {

using CodeField = std::pair<std::string, std::string>;

class MessagesApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    sender_ = env_->AddKey(ws_, "sender", kScopeSend);
    Response t = Admin(
        "POST", "/api/v1/templates",
        R"({"name":"order-shipped","subject":"Order {{ data.order }} shipped, {{ contact.first_name | default: 'friend' }}",
                           "html":"<p>Hi {{ contact.first_name }}, order {{ data.order }} is on its way.</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"})");
    ASSERT_EQ(t.status, 201) << t.body;
  }
  Response Send(const std::string& body, const std::string& key = {}) {
    Request r;
    r.method = "POST";
    r.path = "/api/v1/messages";
    r.headers.emplace_back("authorization", "Bearer " + sender_);
    r.headers.emplace_back("content-type", "application/json");
    if (!key.empty()) r.headers.emplace_back("idempotency-key", key);
    r.body = body;
    return api_->Handle(r);
  }
  static std::string HeaderOf(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  // The unsubscribe URL in the queued message's MIME (List-Unsubscribe).
  std::string UnsubscribePath(int64_t message_id) {
    auto m = env_->store->outbox().Get(ws_, message_id);
    EXPECT_TRUE(m.ok());
    size_t at = m->mime.find("https://mail.shop.example/u/");
    EXPECT_NE(at, std::string::npos) << m->mime;
    size_t end = m->mime.find('>', at);
    return m->mime.substr(at + std::string("https://mail.shop.example").size(),
                          end - at - std::string("https://mail.shop.example").size());
  }
  std::string sender_;
};

TEST_F(MessagesApiTest, SendsATemplateToAContactAndShowsIt) {
  int64_t contact = CreateContact("ada@example.com");
  Response r = Send(R"({"template":"order-shipped","contact_id":)" + std::to_string(contact) +
                    R"(,"data":{"order":"A-1001"},"headers":{"X-Order-Id":"A-1001"}})");
  ASSERT_EQ(r.status, 202) << r.body;
  json::value v = Json(r);
  EXPECT_EQ(v.at("state").as_string(), "queued");
  EXPECT_EQ(v.at("class").as_string(), "transactional");
  EXPECT_EQ(v.at("to").as_string(), "ada@example.com");
  EXPECT_EQ(v.at("subject").as_string(), "Order A-1001 shipped, friend");
  EXPECT_EQ(queued_wakeups_, 1);
  int64_t id = v.at("id").as_int64();

  auto stored = env_->store->outbox().Get(ws_, id);
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(stored->mime.find("X-Order-Id: A-1001\r\n"), std::string::npos);
  EXPECT_NE(stored->mime.find("From: Tea Shop <hello@shop.example>\r\n"), std::string::npos);
  EXPECT_EQ(stored->mime.find("List-Unsubscribe"), std::string::npos)
      << "transactional mail has no bulk headers";
  EXPECT_EQ(stored->mail_from, "bounces@shop.example");

  Response got = Call("GET", "/api/v1/messages/" + std::to_string(id), {}, &reader_);
  ASSERT_EQ(got.status, 200) << got.body;
  json::value m = Json(got);
  EXPECT_EQ(m.at("state").as_string(), "queued");
  EXPECT_EQ(m.at("template").as_string(), "order-shipped");
  EXPECT_TRUE(m.at("delivery_attempts").as_array().empty());

  Response list = Call("GET", "/api/v1/contacts/" + std::to_string(contact) + "/messages", {}, &reader_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(Json(list).at("data").as_array().size(), 1u);
  EXPECT_EQ(Json(list).at("data").as_array()[0].at("id").as_int64(), id);

  // The timeline has the queued event.
  Response tl = Call("GET", "/api/v1/contacts/" + std::to_string(contact) + "/events", {}, &reader_);
  EXPECT_NE(tl.body.find("message.queued"), std::string::npos) << tl.body;

  // Cancel, and then it cannot be cancelled again.
  EXPECT_EQ(Call("DELETE", "/api/v1/messages/" + std::to_string(id), {}, &sender_).status, 204);
  EXPECT_EQ(ErrorOf(Call("DELETE", "/api/v1/messages/" + std::to_string(id), {}, &sender_)).first,
            "conflict");
  EXPECT_EQ(Call("GET", "/api/v1/messages/999999", {}, &reader_).status, 404);
}

TEST_F(MessagesApiTest, ARetriedRequestReturnsTheFirstResponseAndQueuesNothing) {
  std::string body =
      R"({"template":"order-shipped","contact":{"email":"new@example.com"},"data":{"order":"B-7"}})";
  Response first = Send(body, "order-B-7");
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_TRUE(HeaderOf(first, "Idempotent-Replayed").empty());
  // The message moves on; the replay still answers what the first request was told.
  auto claimed = env_->store->outbox().Claim(MessageClass::kTransactional, 10, "w", env_->clock.Now(),
                                             std::chrono::seconds(30));
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  Response again = Send(body, "order-B-7");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(HeaderOf(again, "Idempotent-Replayed"), "true");
  EXPECT_EQ(*env_->store->outbox().CountByState(MessageState::kSending), 1);
  EXPECT_EQ(*env_->store->outbox().CountByState(MessageState::kQueued), 0);
  EXPECT_EQ(queued_wakeups_, 1);
  // The same key for another message is a conflict; a bad key is refused.
  Response other =
      Send(R"({"template":"order-shipped","contact":{"email":"other@example.com"}})", "order-B-7");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(ErrorOf(other).second, "Idempotency-Key");
  EXPECT_EQ(ErrorOf(Send(body, std::string(300, 'k'))).second, "Idempotency-Key");
  EXPECT_EQ(ErrorOf(Send(body, "has space")).second, "Idempotency-Key");
}

// POST /api/v1/messages/batch: each item answered in order with its own status; a bad item is
// reported (with its field) while the good ones are queued; the whole body's shape is checked.
TEST_F(MessagesApiTest, ABatchAnswersEachMessageInOrderAndQueuesTheGoodOnes) {
  std::string ada = std::to_string(CreateContact("ada@example.com"));
  Response r = Call("POST", "/api/v1/messages/batch",
                    R"({"messages":[{"template":"order-shipped","contact_id":)" + ada +
                        R"(,"data":{"order":"A-1"},"idempotency_key":"o-1"},
                        {"template":"order-shipped","contact_id":)" +
                        ada + R"(,"headers":{"X-Order":"1\r\nBcc: evil@example.com"}},
                        {"template":"nope","contact_id":)" +
                        ada + R"(},
                        "not an object",
                        {"template":"order-shipped","email":"Bob@Example.com","data":{"order":"B-2"}},
                        {"template":"order-shipped","contact_id":)" +
                        ada + R"(,"idempotency_key":"o-1"}]})",
                    &sender_);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = Json(r);
  EXPECT_EQ(v.at("accepted").as_int64(), 3);
  EXPECT_EQ(v.at("failed").as_int64(), 3);
  const json::array& d = v.at("data").as_array();
  ASSERT_EQ(d.size(), 6u);
  EXPECT_EQ(d[0].at("status").as_int64(), 202);
  EXPECT_EQ(d[0].at("message").at("subject").as_string(), "Order A-1 shipped, friend");
  EXPECT_EQ(d[1].at("status").as_int64(), 422);
  EXPECT_EQ(d[1].at("error").at("field").as_string(), "headers.X-Order");
  EXPECT_EQ(d[2].at("status").as_int64(), 404);
  EXPECT_EQ(d[3].at("status").as_int64(), 422);
  EXPECT_EQ(d[4].at("status").as_int64(), 202);
  EXPECT_EQ(d[4].at("message").at("to").as_string(), "Bob@example.com");  // the domain is lowercased
  EXPECT_EQ(d[5].at("status").as_int64(), 202);
  EXPECT_TRUE(d[5].at("replayed").as_bool());
  EXPECT_EQ(d[5].at("message").at("id"), d[0].at("message").at("id"));
  EXPECT_EQ(*env_->store->outbox().CountByState(MessageState::kQueued), 2);

  EXPECT_EQ(ErrorOf(Call("POST", "/api/v1/messages/batch", R"({"messages":[]})", &sender_)),
            (CodeField{"invalid", "messages"}));
  EXPECT_EQ(ErrorOf(Call("POST", "/api/v1/messages/batch", R"([{"template":"x"}])", &sender_)),
            (CodeField{"invalid", "messages"}));
  EXPECT_EQ(ErrorOf(Call("POST", "/api/v1/messages/batch", R"({"messages":[{}],"extra":1})", &sender_)),
            (CodeField{"invalid", "extra"}));
  std::string many = R"({"messages":[)";
  for (int i = 0; i < 501; ++i) many += std::string(i ? "," : "") + "{}";
  EXPECT_EQ(ErrorOf(Call("POST", "/api/v1/messages/batch", many + "]}", &sender_)),
            (CodeField{"invalid", "messages"}));
  // A key that may only read cannot send.
  EXPECT_EQ(Call("POST", "/api/v1/messages/batch", R"({"messages":[{}]})", &reader_).status, 403);
}

TEST_F(MessagesApiTest, HeaderValuesWithLineBreaksAreRefusedWith422) {
  int64_t contact = CreateContact("eve@example.com");
  std::string id = std::to_string(contact);
  Response r = Send(R"({"template":"order-shipped","contact_id":)" + id +
                    R"(,"headers":{"X-Order-Id":"A\r\nBcc: victim@example.org"}})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorOf(r).second, "headers.X-Order-Id");
  r = Send(R"({"template":"order-shipped","contact_id":)" + id +
           R"(,"headers":{"Bcc":"victim@example.org"}})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(ErrorOf(r).second, "headers.Bcc");
  // A subject that renders a line break from the caller's data.
  r = Send(R"({"template":"order-shipped","contact_id":)" + id +
           R"(,"data":{"order":"1\nBcc: victim@example.org"}})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(ErrorOf(r).second, "subject");
  r = Send(R"({"template":"order-shipped","contact_id":)" + id +
           R"(,"reply_to":{"email":"help@shop.example","name":"Help\r\nBcc: x@y.example"}})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(*env_->store->outbox().CountByState(MessageState::kQueued), 0) << "nothing was queued";
}

TEST_F(MessagesApiTest, ErrorsNameTheField) {
  int64_t contact = CreateContact("ann@example.com");
  std::string id = std::to_string(contact);
  EXPECT_EQ(ErrorOf(Send(R"({"template":"nope","contact_id":)" + id + "}")),
            CodeField("not_found", "template"));
  EXPECT_EQ(ErrorOf(Send(R"({"template_id":999,"contact_id":)" + id + "}")).second, "template_id");
  EXPECT_EQ(Send(R"({"template":"order-shipped","contact_id":999999})").status, 404);
  EXPECT_EQ(ErrorOf(Send(R"({"template":"order-shipped","contact":{"external_id":"u-404"}})")).second,
            "contact.external_id");
  EXPECT_EQ(ErrorOf(Send(R"({"template":"order-shipped"})")).second, "contact_id");
  EXPECT_EQ(Send("{not json").status, 400);
  // Only keys with the send scope may send.
  Response denied =
      Call("POST", "/api/v1/messages", R"({"template":"order-shipped","contact_id":)" + id + "}", &writer_);
  EXPECT_EQ(denied.status, 403);
}

TEST_F(MessagesApiTest, SuppressedContactsGetNoMarketingMailAndBouncedNoMail) {
  int64_t contact = CreateContact("gone@example.com");
  std::string id = std::to_string(contact);
  ASSERT_EQ(Admin("PATCH", "/api/v1/contacts/" + id, R"({"status":"unsubscribed"})").status, 200);
  Response r = Send(R"({"template":"order-shipped","class":"marketing","contact_id":)" + id + "}");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorOf(r), CodeField("suppressed", "contact"));
  // A receipt still reaches an unsubscribed contact...
  EXPECT_EQ(Send(R"({"template":"order-shipped","contact_id":)" + id + "}").status, 202);
  // ...but nothing reaches a bounced address.
  ASSERT_EQ(Admin("PATCH", "/api/v1/contacts/" + id, R"({"status":"bounced"})").status, 200);
  EXPECT_EQ(ErrorOf(Send(R"({"template":"order-shipped","contact_id":)" + id + "}")).first, "suppressed");
}

TEST_F(MessagesApiTest, MarketingMailCarriesASignedOneClickUnsubscribe) {
  int64_t contact = CreateContact("reader@example.com");
  std::string id = std::to_string(contact);
  Response r = Send(R"({"template":"order-shipped","class":"marketing","contact_id":)" + id + "}");
  ASSERT_EQ(r.status, 202) << r.body;
  int64_t message = Json(r).at("id").as_int64();
  auto m = env_->store->outbox().Get(ws_, message);
  EXPECT_NE(m->mime.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);
  EXPECT_NE(m->mime.find("Feedback-ID: "), std::string::npos);
  std::string path = UnsubscribePath(message);

  // A GET shows a confirmation and changes nothing.
  Response page = Call("GET", path, {}, nullptr, "");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos);
  EXPECT_NE(page.body.find("r***@example.com"), std::string::npos);
  EXPECT_EQ(Json(Admin("GET", "/api/v1/contacts/" + id)).at("status").as_string(), "active");

  // An altered token is refused, and nothing changes.
  std::string forged = path;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(
      Call("POST", forged, "List-Unsubscribe=One-Click", nullptr, "application/x-www-form-urlencoded").status,
      404);
  EXPECT_EQ(Json(Admin("GET", "/api/v1/contacts/" + id)).at("status").as_string(), "active");

  // RFC 8058 one-click POST.
  Response done =
      Call("POST", path, "List-Unsubscribe=One-Click", nullptr, "application/x-www-form-urlencoded");
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Json(Admin("GET", "/api/v1/contacts/" + id)).at("status").as_string(), "unsubscribed");
  Response tl = Call("GET", "/api/v1/contacts/" + id + "/events", {}, &reader_);
  // One event, written with the change (not a second transaction's append).
  json::array timeline = Json(tl).at("data").as_array();
  int changed = 0;
  for (const json::value& e : timeline) {
    if (e.at("name") != "contact.status_changed") continue;
    ++changed;
    EXPECT_EQ(e.at("properties").at("new"), "unsubscribed");
    EXPECT_EQ(e.at("properties").at("origin").at("via"), "unsubscribe_link");
    EXPECT_EQ(e.at("properties").at("origin").at("method"), "one-click");
  }
  EXPECT_EQ(changed, 1) << tl.body;
  // Repeating is harmless; and the queued marketing message is suppressed when claimed.
  EXPECT_EQ(
      Call("POST", path, "List-Unsubscribe=One-Click", nullptr, "application/x-www-form-urlencoded").status,
      200);
  auto claimed = env_->store->outbox().Claim(MessageClass::kMarketing, 10, "w", env_->clock.Now(),
                                             std::chrono::seconds(30));
  ASSERT_TRUE(claimed.ok());
  EXPECT_TRUE(claimed->empty());
  EXPECT_EQ(env_->store->outbox().Get(ws_, message)->state, MessageState::kSuppressed);
}

}  // namespace
}  // namespace rapport::http
