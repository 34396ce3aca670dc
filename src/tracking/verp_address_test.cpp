#include "tracking/verp_address.h"

#include <gtest/gtest.h>

namespace rapport::tracking {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-verp";

TEST(Verp, RoundTripsAndKeepsTheDomain) {
  auto v = VerpCodec::Create(kSecret);
  ASSERT_TRUE(v.ok());
  std::string a = v->Encode("bounces@mail.example.com", 3, 4711);
  EXPECT_TRUE(a.starts_with("bounces+3-4711-")) << a;
  EXPECT_TRUE(a.ends_with("@mail.example.com")) << a;
  EXPECT_LE(a.find('@'), 64u);  // a local part fits RFC 5321's 64 octets
  auto c = v->Decode(a);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, (VerpClaims{3, 4711}));
  // MTAs that upper- or lower-case local parts.
  std::string upper = a;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(*v->Decode(upper), (VerpClaims{3, 4711}));
  EXPECT_EQ(v->Encode("<>", 1, 2), "<>");
}

TEST(Verp, EveryOneCharacterChangeIsRefused) {
  auto v = VerpCodec::Create(kSecret);
  std::string a = v->Encode("b@x.org", 12, 345);
  size_t at = a.find('@');
  for (size_t i = a.find('+') + 1; i < at; ++i) {
    for (char repl : {'0', '1', '9', 'a', 'f', '-', 'z'}) {
      if (a[i] == repl) continue;
      std::string t = a;
      t[i] = repl;
      auto c = v->Decode(t);
      EXPECT_FALSE(c.ok() && !(*c == VerpClaims{12, 345})) << t;  // never another message
      EXPECT_FALSE(c.ok()) << t;
    }
  }
}

TEST(Verp, NotOursAndOtherKeys) {
  auto v = VerpCodec::Create(kSecret);
  EXPECT_EQ(v->Decode("bounces@x.org").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(v->Decode("a+b@x.org").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(v->Decode("nobody").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(v->Decode("a+1-2-zz@x.org").error().code, ErrorCode::kPermissionDenied);
  auto other = VerpCodec::Create(kSecret + "x");
  EXPECT_EQ(other->Decode(v->Encode("a@x.org", 1, 2)).error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(VerpCodec::Create("short").ok());
}

}  // namespace
}  // namespace rapport::tracking
