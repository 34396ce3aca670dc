// The API's handlers through Api::Handle (no sockets) against a real SQLite store in a temp dir.
#include "http/api.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "http/api_key.h"
#include "http/api_test_fixture.h"
#include "http/json_codec.h"

namespace rapport::http {
namespace {

TEST_F(ApiTest, ContactsCreateUpsertGetPatchListErase) {
  Response r = Call("POST", "/api/v1/contacts",
                    R"({"email":"Ada@Example.COM","attributes":{"first_name":"Ada"}})", &writer_);
  ASSERT_EQ(r.status, 201) << r.body;
  json::value c = Json(r);
  int64_t id = c.at("id").as_int64();
  EXPECT_EQ(c.at("email").as_string(), "Ada@example.com");
  EXPECT_EQ(c.at("status").as_string(), "active");
  for (const char* k : {"external_id", "attributes", "timezone", "locale", "created_at", "updated_at"})
    EXPECT_TRUE(c.as_object().contains(k)) << k;
  EXPECT_TRUE(ParseTimestamp(c.at("created_at").as_string()).has_value());

  r = Call("POST", "/api/v1/contacts", R"({"email":"Ada@example.com","attributes":{"plan":"pro"}})",
           &writer_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("id").as_int64(), id);
  EXPECT_EQ(Json(r).at("attributes"), json::parse(R"({"first_name":"Ada","plan":"pro"})"));

  r = Call("GET", "/api/v1/contacts/" + std::to_string(id), {}, &reader_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).at("email").as_string(), "Ada@example.com");

  r = Call("PATCH", "/api/v1/contacts/" + std::to_string(id),
           R"({"attributes":{"plan":null},"locale":"fr-CA"})", &writer_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Json(r).at("attributes").as_object().contains("plan"));
  EXPECT_EQ(Json(r).at("locale").as_string(), "fr-CA");

  for (int i = 0; i < 4; ++i) CreateContact("p" + std::to_string(i) + "@example.com");
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    r = Call("GET", "/api/v1/contacts?limit=2&cursor=" + cursor, {}, &reader_);
    ASSERT_EQ(r.status, 200) << r.body;
    json::value v = Json(r);
    EXPECT_LE(v.at("data").as_array().size(), 2u);
    for (const auto& item : v.at("data").as_array()) seen.emplace_back(item.at("email").as_string());
    if (v.at("next_cursor").is_null()) break;
    cursor = v.at("next_cursor").as_string();
  }
  EXPECT_EQ(seen.size(), 5u);
  r = Call("GET", "/api/v1/contacts?email=p2%40EXAMPLE.com", {}, &reader_);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(Json(r).at("data").as_array().size(), 1u);
  EXPECT_EQ(Json(r).at("data").at(0).at("email").as_string(), "p2@example.com");

  r = Call("DELETE", "/api/v1/contacts/" + std::to_string(id), {}, &writer_);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  r = Call("GET", "/api/v1/contacts/" + std::to_string(id), {}, &reader_);
  if (r.status == 200) {
    EXPECT_EQ(Json(r).at("status").as_string(), "erased");
    EXPECT_EQ(r.body.find("Ada"), std::string::npos) << r.body;
  } else {
    EXPECT_EQ(r.status, 404);
  }
}

