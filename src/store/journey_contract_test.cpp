// The store contract, continued: the journeys facet (core/journey.h) on SQLite and PostgreSQL:
// versions, live journeys, the one-transaction Apply (runs checked by sequence number, their
// timers in the work queue, counters, timeline events, the consumer's position) and the stats.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <map>

#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

class Journeys : public StoreContract {
 protected:
  Journey Make(const std::string& name) {
    Journey j;
    j.workspace_id = ws_;
    j.name = name;
    j.definition = R"({"name":")" + name + R"("})";
    auto r = store_->journeys().Create(j);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
  }
  JourneyRun Run(const Journey& j, ContactId c, std::string key = "") {
    JourneyRun r;
    r.workspace_id = ws_;
    r.journey_id = j.id;
    r.version = j.version;
    r.contact_id = c;
    r.run_key = std::move(key);
    r.step = "a";
    r.entered_at = kT0;
    return r;
  }
};

TEST_P(Journeys, VersionsStatusAndNames) {
  JourneyStore& js = store_->journeys();
  Journey j = Make("cart");
  EXPECT_EQ(j.version, 1);
  EXPECT_EQ(j.status, JourneyStatus::kDraft);
  EXPECT_EQ(js.Create(j).error().code, ErrorCode::kConflict);
  auto v2 = js.AddVersion(ws_, j.id, R"({"v":2})");
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->definition, R"({"v":2})");
  EXPECT_EQ(*js.GetVersion(ws_, j.id, 1), R"({"name":"cart"})");
  EXPECT_EQ(js.GetVersion(ws_, j.id, 3).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(js.ListLive()->empty());
  ASSERT_TRUE(js.SetStatus(ws_, j.id, JourneyStatus::kActive).ok());
  EXPECT_EQ(js.ListLive()->size(), 1u);
  EXPECT_EQ(js.GetByName(ws_, "cart")->id, j.id);
  EXPECT_EQ(js.Get(ws_ + 1, j.id).error().code, ErrorCode::kNotFound);
}

TEST_P(Journeys, ApplyWritesRunsTimersCountsEventsAndPositionTogether) {
  JourneyStore& js = store_->journeys();
  Journey j = Make("cart");
  Contact ada = MakeContact("ada@example.com");
  JourneyWrite w;
  w.runs.push_back(RunWrite{Run(j, ada.id, "c-1"), 0, kT0 + 1h});
  w.counts.push_back(StepCount{ws_, j.id, 1, "a", 1});
  w.events.push_back(JourneyEvent{ws_, ada.id, "journey.entered", json::object{{"journey_id", j.id}}, 0});
  ASSERT_TRUE(js.Apply(w).ok());
  RunId id = w.runs[0].run.id;
  ASSERT_GT(id, 0);
  auto timer = store_->work().Find(kJourneyTimerQueue, "run:" + std::to_string(id));
  ASSERT_TRUE(timer.ok() && timer->has_value());
  EXPECT_EQ((*timer)->due_at, kT0 + 1h);
  auto live = js.LiveRuns(ws_, ada.id);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ(live->at(0).run_key, "c-1");
  auto latest = js.LatestRun(ws_, j.id, ada.id, std::string("c-1"));
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_FALSE(js.LatestRun(ws_, j.id, ada.id, std::string("c-2"))->has_value());
  auto timeline = store_->events().ListForContact(ws_, ada.id, EventQuery{});
  ASSERT_EQ(timeline->items.front().name, "journey.entered");
  EXPECT_EQ(timeline->items.front().properties.at("run_id"), json::value(id));

  // A stale writer (an old sequence number) changes nothing, not even the position.
  JourneyRun moved = live->at(0);
  moved.seq = 1;
  moved.state = RunState::kConverted;
  moved.revenue_cents = 1999;
  JourneyWrite stale;
  stale.runs.push_back(RunWrite{moved, 5, std::nullopt});
  stale.position = {"journeys", 3};
  EXPECT_EQ(js.Apply(stale).error().code, ErrorCode::kConflict);
  EXPECT_EQ(*store_->feed().Position("journeys"), 0);
  JourneyWrite good;
  good.runs.push_back(RunWrite{moved, 0, std::nullopt});
  good.position = {"journeys", 3};
  ASSERT_TRUE(js.Apply(good).ok());
  EXPECT_EQ(*store_->feed().Position("journeys"), 3);
  EXPECT_FALSE(store_->work().Find(kJourneyTimerQueue, "run:" + std::to_string(id))->has_value());
  EXPECT_TRUE(js.LiveRuns(ws_, ada.id)->empty());
  EXPECT_EQ(js.ContactRuns(ws_, ada.id, 10)->at(0).state, RunState::kConverted);

  // Other timers of the queue, set and removed by key.
  JourneyWrite timers;
  timers.timers.push_back(TimerWrite{ws_, "anniv:1:2", "{}", kT0 + 24h});
  ASSERT_TRUE(js.Apply(timers).ok());
  EXPECT_TRUE(store_->work().Find(kJourneyTimerQueue, "anniv:1:2")->has_value());
  timers.timers[0].due.reset();
  ASSERT_TRUE(js.Apply(timers).ok());
  EXPECT_FALSE(store_->work().Find(kJourneyTimerQueue, "anniv:1:2")->has_value());
}

