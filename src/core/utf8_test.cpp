#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace rapport {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
}

TEST(Utf8, RefusesMalformedText) {
  for (const std::string& bad : {std::string("\x80"), std::string("\xC3"), std::string("\xE2\x82"),
                                 std::string("\xC0\xAF"),          // overlong '/'
                                 std::string("\xE0\x80\xAF"),      // overlong
                                 std::string("\xED\xA0\x80"),      // surrogate U+D800
                                 std::string("\xF4\x90\x80\x80"),  // above U+10FFFF
                                 std::string("\xF8\x88\x80\x80\x80"), std::string("ok\xC3(")})
    EXPECT_FALSE(IsValidUtf8(bad)) << bad.size();
}

}  // namespace
}  // namespace rapport
