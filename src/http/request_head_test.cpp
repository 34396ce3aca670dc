// The fast lane's strict request-head parser and its response writer (request_head.h).
#include "http/request_head.h"

#include <gtest/gtest.h>

namespace rapport::http {
namespace {

TEST(RequestHead, AHitIsParsedWithItsFieldsAndItsLength) {
  std::string data =
      "GET /o/abc?x=1 HTTP/1.1\r\nHost: mail.example.com\r\nUser-Agent:  Mozilla/5.0 \r\n\r\nGET /next";
  RequestHead h;
  ASSERT_EQ(ParseRequestHead(data, h), HeadParse::kComplete);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/o/abc?x=1");
  EXPECT_EQ(h.minor, 1);
  ASSERT_EQ(h.fields.size(), 2u);
  EXPECT_EQ(h.fields[1].first, "User-Agent");
  EXPECT_EQ(h.fields[1].second, "Mozilla/5.0");  // optional whitespace trimmed on both sides
  EXPECT_EQ(data.substr(h.size), "GET /next");
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.has_body);
}

TEST(RequestHead, EveryPrefixOfAWholeHeadIsIncomplete) {
  std::string data = "HEAD /c/tok HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  RequestHead h;
  for (size_t n = 0; n < data.size(); ++n)
    EXPECT_EQ(ParseRequestHead(std::string_view(data).substr(0, n), h), HeadParse::kIncomplete) << n;
  ASSERT_EQ(ParseRequestHead(data, h), HeadParse::kComplete);
  EXPECT_EQ(h.minor, 0);
  EXPECT_TRUE(h.keep_alive);
}

TEST(RequestHead, KeepAliveFollowsTheVersionAndTheConnectionTokens) {
  struct Case {
    const char* head;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    RequestHead h;
    ASSERT_EQ(ParseRequestHead(c.head, h), HeadParse::kComplete) << c.head;
    EXPECT_EQ(h.keep_alive, c.keep_alive) << c.head;
  }
}

TEST(RequestHead, BodiesAndExpectationsAreFlagged) {
  RequestHead h;
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", h), HeadParse::kComplete);
  EXPECT_FALSE(h.has_body);
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", h), HeadParse::kComplete);
  EXPECT_TRUE(h.has_body);
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", h),
            HeadParse::kComplete);
  EXPECT_TRUE(h.has_body);
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", h), HeadParse::kComplete);
  EXPECT_TRUE(h.expect);
}

TEST(RequestHead, WhatTheLaneDoesNotTakeIsUnusual) {
  for (const char* data : {
           "GET / HTTP/1.1\n\n",                            // bare LF, whole
           "GET / HTTP/1.1\nHost: x",                       // bare LF, not whole yet
           "GET / HTTP/2.0\r\n\r\n",                        // another version
           "GET * HTTP/1.1\r\n\r\n",                        // not origin-form
           "GET http://x/ HTTP/1.1\r\n\r\n",                // absolute form
           "GET /a b HTTP/1.1\r\n\r\n",                     // space in the target
           "G(T / HTTP/1.1\r\n\r\n",                        // method not a token
           "GET /\x7f HTTP/1.1\r\n\r\n",                    // control in the target
           "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obsolete line folding
           "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",         // name not a token
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",  // control in a value
           "GET / HTTP/1.1\r\n: empty\r\n\r\n",
       }) {
    RequestHead h;
    EXPECT_EQ(ParseRequestHead(data, h), HeadParse::kUnusual) << data;
  }
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= RequestHead::kMaxFields; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  RequestHead h;
  EXPECT_EQ(ParseRequestHead(many, h), HeadParse::kUnusual);
}

TEST(RequestHead, ResponsesAreWrittenAsTheFullServerWritesThem) {
  Response r;
  r.content_type = "image/gif";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Content-Length", "999");  // the writer's own, never a handler's
  r.body = "GIF89a";
  std::string out;
  ASSERT_TRUE(AppendResponse(r, 1, true, false, out));
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nCache-Control: no-store\r\nContent-Length: "
            "6\r\n\r\nGIF89a");
  out.clear();
  ASSERT_TRUE(AppendResponse(r, 1, false, true, out));  // HEAD: the length, not the body
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nCache-Control: no-store\r\nConnection: "
            "close\r\nContent-Length: 6\r\n\r\n");
  out.clear();
  Response redirect;
  redirect.status = 302;
  redirect.content_type = "";
  redirect.headers.emplace_back("Location", "https://example.com/a");
  ASSERT_TRUE(AppendResponse(redirect, 0, true, false, out));
  EXPECT_EQ(
      out,
      "HTTP/1.0 302 Found\r\nLocation: https://example.com/a\r\nConnection: keep-alive\r\nContent-Length: "
      "0\r\n\r\n");
}

TEST(RequestHead, AFieldWithCrLfOrNulIsNeverWritten) {
  for (std::string bad :
       {std::string("https://x/\r\nSet-Cookie: a=b"), std::string("a\nb"), std::string("a\0b", 3)}) {
    Response r;
    r.status = 302;
    r.headers.emplace_back("Location", bad);
    std::string out = "kept";
    EXPECT_FALSE(AppendResponse(r, 1, true, false, out));
    EXPECT_EQ(out, "kept");
  }
  Response type;
  type.content_type = "text/html\r\nX-Injected: 1";
  std::string out;
  EXPECT_FALSE(AppendResponse(type, 1, true, false, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace rapport::http
