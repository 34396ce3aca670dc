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

}  // namespace
}  // namespace rapport::http
