// The analytics facet (core/analytics_store.h) on both backends: values and entity states are
// committed with the consumer's position in one transaction, read back exactly (values as text:
// 1/3 survives), upserted in place, deleted, paged past one read chunk, and reset.
#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;

class Analytics : public StoreContract {};

std::vector<AnalyticsDailyValue> AllDaily(Store& s) {
  std::vector<AnalyticsDailyValue> out;
  EXPECT_TRUE(s.analytics()
                  .ForEachDaily([&](const AnalyticsDailyValue& v) {
                    out.push_back(v);
                    return true;
                  })
                  .ok());
  return out;
}

TEST_P(Analytics, CommitReadBackUpsertDeleteAndReset) {
  auto& a = store_->analytics();
  std::vector<AnalyticsDailyValue> daily{{ws_, "template", "welcome", 20514, "sent", 3},
                                         {ws_, "template", "welcome", 20514, "revenue_linear", 1.0 / 3},
                                         {ws_, "workspace", "", 20515, "order_revenue", 19.9}};
  std::vector<AnalyticsEntityWrite> entities{{ws_, "message", 7, std::string(R"({"flags":1})")},
                                             {ws_, "contact", 9, std::string(R"({"orders":2})")}};
  ASSERT_TRUE(a.Commit("analytics", 5, daily, entities).ok());
  EXPECT_EQ(*store_->feed().Position("analytics"), 5);
  auto read = AllDaily(*store_);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[0].dimension, "template");
  EXPECT_EQ(read[0].metric, "revenue_linear");
  EXPECT_EQ(read[0].value, 1.0 / 3);  // exact
  EXPECT_EQ(read[1].value, 3);
  EXPECT_EQ(read[2].key, "");
  EXPECT_EQ(read[2].value, 19.9);

  // Upsert in place, delete an entity; a position that moves back is refused with nothing written.
  ASSERT_TRUE(a.Commit("analytics", 6, {{ws_, "template", "welcome", 20514, "sent", 4}},
                       {{ws_, "contact", 9, std::nullopt}})
                  .ok());
  auto refused = a.Commit("analytics", 2, {{ws_, "template", "welcome", 20514, "sent", 99}}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  read = AllDaily(*store_);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[1].value, 4);
  std::vector<std::pair<std::string, int64_t>> seen;
  ASSERT_TRUE(a.ForEachEntity([&](WorkspaceId, std::string_view kind, int64_t id, std::string_view state) {
                 seen.emplace_back(std::string(kind), id);
                 EXPECT_EQ(state, R"({"flags":1})");
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int64_t>>{{"message", 7}}));

  // More rows than one read chunk (10,000) come back whole, in key order.
  std::vector<AnalyticsDailyValue> many;
  for (int64_t d = 0; d < 10'500; ++d)
    many.push_back({ws_, "topic", "news", d, "sent", static_cast<double>(d)});
  ASSERT_TRUE(a.Commit("analytics", 7, many, {}).ok());
  read = AllDaily(*store_);
  ASSERT_EQ(read.size(), 3u + 10'500u);
  int64_t last = -1;
  for (const auto& v : read)
    if (v.dimension == "topic") {
      EXPECT_EQ(v.day, last + 1);
      EXPECT_EQ(v.value, static_cast<double>(v.day));
      last = v.day;
    }
  EXPECT_EQ(last, 10'499);

  ASSERT_TRUE(a.Reset("analytics").ok());
  EXPECT_TRUE(AllDaily(*store_).empty());
  EXPECT_EQ(*store_->feed().Position("analytics"), 0);
  ASSERT_TRUE(a.Commit("analytics", 1, {}, {}).ok());  // a rebuild starts from the beginning
}

INSTANTIATE_TEST_SUITE_P(Backends, Analytics, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
