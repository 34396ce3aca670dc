#include "tracking/hit_record.h"

#include <gtest/gtest.h>

#include <vector>

namespace rapport::tracking {
namespace {

HitRecord Click() {
  HitRecord r;
  r.kind = HitKind::kClick;
  r.workspace_id = 3;
  r.contact_id = 41;
  r.message_id = 9001;
  r.at = FromMicros(1'765'000'000'123'456);
  r.link_index = 2;
  r.template_name = "news";
  r.message_class = "marketing";
  r.url = "https://shop.example/b?x=1";
  r.user_agent = "Mozilla/5.0 (X11; Linux x86_64)";
  r.ip = "203.0.113.0";
  r.method = "GET";
  r.machine = true;
  r.machine_reason = "scanner_user_agent";
  return r;
}

std::vector<HitRecord> ScanAll(std::string_view data, HitScan* scan = nullptr) {
  std::vector<HitRecord> out;
  HitScan s = ScanHitRecords(data, [&](HitRecord&& r, size_t) { out.push_back(std::move(r)); });
  if (scan) *scan = s;
  return out;
}

TEST(HitRecord, RoundTripsEveryField) {
  std::string data;
  HitRecord open;
  open.workspace_id = 1;
  open.contact_id = 2;
  open.message_id = 3;
  open.message_class = "transactional";
  open.method = "HEAD";
  open.source = "journey:3:reminder";
  EncodeHitRecord(Click(), data);
  EncodeHitRecord(open, data);
  HitScan scan;
  auto got = ScanAll(data, &scan);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Click());
  EXPECT_EQ(got[1], open);
  EXPECT_TRUE(scan.clean);
  EXPECT_EQ(scan.valid_end, data.size());
}

TEST(HitRecord, ScanStopsAtEveryCutAndKeepsWhatCameBefore) {
  std::string data;
  EncodeHitRecord(Click(), data);
  size_t first = data.size();
  EncodeHitRecord(Click(), data);
  for (size_t cut = 0; cut < data.size(); ++cut) {
    HitScan scan;
    auto got = ScanAll(std::string_view(data).substr(0, cut), &scan);
    EXPECT_EQ(got.size(), cut >= first ? 1u : 0u) << cut;
    EXPECT_EQ(scan.valid_end, cut >= first ? first : 0u) << cut;
    EXPECT_EQ(scan.clean, cut == 0 || cut == first) << cut;
  }
}

TEST(HitRecord, EveryFlippedBitEndsTheReadablePart) {
  std::string data;
  EncodeHitRecord(Click(), data);
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      HitScan scan;
      EXPECT_TRUE(ScanAll(bad, &scan).empty()) << i << ":" << bit;
      EXPECT_FALSE(scan.clean);
    }
  }
}

TEST(HitRecord, ZerosAfterRecordsAreNotARecord) {
  std::string data;
  EncodeHitRecord(Click(), data);
  size_t end = data.size();
  data.append(4096, '\0');  // what a file system may show after a power loss
  HitScan scan;
  EXPECT_EQ(ScanAll(data, &scan).size(), 1u);
  EXPECT_EQ(scan.valid_end, end);
  EXPECT_FALSE(scan.clean);
}

TEST(HitRecord, DecodeRefusesUnknownVersionKindFlagsAndTrailingBytes) {
  std::string data;
  EncodeHitRecord(Click(), data);
  std::string payload = data.substr(kHitFrameHeader);
  ASSERT_TRUE(DecodeHitPayload(payload).ok());
  for (auto [at, value] : {std::pair<size_t, char>{0, 0}, {0, 3}, {1, 3}, {2, 2}}) {
    std::string bad = payload;
    bad[at] = value;
    EXPECT_FALSE(DecodeHitPayload(bad).ok()) << at;
  }
  EXPECT_FALSE(DecodeHitPayload(payload + "x").ok());
  EXPECT_FALSE(DecodeHitPayload(payload.substr(0, payload.size() - 1)).ok());
}

