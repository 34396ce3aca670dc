// The lifecycle stage is a segment field: the profile index reads `lifecycle_changed` (appended
// by the analytics consumer) and a saved segment `lifecycle = "at_risk"` follows it live.
#include <gtest/gtest.h>

#include "analytics/report_book.h"
#include "segment/segment_engine.h"

namespace rapport::analytics {
namespace {

Event Make(EventId id, ContactId c, std::string name, json::object props) {
  Event e;
  e.id = e.position = id;
  e.workspace_id = 1;
  e.contact_id = c;
  e.name = std::move(name);
  e.properties = std::move(props);
  e.occurred_at = e.received_at = FromMicros(1'780'000'000'000'000 + id);
  return e;
}

TEST(SegmentLifecycle, ASavedSegmentFollowsLifecycleChanges) {
  segment::SegmentEngine engine;
  int64_t now = 1'780'000'000'000'000;
  for (ContactId c : {1, 2})
    ASSERT_TRUE(engine.Apply(
        Make(c, c, "contact.created",
             json::object{{"email", "c" + std::to_string(c) + "@example.com"}, {"status", "active"}}),
        now));
  ASSERT_TRUE(engine.Apply(Make(3, 1, std::string(kLifecycleChanged),
                                json::object{{"from", "subscriber"}, {"to", "new_customer"}}),
                           now));
  segment::Schema schema = engine.index().SchemaFor(1);
  ASSERT_TRUE(schema.attributes.count("lifecycle"));
  SavedSegment s;
  s.id = 7;
  s.workspace_id = 1;
  s.name = "at-risk";
  s.expression = "lifecycle = \"at_risk\"";
  ASSERT_TRUE(engine.Upsert(s, schema, now, "UTC").ok());
  EXPECT_EQ(engine.Members(7)->Cardinality(), 0u);
  ASSERT_TRUE(engine.Apply(
      Make(4, 1, std::string(kLifecycleChanged), json::object{{"from", "new_customer"}, {"to", "at_risk"}}),
      now));
  EXPECT_EQ(engine.Members(7)->Cardinality(), 1u);
  auto changes = engine.TakeChanges(10);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0].entered);
  EXPECT_EQ(changes[0].contact_id, 1);
  ASSERT_TRUE(engine.Apply(
      Make(5, 1, std::string(kLifecycleChanged), json::object{{"from", "at_risk"}, {"to", "lapsed"}}), now));
  EXPECT_EQ(engine.Members(7)->Cardinality(), 0u);
}

// engagement_score, clv and predicted_clv reach the profile index as the contact attributes the
// consumer's events set (the store records them as contact.updated): numbers a segment compares.
TEST(SegmentLifecycle, EngagementAndClvAttributesAreNumericSegmentFields) {
  segment::SegmentEngine engine;
  int64_t now = 1'780'000'000'000'000;
  for (ContactId c : {1, 2})
    ASSERT_TRUE(engine.Apply(
        Make(c, c, "contact.created",
             json::object{{"email", "c" + std::to_string(c) + "@example.com"}, {"status", "active"}}),
        now));
  auto update = [&](EventId id, ContactId c, int score, double clv) {
    json::object attrs{{"engagement_score", json::object{{"old", nullptr}, {"new", score}}},
                       {"clv", json::object{{"old", nullptr}, {"new", clv}}},
                       {"predicted_clv", json::object{{"old", nullptr}, {"new", clv * 2}}}};
    ASSERT_TRUE(engine.Apply(
        Make(id, c, "contact.updated", json::object{{"changes", json::object{{"attributes", attrs}}}}), now));
  };
  update(3, 1, 70, 120);
  update(4, 2, 63, 10);
  segment::Schema schema = engine.index().SchemaFor(1);
  ASSERT_TRUE(schema.attributes.count("engagement_score"));
  SavedSegment s;
  s.id = 8;
  s.workspace_id = 1;
  s.name = "engaged-spenders";
  s.expression = "engagement_score > 65 and clv >= 100 and predicted_clv > 200";
  ASSERT_TRUE(engine.Upsert(s, schema, now, "UTC").ok());
  EXPECT_EQ(engine.Members(8)->Cardinality(), 1u);
  update(5, 1, 55, 120);  // the score stepped down: out
  EXPECT_EQ(engine.Members(8)->Cardinality(), 0u);
}

}  // namespace
}  // namespace rapport::analytics
