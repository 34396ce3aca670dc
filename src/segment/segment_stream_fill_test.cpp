// A stream made for a new expression is filled from the log before any count reads it as
// complete: one whose fill did not complete (a store error, a stop) is emptied and filled again
// the next time an expression needs it, and a segment whose fill fails is not saved.
#include <gtest/gtest.h>

#include "segment/profile_index.h"
#include "segment/segment_service.h"
#include "store/testing/temp_sqlite_store.h"

namespace rapport::segment {
namespace {

Event Ev(int64_t position, ContactId contact, std::string name, json::object props = {}) {
  Event e;
  e.id = position;
  e.position = position;
  e.workspace_id = 1;
  e.contact_id = contact;
  e.name = std::move(name);
  e.properties = std::move(props);
  e.occurred_at = FromMicros(1'781'524'800'000'000 + position);
  e.received_at = e.occurred_at;
  return e;
}

TEST(StreamFill, AStreamWhoseFillDidNotCompleteIsEmptiedAndHandedOutAsNewAgain) {
  ProfileIndex index;
  ASSERT_TRUE(index.Apply(Ev(1, 7, "contact.created", json::object{{"email", "a@example.com"}})));
  ASSERT_TRUE(index.Apply(Ev(2, 7, "order_placed", json::object{{"total", 80}})));
  StreamSpec big{"order_placed", {}, ""};
  PropertyFilter over50;
  over50.property = "total";
  over50.condition.op = CmpOp::kGt;
  Literal fifty;
  fifty.kind = Literal::Kind::kNumber;
  fifty.number = 50;
  over50.condition.values.push_back(fifty);
  big.filters.push_back(over50);

  auto [id, created] = index.EnsureStream(big);
  ASSERT_TRUE(created);
  index.MarkFilling(id);
  EXPECT_FALSE(index.stream(id).filled);
  index.ApplyToStream(id, Ev(2, 7, "order_placed", json::object{{"total", 80}}));  // a fill cut short
  EXPECT_EQ(index.stream(id).events, 1u);

  auto again = index.EnsureStream(big);
  EXPECT_EQ(again.first, id);
  EXPECT_TRUE(again.second) << "an unfilled stream must be filled again";
  EXPECT_EQ(index.stream(id).events, 0u) << "and emptied first, so nothing is counted twice";
  EXPECT_TRUE(index.stream(id).rows.Empty());

  index.MarkFilling(id);
  index.ApplyToStream(id, Ev(2, 7, "order_placed", json::object{{"total", 80}}));
  index.MarkFilled(id);
  auto filled = index.EnsureStream(big);
  EXPECT_FALSE(filled.second);
  EXPECT_EQ(index.stream(id).events, 1u);
}

TEST(StreamFill, StreamsFilledByTheFeedItselfAreComplete) {
  ProfileIndex index;
  ASSERT_TRUE(index.Apply(Ev(1, 7, "contact.created", json::object{{"email", "a@example.com"}})));
  // A stream made before the events arrive (a saved segment's at start) is filled by Apply.
  auto [early, made] = index.EnsureStream(StreamSpec{"order_placed", {}, "total"});
  ASSERT_TRUE(made);
  ASSERT_TRUE(index.Apply(Ev(2, 7, "page_viewed")));
  ASSERT_TRUE(index.Apply(Ev(3, 7, "order_placed", json::object{{"total", 12}})));
  auto [id, created] = index.EnsureStream(StreamSpec{"page_viewed", {}, {}});
  EXPECT_FALSE(created);
  EXPECT_TRUE(index.stream(id).filled);
  EXPECT_EQ(index.stream(id).events, 1u);
  auto again = index.EnsureStream(StreamSpec{"order_placed", {}, "total"});
  EXPECT_EQ(again.first, early);
  EXPECT_FALSE(again.second);
  EXPECT_EQ(index.stream(early).events, 1u);
}

TEST(StreamFill, ASegmentWhoseStreamsCannotBeFilledIsNotSaved) {
  SystemClock& clock = SystemClock::Instance();
  TempSqliteStore db(clock, "fill");
  NewEvent e;
  e.contact.email = "a@example.com";
  e.name = "order_placed";
  e.properties = json::object{{"total", 80}};
  ASSERT_TRUE(db.store->events().Append(db.workspace, {e}, clock.Now()).ok());

  SegmentService svc(*db.store, clock);
  ASSERT_TRUE(svc.Start(/*run_thread=*/false).ok());
  svc.Stop();  // every fill from the log now stops at its first batch
  SavedSegment s;
  s.name = "big_spenders";
  s.expression = "at least 1 order_placed where total > 50";
  auto created = svc.Create(db.workspace, s);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kUnavailable);
  auto saved = db.store->segments().List(db.workspace);
  ASSERT_TRUE(saved.ok());
  EXPECT_TRUE(saved->empty()) << "a segment whose streams were not filled must not be saved";
  auto preview = svc.Preview(db.workspace, "at least 1 order_placed where total > 60", 5);
  ASSERT_FALSE(preview.ok());
  EXPECT_EQ(preview.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace rapport::segment
