#include "core/sender.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

SenderIdentity Valid() {
  SenderIdentity s;
  s.name = "Northwind Outfitters";
  s.email = "news@Bücher.Example";
  s.postal_address = "Northwind Outfitters, 12 Harbour St, Portland, ME 04101, USA";
  return s;
}

TEST(ValidateSender, NormalizesAddressesToAscii) {
  SenderIdentity s = Valid();
  s.reply_to_email = "Help@Northwind.Example";
  ASSERT_TRUE(ValidateSender(s).ok());
  EXPECT_EQ(s.email, "news@xn--bcher-kva.example");
  EXPECT_EQ(s.Domain(), "xn--bcher-kva.example");
  EXPECT_EQ(s.reply_to_email, "Help@northwind.example");
}

TEST(ValidateSender, RefusesCrLfAndControlCharactersInEveryField) {
  for (std::string bad :
       std::vector<std::string>{"a\r\nBcc: x@y.z", "a\nb", "a\rb", std::string("a\0b", 3), "a\tb", "a\x7f"}) {
    SenderIdentity s = Valid();
    s.name = bad;
    EXPECT_EQ(ValidateSender(s).error().field, "name") << bad;
    s = Valid();
    s.reply_to_email = "help@northwind.example";
    s.reply_to_name = bad;
    EXPECT_EQ(ValidateSender(s).error().field, "reply_to.name") << bad;
    s = Valid();
    s.postal_address = bad;
    EXPECT_EQ(ValidateSender(s).error().field, "postal_address") << bad;
    s = Valid();
    s.email = "news@northwind.example" + bad;
    EXPECT_EQ(ValidateSender(s).error().field, "email") << bad;
    s = Valid();
    s.reply_to_email = "help@northwind.example" + bad;
    EXPECT_EQ(ValidateSender(s).error().field, "reply_to.email") << bad;
  }
}

TEST(ValidateSender, RefusesMissingOrMalformedAddressesAndOversizedText) {
  SenderIdentity s = Valid();
  s.email = "";
  EXPECT_EQ(ValidateSender(s).error().field, "email");
  s = Valid();
  s.email = "Northwind <news@northwind.example>";  // a display name belongs in `name`
  EXPECT_EQ(ValidateSender(s).error().field, "email");
  s = Valid();
  s.reply_to_name = "Help";
  EXPECT_EQ(ValidateSender(s).error().field, "reply_to.email");
  s = Valid();
  s.name = std::string(kMaxSenderNameBytes + 1, 'a');
  EXPECT_EQ(ValidateSender(s).error().field, "name");
  s = Valid();
  s.postal_address = std::string(kMaxPostalAddressBytes + 1, 'a');
  EXPECT_EQ(ValidateSender(s).error().field, "postal_address");
  s = Valid();
  s.name = "\xff\xfe";
  EXPECT_EQ(ValidateSender(s).error().field, "name");
  s = Valid();
  s.name = "";  // no display name is fine
  EXPECT_TRUE(ValidateSender(s).ok());
}

TEST(DkimCovers, TheDomainOrAParentAnyCase) {
  std::vector<std::string> keys = {"northwind.example", "Mail.Other.Example"};
  EXPECT_TRUE(DkimCovers(keys, "northwind.example"));
  EXPECT_TRUE(DkimCovers(keys, "news.northwind.example"));
  EXPECT_TRUE(DkimCovers(keys, "NORTHWIND.example"));
  EXPECT_TRUE(DkimCovers(keys, "mail.other.example"));
  EXPECT_FALSE(DkimCovers(keys, "other.example"));
  EXPECT_FALSE(DkimCovers(keys, "xnorthwind.example"));
  EXPECT_FALSE(DkimCovers(keys, "example"));
  EXPECT_FALSE(DkimCovers({}, "northwind.example"));
}

TEST(MarketingRefusal, NeedsAPostalAddressAndADkimKeyForMarketingOnly) {
  SenderIdentity s = Valid();
  s.id = 7;
  s.email = "news@northwind.example";
  std::vector<std::string> none;
  std::vector<std::string> keys = {"northwind.example"};
  EXPECT_TRUE(MarketingRefusal(s, MessageClass::kTransactional, none).ok());
  EXPECT_TRUE(MarketingRefusal(s, MessageClass::kMarketing, keys).ok());
  Status refused = MarketingRefusal(s, MessageClass::kMarketing, none);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(refused.error().field, "from");
  EXPECT_NE(refused.error().message.find("rapport._domainkey.northwind.example"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("[[dkim]]"), std::string::npos);
  s.postal_address.clear();
  refused = MarketingRefusal(s, MessageClass::kMarketing, keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "from");
  EXPECT_NE(refused.error().message.find("postal address"), std::string::npos);
  EXPECT_TRUE(MarketingRefusal(s, MessageClass::kTransactional, none).ok());
}

TEST(DkimRecordName, SelectorDomainkeyDomain) {
  EXPECT_EQ(DkimRecordName("s1", "northwind.example"), "s1._domainkey.northwind.example");
}

}  // namespace
}  // namespace rapport
