#include "delivery/smtp/smtp_reply.h"

#include <gtest/gtest.h>

#include "delivery/smtp/dot_stuff.h"
#include "delivery/smtp/smtp_capabilities.h"

namespace rapport::delivery {
namespace {

TEST(SmtpReply, SingleLineWithEnhancedCode) {
  SmtpReply r;
  auto n = ParseReply("550 5.1.1 <a@b.c>: no such user\r\nrest", r);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 33u);
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced_code, "5.1.1");
  EXPECT_EQ(r.Text(), "<a@b.c>: no such user");
  EXPECT_EQ(r.ToString(), "550 5.1.1 <a@b.c>: no such user");
}

TEST(SmtpReply, MultiLineNeedsTheLastLine) {
  SmtpReply r;
  std::string buf = "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n";
  auto n = ParseReply(buf, r);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);  // incomplete
  buf += "250 8BITMIME\r\n";
  n = ParseReply(buf, r);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, buf.size());
  ASSERT_EQ(r.lines.size(), 4u);
  EXPECT_EQ(r.lines[3], "8BITMIME");
  auto caps = ParseEhloReply(r);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.eight_bit_mime);
  EXPECT_EQ(caps.size_limit, 1000u);
  EXPECT_FALSE(caps.starttls);
}

TEST(SmtpReply, MultiLineEnhancedCodeRepeatedPerLine) {
  SmtpReply r;
  ASSERT_TRUE(ParseReply("452-4.2.2 The mailbox is full\n452 4.2.2 try later\n", r).ok());
  EXPECT_EQ(r.code, 452);
  EXPECT_EQ(r.enhanced_code, "4.2.2");
  EXPECT_EQ(r.Text(), "The mailbox is full\ntry later");
}

TEST(SmtpReply, BareCodeAndNoEnhancedCode) {
  SmtpReply r;
  ASSERT_TRUE(ParseReply("354\r\n", r).ok());
  EXPECT_EQ(r.code, 354);
  EXPECT_EQ(r.Text(), "");
  ASSERT_TRUE(ParseReply("250 2.0 not enhanced\r\n", r).ok());
  EXPECT_EQ(r.enhanced_code, "");
  ASSERT_TRUE(ParseReply("250 5.1.1000 too long detail\r\n", r).ok());
  EXPECT_EQ(r.enhanced_code, "");
}

TEST(SmtpReply, RejectsGarbage) {
  SmtpReply r;
  EXPECT_FALSE(ParseReply("HTTP/1.1 400 Bad\r\n", r).ok());
  EXPECT_FALSE(ParseReply("25\r\n", r).ok());
  EXPECT_FALSE(ParseReply("250x hi\r\n", r).ok());
  EXPECT_FALSE(ParseReply("250-a\r\n251 b\r\n", r).ok());
  EXPECT_FALSE(ParseReply(std::string(5000, '2'), r).ok());
}

TEST(SmtpCapabilities, AuthBothForms) {
  SmtpReply r;
  ASSERT_TRUE(ParseReply("250-x\r\n250-AUTH=LOGIN\r\n250-auth plain login\r\n250 STARTTLS\r\n", r).ok());
  auto caps = ParseEhloReply(r);
  EXPECT_TRUE(caps.HasAuth("PLAIN"));
  EXPECT_TRUE(caps.HasAuth("LOGIN"));
  EXPECT_EQ(caps.auth.size(), 2u);
  EXPECT_TRUE(caps.starttls);
}

std::string Stuff(std::string_view in) {
  std::string out;
  AppendDotStuffed(in, out);
  return out;
}