TEST_F(ApiTest, EveryErrorStatusHasTheErrorShape) {
  // 400: bad JSON, with the position.
  Response r = Admin("POST", "/api/v1/contacts", "{\"email\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r).first, "bad_request");
  EXPECT_NE(r.body.find("line 1, column 11"), std::string::npos) << r.body;

  // 401: no key, unknown key; WWW-Authenticate says Bearer.
  r = Call("GET", "/api/v1/contacts");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorOf(r).first, "unauthenticated");
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
  std::string bogus = GenerateApiKey();
  EXPECT_EQ(Call("GET", "/api/v1/contacts", {}, &bogus).status, 401);

  // 403: the scope is missing.
  r = Call("POST", "/api/v1/contacts", R"({"email":"w@example.com"})", &reader_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorOf(r).first, "forbidden");
  EXPECT_EQ(Call("POST", "/api/v1/topics", R"({"key":"news"})", &writer_).status, 403);

  // 404: unknown route, unknown contact, an id that is not a number.
  r = Admin("GET", "/api/v1/no-such-route");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r).first, "not_found");
  EXPECT_EQ(Admin("GET", "/api/v1/contacts/999999").status, 404);
  EXPECT_EQ(Admin("GET", "/api/v1/contacts/abc").status, 404);
  EXPECT_EQ(Admin("PATCH", "/api/v1/contacts/999999", R"({"locale":"en"})").status, 404);

  // 405 with Allow.
  r = Admin("DELETE", "/api/v1/contacts");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(ErrorOf(r).first, "method_not_allowed");
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("Allow", "POST, GET")));

  // 409: external_id and email name two different contacts.
  ASSERT_EQ(Admin("POST", "/api/v1/contacts", R"({"email":"one@example.com","external_id":"e1"})").status,
            201);
  ASSERT_EQ(Admin("POST", "/api/v1/contacts", R"({"email":"two@example.com","external_id":"e2"})").status,
            201);
  r = Admin("POST", "/api/v1/contacts", R"({"email":"two@example.com","external_id":"e1"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(ErrorOf(r).first, "conflict");

  // 413: more events than the per-request limit (5 in this fixture).
  r = Admin("POST", "/api/v1/events", R"({"events":[{},{},{},{},{},{}]})");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(ErrorOf(r), (std::pair<std::string, std::string>("too_large", "events")));

  // 415: a body that is not declared JSON.
  r = Call("POST", "/api/v1/contacts", R"({"email":"a@example.com"})", &admin_, "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(ErrorOf(r).first, "unsupported_media_type");
  EXPECT_EQ(Call("POST", "/api/v1/contacts", R"({"email":"a@example.com"})", &admin_, "").status, 415);
  EXPECT_EQ(Call("POST", "/api/v1/contacts", R"({"email":"a@example.com"})", &admin_,
                 "application/json; charset=latin1")
                .status,
            415);
  EXPECT_EQ(Call("POST", "/api/v1/contacts", R"({"email":"a@example.com"})", &admin_,
                 "application/json; charset=UTF-8")
                .status,
            201);

  // 422 naming the field: typos, bad values, missing identity.
  r = Admin("POST", "/api/v1/contacts", R"({"email":"x@example.com","emial":"typo"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorOf(r), (std::pair<std::string, std::string>("invalid", "emial")));
  EXPECT_EQ(ErrorOf(Admin("POST", "/api/v1/contacts", R"({"email":"x\r\nBcc: v@example.com"})")).second,
            "email");
  EXPECT_EQ(ErrorOf(Admin("POST", "/api/v1/contacts", R"({"attributes":{"a":1}})")).second, "email");
  EXPECT_EQ(ErrorOf(Admin("GET", "/api/v1/contacts?limit=0")).second, "limit");
  EXPECT_EQ(ErrorOf(Admin("GET", "/api/v1/contacts?email=nope")).second, "email");
  EXPECT_EQ(ErrorOf(Admin("POST", "/api/v1/events", R"({"name":"x","email":"bad"})")).second, "email");
}

TEST_F(ApiTest, StoreFailuresAre500WithoutDetails) {
  int64_t id = CreateContact("s@example.com");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(env_->db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE events", nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_close(db);
  Response r = Admin("GET", "/api/v1/contacts/" + std::to_string(id) + "/events");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(ErrorOf(r).first, "internal");
  EXPECT_EQ(r.body.find("events"), std::string::npos) << r.body;  // no table names, no SQL
  EXPECT_EQ(r.body.find("SELECT"), std::string::npos) << r.body;
  EXPECT_NE(api_->metrics().Render().find("store_errors_total 1"), std::string::npos);
}

TEST_F(ApiTest, Issue14EventTimelineReturnsTheIdempotencyKey) {
  int64_t id = CreateContact("keyed@example.com");
  std::string cid = std::to_string(id);
  Response r = Call("POST", "/api/v1/events",
                    R"({"events":[{"name":"order_placed","contact_id":)" + cid +
                        R"(,"idempotency_key":"order-7"},{"name":"viewed","contact_id":)" + cid + "}]}",
                    &writer_);
  ASSERT_EQ(r.status, 202) << r.body;
  r = Admin("GET", "/api/v1/contacts/" + cid + "/events");
  ASSERT_EQ(r.status, 200) << r.body;
  int keyed = 0, unkeyed = 0;
  json::value body = Json(r);
  for (const json::value& e : body.at("data").as_array()) {
    const std::string name(e.at("name").as_string());
    if (name == "order_placed") {
      EXPECT_EQ(e.at("idempotency_key").as_string(), "order-7") << r.body;
      ++keyed;
    } else if (name == "viewed") {
      EXPECT_TRUE(e.at("idempotency_key").is_null()) << r.body;
      ++unkeyed;
    }
  }
  EXPECT_EQ(keyed, 1);
  EXPECT_EQ(unkeyed, 1);
}

TEST_F(ApiTest, EventsBatchKeepsGoodItemsAndReportsBadOnesByIndex) {
  int64_t known = CreateContact("known@example.com");
  std::string batch = R"({"events":[
    {"name":"viewed_product","email":"shopper@example.com","properties":{"sku":"A1"}},
    {"name":"viewed_product","email":"broken-address"},
    {"name":"order_placed","email":"shopper@example.com","idempotency_key":"order-1","properties":{"total":42.5}},
    {"name":"order_placed","email":"shopper@example.com","idempotency_key":"order-1"},
    {"name":"viewed_product","contact_id":987654321}]})";
  Response r = Call("POST", "/api/v1/events", batch, &writer_);
  ASSERT_EQ(r.status, 202) << r.body;
  json::value v = Json(r);
  EXPECT_EQ(v.at("accepted").as_int64(), 2);
  EXPECT_EQ(v.at("duplicates").as_int64(), 1);
  const json::array& errors = v.at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u) << r.body;
  EXPECT_EQ(errors[0].at("index").as_int64(), 1);
  EXPECT_EQ(errors[0].at("field").as_string(), "email");
  EXPECT_EQ(errors[0].at("code").as_string(), "invalid");
  EXPECT_EQ(errors[1].at("index").as_int64(), 4);
  EXPECT_EQ(errors[1].at("code").as_string(), "not_found");

  // A single event: 202, then the same idempotency key again is a duplicate.
  r = Call("POST", "/api/v1/events",
           R"({"name":"signed_up","contact_id":)" + std::to_string(known) +
               R"(,"occurred_at":"2026-01-01T00:00:00Z","idempotency_key":"s1"})",
           &writer_);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Json(r).at("accepted").as_int64(), 1);
  r = Call("POST", "/api/v1/events",
           R"({"name":"signed_up","contact_id":)" + std::to_string(known) + R"(,"idempotency_key":"s1"})",
           &writer_);
  EXPECT_EQ(Json(r).at("duplicates").as_int64(), 1);
  EXPECT_EQ(Json(r).at("accepted").as_int64(), 0);
  // A single event naming an unknown contact id is a failed request.
  r = Call("POST", "/api/v1/events", R"({"name":"x","contact_id":987654321})", &writer_);
  EXPECT_EQ(r.status, 404) << r.body;

  EXPECT_NE(api_->metrics().Render().find("events_ingested_total 3\n"), std::string::npos);
}

