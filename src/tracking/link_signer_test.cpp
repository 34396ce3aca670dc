#include "tracking/link_signer.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "tracking/key_ring.h"

namespace rapport::tracking {
namespace {

// The ring's precomputed HMAC (inner and outer blocks hashed once) tags as OpenSSL's HMAC() does,
// for keys shorter than, as long as and longer than SHA-256's block (RFC 4231, test case 6).
TEST(KeyRingTag, ThePrecomputedHmacIsHmacSha256) {
  std::string long_key(131, '\xaa');
  auto ring = KeyRing::Create({SigningKey{1, std::string(32, 'a'), {}, Timestamp{}, {}},
                               SigningKey{2, std::string(64, 'b'), {}, Timestamp{}, {}},
                               SigningKey{3, long_key, {}, std::nullopt, {}}});
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  const std::string message = "Test Using Larger Than Block-Size Key - Hash Key First";
  for (const SigningKey* k : ring->Verifiers(Timestamp{})) {
    ASSERT_NE(k->hmac, nullptr);
    SigningKey plain = *k;
    plain.hmac = nullptr;  // the one-shot path
    for (std::string m : {message, std::string(), std::string(1000, 'x')})
      EXPECT_EQ(Tag(*k, m), Tag(plain, m)) << k->id;
  }
  EXPECT_EQ(Hex(Tag(ring->current(), message)), "60e431591ee0b67f0d8a26aacbf5b77f");
}

const std::string kSecret(32, 'k');

TEST(LinkSigner, RoundTrips) {
  auto signer = LinkSigner::Create(kSecret);
  ASSERT_TRUE(signer.ok());
  LinkClaims c{LinkKind::kUnsubscribe, 7, 123456789, 42};
  std::string token = signer->Sign(c);
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  auto got = signer->Verify(token, LinkKind::kUnsubscribe);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, c);
}

TEST(LinkSigner, RejectsForgedAndOtherKinds) {
  auto signer = LinkSigner::Create(kSecret);
  ASSERT_TRUE(signer.ok());
  std::string token = signer->Sign({LinkKind::kUnsubscribe, 1, 5, 0});
  // Another contact's payload with the first tag.
  std::string other = signer->Sign({LinkKind::kUnsubscribe, 1, 6, 0});
  ASSERT_EQ(other.size(), token.size());
  std::string spliced = other.substr(0, other.size() - 22) + token.substr(token.size() - 22);
  EXPECT_EQ(signer->Verify(spliced, LinkKind::kUnsubscribe).error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(signer->Verify(signer->Sign({LinkKind::kView, 1, 5, 0}), LinkKind::kUnsubscribe).ok());
  auto stranger = LinkSigner::Create(std::string(32, 'x'));
  EXPECT_FALSE(
      signer->Verify(stranger->Sign({LinkKind::kUnsubscribe, 1, 5, 0}), LinkKind::kUnsubscribe).ok());
  for (std::string_view junk : {"", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", "dS4xLjUuMA", "AAAA"})
    EXPECT_FALSE(signer->Verify(junk, LinkKind::kUnsubscribe).ok()) << junk;
  EXPECT_FALSE(signer->Verify(std::string(500, 'a'), LinkKind::kUnsubscribe).ok());
}

// Every token kind, and every one-character change of it: each substitution by every other
// character of the alphabet (and a few outside it), each deletion and each insertion.
TEST(LinkSigner, EveryOneCharacterChangeIsRefused) {
  auto signer = LinkSigner::Create(kSecret);
  ASSERT_TRUE(signer.ok());
  const std::string alphabet = std::string(kBase64UrlAlphabet) + ".=+/%";
  std::vector<LinkClaims> claims = {
      {LinkKind::kUnsubscribe, 1, 5, 0},
      {LinkKind::kClick, 3, 987654, 0, 0x1234567890abcdefLL, 17},
      {LinkKind::kOpen, 3, 987654, 0, 0x7fffffffffffffffLL, 0},
      {LinkKind::kView, 3, 1, 99, 42, 0, Timestamp(std::chrono::seconds(4'000'000'000))},
  };
  size_t tried = 0;
  for (const LinkClaims& c : claims) {
    std::string token = signer->Sign(c);
    ASSERT_TRUE(signer->Verify(token, c.kind).ok());
    for (size_t i = 0; i < token.size(); ++i) {
      for (char ch : alphabet) {
        if (ch == token[i]) continue;
        std::string t = token;
        t[i] = ch;
        ++tried;
        EXPECT_FALSE(signer->VerifyAny(t).ok()) << token << " position " << i << " -> " << ch;
      }
      std::string deleted = token;
      deleted.erase(i, 1);
      EXPECT_FALSE(signer->VerifyAny(deleted).ok()) << "deleted " << i;
      for (char ch : std::string_view(kBase64UrlAlphabet)) {
        std::string inserted = token;
        inserted.insert(i, 1, ch);
        EXPECT_FALSE(signer->VerifyAny(inserted).ok()) << "inserted at " << i;
      }
    }
  }
  EXPECT_GT(tried, 4u * 40 * 60);
}

// Links of the first releases ("<payload>.<tag>" over text) signed with the link secret keep
// verifying once that secret is a key of the ring.
TEST(LinkSigner, VerifiesTheFirstReleasesTokens) {
  // Made by the first release's LinkSigner with secret "k" x 32 for {u, 1, 5, 0}.
  auto signer = LinkSigner::Create(kSecret);
  ASSERT_TRUE(signer.ok());
  std::string payload = "u.1.5.0";
  SigningKey k{1, kSecret, {}, {}, {}};
  std::string legacy =
      Base64(payload, Base64Alphabet::kUrl) + "." + Base64(Tag(k, payload), Base64Alphabet::kUrl);
  auto got = signer->Verify(legacy, LinkKind::kUnsubscribe);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->contact_id, 5);
  for (size_t i = 0; i < legacy.size(); ++i) {
    std::string t = legacy;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer->Verify(t, LinkKind::kUnsubscribe).ok()) << "position " << i;
  }
}

TEST(LinkSigner, ExpiredClaimsAreRefused) {
  FakeClock clock(Timestamp(std::chrono::seconds(1'000'000)));
  auto ring = KeyRing::Create({SigningKey{1, kSecret, {}, {}, {}}});
  ASSERT_TRUE(ring.ok());
  LinkSigner signer(*ring, clock);
  LinkClaims c{LinkKind::kPreferences, 1, 2};
  c.expires_at = clock.Now() + std::chrono::hours(24 * 7);
  std::string token = signer.Sign(c);
  EXPECT_TRUE(signer.Verify(token, LinkKind::kPreferences).ok());
  clock.Advance(std::chrono::hours(24 * 7) - std::chrono::seconds(1));
  EXPECT_TRUE(signer.Verify(token, LinkKind::kPreferences).ok());
  clock.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(signer.Verify(token, LinkKind::kPreferences).ok());
}

// A rotation: new links use the new key; old links verify until the old key's retention ends.
TEST(LinkSigner, RotationKeepsOldLinksForTheRetention) {
  FakeClock clock(Timestamp(std::chrono::seconds(1'700'000'000)));
  auto ring = KeyRing::Create({SigningKey{1, kSecret, clock.Now(), {}, {}}}, std::chrono::hours(24 * 400));
  ASSERT_TRUE(ring.ok());
  LinkSigner signer(*ring, clock);
  LinkClaims c{LinkKind::kClick, 1, 2, 0, 77, 3};
  std::string old_token = signer.Sign(c);
  clock.Advance(std::chrono::hours(24 * 30));
  auto rotated = signer.ring()->Rotated(std::string(32, 'n'), clock.Now());
  ASSERT_TRUE(rotated.ok());
  signer.SetRing(*rotated);
  std::string new_token = signer.Sign(c);
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(signer.ring()->current().id, 2u);
  EXPECT_TRUE(signer.Verify(old_token, LinkKind::kClick).ok());
  clock.Advance(std::chrono::hours(24 * 400) - std::chrono::seconds(1));
  EXPECT_TRUE(signer.Verify(old_token, LinkKind::kClick).ok());
  clock.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(signer.Verify(old_token, LinkKind::kClick).ok());
  EXPECT_TRUE(signer.Verify(new_token, LinkKind::kClick).ok());
  // The next rotation drops the key past retention.
  auto again = signer.ring()->Rotated(std::string(32, 'm'), clock.Now());
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->keys().size(), 2u);
  EXPECT_EQ(again->keys()[0].id, 2u);
  EXPECT_EQ(again->current().id, 3u);
}

TEST(LinkSigner, NeedsALongSecret) { EXPECT_EQ(LinkSigner::Create("short").error().field, "secret"); }

TEST(LinkSigner, BuildsUrls) {
  EXPECT_EQ(LinkUrl("https://m.example.com/", LinkKind::kUnsubscribe, "t.x"), "https://m.example.com/u/t.x");
  EXPECT_EQ(LinkUrl("http://127.0.0.1:8080", LinkKind::kPreferences, "t"), "http://127.0.0.1:8080/p/t");
  EXPECT_EQ(LinkUrl("https://m.example.com", LinkKind::kClick, "t"), "https://m.example.com/c/t");
}

TEST(LinkToken, IsCompact) {
  auto signer = LinkSigner::Create(kSecret);
  std::string click = signer->Sign({LinkKind::kClick, 1, 123456, 0, 0x5eadbeefcafe1234LL, 12});
  EXPECT_LE(click.size(), 44u) << click;
}

TEST(KeyRing, ParsesAndSerializes) {
  std::string text =
      "# comment\n"
      "1 1700000000 1710000000 " +
      std::string(64, 'a') +
      "\n"
      "2 1710000000 - " +
      std::string(64, 'b') + "  # current\n";
  auto ring = KeyRing::Parse(text);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  ASSERT_EQ(ring->keys().size(), 2u);
  EXPECT_EQ(ring->current().id, 2u);
  EXPECT_EQ(ring->current().secret, std::string(32, '\xbb'));
  auto again = KeyRing::Parse(ring->Serialize());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Serialize(), ring->Serialize());
  // Malformed rings.
  for (const std::string& bad :
       std::vector<std::string>{std::string(""), std::string("# nothing\n"), "1 1 - " + std::string(62, 'a'),
                                "1 1 - " + std::string(64, 'g'),
                                "2 1 5 " + std::string(64, 'a') + "\n1 1 - " + std::string(64, 'a'),
                                "1 1 - " + std::string(64, 'a') + "\n2 1 - " + std::string(64, 'a'),
                                "x 1 - " + std::string(64, 'a'), "1 1 -"})
    EXPECT_FALSE(KeyRing::Parse(bad).ok()) << bad;
}

}  // namespace
}  // namespace rapport::tracking