TEST(DotStuff, DoublesLeadingDotsAndTerminates) {
  EXPECT_EQ(Stuff("a\r\n.b\r\n..c\r\nd.e\r\n"), "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  EXPECT_EQ(Stuff(".start\r\n"), "..start\r\n.\r\n");
  EXPECT_EQ(Stuff("no final newline"), "no final newline\r\n.\r\n");
  EXPECT_EQ(Stuff("bare\nlf\n.dot"), "bare\r\nlf\r\n..dot\r\n.\r\n");
  EXPECT_EQ(Stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(Stuff(""), ".\r\n");
}

TEST(DotStuff, Transparent) {
  EXPECT_TRUE(IsTransparent("a\r\nb.c\r\n"));
  EXPECT_FALSE(IsTransparent("a\r\n.b\r\n"));
  EXPECT_FALSE(IsTransparent(".a\r\n"));
  EXPECT_FALSE(IsTransparent("a\nb\r\n"));
  EXPECT_FALSE(IsTransparent("a\r\nb"));
  EXPECT_FALSE(IsTransparent(""));
  // InspectMessage agrees with both single-purpose functions, across word boundaries.
  for (std::string s :
       std::vector<std::string>{"a\r\nb.c\r\n", "abcdefg\r\n.x\r\n", "abcdef\r\n\r\n", "abcdefgh\nxyz\r\n",
                                "0123456789abcde\r\n\xc3\xa9\r\n", "0123456789abcdef.\r\n", "0123456\r\n",
                                "0123456789abcde\r\n.0123456789abcdef\r\nzz\r\n",
                                "0123456789abcdefghijklmnopqrstu\nzz\r\n", std::string(64, 'a') + "\r\n"}) {
    auto shape = InspectMessage(s);
    EXPECT_EQ(shape.transparent, IsTransparent(s)) << s;
    EXPECT_EQ(shape.eight_bit, HasEightBitBytes(s)) << s;
  }
  for (std::string s : {"a\r\nb.c\r\n", "x\r\n\r\ny\r\n"}) {
    EXPECT_EQ(Stuff(s), s + ".\r\n");  // what the no-copy path sends
  }
}

// What a server does with the DATA bytes (RFC 5321 §4.5.2): drop the terminator, un-double dots.
std::string Unstuff(const std::string& wire) {
  EXPECT_GE(wire.size(), 3u);
  EXPECT_EQ(wire.substr(wire.size() - 3), ".\r\n");
  std::string body = wire.substr(0, wire.size() - 3), out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos);
    std::string line = body.substr(pos, end - pos);
    EXPECT_NE(line, ".") << "a lone dot would end the data early";
    if (!line.empty() && line[0] == '.') line.erase(0, 1);
    out += line + "\r\n";
    pos = end + 2;
  }
  return out;
}

TEST(DotStuff, RandomMessagesRoundTrip) {
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>(state >> 33);
  };
  const char alphabet[] = {'.', '.', 'a', 'b', '\r', '\n', '\n', ' ', '\x80'};
  for (int round = 0; round < 2000; ++round) {
    std::string in;
    int len = static_cast<int>(next() % 60);
    for (int i = 0; i < len; ++i) in += alphabet[next() % sizeof alphabet];
    std::string wire;
    AppendDotStuffed(in, wire);
    // The expected content: lines split on LF (a CR before it belongs to the line end), each
    // line CRLF-terminated.
    std::string expected;
    size_t pos = 0;
    while (pos < in.size()) {
      size_t nl = in.find('\n', pos);
      std::string line = in.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (nl != std::string::npos && !line.empty() && line.back() == '\r') line.pop_back();
      expected += line + "\r\n";
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    if (Unstuff(wire) != expected) {
      ADD_FAILURE() << "input: " << ::testing::PrintToString(in);
      break;
    }
    auto shape = InspectMessage(in);
    if (shape.transparent) {
      EXPECT_EQ(in + ".\r\n", wire);
    }
  }
}

TEST(DotStuff, EightBit) {
  EXPECT_FALSE(HasEightBitBytes("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(HasEightBitBytes("caf\xc3\xa9"));
  EXPECT_TRUE(HasEightBitBytes(std::string(100, 'a') + "\x80" + std::string(3, 'b')));
}

}  // namespace
}  // namespace rapport::delivery
