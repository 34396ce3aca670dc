#include "core/form_body.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(FormBody, DecodesPairsPlusAndPercent) {
  auto f = ParseFormBody("email=ada%40example.com&first_name=Ada+Lovelace&topic=news&topic=offers&&x");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->Get("email"), "ada@example.com");
  EXPECT_EQ(f->Get("first_name"), "Ada Lovelace");
  EXPECT_EQ(f->All("topic"), (std::vector<std::string_view>{"news", "offers"}));
  EXPECT_TRUE(f->Has("x"));
  EXPECT_EQ(f->Get("x"), "");
  EXPECT_EQ(f->Get("missing"), "");
}

TEST(FormBody, Utf8AndRfc8058) {
  auto f = ParseFormBody("List-Unsubscribe=One-Click");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->Get("List-Unsubscribe"), "One-Click");
  auto fr = ParseFormBody("first_name=Ren%C3%A9e");
  ASSERT_TRUE(fr.ok());
  EXPECT_EQ(fr->Get("first_name"),
            "Ren\xC3\xA9"
            "e");
}

TEST(FormBody, RefusesMalformedInput) {
  for (std::string_view bad : {"a=%", "a=%4", "a=%zz", "=1", "a=%FF", "a%00=1", "a=%00", "a=%7F"})
    EXPECT_FALSE(ParseFormBody(bad).ok()) << bad;
  EXPECT_TRUE(ParseFormBody("a=line%0Anext").ok());  // a textarea's newline
  std::string many;
  for (size_t i = 0; i <= kMaxFormFields; ++i) many += "a=1&";
  EXPECT_EQ(ParseFormBody(many).error().field, "body");
  EXPECT_FALSE(ParseFormBody(std::string(kMaxFormBytes + 1, 'a')).ok());
}

}  // namespace
}  // namespace rapport
