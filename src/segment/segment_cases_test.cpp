// The language's case files (tests/segments/*.seg): an expression, the data, the expected
// members (or the expected error with its line and column). Each case is checked three ways:
// the scan, the per-contact evaluation, and the canonical text parsed again.
//
//   --- data            JSON (segment_test_data.h); applies to the cases after it in the file
//   === case name
//   --- expression
//   city = "Paris"
//   --- expect          the member ids, ascending, comma-separated (empty line: none)
//   1, 3
//   --- error           or: the error, "LINE:COLUMN message substring"
//   1:1 unknown attribute
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "segment/checker.h"
#include "segment/evaluator.h"
#include "segment/parser.h"
#include "segment/segment_test_data.h"
#include "source_dir.h"

namespace rapport::segment {
namespace {

struct Case {
  std::string file, name, data, expression, expect, error;
  bool has_error = false;
};

std::vector<Case> LoadCases() {
  std::vector<Case> out;
  std::vector<std::filesystem::path> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(RAPPORT_SOURCE_DIR) + "/tests/segments"))
    if (e.path().extension() == ".seg") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line, section, data;
    Case* c = nullptr;
    auto append = [](std::string& s, const std::string& l) { s += (s.empty() ? "" : "\n") + l; };
    while (std::getline(in, line)) {
      if (line.rfind("=== ", 0) == 0) {
        out.push_back(Case{path.filename().string(), line.substr(4), data, "", "", "", false});
        c = &out.back();
        section.clear();
      } else if (line.rfind("--- ", 0) == 0) {
        section = line.substr(4);
        if (section == "data") data.clear();
        if (section == "error" && c) c->has_error = true;
      } else if (section == "data" && !c) {
        append(data, line);
      } else if (section == "data" && c) {
        // A data block after a case starts the data of the cases that follow it.
        append(data, line);
      } else if (c && section == "expression") {
        append(c->expression, line);
      } else if (c && section == "expect") {
        append(c->expect, line);
      } else if (c && section == "error") {
        append(c->error, line);
      }
      if (section == "data" && c && line.rfind("--- data", 0) == 0) c = nullptr;
    }
  }
  auto trim = [](std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  };
  for (Case& c : out) {
    trim(c.expect);
    trim(c.expression);
    trim(c.error);
  }
  return out;
}

std::string Ids(const testing::TestData& d, const Bitmap& b) {
  std::string s;
  b.ForEach([&](uint32_t r) { s += (s.empty() ? "" : ", ") + std::to_string(d.index.IdOf(r)); });
  return s;
}

TEST(SegmentCases, AllCaseFilesPass) {
  auto cases = LoadCases();
  ASSERT_GT(cases.size(), 40u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ": " + c.name);
    testing::TestData d;
    ASSERT_TRUE(testing::LoadTestData(c.data.empty() ? "{}" : c.data, d).ok());
    Schema schema = d.index.SchemaFor(1);
    schema.topics = {"news", "offers"};
    schema.segments = {"vip"};
    auto compiled = Compile(c.expression, schema);
    if (c.has_error) {
      ASSERT_TRUE(std::holds_alternative<ParseError>(compiled)) << "expected an error: " << c.error;
      const ParseError& e = std::get<ParseError>(compiled);
      std::string got = std::to_string(e.pos.line) + ":" + std::to_string(e.pos.column) + " " + e.message +
                        (e.hint.empty() ? "" : " (" + e.hint + ")");
      size_t space = c.error.find(' ');
      EXPECT_EQ(got.substr(0, got.find(' ')), c.error.substr(0, space)) << got;
      EXPECT_NE(got.find(c.error.substr(space + 1)), std::string::npos) << got;
      continue;
    }
    if (auto* e = std::get_if<ParseError>(&compiled)) FAIL() << e->ToString();
    ExprPtr expr = std::get<ExprPtr>(std::move(compiled));
    BindStreams(*expr, d.index);
    // The data were applied before the streams existed: replay the events into the new ones.
    testing::TestData again;
    BindStreams(*expr, again.index);
    ASSERT_TRUE(testing::LoadTestData(c.data.empty() ? "{}" : c.data, again).ok());
    Bitmap vip;  // `in segment "vip"`: contacts with the attribute vip = true
    if (const AttributeColumn* col = again.index.Attribute("vip")) vip = col->truth;
    EvalContext ctx{again.now, "UTC", [&](const std::string& n) { return n == "vip" ? &vip : nullptr; }};
    Evaluator ev(again.index, ctx);
    Bitmap members = ev.Scan(*expr, again.index.live());
    EXPECT_EQ(Ids(again, members), c.expect) << Format(*expr);
    Bitmap by_row;
    again.index.live().ForEach([&](uint32_t r) {
      if (ev.Matches(*expr, r)) by_row.Add(r);
    });
    EXPECT_EQ(Ids(again, by_row), c.expect) << "per contact";
    // The canonical text means the same.
    auto reparsed = Compile(Format(*expr), schema);
    ASSERT_TRUE(std::holds_alternative<ExprPtr>(reparsed)) << Format(*expr);
    ExprPtr e2 = std::get<ExprPtr>(std::move(reparsed));
    BindStreams(*e2, again.index);
    EXPECT_EQ(Format(*e2), Format(*expr));
    EXPECT_EQ(Ids(again, ev.Scan(*e2, again.index.live())), c.expect) << "canonical: " << Format(*expr);
  }
}

