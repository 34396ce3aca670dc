// IdIndex against a std::map: the same answers under dense sequences in any order, a sequence
// followed forward with its lowest ids erased (the window's front dropped), sparse ids spilled
// to the hash map and later covered by the window, and the extremes of int64_t.
#include "analytics/id_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace rapport::analytics {
namespace {

void ExpectSame(const IdIndex& index, const std::map<int64_t, uint32_t>& model,
                const std::vector<int64_t>& probes) {
  ASSERT_EQ(index.size(), model.size());
  for (int64_t id : probes) {
    auto it = model.find(id);
    ASSERT_EQ(index.Find(id), it == model.end() ? IdIndex::kNone : it->second) << id;
  }
  std::map<int64_t, uint32_t> seen;
  index.ForEach([&](int64_t id, uint32_t slot) { ASSERT_TRUE(seen.emplace(id, slot).second) << id; });
  ASSERT_EQ(seen, model);
}

TEST(IdIndex, AgreesWithAMapUnderRandomOperations) {
  for (int shape = 0; shape < 4; ++shape) {
    std::mt19937_64 rng(static_cast<uint64_t>(shape) + 11);
    IdIndex index;
    std::map<int64_t, uint32_t> model;
    std::vector<int64_t> probes;
    int64_t next = 1'000;  // a sequence moving forward
    uint32_t slot = 0;
    for (int op = 0; op < 60'000; ++op) {
      int64_t id;
      switch (shape) {
        case 0: id = static_cast<int64_t>(rng() % 5'000); break;                  // dense, any order
        case 1: id = next + static_cast<int64_t>(rng() % 64); break;              // a sequence
        case 2: id = static_cast<int64_t>(rng() % 3) * 1'000'000'000'000; break;  // sparse: spills
        default:  // mixed: dense, far ahead, negative
          id = rng() % 4 == 0 ? static_cast<int64_t>(rng()) : static_cast<int64_t>(rng() % 20'000) - 10'000;
          break;
      }
      if (rng() % 3 == 0 && !model.empty()) {  // erase: the lowest (a horizon) or a random one
        auto it = shape == 1 ? model.begin() : model.lower_bound(id);
        if (it == model.end()) it = model.begin();
        const int64_t gone = it->first;
        EXPECT_TRUE(index.Erase(gone));
        model.erase(it);
        EXPECT_FALSE(index.Erase(gone)) << "erased twice";
        EXPECT_EQ(index.Find(gone), IdIndex::kNone);
      } else {
        auto [got, fresh] = index.TryEmplace(id, slot);
        auto [it, model_fresh] = model.emplace(id, slot);
        ASSERT_EQ(fresh, model_fresh) << id;
        ASSERT_EQ(got, it->second) << id;
        ++slot;
      }
      ++next;
      if (probes.size() < 256)
        probes.push_back(id);
      else
        probes[rng() % probes.size()] = id;
      if (op % 5'000 == 0) ExpectSame(index, model, probes);
    }
    ExpectSame(index, model, probes);
  }
}

TEST(IdIndex, ASpilledIdStaysFoundWhenTheWindowGrowsOverIt) {
  IdIndex index;
  ASSERT_TRUE(index.TryEmplace(10, 1).second);
  // Far beyond what a window of one live id may span: spilled.
  const int64_t far = 10 + (int64_t{1} << 22);
  ASSERT_TRUE(index.TryEmplace(far, 2).second);
  // Enough live ids that the window may reach it now.
  for (int64_t id = 11; id < 11 + (int64_t{1} << 20); ++id) ASSERT_TRUE(index.TryEmplace(id, 3).second);
  ASSERT_TRUE(index.TryEmplace(far - 1, 4).second);  // the window now covers `far`
  EXPECT_EQ(index.Find(far), 2u);
  EXPECT_FALSE(index.TryEmplace(far, 5).second);
  EXPECT_EQ(index.TryEmplace(far, 5).first, 2u);
  EXPECT_TRUE(index.Erase(far));
  EXPECT_EQ(index.Find(far), IdIndex::kNone);
  EXPECT_FALSE(index.Erase(far));
}

TEST(IdIndex, HoldsTheExtremesOfInt64) {
  IdIndex index;
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  for (int64_t id : {int64_t{0}, lo, hi, lo + 1, hi - 1, int64_t{-1}})
    ASSERT_TRUE(index.TryEmplace(id, 7).second);
  for (int64_t id : {int64_t{0}, lo, hi, lo + 1, hi - 1, int64_t{-1}}) EXPECT_EQ(index.Find(id), 7u);
  EXPECT_EQ(index.Find(1), IdIndex::kNone);
  EXPECT_EQ(index.size(), 6u);
  index.Prefetch(lo);  // a hint: any id
  index.Prefetch(hi);
}

TEST(IdIndex, FollowsASequenceForwardInBoundedMemory) {
  IdIndex index;
  // A million messages over time, at most 10,000 alive: the lowest erased as each new one comes.
  for (int64_t id = 1; id <= 1'000'000; ++id) {
    ASSERT_TRUE(index.TryEmplace(id, static_cast<uint32_t>(id)).second);
    if (id > 10'000) ASSERT_TRUE(index.Erase(id - 10'000));
  }
  EXPECT_EQ(index.size(), 10'000u);
  EXPECT_EQ(index.Find(990'001), 990'001u);
  EXPECT_EQ(index.Find(990'000), IdIndex::kNone);
  size_t n = 0;
  index.ForEach([&](int64_t, uint32_t) { ++n; });
  EXPECT_EQ(n, 10'000u);
  EXPECT_LE(index.window(), 30'000u);  // the erased front dropped
}

}  // namespace
}  // namespace rapport::analytics
