#include "http/message.h"

#include <gtest/gtest.h>

#include "http/api_key.h"
#include "http/error_response.h"
#include "http/metrics.h"

namespace rapport::http {
namespace {

TEST(Message, ParsesAndDecodesQueries) {
  Fields q = ParseQuery("limit=3&email=a%2Bb%40x.com&flag&cursor=&x=a+b&bad=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>("limit", "3")));
  EXPECT_EQ(q[1].second, "a+b@x.com");
  EXPECT_EQ(q[2].first, "flag");
  EXPECT_EQ(q[3].second, "");
  EXPECT_EQ(q[4].second, "a+b");  // '+' is not a space in a URI query
  Request r;
  r.query = q;
  r.headers = {{"content-type", "application/json"}};
  EXPECT_EQ(*r.Query("limit"), "3");
  EXPECT_EQ(r.Query("bad"), nullptr);
  EXPECT_EQ(*r.Header("content-type"), "application/json");
  std::string out;
  EXPECT_FALSE(PercentDecode("%4", out));
  EXPECT_TRUE(PercentDecode("%41b", out));
  EXPECT_EQ(out, "Ab");
}

// What both servers (Beast's session and the fast lane) make of a request's target and fields.
TEST(Message, SetsTheTargetAndLowerCasesFieldNames) {
  Request req;
  ASSERT_TRUE(SetRequestTarget("/o/a%20b?x=1&y=%40", req));
  EXPECT_EQ(req.path, "/o/a b");
  ASSERT_EQ(req.query.size(), 2u);
  EXPECT_EQ(*req.Query("y"), "@");
  for (const char* bad : {"/o/%zz", "", "o/abc"}) {
    Request r;
    EXPECT_FALSE(SetRequestTarget(bad, r)) << bad;
  }
  AddRequestHeader("User-AGENT", "Mozilla/5.0", req);
  ASSERT_NE(req.Header("user-agent"), nullptr);
  EXPECT_EQ(*req.Header("user-agent"), "Mozilla/5.0");
}

TEST(ApiKey, GeneratesDistinctWellFormedKeysAndHashesThem) {
  std::string a = GenerateApiKey(), b = GenerateApiKey();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 43u);
  EXPECT_EQ(a.substr(0, 3), "rk_");
  for (char c : a.substr(3)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << a;
  EXPECT_TRUE(LooksLikeApiKey(a));
  EXPECT_FALSE(LooksLikeApiKey("rk_ab"));
  EXPECT_FALSE(LooksLikeApiKey("rk_abc def ghi jkl"));
  // SHA-256("abc")
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ErrorResponse, MapsEveryCodeOnceAndHidesInternals) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalid), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kLimitExceeded), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kSuppressed), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
  Response r =
      ErrorResponse(Error::Internal("UNIQUE constraint failed: contacts.email in INSERT INTO contacts"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("INSERT"), std::string::npos);
  Response u = ErrorResponse({ErrorCode::kUnauthenticated, "no key", {}});
  ASSERT_EQ(u.headers.size(), 1u);
  EXPECT_EQ(u.headers[0].first, "WWW-Authenticate");
}

TEST(Metrics, RendersPrometheusText) {
  Metrics m;
  m.ObserveRequest("/api/v1/events", "POST", 202, 0.003);
  m.ObserveRequest("/api/v1/events", "POST", 202, 0.2);
  m.ObserveRequest("/api/v1/events", "POST", 422, 0.001);
  m.AddEventsIngested(1000);
  m.AddStoreError();
  std::string text = m.Render();
  EXPECT_NE(text.find("http_requests_total{route=\"/api/v1/events\",method=\"POST\",status=\"202\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "http_request_duration_seconds_bucket{route=\"/api/v1/events\",method=\"POST\",le=\"0.005\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("events_ingested_total 1000\n"), std::string::npos);
  EXPECT_NE(text.find("store_errors_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE http_request_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace rapport::http
