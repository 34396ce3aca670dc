#include "tracking/link_signer.h"

#include <gtest/gtest.h>

namespace rapport::tracking {
namespace {

const std::string kSecret(32, 'k');

TEST(LinkSigner, RoundTrips) {
  auto signer = LinkSigner::Create(kSecret);
  ASSERT_TRUE(signer.ok());
  LinkClaims c{LinkKind::kUnsubscribe, 7, 123456789, 42};
  std::string token = signer->Sign(c);
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
            std::string::npos);
  auto got = signer->Verify(token, LinkKind::kUnsubscribe);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, c);
}

TEST(LinkSigner, RejectsAlteredForgedAndOtherKinds) {
  auto signer = LinkSigner::Create(kSecret);
  ASSERT_TRUE(signer.ok());
  std::string token = signer->Sign({LinkKind::kUnsubscribe, 1, 5, 0});
  // Another contact's id with the first tag.
  std::string other = signer->Sign({LinkKind::kUnsubscribe, 1, 6, 0});
  std::string spliced = other.substr(0, other.find('.')) + token.substr(token.find('.'));
  EXPECT_EQ(signer->Verify(spliced, LinkKind::kUnsubscribe).error().code, ErrorCode::kPermissionDenied);
  // Every single-character change of the token fails.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer->Verify(t, LinkKind::kUnsubscribe).ok()) << "position " << i;
  }
  // A token of another kind, or signed with another secret.
  EXPECT_FALSE(signer->Verify(signer->Sign({LinkKind::kView, 1, 5, 0}), LinkKind::kUnsubscribe).ok());
  auto stranger = LinkSigner::Create(std::string(32, 'x'));
  EXPECT_FALSE(
      signer->Verify(stranger->Sign({LinkKind::kUnsubscribe, 1, 5, 0}), LinkKind::kUnsubscribe).ok());
  for (std::string_view junk : {"", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", "dS4xLjUuMA"})
    EXPECT_FALSE(signer->Verify(junk, LinkKind::kUnsubscribe).ok()) << junk;
  EXPECT_FALSE(
      signer->Verify(std::string(500, 'a') + "." + std::string(22, 'a'), LinkKind::kUnsubscribe).ok());
}

TEST(LinkSigner, NeedsALongSecret) { EXPECT_EQ(LinkSigner::Create("short").error().field, "secret"); }

TEST(LinkSigner, BuildsUrls) {
  EXPECT_EQ(LinkUrl("https://m.example.com/", LinkKind::kUnsubscribe, "t.x"), "https://m.example.com/u/t.x");
  EXPECT_EQ(LinkUrl("http://127.0.0.1:8080", LinkKind::kPreferences, "t"), "http://127.0.0.1:8080/p/t");
}

}  // namespace
}  // namespace rapport::tracking