// `exactly N days ago / from now` changes only at the contact's local midnights: the one that
// starts its day (a day to come) and the one that ends it (today); a day gone never comes back.
// The case files show membership on either side of a midnight; this pins the moment the deadline
// queue is given.
TEST(SegmentExactDays, NextChangeIsTheLocalMidnightThatStartsOrEndsTheDay) {
  testing::TestData d;
  ASSERT_TRUE(testing::LoadTestData(R"({"now": "2026-06-15T21:59:00Z", "contacts": [
      {"id": 1, "timezone": "Europe/Paris", "attributes": {"renewal": "2026-06-22"}},
      {"id": 2, "timezone": "America/New_York", "attributes": {"renewal": "2026-06-25"}},
      {"id": 3, "timezone": "Asia/Kolkata", "attributes": {"renewal": "2026-06-20"}}]})",
                                    d)
                  .ok());
  auto compiled = Compile("renewal exactly 7 days from now", d.index.SchemaFor(1));
  ASSERT_TRUE(std::holds_alternative<ExprPtr>(compiled));
  const Expr& e = *std::get<ExprPtr>(compiled);
  Evaluator ev(d.index, EvalContext{d.now, "UTC", nullptr});
  auto at = [](const char* t) { return ToMicros(*ParseTimestamp(t)); };
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  struct Want {
    ContactId id;
    bool member;
    int64_t next;
  };
  for (const Want& w : {Want{1, true, at("2026-06-15T22:00:00Z")},   // today in Paris, until its midnight
                        Want{2, false, at("2026-06-18T04:00:00Z")},  // 18 June, from midnight in New York
                        Want{3, false, kNever}}) {                   // 13 June in Kolkata is gone
    SCOPED_TRACE(w.id);
    std::optional<Row> r = d.index.RowOf(w.id);
    ASSERT_TRUE(r.has_value());
    int64_t next = kNever;
    EXPECT_EQ(ev.Matches(e, *r, &next), w.member);
    EXPECT_EQ(next, w.next);
  }
}

TEST(SegmentExactDays, ExplainShowsEachDayAndItsResult) {
  testing::TestData d;
  ASSERT_TRUE(testing::LoadTestData(R"({"now": "2026-06-15T21:59:00Z", "contacts": [
      {"id": 1, "timezone": "Europe/Paris", "created_at": "2026-06-15T21:00:00Z",
       "attributes": {"signup": "2026-06-12"}}]})",
                                    d)
                  .ok());
  auto compiled =
      Compile("signup exactly 3 days ago and not created_at exactly 0 days ago", d.index.SchemaFor(1));
  ASSERT_TRUE(std::holds_alternative<ExprPtr>(compiled));
  Evaluator ev(d.index, EvalContext{d.now, "UTC", nullptr});
  std::vector<Evaluator::Step> steps = ev.Explain(*std::get<ExprPtr>(compiled), *d.index.RowOf(1));
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].op, "and");
  EXPECT_FALSE(steps[0].result);
  EXPECT_EQ(steps[1].predicate, "signup exactly 3 days ago");
  EXPECT_TRUE(steps[1].result);  // 12 June is three days before 15 June in Paris (23:59)
  EXPECT_EQ(json::serialize(steps[1].value), "\"2026-06-12\"");
  EXPECT_EQ(steps[2].op, "not");
  EXPECT_FALSE(steps[2].result);
  EXPECT_EQ(steps[3].predicate, "created_at exactly 0 days ago");
  EXPECT_TRUE(steps[3].result);  // 23:00 on 15 June in Paris, though 21:00 UTC
  EXPECT_EQ(json::serialize(steps[3].value), "\"2026-06-15T21:00:00Z\"");
}

// The case files can only show that buckets partition the contacts; this checks what a holdout
// relies on: a contact's bucket never changes, buckets are even, and two salts are independent.
TEST(RandomBucket, StableEvenAndIndependentBetweenSalts) {
  for (ContactId id : {ContactId{1}, ContactId{2}, ContactId{77}, ContactId{123456789}}) {
    EXPECT_EQ(RandomBucket(id, ""), RandomBucket(id, ""));
    EXPECT_EQ(RandomBucket(id, "holdout"), RandomBucket(id, "holdout"));
  }
  constexpr int kN = 20000;
  std::array<int, 100> per_bucket{};
  int under_ten = 0, both_under_ten = 0, same = 0;
  for (ContactId id = 1; id <= kN; ++id) {
    int b = RandomBucket(id, "");
    ASSERT_GE(b, 0);
    ASSERT_LT(b, 100);
    ++per_bucket[static_cast<size_t>(b)];
    under_ten += b < 10;
    int x = RandomBucket(id, "a"), y = RandomBucket(id, "b");
    both_under_ten += x < 10 && y < 10;
    same += x == y;
  }
  // 200 expected in each bucket (standard deviation ~14); 2,000 under 10 (~42).
  for (int n : per_bucket) {
    EXPECT_GT(n, 130);
    EXPECT_LT(n, 270);
  }
  EXPECT_NEAR(under_ten, kN / 10, 250);
  // Independent salts: a 10% holdout of one salt and of another overlap on ~1% (200, ~14), and
  // give the same bucket to ~1% of contacts, not to all of them.
  EXPECT_NEAR(both_under_ten, kN / 100, 70);
  EXPECT_NEAR(same, kN / 100, 70);
}

}  // namespace
}  // namespace rapport::segment