TEST_F(ApiTest, TimelineIsNewestFirstAndPaginates) {
  std::string events = R"({"events":[)";
  for (int i = 0; i < 5; ++i) {
    if (i) events += ",";
    events += R"({"name":"e)" + std::to_string(i) +
              R"(","email":"t@example.com","occurred_at":"2026-01-01T00:00:0)" + std::to_string(i) +
              R"(Z","attributes":{"plan":"pro"}})";
  }
  events += "]}";
  Response r = Admin("POST", "/api/v1/events", events);
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_EQ(Json(r).at("accepted").as_int64(), 5) << r.body;
  r = Admin("GET", "/api/v1/contacts?email=t@example.com");
  json::value c = Json(r).at("data").at(0);
  EXPECT_EQ(c.at("attributes").at("plan").as_string(), "pro");  // attributes merged into the contact
  std::string id = std::to_string(c.at("id").as_int64());
  std::vector<std::string> names;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    r = Call("GET", "/api/v1/contacts/" + id + "/events?limit=2&cursor=" + cursor, {}, &reader_);
    ASSERT_EQ(r.status, 200) << r.body;
    json::value v = Json(r);
    for (const auto& e : v.at("data").as_array()) {
      names.emplace_back(e.at("name").as_string());
      EXPECT_EQ(e.at("contact_id").as_int64(), c.at("id").as_int64());
      EXPECT_TRUE(e.as_object().contains("received_at"));
    }
    if (v.at("next_cursor").is_null()) break;
    cursor = v.at("next_cursor").as_string();
  }
  // The contact's creation and its one attribute change come first, written with e0.
  EXPECT_EQ(names,
            (std::vector<std::string>{"e4", "e3", "e2", "e1", "e0", "contact.updated", "contact.created"}));
  EXPECT_EQ(Admin("GET", "/api/v1/contacts/999999/events").status, 404);
}