// Version 1 (before the source was kept): the same fields without the last string, read with no
// source, so a hit log written by the earlier release still loads after an upgrade.
TEST(HitRecord, AVersionOneRecordStillDecodes) {
  HitRecord r = Click();
  r.source = "campaign:12";
  std::string data;
  EncodeHitRecord(r, data);
  std::string payload = data.substr(kHitFrameHeader);
  ASSERT_EQ(payload[0], 2);
  auto v2 = DecodeHitPayload(payload);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->source, "campaign:12");
  std::string v1 = payload.substr(0, payload.size() - 4 - r.source.size());
  v1[0] = 1;
  auto old = DecodeHitPayload(v1);
  ASSERT_TRUE(old.ok()) << old.error().message;
  HitRecord want = Click();
  EXPECT_EQ(*old, want);
  EXPECT_FALSE(DecodeHitPayload(v1 + std::string(4, '\0')).ok());  // v1 has no eighth string
}

TEST(HitRecord, LongStringsAreCutToTheFrame) {
  HitRecord r = Click();
  r.user_agent.assign(2000, 'u');
  r.url = "https://x.example/" + std::string(100000, 'p');
  std::string data;
  EncodeHitRecord(r, data);
  EXPECT_LE(data.size(), kHitFrameHeader + kMaxHitPayload);
  auto got = ScanAll(data);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_agent.size(), 512u);
  EXPECT_TRUE(got[0].url.starts_with("https://x.example/ppp"));
  EXPECT_EQ(got[0].ip, r.ip);  // the strings after the URL are kept
  EXPECT_EQ(got[0].machine_reason, r.machine_reason);
}

TEST(HitRecord, TheEventCarriesTheHitsProperties) {
  NewEvent click = HitRecordEvent(Click());
  EXPECT_EQ(click.name, "email_clicked");
  EXPECT_EQ(click.contact.id, 41);
  EXPECT_FALSE(click.contact.create_contact);
  EXPECT_EQ(click.occurred_at, Click().at);
  EXPECT_EQ(click.properties.at("message_id").as_int64(), 9001);
  EXPECT_EQ(click.properties.at("template").as_string(), "news");
  EXPECT_EQ(click.properties.at("class").as_string(), "marketing");
  EXPECT_EQ(click.properties.at("link_index").as_int64(), 2);
  EXPECT_EQ(click.properties.at("url").as_string(), "https://shop.example/b?x=1");
  EXPECT_EQ(click.properties.at("ip").as_string(), "203.0.113.0");
  EXPECT_EQ(click.properties.at("method").as_string(), "GET");
  EXPECT_TRUE(click.properties.at("machine").as_bool());
  EXPECT_EQ(click.properties.at("machine_reason").as_string(), "scanner_user_agent");
  EXPECT_FALSE(click.properties.contains("campaign_id"));  // no source: neither campaign nor journey

  HitRecord from_journey = Click();
  from_journey.source = "journey:3:reminder";
  NewEvent j = HitRecordEvent(from_journey);
  EXPECT_EQ(j.properties.at("journey_id").as_int64(), 3);
  EXPECT_EQ(j.properties.at("journey_step").as_string(), "reminder");
  HitRecord from_campaign = Click();
  from_campaign.source = "campaign:12";
  EXPECT_EQ(HitRecordEvent(from_campaign).properties.at("campaign_id").as_int64(), 12);

  HitRecord view = Click();
  view.kind = HitKind::kView;
  view.link_index = 0;
  view.url.clear();
  std::string data;
  EncodeHitRecord(view, data);
  auto back = ScanAll(data);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], view);
  NewEvent viewed = HitRecordEvent(view);
  EXPECT_EQ(viewed.name, "email_viewed");
  EXPECT_FALSE(viewed.properties.contains("url"));

  HitRecord o = Click();
  o.kind = HitKind::kOpen;
  o.machine = false;
  o.template_name.clear();
  NewEvent open = HitRecordEvent(o);
  EXPECT_EQ(open.name, "email_opened");
  EXPECT_FALSE(open.properties.contains("link_index"));
  EXPECT_FALSE(open.properties.contains("url"));
  EXPECT_FALSE(open.properties.contains("template"));
  EXPECT_FALSE(open.properties.contains("machine_reason"));
  EXPECT_FALSE(open.properties.at("machine").as_bool());
}

TEST(HitRecord, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32cPortable("123456789"), 0xe3069283u);
  // The instruction's 8 bytes at a time and the table's byte at a time agree at every length and
  // alignment.
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (size_t from = 0; from < 9; ++from)
    for (size_t n = 0; from + n <= data.size(); n += 7)
      ASSERT_EQ(Crc32c(std::string_view(data).substr(from, n)),
                Crc32cPortable(std::string_view(data).substr(from, n)))
          << from << " " << n;
}

}  // namespace
}  // namespace rapport::tracking
