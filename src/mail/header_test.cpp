#include "mail/header.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>

#include "mail/gmime_test_util.h"

namespace rapport::mail {
namespace {

using testing::CheckLines;
using testing::GMimeDecodeHeader;

EmailAddress Addr(std::string local, std::string domain) { return {std::move(local), std::move(domain)}; }

// Every encoded word in `s` is at most 75 characters.
void ExpectEncodedWordsShort(const std::string& s) {
  static const std::regex kWord(R"(=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kWord); it != std::sregex_iterator(); ++it)
    EXPECT_LE(it->length(), 75) << it->str();
}

TEST(HeaderTest, PlainAsciiIsWrittenAsIs) {
  auto h = EncodeUnstructuredHeader("Subject", "Your order has shipped");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, "Subject: Your order has shipped\r\n");
}

TEST(HeaderTest, EmptyValue) {
  auto h = EncodeUnstructuredHeader("Subject", "");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, "Subject:\r\n");
}

TEST(HeaderTest, LongAsciiFoldsAt78) {
  std::string value;
  for (int i = 0; i < 40; ++i) value += "word" + std::to_string(i) + " ";
  value += "end";
  auto h = EncodeUnstructuredHeader("Subject", value);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(CheckLines(*h, 78), "") << *h;
  EXPECT_EQ(GMimeDecodeHeader(*h), value);
  EXPECT_NE(h->find("\r\n "), std::string::npos);
}

TEST(HeaderTest, NonAsciiUsesEncodedWords) {
  auto h = EncodeUnstructuredHeader("Subject", "Votre commande est expédiée");
  ASSERT_TRUE(h.ok());
  EXPECT_NE(h->find("=?UTF-8?Q?"), std::string::npos) << *h;
  EXPECT_EQ(GMimeDecodeHeader(*h), "Votre commande est expédiée");
  auto cjk = EncodeUnstructuredHeader("Subject", "ご注文の商品を発送しました");
  ASSERT_TRUE(cjk.ok());
  EXPECT_NE(cjk->find("=?UTF-8?B?"), std::string::npos) << *cjk;
  EXPECT_EQ(GMimeDecodeHeader(*cjk), "ご注文の商品を発送しました");
}

TEST(HeaderTest, LookalikeEncodedWordIsEncoded) {
  auto h = EncodeUnstructuredHeader("Subject", "=?UTF-8?Q?fake?=");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(GMimeDecodeHeader(*h), "=?UTF-8?Q?fake?=");
}

TEST(HeaderTest, InjectionIsRejected) {
  const std::vector<std::string> bad = {"Hello\r\nBcc: victim@example.com",
                                        "Hello\nBcc: x",
                                        "Hello\rX",
                                        "a\tb",
                                        std::string("nul\0byte", 8),
                                        "del\x7f",
                                        "c1\xc2\x85",
                                        "\xff\xfe",
                                        "trunc\xe2\x82"};
  for (const std::string& value : bad) {
    std::string out = "X: kept\r\n";
    Status s = AppendUnstructuredHeader(out, "Subject", value);
    ASSERT_FALSE(s.ok()) << value;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
    EXPECT_EQ(s.error().field, "subject");
    EXPECT_EQ(out, "X: kept\r\n");
  }
  std::string nul("a\0b", 3);
  EXPECT_FALSE(ValidateHeaderValue("subject", nul).ok());
  EXPECT_FALSE(ValidateHeaderName("Bad Name").ok());
  EXPECT_FALSE(ValidateHeaderName("Bad:Name").ok());
  EXPECT_FALSE(ValidateHeaderName("X-\r\nBcc").ok());
  EXPECT_TRUE(ValidateHeaderName("X-Campaign").ok());
  std::string out;
  EXPECT_FALSE(AppendAddressHeader(out, "To", Mailbox{"Eve\r\nBcc: x", Addr("a", "example.com")}).ok());
  EXPECT_FALSE(AppendAddressHeader(out, "To", Mailbox{"", Addr("a\r\n", "example.com")}).ok());
  EXPECT_FALSE(AppendAddressHeader(out, "To", Mailbox{"", Addr("a", "exa mple.com")}).ok());
  EXPECT_FALSE(AppendAddressHeader(out, "To", Mailbox{"", Addr("a>b", "example.com")}).ok());
  EXPECT_EQ(out, "");
}

TEST(HeaderTest, RandomRoundTripsThroughGMime) {
  std::mt19937 rng(20261123);
  for (int i = 0; i < 3000; ++i) {
    std::string value = testing::RandomUtf8(rng, 60, /*allow_newlines=*/false);
    auto h = EncodeUnstructuredHeader(i % 2 ? "Subject" : "X-A-Rather-Long-Header-Name-For-Folding", value);
    ASSERT_TRUE(h.ok()) << value;
    ASSERT_EQ(CheckLines(*h), "") << *h;
    ExpectEncodedWordsShort(*h);
    // Lines stay within 78 unless one unbreakable plain word is longer.
    if (h->find("=?UTF-8?") != std::string::npos) {
      ASSERT_EQ(CheckLines(*h, 78), "") << *h;
    }
    ASSERT_EQ(GMimeDecodeHeader(*h), value) << *h;
  }
}

TEST(HeaderTest, NeverSplitsUtf8InsideAWord) {
  std::string value;
  for (int i = 0; i < 200; ++i) value += "😀é";
  auto h = EncodeUnstructuredHeader("Subject", value);
  ASSERT_TRUE(h.ok());
  // Each encoded word decodes on its own to valid UTF-8.
  static const std::regex kWord(R"(=\?UTF-8\?[QB]\?[^?\s]*\?=)");
  int words = 0;
  for (auto it = std::sregex_iterator(h->begin(), h->end(), kWord); it != std::sregex_iterator(); ++it) {
    std::string one = GMimeDecodeHeader("S: " + it->str());
    EXPECT_TRUE(IsValidUtf8(one)) << it->str();
    EXPECT_EQ(one.find("\xEF\xBF\xBD"), std::string::npos) << it->str();  // no U+FFFD
    ++words;
  }
  EXPECT_GT(words, 10);
  EXPECT_EQ(GMimeDecodeHeader(*h), value);
  EXPECT_EQ(CheckLines(*h, 78), "");
}

TEST(HeaderTest, VeryLongWordNeverPasses998) {
  std::string value(5000, 'x');
  auto h = EncodeUnstructuredHeader("Subject", value);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(CheckLines(*h, 78), "");
  EXPECT_EQ(GMimeDecodeHeader(*h), value);
  std::string medium = "see " + std::string(300, 'y') + " here";
  auto m = EncodeUnstructuredHeader("Subject", medium);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(CheckLines(*m), "");
  EXPECT_EQ(GMimeDecodeHeader(*m), medium);
}

struct ParsedAddress {
  std::string name, addr;
};

std::vector<ParsedAddress> ParseWithGMime(const std::string& header) {
  testing::InitGMime();
  std::string value;
  for (char c : header.substr(header.find(':') + 1))
    if (c != '\r' && c != '\n') value.push_back(c);
  std::vector<ParsedAddress> out;
  InternetAddressList* list = internet_address_list_parse(nullptr, value.c_str());
  if (!list) return out;
  for (int i = 0; i < internet_address_list_length(list); ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    const char* name = internet_address_get_name(ia);
    const char* addr = INTERNET_ADDRESS_IS_MAILBOX(ia)
                           ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
                           : "";
    out.push_back({name ? name : "", addr ? addr : ""});
  }
  g_object_unref(list);
  return out;
}

TEST(HeaderTest, AddressHeadersRoundTrip) {
  std::vector<Mailbox> boxes = {
      {"Ada Lovelace", Addr("ada", "example.com")},
      {"Lovelace, Ada (Countess)", Addr("ada.l", "example.org")},
      {"José Müller-Lüdenscheidt", Addr("jose", "xn--mller-kva.de")},
      {"He said \"hi\" \\ bye", Addr("q", "example.net")},
      {"", Addr("bare", "example.com")},
      {"田中 太郎 with a rather long display name that needs folding 😀", Addr("taro", "example.jp")},
      {"=?UTF-8?Q?not_encoded?=", Addr("x", "example.com")},
  };
  std::string out;
  ASSERT_TRUE(AppendAddressHeader(out, "To", boxes).ok());
  EXPECT_EQ(CheckLines(out, 78), "") << out;
  ExpectEncodedWordsShort(out);
  auto parsed = ParseWithGMime(out);
  ASSERT_EQ(parsed.size(), boxes.size()) << out;
  for (size_t i = 0; i < boxes.size(); ++i) {
    EXPECT_EQ(parsed[i].name, boxes[i].display_name) << out;
    // GMime shows IDN domains in Unicode.
    const std::string expected =
        boxes[i].address.domain == "xn--mller-kva.de" ? "jose@müller.de" : boxes[i].address.ToString();
    EXPECT_EQ(parsed[i].addr, expected) << out;
  }
}

TEST(HeaderTest, RandomDisplayNamesRoundTrip) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::string name = testing::RandomUtf8(rng, 12, false);
    if (name.size() > 600) name.resize(600);
    while (!IsValidUtf8(name)) name.pop_back();
    std::string out;
    ASSERT_TRUE(AppendAddressHeader(out, "From", Mailbox{name, Addr("news", "example.com")}).ok()) << name;
    ASSERT_EQ(CheckLines(out), "") << out;
    auto parsed = ParseWithGMime(out);
    ASSERT_EQ(parsed.size(), 1u) << out;
    // GMime trims and collapses whitespace in display names; compare modulo that.
    auto squash = [](std::string s) {
      std::string r;
      for (char c : s) {
        if (c == ' ' && (r.empty() || r.back() == ' ')) continue;
        r.push_back(c);
      }
      while (!r.empty() && r.back() == ' ') r.pop_back();
      return r;
    };
    EXPECT_EQ(squash(parsed[0].name), squash(name)) << out;
    EXPECT_EQ(parsed[0].addr, "news@example.com") << out;
  }
}