TEST_F(ApiTest, TopicsAndSubscriptionsRecordConsent) {
  Response r = Admin("POST", "/api/v1/topics", R"({"key":"newsletter","name":"Monthly newsletter"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Admin("POST", "/api/v1/topics", R"({"key":"newsletter","name":"again"})").status, 409);
  EXPECT_EQ(ErrorOf(Admin("POST", "/api/v1/topics", R"({"key":"Bad Key!"})")).second, "key");
  r = Call("GET", "/api/v1/topics", {}, &reader_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).at("data").at(0).at("key").as_string(), "newsletter");

  std::string id = std::to_string(CreateContact("sub@example.com"));
  r = Call("PUT", "/api/v1/contacts/" + id + "/subscriptions/newsletter",
           R"({"status":"subscribed","consent":{"source":"form:footer","text_version":"v3"}})", &writer_);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value sub = Json(r);
  EXPECT_EQ(sub.at("topic").as_string(), "newsletter");
  EXPECT_EQ(sub.at("status").as_string(), "subscribed");
  EXPECT_EQ(sub.at("consent").at("source").as_string(), "form:footer");
  EXPECT_EQ(sub.at("consent").at("ip").as_string(), "192.0.2.0");  // truncated to /24 (docs/consent.md)
  EXPECT_EQ(sub.at("consent").at("user_agent").as_string(), "api-test/1.0");
  EXPECT_EQ(sub.at("consent").at("text_version").as_string(), "v3");

  r = Call("GET", "/api/v1/contacts/" + id + "/subscriptions", {}, &reader_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).at("data").as_array().size(), 1u);
  EXPECT_EQ(
      Admin("PUT", "/api/v1/contacts/" + id + "/subscriptions/nope", R"({"status":"subscribed"})").status,
      404);
  EXPECT_EQ(Admin("PUT", "/api/v1/contacts/999999/subscriptions/newsletter", "{}").status, 404);
  EXPECT_EQ(
      ErrorOf(Admin("PUT", "/api/v1/contacts/" + id + "/subscriptions/newsletter", R"({"status":"maybe"})"))
          .second,
      "status");
  EXPECT_EQ(Call("DELETE", "/api/v1/contacts/" + id + "/subscriptions/newsletter", {}, &writer_).status, 204);
  r = Admin("GET", "/api/v1/contacts/" + id + "/subscriptions");
  EXPECT_TRUE(Json(r).at("data").as_array().empty());
}

