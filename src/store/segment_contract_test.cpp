// The store contract, continued: saved segments (core/saved_segment.h, migration v8) on SQLite
// and PostgreSQL: create, read by id and by name, list per workspace and across workspaces,
// update, delete, names unique per workspace, and sizes validated.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;

class Segments : public StoreContract {
 protected:
  SavedSegment Seg(std::string name, std::string expr, WorkspaceId ws = 0) {
    SavedSegment s;
    s.workspace_id = ws ? ws : ws_;
    s.name = std::move(name);
    s.expression = std::move(expr);
    s.description = "d";
    return s;
  }
};

TEST_P(Segments, CreateGetListUpdateDelete) {
  SegmentStore& st = store_->segments();
  auto a = st.Create(Seg("vip", "sum(total) of order_placed > 500"));
  ASSERT_OK(a);
  EXPECT_GT(a->id, 0);
  EXPECT_EQ(a->expression, "sum(total) of order_placed > 500");
  EXPECT_EQ(a->description, "d");
  EXPECT_EQ(a->created_at, clock_.Now());
  ASSERT_OK(st.Create(Seg("dormant", "no page_viewed in the last 30 days")));
  auto got = st.Get(ws_, a->id);
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "vip");
  auto by_name = st.GetByName(ws_, "dormant");
  ASSERT_OK(by_name);
  EXPECT_EQ(by_name->expression, "no page_viewed in the last 30 days");
  auto list = st.List(ws_);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "dormant");  // by name
  EXPECT_EQ((*list)[1].name, "vip");

  clock_.Advance(std::chrono::seconds(5));
  SavedSegment changed = *got;
  changed.name = "big-spenders";
  changed.expression = "sum(total) of order_placed > 1000";
  auto updated = st.Update(changed);
  ASSERT_OK(updated);
  EXPECT_EQ(updated->name, "big-spenders");
  EXPECT_EQ(updated->created_at, a->created_at);
  EXPECT_EQ(updated->updated_at, clock_.Now());
  EXPECT_EQ(st.GetByName(ws_, "vip").error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(st.Delete(ws_, a->id).ok());
  EXPECT_EQ(st.Get(ws_, a->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(st.Delete(ws_, a->id).error().code, ErrorCode::kNotFound);
  auto after = st.List(ws_);
  ASSERT_OK(after);
  EXPECT_EQ(after->size(), 1u);
}

TEST_P(Segments, NamesAreUniquePerWorkspaceAndIdsNeverCross) {
  SegmentStore& st = store_->segments();
  auto a = st.Create(Seg("vip", "x = 1"));
  ASSERT_OK(a);
  auto dup = st.Create(Seg("vip", "x = 2"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup.error().field, "name");
  auto other_ws = store_->workspaces().Create("other");
  ASSERT_OK(other_ws);
  auto b = st.Create(Seg("vip", "x = 3", other_ws->id));
  ASSERT_OK(b);
  // One workspace cannot read, change or delete another's segment.
  EXPECT_EQ(st.Get(other_ws->id, a->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(st.Delete(other_ws->id, a->id).error().code, ErrorCode::kNotFound);
  SavedSegment stolen = *a;
  stolen.workspace_id = other_ws->id;
  stolen.name = "free";
  EXPECT_EQ(st.Update(stolen).error().code, ErrorCode::kNotFound);
  auto c = st.Create(Seg("dormant", "x = 4"));
  ASSERT_OK(c);
  SavedSegment rename = *c;
  rename.name = "vip";
  EXPECT_EQ(st.Update(rename).error().code, ErrorCode::kConflict);
  auto all = st.ListAll();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, a->id);  // by id, every workspace
  EXPECT_EQ((*all)[1].workspace_id, other_ws->id);
}

TEST_P(Segments, ValidatesNameExpressionAndSizes) {
  SegmentStore& st = store_->segments();
  auto bad_name = st.Create(Seg("Not A Slug", "x = 1"));
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().field, "name");
  auto empty = st.Create(Seg("e", ""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "expression");
  auto big = st.Create(Seg("big", std::string(kMaxSegmentExpressionBytes + 1, 'x')));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().field, "expression");
  // Text is kept byte for byte (quotes, newlines, non-ASCII).
  std::string expr = "city = \"Zürich\" and\n  name contains 'O''Brien'";
  auto ok = st.Create(Seg("text", expr));
  ASSERT_OK(ok);
  EXPECT_EQ(st.Get(ws_, ok->id)->expression, expr);
}

INSTANTIATE_TEST_SUITE_P(Backends, Segments, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
