// Property (rapidcheck): after any sequence of feed changes (events, attribute changes,
// subscriptions, timezone changes, erasures) and clock advances, the incrementally maintained
// membership of every saved segment equals a full re-evaluation at that moment. Contacts live in
// timezones on both sides of UTC (and half an hour off it), so `exactly N days ago / from now`
// changes at local midnights the deadline queue must not miss.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <iterator>

#include "segment/evaluator.h"
#include "segment/segment_engine.h"

namespace rapport::segment {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kDay = 24 * 60 * kMinute;
constexpr int64_t kT0 = 1'781'524'800'000'000;  // 2026-06-15T12:00:00Z

const char* kExpressions[] = {
    "any page_viewed in the last 30 minutes",
    "at least 2 order_placed where total > 50 in the last 3 days",
    "no order_placed in the last 2 hours and subscribed to news",
    "sum(total) of order_placed in the last 1 days >= 100 or city = \"Paris\"",
    "last order_placed more than 90 minutes ago",
    "created_at within 1 days and not city = \"Lyon\"",
    "in segment s1 and not in segment s2",
    "opened any message in the last 45 minutes or never clicked",
    "last(total) of order_placed in the last 2 hours > 60",
    "renewal exactly 2 days from now or seen exactly 1 days ago",
    "created_at exactly 0 days ago and not renewal exactly 1 weeks ago",
    "last page_viewed exactly 1 days ago",
};
constexpr int kCount = static_cast<int>(std::size(kExpressions));

TEST(SegmentProperty, IncrementalMembershipEqualsFullEvaluation) {
  bool ok = rc::check("incremental == full", [] {
    SegmentEngine engine;
    int64_t now = kT0;
    int64_t position = 0;
    Schema schema;
    schema.attributes = {
        {"city", ValueType::kString}, {"renewal", ValueType::kDate}, {"seen", ValueType::kTimestamp}};
    schema.topics = {"news"};
    for (int i = 0; i < kCount; ++i) schema.segments.insert("s" + std::to_string(i + 1));
    for (int i = 0; i < kCount; ++i) {
      SavedSegment s;
      s.id = i + 1;
      s.workspace_id = 1;
      s.name = "s" + std::to_string(i + 1);
      s.expression = kExpressions[i];
      auto r = engine.Upsert(s, schema, now, "UTC");
      RC_ASSERT(r.ok());
    }
    const int contacts = *rc::gen::inRange(1, 8);
    const int steps = *rc::gen::inRange(1, 60);
    std::vector<bool> created(contacts + 1, false);
    auto apply = [&](Event e) {
      e.workspace_id = 1;
      e.position = ++position;
      engine.Apply(e, now);
    };
    for (int step = 0; step < steps; ++step) {
      int kind = *rc::gen::inRange(0, 12);
      ContactId c = *rc::gen::inRange(1, contacts + 1);
      if (!created[c] && kind != 8) {
        Event e;
        e.contact_id = c;
        e.name = "contact.created";
        e.occurred_at = FromMicros(now);
        e.properties = json::object{{"email", "c" + std::to_string(c) + "@x.org"}, {"status", "active"}};
        std::string tz = *rc::gen::element<std::string>("", "Europe/Paris", "America/New_York",
                                                        "Asia/Kolkata", "Pacific/Auckland");
        if (!tz.empty()) e.properties["timezone"] = tz;
        apply(e);
        created[c] = true;
        continue;
      }
      Event e;
      e.contact_id = c;
      e.occurred_at = FromMicros(now - *rc::gen::inRange<int64_t>(-30, 300) * kMinute);
      switch (kind) {
        case 0:
        case 1:
          e.name = "order_placed";
          e.properties = json::object{{"total", *rc::gen::inRange(0, 120)}};
          break;
        case 2: e.name = "page_viewed"; break;
        case 3:
          // Tracking's hits, human or machine (only human ones are engagement).
          e.name = *rc::gen::element<std::string>("email_opened", "email_clicked");
          e.properties = json::object{{"machine", *rc::gen::arbitrary<bool>()}};
          break;
        case 4: {
          e.name = "contact.updated";
          e.occurred_at = FromMicros(now);
          std::string name = *rc::gen::element<std::string>("Paris", "Lyon", "");
          json::value city = name.empty() ? json::value(nullptr) : json::value(name);
          e.properties = json::object{
              {"changes", json::object{{"attributes", json::object{{"city", json::object{{"old", nullptr},
                                                                                         {"new", city}}}}}}}};
          break;
        }
        case 5:
          e.name = *rc::gen::element<std::string>("topic.subscribed", "topic.unsubscribed");
          e.occurred_at = FromMicros(now);
          e.properties = json::object{{"topic", "news"}};
          break;
        case 6:
        case 7:
          now += *rc::gen::inRange<int64_t>(1, 600) * kMinute / *rc::gen::inRange<int64_t>(1, 10);
          engine.Advance(now);
          continue;
        case 8:
          if (!created[c] || *rc::gen::inRange(0, 4) != 0) continue;
          e.name = "contact.erased";
          e.occurred_at = FromMicros(now);
          break;
        case 9: {
          // A date a few days around today, or a time in the last days (or none).
          e.name = "contact.updated";
          e.occurred_at = FromMicros(now);
          bool is_date = *rc::gen::arbitrary<bool>();
          json::value v(nullptr);
          if (*rc::gen::inRange(0, 5) != 0) {
            if (is_date)
              v = FormatTimestamp(FromMicros(now + *rc::gen::inRange<int64_t>(-9, 4) * kDay)).substr(0, 10);
            else
              v = FormatTimestamp(FromMicros(now - *rc::gen::inRange<int64_t>(-60, 4 * 24 * 60) * kMinute));
          }
          e.properties = json::object{
              {"changes",
               json::object{{"attributes", json::object{{is_date ? "renewal" : "seen",
                                                         json::object{{"old", nullptr}, {"new", v}}}}}}}};
          break;
        }
        case 10: {
          e.name = "contact.updated";
          e.occurred_at = FromMicros(now);
          std::string tz = *rc::gen::element<std::string>("", "Europe/Paris", "America/New_York",
                                                          "Asia/Kolkata", "Pacific/Auckland");
          e.properties = json::object{
              {"changes", json::object{{"timezone", json::object{{"old", nullptr}, {"new", tz}}}}}};
          break;
        }
        default:
          // A day or two, to a minute: lands on either side of some contact's local midnight.
          now += *rc::gen::inRange<int64_t>(1, 3) * kDay + *rc::gen::inRange<int64_t>(-90, 90) * kMinute;
          engine.Advance(now);
          continue;
      }
      apply(e);
    }
    engine.Advance(now);
    // Full evaluation, in dependency order (s7 reads s1 and s2).
    for (int i = 0; i < kCount; ++i) {
      Evaluator ev(engine.index(), engine.Context(1, now));
      Bitmap expected = ev.Scan(*engine.Expression(i + 1), engine.index().Workspace(1));
      const Bitmap* got = engine.Members(i + 1);
      RC_ASSERT(got != nullptr);
      if (!(*got == expected)) {
        RC_FAIL("segment s" + std::to_string(i + 1) + " (" + kExpressions[i] + "): incremental " +
                std::to_string(got->Cardinality()) + " members, full " +
                std::to_string(expected.Cardinality()));
      }
    }
    // Every change was taken once: emitting now leaves emitted == members.
    engine.TakeChanges(1 << 20);
    RC_ASSERT(engine.PendingChanges() == 0u);
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace rapport::segment
