#include "core/email_address.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(EmailAddress, NormalizesDomainCaseAndKeepsLocalPart) {
  auto r = NormalizeEmail("Ada.Lovelace@Example.COM");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "Ada.Lovelace@example.com");
}

TEST(EmailAddress, ConvertsInternationalDomainToAscii) {
  auto r = NormalizeEmail("jos\xC3\xA9@b\xC3\xBC\x63her.de");  // josé@bücher.de
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "jos\xC3\xA9@xn--bcher-kva.de");
}

TEST(EmailAddress, AcceptsPlusTagsAndQuotedLocalParts) {
  EXPECT_TRUE(NormalizeEmail("a+tag@example.org").ok());
  EXPECT_TRUE(NormalizeEmail("\"a b\"@example.org").ok() == false);  // spaces refused outright
  EXPECT_TRUE(NormalizeEmail("\"a@b\"@example.org").ok());
}

TEST(EmailAddress, RejectsMalformedAddressesWithField) {
  for (const char* bad : {"", "plain", "@example.com", "a@", "a@@example.com", "a..b@example.com",
                          ".a@example.com", "a.@example.com", "a@example", "a@-ex.com", "a@ex-.com",
                          "a@ex..com", "a b@example.com", "a@exa mple.com", "a@[127.0.0.1]",
                          "a\r\nBcc: x@y.com@example.com", "a@ex\x01.com", "a(b)@example.com"}) {
    auto r = ParseEmailAddress(bad, "email");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
      EXPECT_EQ(r.error().field, "email");
    }
  }
}

TEST(EmailAddress, EnforcesRfc5321Lengths) {
  std::string local(64, 'a');
  EXPECT_TRUE(NormalizeEmail(local + "@example.com").ok());
  EXPECT_FALSE(NormalizeEmail(local + "a@example.com").ok());
  std::string label(63, 'b');
  EXPECT_TRUE(NormalizeEmail("a@" + label + ".com").ok());
  EXPECT_FALSE(NormalizeEmail("a@" + label + "b.com").ok());
  std::string long_domain;
  for (int i = 0; i < 4; ++i) long_domain += std::string(60, 'c') + ".";
  long_domain += "com";  // 247 chars: whole address over 254 with a 10-char local part
  EXPECT_FALSE(NormalizeEmail(std::string(10, 'x') + "@" + long_domain).ok());
}

TEST(EmailAddress, RejectsInvalidUtf8) {
  EXPECT_FALSE(NormalizeEmail("a\xC3@example.com").ok());
  EXPECT_FALSE(NormalizeEmail("a\xED\xA0\x80@example.com").ok());  // surrogate
}

}  // namespace
TEST(EmailAddress, IdentityKeyIgnoresTheCaseOfAsciiLetters) {
  EXPECT_EQ(EmailIdentityKey("Ada.Lovelace@example.com"), "ada.lovelace@example.com");
  EXPECT_EQ(EmailIdentityKey(*NormalizeEmail("Ada.Lovelace@Example.COM")),
            EmailIdentityKey(*NormalizeEmail("ada.lovelace@example.com")));
  EXPECT_NE(EmailIdentityKey("ada@example.com"), EmailIdentityKey("ada2@example.com"));
  EXPECT_EQ(EmailIdentityKey("\xc3\x89lodie@example.com"), "\xc3\x89lodie@example.com");  // non-ASCII kept
}

}  // namespace rapport
