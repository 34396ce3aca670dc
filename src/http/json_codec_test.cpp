#include "http/json_codec.h"

#include <gtest/gtest.h>

namespace rapport::http {
namespace {

json::value Parse(std::string_view s) {
  auto v = ParseJson(s);
  EXPECT_TRUE(v.ok()) << s;
  return v.ok() ? *v : json::value();
}

TEST(JsonBodyParser, ReportsLineAndColumnOfSyntaxErrors) {
  JsonBodyParser p;
  auto r = p.Parse("{\n  \"email\": ,\n}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(r.error().message.find("line 2, column 12"), std::string::npos) << r.error().message;
  auto t = p.Parse("{\"email\": ");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("offset 10"), std::string::npos) << t.error().message;
  EXPECT_FALSE(p.Parse("{} extra").ok());
  EXPECT_FALSE(p.Parse("").ok());
  EXPECT_FALSE(p.Parse("\"\xff\"").ok());       // not UTF-8
  EXPECT_FALSE(p.Parse("{\"a\":1e999}").ok());  // infinity cannot be written back
  // 0e888 is zero (Boost.JSON's own reading is NaN; numbers are read exactly: core/json_parse.h).
  auto zero = ParseJson("[0e888]");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->at(0).as_double(), 0.0);
}

TEST(JsonBodyParser, ReusesItsArenaAcrossBodies) {
  JsonBodyParser p;
  for (int i = 0; i < 3; ++i) {
    std::string big = "{\"a\":[";
    for (int j = 0; j < 5000 * (i + 1); ++j) big += std::to_string(j) + ",";
    big += "0]}";
    auto v = p.Parse(big);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->at("a").as_array().size(), size_t(5000 * (i + 1) + 1));
  }
}

TEST(DecodeContactInput, NormalizesAndValidates) {
  auto c = DecodeContactInput(Parse(R"({"email":"Ada@Example.COM","external_id":"c1","status":"unsubscribed",
      "timezone":"Europe/Paris","locale":"fr-CA","attributes":{"plan":"pro","gone":null}})"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c->email, "Ada@example.com");
  EXPECT_EQ(*c->external_id, "c1");
  EXPECT_EQ(*c->status, ContactStatus::kUnsubscribed);
  EXPECT_EQ(*c->timezone, "Europe/Paris");
  EXPECT_TRUE(c->attributes->at("gone").is_null());
}

TEST(DecodeContactInput, NamesTheFieldOfEveryError) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"email":"nope"})", "email"},
      {R"({"email":5})", "email"},
      {R"({"emial":"a@b.co"})", "emial"},
      {R"({"id":3})", "id"},
      {R"({"status":"erased"})", "status"},
      {R"({"status":"sleepy"})", "status"},
      {R"({"timezone":"Mars/Base"})", "timezone"},
      {R"({"locale":"??"})", "locale"},
      {R"({"attributes":[]})", "attributes"},
      {R"({"attributes":{"bad":{"nested":1}}})", "attributes.bad"},
      {R"({"attributes":{"1x":1}})", "attributes.1x"},
      {R"({"external_id":""})", "external_id"},
  };
  for (const auto& c : cases) {
    auto r = DecodeContactInput(Parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
  }
  EXPECT_FALSE(DecodeContactInput(Parse("[]")).ok());
}

TEST(DecodeNewEvent, ReadsEveryField) {
  auto e = DecodeNewEvent(Parse(R"({"name":"order","email":"A@B.COM","properties":{"total":3},
      "occurred_at":"2026-01-31T10:30:00+01:00","idempotency_key":"k1","attributes":{"plan":"pro"},
      "create_contact":false})"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->name, "order");
  EXPECT_EQ(*e->contact.email, "A@b.com");
  EXPECT_FALSE(e->contact.create_contact);
  EXPECT_EQ(FormatTimestamp(*e->occurred_at), "2026-01-31T09:30:00Z");
  EXPECT_EQ(*e->idempotency_key, "k1");
  EXPECT_EQ(e->properties.at("total").as_int64(), 3);
  EXPECT_EQ(e->contact_attributes->at("plan").as_string(), "pro");

  auto by_id = DecodeNewEvent(Parse(R"({"name":"x","contact_id":42})"));
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(*by_id->contact.id, 42);
}

