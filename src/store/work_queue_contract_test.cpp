// The store contract, continued: the leased work queue (core/work_queue.h) on SQLite and PostgreSQL
// (store_contract_fixture.h): schedule and reschedule by key, claims in due order with leases that
// expire, completion and retry only by the lease holder, a node's leases released at once, and
// concurrent claimers that never share an item.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <set>
#include <thread>

#include "store/store_contract_fixture.h"

namespace rapport {
namespace {

using namespace contract;
using namespace std::chrono_literals;

class WorkQueue : public StoreContract {
 protected:
  WorkItem Item(std::string key, Timestamp due, std::string payload = "{}") {
    WorkItem w;
    w.workspace_id = ws_;
    w.queue = "journey.timer";
    w.key = std::move(key);
    w.due_at = due;
    w.payload = std::move(payload);
    return w;
  }
  std::vector<std::string> Keys(const std::vector<WorkItem>& items) {
    std::vector<std::string> out;
    for (const auto& w : items) out.push_back(w.key);
    return out;
  }
};

TEST_P(WorkQueue, ClaimsDueItemsInDueOrderWithALease) {
  WorkQueueStore& q = store_->work();
  ASSERT_TRUE(q.Schedule(Item("b", kT0 + 2min)).ok());
  ASSERT_TRUE(q.Schedule(Item("a", kT0 + 1min)).ok());
  ASSERT_TRUE(q.Schedule(Item("later", kT0 + 1h)).ok());
  WorkItem other = Item("x", kT0);
  other.queue = "campaign.batch";
  ASSERT_TRUE(q.Schedule(other).ok());

  EXPECT_TRUE(q.Claim("journey.timer", 10, "node-1", kT0, 30s)->empty());  // nothing due yet
  auto claimed = q.Claim("journey.timer", 10, "node-1", kT0 + 5min, 30s);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_EQ(Keys(*claimed), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*claimed)[0].lease_owner, "node-1");
  EXPECT_EQ((*claimed)[0].lease_until, kT0 + 5min + 30s);
  EXPECT_EQ((*claimed)[0].attempts, 1);
  // Leased items are not claimed again while the lease holds; other queues are apart.
  EXPECT_TRUE(q.Claim("journey.timer", 10, "node-2", kT0 + 5min + 10s, 30s)->empty());
  EXPECT_EQ(Keys(*q.Claim("campaign.batch", 10, "node-2", kT0 + 5min, 30s)), (std::vector<std::string>{"x"}));
  // A lease that expires (the node died) makes the item claimable again.
  auto again = q.Claim("journey.timer", 10, "node-2", kT0 + 6min, 30s);
  EXPECT_EQ(Keys(*again), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*again)[0].attempts, 2);
  // The first node's completion comes too late: the lease is no longer its own.
  EXPECT_EQ(q.Complete((*claimed)[0].id, "node-1").error().code, ErrorCode::kConflict);
  ASSERT_TRUE(q.Complete((*again)[0].id, "node-2").ok());
  EXPECT_EQ(q.Complete((*again)[0].id, "node-2").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(*q.Find("journey.timer", "a"));
}

TEST_P(WorkQueue, SchedulingAKeyAgainMovesTheOneItem) {
  WorkQueueStore& q = store_->work();
  auto first = q.Schedule(Item("run:1:step:2", kT0 + 1h, R"({"v":1})"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto moved = q.Schedule(Item("run:1:step:2", kT0 + 2h, R"({"v":2})"));
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->id, first->id);
  EXPECT_EQ(moved->due_at, kT0 + 2h);
  EXPECT_EQ(moved->payload, R"({"v":2})");
  EXPECT_EQ(*q.NextDue("journey.timer"), kT0 + 2h);
  EXPECT_TRUE(q.Claim("journey.timer", 10, "n", kT0 + 90min, 30s)->empty());
  // Rescheduling a leased item drops the lease: its holder can no longer complete it.
  auto claimed = q.Claim("journey.timer", 10, "n", kT0 + 2h, 30s);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_TRUE(q.Schedule(Item("run:1:step:2", kT0 + 3h)).ok());
  EXPECT_EQ(q.Complete((*claimed)[0].id, "n").error().code, ErrorCode::kConflict);
  ASSERT_TRUE(q.Cancel("journey.timer", "run:1:step:2").ok());
  EXPECT_EQ(q.Cancel("journey.timer", "run:1:step:2").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(*q.NextDue("journey.timer"));
}

TEST_P(WorkQueue, RetryReleasesWithANewDueTimeAndNextDueSeesLeases) {
  WorkQueueStore& q = store_->work();
  ASSERT_TRUE(q.Schedule(Item("a", kT0)).ok());
  auto claimed = q.Claim("journey.timer", 1, "n", kT0, 1min);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(*q.NextDue("journey.timer"), kT0 + 1min);  // when the lease would expire
  EXPECT_EQ(q.Retry((*claimed)[0].id, "someone-else", kT0 + 10min).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(q.Retry((*claimed)[0].id, "n", kT0 + 10min).ok());
  EXPECT_EQ(*q.NextDue("journey.timer"), kT0 + 10min);
  EXPECT_TRUE(q.Claim("journey.timer", 1, "n", kT0 + 9min, 1min)->empty());
  EXPECT_EQ(q.Claim("journey.timer", 1, "n", kT0 + 10min, 1min)->size(), 1u);
}

TEST_P(WorkQueue, ANodeReleasesItsOwnLeasesAtOnceAndNoOneElses) {
  WorkQueueStore& q = store_->work();
  for (std::string k : {"a", "b", "c"}) ASSERT_TRUE(q.Schedule(Item(k, kT0)).ok());
  ASSERT_EQ(q.Claim("journey.timer", 2, "node-1", kT0, 5min)->size(), 2u);
  ASSERT_EQ(q.Claim("journey.timer", 2, "node-2", kT0, 5min)->size(), 1u);
  EXPECT_EQ(*q.ReleaseOwner("node-1"), 2);
  auto retaken = q.Claim("journey.timer", 10, "node-1b", kT0 + 1s, 5min);
  EXPECT_EQ(retaken->size(), 2u);  // node-2's item keeps its lease
}

TEST_P(WorkQueue, RefusesWhatIsNotAnItem) {
  WorkQueueStore& q = store_->work();
  WorkItem bad = Item("", kT0);
  EXPECT_EQ(q.Schedule(bad).error().code, ErrorCode::kInvalid);
  bad = Item("k", kT0);
  bad.queue = "Bad Queue";
  EXPECT_EQ(q.Schedule(bad).error().field, "queue");
  EXPECT_EQ(q.Claim("journey.timer", 0, "n", kT0, 1s).error().field, "max");
  EXPECT_EQ(q.Claim("journey.timer", 1, "", kT0, 1s).error().field, "owner");
}

TEST_P(WorkQueue, ConcurrentClaimersNeverShareAnItem) {
  WorkQueueStore& q = store_->work();
  constexpr int kItems = 200;
  for (int i = 0; i < kItems; ++i) ASSERT_TRUE(q.Schedule(Item("k" + std::to_string(i), kT0)).ok());
  std::mutex mu;
  std::multiset<WorkItemId> taken;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto batch = q.Claim("journey.timer", 7, "node-" + std::to_string(t), kT0, 5min);
        if (!batch.ok() || batch->empty()) return;
        std::lock_guard lock(mu);
        for (const auto& w : *batch) taken.insert(w.id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(taken.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(std::set<WorkItemId>(taken.begin(), taken.end()).size(), static_cast<size_t>(kItems));
}

INSTANTIATE_TEST_SUITE_P(Backends, WorkQueue, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace rapport
