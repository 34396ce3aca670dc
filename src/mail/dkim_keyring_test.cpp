#include "mail/dkim_keyring.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rapport::mail {
namespace {

namespace fs = std::filesystem;

struct KeyringTest : ::testing::Test {
  std::string dir;
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rapport-keyring-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir); }
  // A new key written to DIR/name.pem, as `rapport dkim generate` would.
  DkimKeyFile KeyFile(std::string domain, std::string selector, DkimAlgorithm a) {
    std::string path = dir + "/" + selector + "." + domain + ".pem";
    std::ofstream(path) << GenerateDkimKeyPem(a).value();
    return {std::move(domain), std::move(selector), path, a};
  }
};

TEST_F(KeyringTest, SignsWithTheSendersDomainOrItsNearestParent) {
  std::vector<DkimKeyFile> files = {KeyFile("Example.com", "rsa1", DkimAlgorithm::kRsaSha256),
                                    KeyFile("example.com", "ed1", DkimAlgorithm::kEd25519Sha256),
                                    KeyFile("shop.example.org", "s1", DkimAlgorithm::kEd25519Sha256)};
  auto ring = DkimKeyring::FromFiles(files);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_FALSE(ring->empty());
  EXPECT_EQ(ring->Selectors(),
            (std::vector<std::string>{"rsa1._domainkey.example.com", "ed1._domainkey.example.com",
                                      "s1._domainkey.shop.example.org"}));
  const std::string message = "From: a@example.com\r\nSubject: x\r\n\r\nhi\r\n";
  const Timestamp now = FromMicros(1'800'000'000'000'000);
  auto dual = ring->Sign("bounces.EXAMPLE.com", message, now);
  ASSERT_TRUE(dual.ok()) << dual.error().message;
  EXPECT_NE(dual->find("s=rsa1;"), std::string::npos);
  EXPECT_NE(dual->find("s=ed1;"), std::string::npos);
  EXPECT_NE(dual->find("d=example.com;"), std::string::npos);
  EXPECT_EQ(dual->substr(dual->size() - message.size()), message);
  EXPECT_EQ(ring->SignerFor("example.org"), nullptr);  // a child's keys never sign for the parent
  EXPECT_NE(ring->SignerFor("a.shop.example.org"), nullptr);
  EXPECT_EQ(*ring->Sign("elsewhere.net", message, now), message);  // no keys: unsigned
}

TEST_F(KeyringTest, ErrorsNameTheFieldAndNeverTheKey) {
  DkimKeyring ring;
  DkimKeyFile missing{"example.com", "s1", dir + "/nope.pem", DkimAlgorithm::kRsaSha256};
  auto st = ring.Load(missing);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "key_file");
  DkimKeyFile f = KeyFile("example.com", "s1", DkimAlgorithm::kEd25519Sha256);
  ASSERT_TRUE(ring.Load(f).ok());
  auto twice = ring.Load(f);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  EXPECT_EQ(twice.error().field, "selector");
  DkimKeyFile wrong = f;
  wrong.selector = "s2";
  wrong.algorithm = DkimAlgorithm::kRsaSha256;  // an Ed25519 key under rsa
  auto mismatch = ring.Load(wrong);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().message.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace rapport::mail
