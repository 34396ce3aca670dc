// DueQueue against std::priority_queue: the same pops in the same order, whatever the mix of
// pushes (before the horizon, in the near bucket, far ahead, at the extremes of int64_t) and pops.
#include "analytics/due_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <queue>
#include <random>
#include <vector>

namespace rapport::analytics {
namespace {

struct Entry {
  int64_t at = 0;
  int64_t id = 0;
  bool operator>(const Entry& o) const { return at != o.at ? at > o.at : id > o.id; }
  bool operator==(const Entry&) const = default;
};

using Reference = std::priority_queue<Entry, std::vector<Entry>, std::greater<>>;

void ExpectSamePops(DueQueue<Entry>& q, Reference& r, size_t n) {
  for (size_t i = 0; i < n && !r.empty(); ++i) {
    ASSERT_FALSE(q.empty());
    ASSERT_EQ(q.size(), r.size());
    Entry want = r.top();
    Entry got = q.top();
    ASSERT_EQ(got.at, want.at);
    ASSERT_EQ(got.id, want.id);
    q.pop();
    r.pop();
  }
}

TEST(DueQueue, PopsInTheOrderOfABinaryHeapUnderARandomMixOfPushesAndPops) {
  for (auto [bits, ring] : {std::pair{0, 4096}, {4, 3}, {20, 1}, {20, 64}, {32, 4096}, {32, 2}, {62, 4096}}) {
    std::mt19937_64 rng(static_cast<uint64_t>(bits) + ring + 7);
    DueQueue<Entry> q(bits, static_cast<size_t>(ring));
    Reference r;
    int64_t now = -5'000'000;  // negative times too
    int64_t id = 0;
    for (int round = 0; round < 4000; ++round) {
      // A fold's pattern: push entries due from now on (some at now exactly, some just after,
      // some far ahead), then pop what is due.
      int pushes = static_cast<int>(rng() % 6);
      for (int i = 0; i < pushes; ++i) {
        int64_t ahead;
        switch (rng() % 5) {
          case 0: ahead = 0; break;
          case 4: ahead = -static_cast<int64_t>(rng() % 50'000'000); break;  // overdue already
          case 1: ahead = static_cast<int64_t>(rng() % 100); break;
          case 2: ahead = static_cast<int64_t>(rng() % 1'000'000); break;
          default: ahead = static_cast<int64_t>(rng() % 10'000'000'000); break;
        }
        Entry e{now + ahead, ++id % 50};  // ids repeat: ties on `at` broken by id
        q.push(e);
        r.push(e);
      }
      now += static_cast<int64_t>(rng() % 2'000'000);
      while (!r.empty() && r.top().at <= now) ExpectSamePops(q, r, 1);
      ASSERT_EQ(q.empty(), r.empty());
    }
    ExpectSamePops(q, r, r.size());
    EXPECT_TRUE(q.empty());
  }
}

TEST(DueQueue, AheadShowsTheNextPopsOfTheCurrentBucket) {
  DueQueue<Entry> q(10);
  for (int64_t id : {4, 1, 3, 2}) q.push({id * 10, id});
  q.push({5'000, 9});  // another bucket
  ASSERT_EQ(q.top().id, 1);
  ASSERT_NE(q.Ahead(0), nullptr);
  EXPECT_EQ(q.Ahead(0)->id, 1);
  EXPECT_EQ(q.Ahead(2)->id, 3);
  EXPECT_EQ(q.Ahead(4), nullptr);  // not in the current bucket
  q.pop();
  EXPECT_EQ(q.Ahead(0)->id, 2);
}

TEST(DueQueue, HoldsTheExtremesOfInt64) {
  for (size_t ring : {size_t{1}, size_t{4096}}) {
    DueQueue<Entry> q(32, ring);
    Reference r;
    const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    for (Entry e :
         {Entry{hi, 1}, Entry{lo, 2}, Entry{0, 3}, Entry{hi, 0}, Entry{lo + 1, 4}, Entry{hi - 1, 5}}) {
      q.push(e);
      r.push(e);
    }
    ExpectSamePops(q, r, 2);
    // Pushed once the horizon moved: before it, and in the last bucket.
    for (Entry e : {Entry{-1, 6}, Entry{hi, 7}, Entry{lo, 8}}) {
      q.push(e);
      r.push(e);
    }
    ExpectSamePops(q, r, r.size());
    EXPECT_TRUE(q.empty());
  }
}

TEST(DueQueue, EntriesPushedBeforeTheHorizonComeBeforeLaterBuckets) {
  DueQueue<Entry> q(10);  // buckets of 1,024
  q.push({5'000, 1});
  q.push({100, 2});
  EXPECT_EQ(q.top().id, 2);  // bucket 0 moved near: horizon 1,024
  q.push({1'023, 3});        // near
  q.push({1'024, 4});        // far, the next bucket
  q.push({50, 5});           // near, earlier than the top
  std::vector<int64_t> order;
  while (!q.empty()) {
    order.push_back(q.top().id);
    q.pop();
  }
  EXPECT_EQ(order, (std::vector<int64_t>{5, 2, 3, 4, 1}));
}

}  // namespace
}  // namespace rapport::analytics
