// The machine heuristic, from the case file tests/tracking/machine_cases.txt against the shipped
// ranges (data/tracking/machine-ranges.txt).
#include "tracking/machine_classifier.h"
#include "tracking/click_bursts.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "source_dir.h"

namespace rapport::tracking {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST(MachineClassifier, Cases) {
  auto ranges = MachineRanges::Parse(ReadFile(RAPPORT_SOURCE_DIR "/data/tracking/machine-ranges.txt"));
  ASSERT_TRUE(ranges.ok()) << ranges.error().message;
  std::istringstream cases(ReadFile(RAPPORT_SOURCE_DIR "/tests/tracking/machine_cases.txt"));
  std::string line;
  int n = 0;
  while (std::getline(cases, line)) {
    if (Trim(line).empty() || Trim(line)[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string part; std::getline(fields, part, '|');) f.push_back(Trim(part));
    ASSERT_EQ(f.size(), 8u) << line;
    Hit hit;
    hit.kind = f[0] == "click" ? HitKind::kClick : HitKind::kOpen;
    hit.method = f[1];
    hit.ip = f[2];
    if (f[3] != "-") hit.since_sent = std::chrono::seconds(std::stoll(f[3]));
    hit.links_in_message = std::stoi(f[4]);
    hit.distinct_links_in_burst = std::stoi(f[5]);
    hit.user_agent = f[6];
    MachineVerdict v = ClassifyHit(hit, *ranges);
    EXPECT_EQ(v.machine ? v.reason : "human", f[7]) << line;
    EXPECT_EQ(v.machine, f[7] != "human");
    ++n;
  }
  EXPECT_GE(n, 25);
}

TEST(MachineRanges, ParsesAndMatches) {
  auto r = MachineRanges::Parse("apple 17.0.0.0/8\nscanner 2001:db8::/32 # doc\n\nscanner 192.0.2.1\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  IpAddress ip;
  ASSERT_TRUE(ParseIp("17.1.2.3", ip));
  EXPECT_TRUE(r->Contains("apple", ip));
  EXPECT_FALSE(r->Contains("scanner", ip));
  ASSERT_TRUE(ParseIp("::ffff:17.1.2.3", ip));
  EXPECT_TRUE(r->Contains("apple", ip));
  ASSERT_TRUE(ParseIp("18.1.2.3", ip));
  EXPECT_FALSE(r->Contains("apple", ip));
  ASSERT_TRUE(ParseIp("2001:db8:ffff::1", ip));
  EXPECT_TRUE(r->Contains("scanner", ip));
  ASSERT_TRUE(ParseIp("192.0.2.1", ip));
  EXPECT_TRUE(r->Contains("scanner", ip));
  ASSERT_TRUE(ParseIp("192.0.2.2", ip));
  EXPECT_FALSE(r->Contains("scanner", ip));
  for (std::string_view bad :
       {"apple", "apple 17.0.0.0/33", "apple 17.0.0/8", "robots 1.2.3.4", "apple ::/129", "apple 1.2.3.4/x"})
    EXPECT_FALSE(MachineRanges::Parse(bad).ok()) << bad;
}

TEST(MachineRanges, ReadsApplesEgressList) {
  auto lines = ParseAppleEgressCsv(
      "172.224.224.0/27,GB,GB-EN,London,\n172.224.224.0/27,GB,GB-EN,London,\n2a02:26f7:b3c0:4000::/"
      "64,FR,FR-IDF,"
      "Paris,\r\n");
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(*lines, (std::vector<std::string>{"apple 172.224.224.0/27", "apple 2a02:26f7:b3c0:4000::/64"}));
  EXPECT_FALSE(ParseAppleEgressCsv("not a prefix,GB\n").ok());
  EXPECT_FALSE(ParseAppleEgressCsv("").ok());
}

TEST(TruncateIp, KeepsTheNetworkOnly) {
  EXPECT_EQ(TruncateIp("203.0.113.77"), "203.0.113.0");
  EXPECT_EQ(TruncateIp("2001:db8:1234:5678::1"), "2001:db8:1234::");
  EXPECT_EQ(TruncateIp("203.0.113.77", 16, 48), "203.0.0.0");
  EXPECT_EQ(TruncateIp("203.0.113.77", 32, 128), "203.0.113.77");
  EXPECT_EQ(TruncateIp("::ffff:203.0.113.77"), "203.0.113.0");
  EXPECT_EQ(TruncateIp("not an ip"), "");
  EXPECT_EQ(TruncateIp(""), "");
}

TEST(ClickBursts, CountsDistinctLinksWithinTheWindow) {
  ClickBursts b(std::chrono::seconds(5), 2);
  Timestamp t0(std::chrono::seconds(1000));
  EXPECT_EQ(b.Record(1, 0, t0), 1);
  EXPECT_EQ(b.Record(1, 0, t0 + std::chrono::seconds(1)), 1);
  EXPECT_EQ(b.Record(1, 1, t0 + std::chrono::seconds(2)), 2);
  EXPECT_EQ(b.Record(2, 0, t0 + std::chrono::seconds(2)), 1);
  EXPECT_EQ(b.Record(1, 2, t0 + std::chrono::seconds(4)), 3);
  // Past the window, the earlier clicks no longer count.
  EXPECT_EQ(b.Record(1, 3, t0 + std::chrono::seconds(8)), 2);
  EXPECT_EQ(b.Record(1, 0, t0 + std::chrono::seconds(30)), 1);
}

}  // namespace
}  // namespace rapport::tracking
