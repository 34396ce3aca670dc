// Bitmap's batch iteration and its And against a std::set model, across CRoaring's container
// kinds (sparse arrays, dense bitmaps, runs) and batch boundaries.
#include "segment/bitmap.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <tuple>
#include <vector>

namespace rapport::segment {
namespace {

TEST(Bitmap, ForEachBatchVisitsEveryRowInOrderInBatchesOfAtMost256) {
  for (uint32_t n : {0u, 1u, 255u, 256u, 257u, 70'000u}) {
    Bitmap b;
    std::vector<uint32_t> want;
    for (uint32_t i = 0; i < n; ++i) want.push_back(i * 3 + i / 1000 * 65'536);  // several containers
    b.AddMany(want.data(), want.size());
    std::vector<uint32_t> got;
    b.ForEachBatch([&](const uint32_t* rows, uint32_t k) {
      EXPECT_GT(k, 0u);
      EXPECT_LE(k, 256u);
      got.insert(got.end(), rows, rows + k);
    });
    std::set<uint32_t> model(want.begin(), want.end());
    EXPECT_EQ(got, std::vector<uint32_t>(model.begin(), model.end())) << n;
  }
}

TEST(Bitmap, AndIsTheIntersectionAndLeavesBothOperandsAlone) {
  std::mt19937 rng(5);
  Bitmap dense, sparse, runs;
  std::set<uint32_t> d, s, r;
  for (uint32_t i = 0; i < 200'000; ++i)
    if (rng() % 2) dense.Add(i), d.insert(i);
  for (int i = 0; i < 3'000; ++i) {
    uint32_t x = rng() % 1'000'000;
    sparse.Add(x), s.insert(x);
  }
  runs.AddRange(50'000, 150'000);
  for (uint32_t i = 50'000; i < 150'000; ++i) r.insert(i);
  runs.Optimize();
  for (auto [a, b, ma, mb] :
       {std::tuple{&dense, &sparse, &d, &s}, {&sparse, &runs, &s, &r}, {&dense, &runs, &d, &r}}) {
    const uint64_t ca = a->Cardinality(), cb = b->Cardinality();
    Bitmap both = Bitmap::And(*a, *b);
    std::vector<uint32_t> want;
    for (uint32_t x : *ma)
      if (mb->count(x)) want.push_back(x);
    EXPECT_EQ(both.ToVector(), want);
    EXPECT_EQ(a->Cardinality(), ca);
    EXPECT_EQ(b->Cardinality(), cb);
  }
  EXPECT_TRUE(Bitmap::And(Bitmap(), dense).Empty());
}

}  // namespace
}  // namespace rapport::segment
