#include "http/send_request_codec.h"

#include <gtest/gtest.h>

namespace rapport::http {
namespace {

using send::SendRequest;

Result<SendRequest> Decode(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text;
  return DecodeSendRequest(*v);
}

TEST(SendRequest, DecodesEveryField) {
  auto r = Decode(R"({"template":"order-shipped","contact":{"email":"Ann@Example.COM"},"class":"marketing",
      "data":{"order":{"id":"A-1"}},"reply_to":{"email":"help@shop.example","name":"Help"},
      "headers":{"X-Order-Id":"A-1"}})");
  ASSERT_TRUE(r.ok()) << r.error().field << ": " << r.error().message;
  EXPECT_EQ(r->template_name, "order-shipped");
  EXPECT_FALSE(r->template_id);
  EXPECT_EQ(r->contact.email, "Ann@example.com");
  EXPECT_EQ(r->message_class, MessageClass::kMarketing);
  EXPECT_EQ(r->data.at("order").at("id").as_string(), "A-1");
  EXPECT_EQ(r->reply_to->ToString(), "help@shop.example");
  EXPECT_EQ(r->reply_to_name, "Help");
  EXPECT_FALSE(r->topic);
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"topic":"news"})")->topic, "news");
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"topic":"Bad Topic!"})").error().field, "topic");
  ASSERT_EQ(r->headers.size(), 1u);
  EXPECT_EQ(r->headers[0].first, "X-Order-Id");

  // The contact may be named as events name it: flat, or {"id"} inside contact.
  auto flat = Decode(R"({"template":"a","email":"Bo@Example.com","external_id":"u-9"})");
  ASSERT_TRUE(flat.ok()) << flat.error().message;
  EXPECT_EQ(flat->contact.email, "Bo@example.com");
  EXPECT_EQ(flat->contact.external_id, "u-9");
  EXPECT_EQ(Decode(R"({"template":"a","contact":{"id":12}})")->contact_id, 12);
  EXPECT_EQ(Decode(R"({"template":"a","email":"b@x.example","contact_id":1})").error().field, "contact_id");
  EXPECT_EQ(Decode(R"({"template":"a","contact":{"id":1,"email":"b@x.example"}})").error().field, "contact");

  auto by_id = Decode(R"({"template_id":3,"contact_id":12})");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->template_id, 3);
  EXPECT_EQ(by_id->contact_id, 12);
  EXPECT_EQ(by_id->message_class, MessageClass::kTransactional);
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"reply_to":"x@y.example"})")->reply_to->ToString(),
            "x@y.example");
}

TEST(SendRequest, DecodesTheGovernance) {
  auto r = Decode(
      R"({"template":"a","contact_id":1,"class":"marketing","governance":{"source":"app:digest","priority":3,"on_cap":"skip"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->governance.source, "app:digest");
  EXPECT_EQ(r->governance.priority, 3);
  EXPECT_EQ(r->governance.on_cap, send::Governance::OnCap::kSkip);
  auto plain = Decode(R"({"template":"a","contact_id":1})");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->governance.source, "");
  EXPECT_EQ(plain->governance.on_cap, send::Governance::OnCap::kDefer);
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"governance":[]})").error().field, "governance");
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"governance":{"on_cap":"drop"}})").error().field,
            "governance.on_cap");
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"governance":{"priority":1.5}})").error().field,
            "governance.priority");
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"governance":{"priority":5000}})").error().field,
            "governance.priority");
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"governance":{"source":"a\nb"}})").error().field,
            "governance.source");
  EXPECT_EQ(Decode(R"({"template":"a","contact_id":1,"governance":{"who":"x"}})").error().field,
            "governance.who");
}

TEST(SendRequest, NamesTheBadField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"([])", ""},
      {R"({"contact_id":1})", "template"},
      {R"({"template":"a","template_id":1,"contact_id":1})", "template"},
      {R"({"template":"Bad Name","contact_id":1})", "template"},
      {R"({"template":"a"})", "contact_id"},
      {R"({"template":"a","contact_id":1,"contact":{"email":"a@b.example"}})", "contact_id"},
      {R"({"template":"a","contact_id":0})", "contact_id"},
      {R"({"template":"a","contact_id":"7"})", "contact_id"},
      {R"({"template":"a","contact":{}})", "contact"},
      {R"({"template":"a","contact":{"email":"not-an-address"}})", "contact.email"},
      {R"({"template":"a","contact":{"phone":"1"}})", "contact.phone"},
      {R"({"template":"a","contact_id":1,"class":"bulk"})", "class"},
      {R"({"template":"a","contact_id":1,"data":[1]})", "data"},
      {R"({"template":"a","contact_id":1,"reply_to":"nope"})", "reply_to"},
      {R"({"template":"a","contact_id":1,"reply_to":{"email":"a@b.example","x":1}})", "reply_to.x"},
      {R"({"template":"a","contact_id":1,"headers":{"X-A":1}})", "headers.X-A"},
      {R"({"template":"a","contact_id":1,"headers":"X-A: 1"})", "headers"},
      {R"({"template":"a","contact_id":1,"to":"x@y.example"})", "to"},
  };
  for (const Case& c : cases) {
    auto r = Decode(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body << " -> " << r.error().message;
  }
}

}  // namespace
}  // namespace rapport::http
