#include "core/encoding.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(Encoding, AtextIsRfc5322) {
  std::string atext;
  for (int c = 0; c < 256; ++c)
    if (IsAtext(static_cast<unsigned char>(c))) atext.push_back(static_cast<char>(c));
  EXPECT_EQ(atext, "!#$%&'*+-/0123456789=?ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~");
}

TEST(Encoding, Hex) {
  EXPECT_EQ(Hex(std::string_view("\x00\x0f\xab\xff", 4)), "000fabff");
  EXPECT_EQ(Hex("\xab", true), "AB");
  std::string digits = "0123456789abcdefABCDEF";
  for (char c : digits) EXPECT_GE(HexDigitValue(c), 0) << c;
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
}

TEST(Encoding, Base64Rfc4648Vectors) {
  // RFC 4648 §10.
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [in, want] : vectors) EXPECT_EQ(Base64(in), want) << in;
  EXPECT_EQ(Base64("\xfb\xff", Base64Alphabet::kUrl), "-_8");
  EXPECT_EQ(Base64("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64(std::string_view("\0alice\0s3cret", 13)), "AGFsaWNlAHMzY3JldA==");
}

}  // namespace
}  // namespace rapport