TEST(HeaderTest, DateFormat) {
  // 2026-11-23 10:15:07 UTC is a Monday.
  Timestamp t = FromMicros(1795428907LL * 1000000 + 123);
  EXPECT_EQ(FormatRfc5322Date(t), "Mon, 23 Nov 2026 10:15:07 +0000");
  EXPECT_EQ(FormatRfc5322Date(FromMicros(0)), "Thu, 1 Jan 1970 00:00:00 +0000");
}

TEST(HeaderTest, MessageIdIsUniqueAndWellFormed) {
  std::set<std::string> seen;
  static const std::regex kId(R"(<[a-z2-7]{26}@example\.com>)");
  for (int i = 0; i < 1000; ++i) {
    std::string id = GenerateMessageId("example.com");
    EXPECT_TRUE(std::regex_match(id, kId)) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
}  // namespace rapport::mail

namespace rapport::mail {
namespace {

TEST(ParseMailboxTest, AcceptsTheFormsOperatorsWrite) {
  auto plain = ParseMailbox("sender.from", "shop@example.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->display_name, "");
  EXPECT_EQ(plain->address.ToString(), "shop@example.com");
  auto named = ParseMailbox("sender.from", "  Tea Shop <hello@Example.COM> ");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->display_name, "Tea Shop");
  EXPECT_EQ(named->address.ToString(), "hello@example.com");
  auto quoted = ParseMailbox("sender.from",
                             "\"Tea, Inc.\" <hello@b\xC3\xBC"
                             "cher.example>");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->display_name, "Tea, Inc.");
  EXPECT_EQ(quoted->address.domain, "xn--bcher-kva.example");
}

TEST(ParseMailboxTest, RefusesWhatCouldInjectOrIsNoAddress) {
  for (std::string_view bad : {"", "Shop <>", "Shop hello@example.com>", "Shop\r\nBcc: x@y.z <a@b.example>",
                               "a@b.example\r\nBcc: x@y.z", "Sh\"op <a@b.example>", "not an address"}) {
    auto r = ParseMailbox("sender.from", bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().field, "sender.from");
    }
  }
}

}  // namespace
}  // namespace rapport::mail
