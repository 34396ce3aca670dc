// Issue 14: numbers came back in exponent form (42.5 as 4.25E1) from every endpoint.
#include <gtest/gtest.h>

#include "http/api_test_fixture.h"

namespace rapport::http {
namespace {

using JsonNumbersTest = ApiTest;

TEST_F(JsonNumbersTest, Issue14NumbersInResponsesAreWrittenTheShortestExactWay) {
  Response r = Admin("POST", "/api/v1/contacts",
                     R"({"email":"ann@example.com","attributes":{"ltv":42.5,"rate":0.1,"big":1e21,"n":3}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("ltv":42.5)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("rate":0.1)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("big":1e+21)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("n":3)"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("E1"), std::string::npos) << r.body;
  int64_t id = Json(r).at("id").as_int64();
  Response got = Admin("GET", "/api/v1/contacts/" + std::to_string(id));
  EXPECT_NE(got.body.find(R"("ltv":42.5)"), std::string::npos) << got.body;
}

}  // namespace
}  // namespace rapport::http
