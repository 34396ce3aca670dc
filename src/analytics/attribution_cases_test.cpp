// Attribution from case files: tests/analytics/attribution/*.case (format in its README.md).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "analytics/attribution.h"
#include "core/clock.h"

namespace rapport::analytics {
namespace {

int64_t Duration(const std::string& s) {
  double n = std::stod(s.substr(0, s.size() - 1));
  char unit = s.back();
  double us = unit == 'd' ? 86400e6 : unit == 'h' ? 3600e6 : 60e6;
  return static_cast<int64_t>(n * us);
}

TEST(AttributionCases, EveryCaseFile) {
  std::filesystem::path dir = "tests/analytics/attribution";
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".case") continue;
    ++cases;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path());
    AttributionWindows w;
    std::vector<Touch> touches;
    int64_t conversion = 0;
    std::optional<std::string> want_last, want_first;
    std::optional<std::map<int64_t, double>> want_linear;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      std::string word;
      ls >> word;
      if (word == "window") {
        std::string part;
        while (ls >> part) {
          auto eq = part.find('=');
          ASSERT_NE(eq, std::string::npos) << line;
          (part.substr(0, eq) == "click" ? w.click_us : w.open_us) = Duration(part.substr(eq + 1));
        }
      } else if (word == "touch") {
        Touch t;
        std::string kind, at;
        ls >> t.message_id >> kind >> at;
        t.click = kind == "click";
        auto ts = ParseTimestamp(at);
        ASSERT_TRUE(ts) << line;
        t.at_us = ToMicros(*ts);
        touches.push_back(t);
      } else if (word == "convert") {
        std::string at;
        ls >> at;
        auto ts = ParseTimestamp(at);
        ASSERT_TRUE(ts) << line;
        conversion = ToMicros(*ts);
      } else if (word == "expect") {
        std::string what;
        ls >> what;
        if (what == "last" || what == "first") {
          std::string v;
          ls >> v;
          (what == "last" ? want_last : want_first) = v;
        } else if (what == "linear") {
          want_linear.emplace();
          std::string part;
          while (ls >> part) {
            auto eq = part.find('=');
            (*want_linear)[std::stoll(part.substr(0, eq))] = std::stod(part.substr(eq + 1));
          }
        } else {
          FAIL() << "unknown expectation: " << line;
        }
      } else {
        FAIL() << "unknown line: " << line;
      }
    }
    std::vector<Credit> credits = Attribute(touches, conversion, w);
    auto who = [&](double Credit::*field) -> std::string {
      for (const Credit& c : credits)
        if (c.*field == 1) return std::to_string(c.message_id);
      return "none";
    };
    if (want_last) {
      EXPECT_EQ(who(&Credit::last), *want_last);
    }
    if (want_first) {
      EXPECT_EQ(who(&Credit::first), *want_first);
    }
    if (want_linear) {
      ASSERT_EQ(credits.size(), want_linear->size());
      for (const Credit& c : credits) {
        ASSERT_TRUE(want_linear->count(c.message_id)) << c.message_id;
        EXPECT_NEAR(c.linear, want_linear->at(c.message_id), 1e-9);
      }
    }
  }
  EXPECT_GE(cases, 8);
}

}  // namespace
}  // namespace rapport::analytics
