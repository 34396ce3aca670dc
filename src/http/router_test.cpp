#include "http/router.h"

#include <gtest/gtest.h>

namespace rapport::http {
namespace {

Handler Named(int n) {
  return [n](CallContext&) -> Result<Response> {
    Response r;
    r.status = n;
    return r;
  };
}

TEST(Router, MatchesLiteralAndParamSegments) {
  Router r;
  r.Add("GET", "/api/v1/contacts", Access::kRead, Named(1));
  r.Add("POST", "/api/v1/contacts", Access::kWrite, Named(2));
  r.Add("GET", "/api/v1/contacts/{id}", Access::kRead, Named(3));
  r.Add("PUT", "/api/v1/contacts/{id}/subscriptions/{topic}", Access::kWrite, Named(4));

  auto m = r.Find("GET", "/api/v1/contacts/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/contacts/{id}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "42");

  m = r.Find("PUT", "/api/v1/contacts/7/subscriptions/news");
  ASSERT_NE(m.route, nullptr);
  Request req;
  CallContext call{req, m.params, {}};
  EXPECT_EQ(call.Param("id"), "7");
  EXPECT_EQ(call.Param("topic"), "news");
  EXPECT_EQ(call.Param("nope"), "");

  EXPECT_EQ(r.Find("POST", "/api/v1/contacts").route->access, Access::kWrite);
}

TEST(Router, ReportsAllowedMethodsAndMisses) {
  Router r;
  r.Add("GET", "/api/v1/contacts", Access::kRead, Named(1));
  r.Add("POST", "/api/v1/contacts", Access::kWrite, Named(2));
  auto m = r.Find("DELETE", "/api/v1/contacts");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET, POST");
  m = r.Find("GET", "/api/v1/contactz");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allow.empty());
  EXPECT_EQ(r.Find("GET", "/api/v1/contacts/").route, nullptr);  // an empty {id} never matches
  EXPECT_EQ(r.Find("GET", "/api/v1").route, nullptr);
}

// Find copies the parameters of the route it takes only: a route passed over (an earlier pattern
// whose parameter segment matched before a literal did not) leaves nothing behind, and a path
// longer than any route (past Find's 16 segments on the stack) is a plain miss.
TEST(Router, ParametersComeFromTheRouteTakenOnly) {
  Router r;
  r.Add("GET", "/o/{token}/x", Access::kPublic, Named(1));
  r.Add("GET", "/{kind}/{token}/y", Access::kPublic, Named(2));
  auto m = r.Find("GET", "/o/abc/y");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/{kind}/{token}/y");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"kind", "o"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"token", "abc"}));
  m = r.Find("POST", "/o/abc/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(m.allow, "GET");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "/o";
  EXPECT_EQ(r.Find("GET", deep).route, nullptr);
  EXPECT_TRUE(r.Find("GET", deep).allow.empty());
}

}  // namespace
}  // namespace rapport::http
