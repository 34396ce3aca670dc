#include "delivery/inbound/maildir_inbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rapport::delivery {
namespace {

namespace fs = std::filesystem;

class MaildirInboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rapport-inbox-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Deliver(const std::string& name, const std::string& body) {
    std::ofstream(fs::path(dir_) / "new" / name, std::ios::binary) << body;
  }
  std::vector<std::string> Names(const char* sub) {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(fs::path(dir_) / sub)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir_;
};

TEST_F(MaildirInboxTest, FilesHandledRefusedAndRetried) {
  MaildirInbox inbox(dir_);
  ASSERT_TRUE(inbox.EnsureDirectories().ok());
  Deliver("1.a.host", "ok");
  Deliver("2.b.host", "refuse");
  Deliver("3.c.host", "busy");
  std::vector<std::string> seen;
  auto scan = inbox.Scan([&](std::string_view raw) -> Status {
    seen.emplace_back(raw);
    if (raw == "refuse") return Error::Invalid("report", "not a report");
    if (raw == "busy") return Error::Unavailable("database is locked");
    return {};
  });
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"ok", "refuse", "busy"}));
  EXPECT_EQ(scan->handled, 1);
  EXPECT_EQ(scan->refused, 1);
  EXPECT_EQ(scan->retry, 1);
  EXPECT_EQ(Names("cur"), (std::vector<std::string>{"1.a.host:2,S", "2.b.host:2,FS"}));
  EXPECT_EQ(Names("new"), (std::vector<std::string>{"3.c.host"}));
  // The next scan reads only what is left.
  seen.clear();
  auto again = inbox.Scan([&](std::string_view raw) -> Status {
    seen.emplace_back(raw);
    return {};
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"busy"}));
  EXPECT_TRUE(Names("new").empty());
}

TEST_F(MaildirInboxTest, MissingDirectoryIsUnavailable) {
  MaildirInbox inbox(dir_ + "/nope");
  auto scan = inbox.Scan([](std::string_view) -> Status { return {}; });
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace rapport::delivery
