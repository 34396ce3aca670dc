// ParseHttpUrl: shared by the journey validator, the journeys' webhook client and `rapport tracking
// update-ranges`.
#include "core/http_url.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(ParseHttpUrl, SplitsHostPortAndTargetWithTheSchemesDefaultPort) {
  auto u = ParseHttpUrl("https://hooks.example.com/a/b?x=1#frag");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/a/b?x=1");
  EXPECT_EQ(u->HostHeader(), "hooks.example.com");

  u = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:8080");

  u = ParseHttpUrl("http://example.com?q=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->target, "/?q=1");
}

TEST(ParseHttpUrl, AnIpv6LiteralKeepsItsColonsOutOfThePort) {
  auto u = ParseHttpUrl("http://[::1]:9000/hook");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9000");
  EXPECT_EQ(u->target, "/hook");
  EXPECT_EQ(u->HostHeader(), "[::1]:9000");
  u = ParseHttpUrl("https://[2001:db8::5]/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "2001:db8::5");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->HostHeader(), "[2001:db8::5]");
}

TEST(ParseHttpUrl, RefusesOtherSchemesCredentialsAndBadPorts) {
  for (const char* bad :
       {"ftp://example.com/", "example.com/hook", "http:///path", "http://:80/",
        "https://user:secret@example.com/", "http://example.com:0/", "http://example.com:65536/",
        "http://example.com:8o/", "http://[::1/", "http://[::1]x/"}) {
    auto u = ParseHttpUrl(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.error().field, "url") << bad;
    EXPECT_EQ(u.error().message.find("secret"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace rapport