TEST(DecodeNewEvent, AcceptsTheContactReferenceShapeOfMessages) {
  auto by_email = DecodeNewEvent(Parse(R"({"name":"x","contact":{"email":"Ada@EXAMPLE.com"}})"));
  ASSERT_TRUE(by_email.ok()) << by_email.error().message;
  EXPECT_EQ(*by_email->contact.email, "Ada@example.com");
  auto by_id = DecodeNewEvent(Parse(R"({"name":"x","contact":{"id":7}})"));
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(*by_id->contact.id, 7);
  auto by_ext =
      DecodeNewEvent(Parse(R"({"name":"x","contact":{"external_id":"cus_1"},"create_contact":false})"));
  ASSERT_TRUE(by_ext.ok());
  EXPECT_EQ(*by_ext->contact.external_id, "cus_1");
  EXPECT_FALSE(by_ext->contact.create_contact);
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"name":"x","contact":"a@b.co"})", "contact"},
      {R"({"name":"x","contact":{}})", "contact"},
      {R"({"name":"x","contact":{"id":0}})", "contact.id"},
      {R"({"name":"x","contact":{"emial":"a@b.co"}})", "contact.emial"},
      {R"({"name":"x","contact":{"email":"bad"}})", "contact.email"},
      {R"({"name":"x","contact":{"email":"a@b.co"},"email":"a@b.co"})", "contact"},
  };
  for (const auto& c : cases) {
    auto r = DecodeNewEvent(Parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
  }
}

TEST(DecodeNewEvent, Errors) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"email":"a@b.co"})", "name"},
      {R"({"name":"","email":"a@b.co"})", "name"},
      {R"({"name":"x"})", "contact"},
      {R"({"name":"x","contact_id":-1})", "contact_id"},
      {R"({"name":"x","contact_id":1.5})", "contact_id"},
      {R"({"name":"x","email":"bad"})", "email"},
      {R"({"name":"x","email":"a@b.co","occurred_at":"yesterday"})", "occurred_at"},
      {R"({"name":"x","email":"a@b.co","properties":[1]})", "properties"},
      {R"({"name":"x","email":"a@b.co","create_contact":"yes"})", "create_contact"},
      {R"({"name":"x","email":"a@b.co","nmae":"typo"})", "nmae"},
  };
  for (const auto& c : cases) {
    auto r = DecodeNewEvent(Parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
  }
}

TEST(DecodeEventBatch, KeepsGoodItemsAndIndexesBadOnes) {
  auto b = DecodeEventBatch(Parse(R"({"events":[{"name":"a","email":"a@b.co"},{"name":""},7,
      {"name":"b","contact_id":9}]})"),
                            10);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->single);
  EXPECT_EQ(b->total, 4u);
  ASSERT_EQ(b->events.size(), 2u);
  EXPECT_EQ(b->indexes, (std::vector<size_t>{0, 3}));
  ASSERT_EQ(b->errors.size(), 2u);
  EXPECT_EQ(b->errors[0].first, 1u);
  EXPECT_EQ(b->errors[0].second.field, "name");
  EXPECT_EQ(b->errors[1].first, 2u);

  auto single = DecodeEventBatch(Parse(R"({"name":"a","email":"a@b.co"})"), 10);
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(single->single);
  EXPECT_EQ(single->events.size(), 1u);

  auto too_many = DecodeEventBatch(Parse(R"({"events":[{},{},{}]})"), 2);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(too_many.error().field, "events");

  auto extra = DecodeEventBatch(Parse(R"({"events":[],"evnts":[]})"), 2);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().field, "evnts");
  EXPECT_FALSE(DecodeEventBatch(Parse(R"({"events":{}})"), 2).ok());
}

TEST(DecodeTopicAndSubscription, ValidateAndDefault) {
  auto t = DecodeTopicInput(Parse(R"({"key":"news","name":"News"})"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->key, "news");
  auto bad = DecodeTopicInput(Parse(R"({"key":"Bad Key!"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "key");

  auto s = DecodeSubscriptionInput(Parse(R"({})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, SubscriptionStatus::kSubscribed);
  EXPECT_EQ(s->consent.source, "api");
  auto s2 = DecodeSubscriptionInput(
      Parse(R"({"status":"unsubscribed","consent":{"source":"form","text_version":"v2"}})"));
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->status, SubscriptionStatus::kUnsubscribed);
  EXPECT_EQ(s2->consent.text_version, "v2");
  auto s3 = DecodeSubscriptionInput(Parse(R"({"consent":{"sorce":"x"}})"));
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().field, "consent.sorce");
}

TEST(Encode, ContactAndError) {
  Contact c;
  c.id = 7;
  c.email = "a@b.co";
  c.attributes["plan"] = "pro";
  c.created_at = FromMicros(1'700'000'000'000'000);
  c.updated_at = c.created_at;
  json::object o = EncodeContact(c);
  EXPECT_EQ(o.at("id").as_int64(), 7);
  EXPECT_TRUE(o.at("external_id").is_null());
  EXPECT_EQ(o.at("status").as_string(), "active");
  EXPECT_EQ(o.at("created_at").as_string(), "2023-11-14T22:13:20Z");
  for (const char* k : {"email", "attributes", "timezone", "locale", "updated_at"})
    EXPECT_TRUE(o.contains(k)) << k;

  json::object e = EncodeError(Error::Invalid("email", "bad"));
  EXPECT_EQ(json::serialize(e), R"({"error":{"code":"invalid","message":"bad","field":"email"}})");
  EXPECT_TRUE(EncodeError(Error::NotFound("x")).at("error").at("field").is_null());
}

}  // namespace
}  // namespace rapport::http
