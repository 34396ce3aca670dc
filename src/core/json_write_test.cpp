#include "core/json_write.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace rapport {
namespace {

std::string Num(double d) {
  std::string s;
  AppendJsonNumber(s, d);
  return s;
}

// Issue 14: 42.5 came back as 4.25E1.
TEST(JsonWrite, Issue14NumbersAreWrittenAsJavaScriptPrintsThem) {
  EXPECT_EQ(Num(42.5), "42.5");
  EXPECT_EQ(Num(0.1), "0.1");
  EXPECT_EQ(Num(-3.25), "-3.25");
  EXPECT_EQ(Num(42.0), "42");
  EXPECT_EQ(Num(100), "100");
  EXPECT_EQ(Num(1e20), "100000000000000000000");
  EXPECT_EQ(Num(1e21), "1e+21");
  EXPECT_EQ(Num(1.5e-7), "1.5e-7");
  EXPECT_EQ(Num(0.000001), "0.000001");
  EXPECT_EQ(Num(123456789.125), "123456789.125");
  EXPECT_EQ(Num(5e-324), "5e-324");
  EXPECT_EQ(Num(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Num(-0.0), "0");
  EXPECT_EQ(Num(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(Num(std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWrite, EveryDoubleReadsBackExactly) {
  std::mt19937_64 rng(14);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    std::string s = Num(d);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), d) << s;
  }
}

TEST(JsonWrite, WritesWhatBoostJsonParsesBackToTheSameValue) {
  boost::json::value v = boost::json::parse(
      R"({"a":[1,-2,18446744073709551615,3.5,true,false,null],"s":"q\"uo\\te\n\t\u0001é","o":{}})");
  std::string text = WriteJson(v);
  EXPECT_EQ(boost::json::parse(text), v);
  EXPECT_EQ(text,
            "{\"a\":[1,-2,18446744073709551615,3.5,true,false,null],\"s\":\"q\\\"uo\\\\te\\n\\t\\u0001é\","
            "\"o\":{}}");
}

}  // namespace
}  // namespace rapport