TEST_P(Journeys, GetRunsReadsABatchOfRunsByIdAndSkipsTheMissing) {
  JourneyStore& js = store_->journeys();
  Journey j = Make("cart");
  Contact ada = MakeContact("ada@example.com");
  JourneyWrite w;
  for (int i = 0; i < 600; ++i)  // more than one statement's chunk
    w.runs.push_back(RunWrite{Run(j, ada.id, "c-" + std::to_string(i)), 0, kT0 + 1h});
  ASSERT_TRUE(js.Apply(w).ok());
  std::vector<RunId> ids;
  for (int i = 599; i >= 0; i -= 2) ids.push_back(w.runs[static_cast<size_t>(i)].run.id);
  ids.push_back(w.runs.back().run.id + 1000);  // none
  auto got = js.GetRuns(ids);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 300u);
  for (size_t k = 0; k < got->size(); ++k) {
    const JourneyRun& r = got->at(k);
    EXPECT_EQ(r.id, w.runs[2 * k + 1].run.id);  // ordered by id
    EXPECT_EQ(r.run_key, "c-" + std::to_string(2 * k + 1));
    EXPECT_EQ(r.contact_id, ada.id);
    EXPECT_EQ(r.state, RunState::kActive);
  }
  EXPECT_TRUE(js.GetRuns({})->empty());
}

// A timeline event of a run inserted by the same write carries the run's id, whatever its
// properties were (none, others, or a run_id to replace); other events keep theirs as they are.
TEST_P(Journeys, ApplyAddsTheNewRunsIdToItsEvents) {
  JourneyStore& js = store_->journeys();
  Journey j = Make("cart");
  Contact ada = MakeContact("ada@example.com");
  JourneyWrite w;
  w.runs.push_back(RunWrite{Run(j, ada.id, "c-1"), 0, kT0 + 1h});
  w.events.push_back(JourneyEvent{ws_, ada.id, "journey.a", json::object{}, 0});
  w.events.push_back(JourneyEvent{ws_, ada.id, "journey.b", json::object{{"step", "a"}, {"n", 1.5}}, 0});
  w.events.push_back(JourneyEvent{ws_, ada.id, "journey.c", json::object{{"run_id", -1}, {"x", "y"}}, 0});
  w.events.push_back(JourneyEvent{ws_, ada.id, "journey.d", json::object{{"run_id", 77}}, -1});
  ASSERT_TRUE(js.Apply(w).ok());
  RunId id = w.runs[0].run.id;
  EventQuery q;
  q.limit = 10;
  auto page = store_->events().ListForContact(ws_, ada.id, q);
  ASSERT_TRUE(page.ok());
  std::map<std::string, json::object> by_name;
  for (const Event& e : page->items) by_name[e.name] = e.properties;
  EXPECT_EQ(by_name["journey.a"], (json::object{{"run_id", id}}));
  EXPECT_EQ(by_name["journey.b"], (json::object{{"step", "a"}, {"n", 1.5}, {"run_id", id}}));
  EXPECT_EQ(by_name["journey.c"], (json::object{{"run_id", id}, {"x", "y"}}));
  EXPECT_EQ(by_name["journey.d"], (json::object{{"run_id", 77}}));
}

TEST_P(Journeys, StatsPerVersionAndStep) {
  JourneyStore& js = store_->journeys();
  Journey j = Make("cart");
  JourneyWrite w;
  for (int i = 0; i < 3; ++i) {
    Contact c = MakeContact("c" + std::to_string(i) + "@example.com");
    JourneyRun r = Run(j, c.id);
    if (i == 0) {
      r.state = RunState::kConverted;
      r.revenue_cents = 1250;
      r.step = "b";
    }
    if (i == 1) r.state = RunState::kWaiting;
    w.runs.push_back(RunWrite{r, 0, kT0});
  }
  w.counts.push_back(StepCount{ws_, j.id, 1, "a", 3});
  w.counts.push_back(StepCount{ws_, j.id, 1, "b", 1});
  ASSERT_TRUE(js.Apply(w).ok());
  auto rows = js.Stats(ws_, j.id);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  const JourneyStatsRow& v = rows->at(0);
  EXPECT_EQ(v.step, "");
  EXPECT_EQ(v.entered, 3);
  EXPECT_EQ(v.waiting, 2);
  EXPECT_EQ(v.converted, 1);
  EXPECT_EQ(v.revenue_cents, 1250);
  EXPECT_EQ(rows->at(1).step, "a");
  EXPECT_EQ(rows->at(1).entered, 3);
  EXPECT_EQ(rows->at(1).waiting, 2);
  EXPECT_EQ(rows->at(2).step, "b");
  EXPECT_EQ(rows->at(2).converted, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, Journeys, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