TEST_F(ApiTest, ForwardedForIsTrustedOnlyWhenConfigured) {
  ASSERT_EQ(Admin("POST", "/api/v1/topics", R"({"key":"news"})").status, 201);
  std::string id = std::to_string(CreateContact("xff@example.com"));
  auto put = [&](Api& api) {
    Request req;
    req.method = "PUT";
    req.path = "/api/v1/contacts/" + id + "/subscriptions/news";
    req.headers = {{"authorization", "Bearer " + admin_},
                   {"content-type", "application/json"},
                   {"x-forwarded-for", "203.0.113.9, 10.0.0.1"}};
    req.body = "{}";
    req.peer_ip = "10.0.0.1";
    return api.Handle(req);
  };
  EXPECT_EQ(Json(put(*api_)).at("consent").at("ip").as_string(), "10.0.0.0");  // the peer, truncated
  ApiOptions trusting;
  trusting.trust_forwarded_for = true;
  Api behind_proxy(*env_->store, env_->clock, trusting);
  EXPECT_EQ(Json(put(behind_proxy)).at("consent").at("ip").as_string(),
            "203.0.113.0");  // the forwarded address, truncated
}

TEST_F(ApiTest, KeysCreatedThroughTheApiWorkAndRevocationIsImmediate) {
  Response r = Admin("POST", "/api/v1/keys", R"({"name":"ci","scopes":["read"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  json::value k = Json(r);
  std::string key = std::string(k.at("key").as_string());
  EXPECT_EQ(key.substr(0, 3), "rk_");
  EXPECT_EQ(k.at("scopes").as_string(), "read");
  EXPECT_EQ(Call("GET", "/api/v1/contacts", {}, &key).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/contacts", R"({"email":"k@example.com"})", &key).status, 403);
  r = Admin("GET", "/api/v1/keys");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find(key), std::string::npos);  // listings never show a key
  EXPECT_EQ(ErrorOf(Admin("POST", "/api/v1/keys", R"({"name":"x","scopes":"read,root"})")).second, "scopes");
  EXPECT_EQ(Admin("DELETE", "/api/v1/keys/" + std::to_string(k.at("id").as_int64())).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/contacts", {}, &key).status, 401);  // the cache forgot it at once
  EXPECT_EQ(Call("GET", "/api/v1/keys", {}, &writer_).status, 403);
}

TEST_F(ApiTest, WritesAreAudited) {
  int64_t id = CreateContact("audit@example.com");
  ASSERT_EQ(Admin("PATCH", "/api/v1/contacts/" + std::to_string(id), R"({"locale":"en"})").status, 200);
  ASSERT_EQ(Admin("POST", "/api/v1/events", R"({"name":"x","contact_id":)" + std::to_string(id) + "}").status,
            202);
  auto entries = env_->store->audit().List(ws_, 50);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  std::vector<std::string> actions;
  for (const auto& e : *entries) {
    actions.push_back(e.action);
    EXPECT_EQ(e.actor.substr(0, 4), "key:");
  }
  EXPECT_NE(std::find(actions.begin(), actions.end(), "contact.create"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "contact.update"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "events.ingest"), actions.end());
}

TEST_F(ApiTest, HealthMetricsAndOpenApiNeedNoKey) {
  Response r = Call("GET", "/healthz");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).at("status").as_string(), "ok");
  Call("GET", "/api/v1/contacts");  // a 401, counted
  r = Call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.substr(0, 10), "text/plain");
  EXPECT_NE(r.body.find(R"(http_requests_total{route="/api/v1/contacts",method="GET",status="401"} 1)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(http_requests_total{route="/healthz",method="GET",status="200"} 1)"),
            std::string::npos);

  r = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  json::value doc = Json(r);
  EXPECT_EQ(doc.at("openapi").as_string().subview(0, 2), "3.");
  const json::object& paths = doc.at("paths").as_object();
  for (const auto& [method, pattern] : api_->Routes()) {
    ASSERT_TRUE(paths.contains(pattern)) << pattern;
    std::string lower;
    for (char ch : method) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    EXPECT_TRUE(paths.at(pattern).as_object().contains(lower)) << method << " " << pattern;
  }
  size_t documented = 0;
  for (const auto& [path, ops] : paths) documented += ops.as_object().size();
  EXPECT_EQ(documented, api_->Routes().size());  // nothing documented that does not exist
}

}  // namespace
}  // namespace rapport::http
