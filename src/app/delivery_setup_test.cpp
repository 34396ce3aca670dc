// The send path's assembly: transports registered here, the DKIM keyring, and what a bad or
// risky smtp_url says at start.
#include "app/delivery_setup.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/open.h"

namespace rapport::app {
namespace {

namespace fs = std::filesystem;

struct DeliverySetupTest : ::testing::Test {
  std::string dir;
  std::unique_ptr<Store> store;
  std::ostringstream log;
  std::shared_ptr<spdlog::logger> previous;

  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rapport-setup-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    auto s = OpenStore("sqlite:" + dir + "/rapport.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store = std::move(s).value();
    ASSERT_TRUE(store->Migrate().ok());
    previous = spdlog::default_logger();
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  }
  void TearDown() override {
    spdlog::set_default_logger(previous);
    fs::remove_all(dir);
  }
  Config Smtp(std::string url) {
    Config c;
    c.data_dir = dir;
    c.delivery.transport = "smtp";
    c.delivery.smtp_url = std::move(url);
    return c;
  }
};

// Issue 14 item 3: a malformed smtp_url fails the start naming the key, never quoting the URL.
TEST_F(DeliverySetupTest, Issue14AMalformedSmtpUrlNeverShowsThePassword) {
  for (std::string url : {"smtp://alice:hunter2?x@relay", "smtp://alice:hunter2@relay:99999",
                          "smtp://alice:hunter2@relay?hunter2", "smtp://alice:hunter2%zz@relay"}) {
    auto stack = BuildDeliveryStack(Smtp(url), *store, SystemClock::Instance());
    ASSERT_FALSE(stack.ok()) << url;
    EXPECT_EQ(stack.error().field, "delivery.smtp_url");
    EXPECT_EQ(stack.error().message.find("hunter2"), std::string::npos) << stack.error().message;
  }
  EXPECT_EQ(log.str().find("hunter2"), std::string::npos) << log.str();
}

TEST_F(DeliverySetupTest, Issue14AuthInClearIsWarnedAboutAtStart) {
  auto quiet =
      BuildDeliveryStack(Smtp("smtp://alice:hunter2@relay.example.com:587"), *store, SystemClock::Instance());
  ASSERT_TRUE(quiet.ok()) << quiet.error().message;
  EXPECT_EQ(log.str().find("allow_plaintext_auth"), std::string::npos) << log.str();
  auto risky =
      BuildDeliveryStack(Smtp("smtp://alice:hunter2@relay.example.com:587?allow_plaintext_auth=true"), *store,
                         SystemClock::Instance());
  ASSERT_TRUE(risky.ok()) << risky.error().message;
  EXPECT_NE(log.str().find("allow_plaintext_auth=true"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("smtp://relay.example.com:587"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("hunter2"), std::string::npos) << log.str();
  EXPECT_EQ((*risky)->description.find("hunter2"), std::string::npos);
}

TEST_F(DeliverySetupTest, DkimEntriesLoadIntoOneKeyring) {
  Config c;
  c.data_dir = dir;
  for (auto [selector, algorithm] : {std::pair{"rsa1", mail::DkimAlgorithm::kRsaSha256},
                                     std::pair{"ed1", mail::DkimAlgorithm::kEd25519Sha256}}) {
    std::string path = dir + "/" + selector + ".pem";
    std::ofstream(path) << mail::GenerateDkimKeyPem(algorithm).value();
    c.dkim.push_back({"example.com", selector, path, std::string(mail::DkimAlgorithmName(algorithm))});
  }
  auto stack = BuildDeliveryStack(c, *store, SystemClock::Instance());
  ASSERT_TRUE(stack.ok()) << stack.error().message;
  EXPECT_EQ((*stack)->keyring->Selectors(),
            (std::vector<std::string>{"rsa1._domainkey.example.com", "ed1._domainkey.example.com"}));
  EXPECT_NE((*stack)->keyring->SignerFor("news.example.com"), nullptr);
  EXPECT_NE((*stack)->description.find("ed1._domainkey.example.com"), std::string::npos);

  c.dkim.push_back(c.dkim.front());  // the same selector twice
  auto twice = BuildDeliveryStack(c, *store, SystemClock::Instance());
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().field, "dkim[2].selector");
}

// Issue 14 item 5: a node's id is created once (mode 0600) and kept; each process's lease owner
// is "<node id>/<nonce>", new per process; [delivery] node_id overrides the file.
TEST_F(DeliverySetupTest, Issue14TheNodeIdIsKeptInTheDataDirectoryAndOwnsEveryLease) {
  Config c;
  c.data_dir = dir;
  auto first = BuildDeliveryStack(c, *store, SystemClock::Instance());
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string node = (*first)->node_id;
  EXPECT_FALSE(NodeIdProblem(node).has_value()) << node;
  EXPECT_EQ(fs::status(c.NodeIdFile()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(LeaseOwnerOfNode((*first)->lease_owner, node)) << (*first)->lease_owner;
  auto second = BuildDeliveryStack(c, *store, SystemClock::Instance());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)->node_id, node);
  EXPECT_NE((*second)->lease_owner, (*first)->lease_owner);

  c.delivery.node_id = "mx-1.eu";
  auto configured = BuildDeliveryStack(c, *store, SystemClock::Instance());
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  EXPECT_EQ((*configured)->node_id, "mx-1.eu");
  EXPECT_EQ((*configured)->lease_owner.rfind("mx-1.eu/", 0), 0u);

  std::ofstream(c.NodeIdFile(), std::ios::trunc) << "not/a node\n";
  c.delivery.node_id.clear();
  auto bad = BuildDeliveryStack(c, *store, SystemClock::Instance());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "delivery.node_id");
}

}  // namespace
}  // namespace rapport::app
