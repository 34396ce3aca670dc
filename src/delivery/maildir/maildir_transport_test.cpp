#include "delivery/maildir/maildir_transport.h"

#include <gtest/gtest.h>

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
