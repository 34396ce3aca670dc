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

TEST(Utf8, AppendUtf8EncodesEachLengthAndReplacesWhatIsNoCharacter) {
  std::string out;
  for (uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F600u}) AppendUtf8(out, cp);
  EXPECT_EQ(out, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_TRUE(IsValidUtf8(out));
  for (uint32_t cp : {0x0u, 0xD800u, 0xDFFFu, 0x110000u}) {
    std::string bad;
    AppendUtf8(bad, cp);
    EXPECT_EQ(bad, "\xEF\xBF\xBD") << cp;
  }
}

}  // namespace
}  // namespace rapport
