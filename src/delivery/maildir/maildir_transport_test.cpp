#include "delivery/maildir/maildir_transport.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "delivery/testing/smtp_servers.h"
#include "delivery/transport_registry.h"

namespace rapport::delivery {
namespace {

using testing::FilesIn;
using testing::ReadFile;
using testing::TempDir;

TEST(MaildirTransport, WritesOneFilePerMessageIntoNew) {
  TempDir tmp;
  TransportRegistry registry;
  RegisterMaildirTransport(registry);
  auto t = registry.Create("maildir:" + tmp.path() + "/outbox");
  ASSERT_TRUE(t.ok()) << t.error().message;
  std::vector<OutgoingMessage> batch = {
      {{"bounce@example.com", {"a@example.org"}}, "Subject: one\r\n\r\nbody one\r\n"},
      {{"bounce@example.com", {"b@example.org", "c@example.org"}}, "Subject: two\r\n\r\n.dot\r\n"},
  };
  auto results = (*t)->Send(batch);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].recipients.size(), 1u);
  ASSERT_EQ(results[1].recipients.size(), 2u);
  for (const auto& r : results) {
    for (const auto& o : r.recipients) {
      EXPECT_EQ(o.code, 250);
      EXPECT_TRUE(o.Accepted());
    }
  }
  auto files = FilesIn(tmp.path() + "/outbox/new");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(FilesIn(tmp.path() + "/outbox/tmp").empty());
  std::string all = ReadFile(files[0]) + ReadFile(files[1]);
  EXPECT_NE(all.find("X-Rapport-Envelope-To: c@example.org\r\n"), std::string::npos);
  EXPECT_NE(all.find("Subject: two\r\n\r\n.dot\r\n"), std::string::npos);  // bytes unchanged
  EXPECT_EQ(files[0].substr(files[0].size() - 4), ".eml");
}

TEST(MaildirTransport, Issue14EraseCopiesRemovesEveryCopyOfTheNamedMessagesOnly) {
  TempDir tmp;
  MaildirTransport t(tmp.path() + "/outbox");
  std::vector<OutgoingMessage> batch = {
      {{"b@example.com", {"a@example.org"}}, "Subject: 7\r\n\r\nx\r\n", 7},
      {{"b@example.com", {"a@example.org"}}, "Subject: 17\r\n\r\nx\r\n", 17},
      {{"b@example.com", {"a@example.org"}}, "Subject: 70\r\n\r\nx\r\n", 70},
      {{"b@example.com", {"a@example.org"}}, "Subject: none\r\n\r\nx\r\n"},  // not from the outbox
  };
  for (const auto& r : t.Send(batch)) ASSERT_EQ(r.recipients[0].code, 250) << r.recipients[0].text;
  auto files = FilesIn(tmp.path() + "/outbox/new");
  ASSERT_EQ(files.size(), 4u);
  int named = 0;
  for (const std::string& f : files) {
    int64_t id = MaildirMessageId(f.substr(f.rfind('/') + 1));
    EXPECT_TRUE(id == 0 || id == 7 || id == 17 || id == 70) << f;
    named += id != 0;
  }
  EXPECT_EQ(named, 3);
  // A reader moved message 7 into cur/ with flags, as maildir readers do.
  for (const std::string& f : files) {
    if (MaildirMessageId(f.substr(f.rfind('/') + 1)) != 7) continue;
    std::string cur = tmp.path() + "/outbox/cur/" + f.substr(f.rfind('/') + 1) + ":2,S";
    ASSERT_EQ(std::rename(f.c_str(), cur.c_str()), 0);
    EXPECT_EQ(MaildirMessageId(cur.substr(cur.rfind('/') + 1)), 7);
  }
  const int64_t erase[] = {7, 17, 999};
  ASSERT_TRUE(t.EraseCopies(erase).ok());
  EXPECT_TRUE(FilesIn(tmp.path() + "/outbox/cur").empty());
  auto left = FilesIn(tmp.path() + "/outbox/new");
  ASSERT_EQ(left.size(), 2u);  // 70 (its id shares digits with 7 and 17) and the unnamed one
  std::string all = ReadFile(left[0]) + ReadFile(left[1]);
  EXPECT_NE(all.find("Subject: 70"), std::string::npos);
  EXPECT_NE(all.find("Subject: none"), std::string::npos);
  EXPECT_TRUE(t.EraseCopies(erase).ok());  // again: nothing left to remove, no error
  MaildirTransport missing(tmp.path() + "/never-written");
  EXPECT_TRUE(missing.EraseCopies(erase).ok());
}

TEST(MaildirTransport, MessageIdOfAFileName) {
  EXPECT_EQ(MaildirMessageId("1700000000.123456P42Q3M981.eml"), 981);
  EXPECT_EQ(MaildirMessageId("1700000000.123456P42Q3M981.eml:2,RS"), 981);
  EXPECT_EQ(MaildirMessageId("1700000000.123456P42Q3.eml"), 0);
  EXPECT_EQ(MaildirMessageId("M.eml"), 0);
  EXPECT_EQ(MaildirMessageId("M12x.eml"), 0);
  EXPECT_EQ(MaildirMessageId("M99999999999999999999999.eml"), 0);
  EXPECT_EQ(MaildirMessageId("no-extension"), 0);
}

TEST(MaildirTransport, UnwritableDirectoryIsATemporaryFailure) {
  TempDir tmp;
  std::string file = tmp.path() + "/not-a-dir";
  { std::ofstream(file) << "x"; }
  MaildirTransport t(file + "/outbox");
  std::vector<OutgoingMessage> batch = {{{"a@x.org", {"b@x.org"}}, "x\r\n"}};
  auto r = t.Send(batch);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].recipients[0].code, 0);
  EXPECT_FALSE(r[0].recipients[0].text.empty());
}

TEST(MaildirTransport, RefusesCrLfInTheEnvelope) {
  TempDir tmp;
  MaildirTransport t(tmp.path());
  std::vector<OutgoingMessage> batch = {{{"a@x.org", {"b@x.org\r\nX-Evil: 1"}}, "x\r\n"}};
  auto r = t.Send(batch);
  EXPECT_EQ(r[0].recipients[0].code, 553);
  EXPECT_TRUE(FilesIn(tmp.path()).empty());
}

}  // namespace
}  // namespace rapport::delivery
