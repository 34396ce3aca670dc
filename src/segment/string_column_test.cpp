#include "segment/string_column.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace rapport::segment {
namespace {

TEST(StringColumn, KeepsNoneEmptyAndValuesApart) {
  StringColumn c;
  c.Resize(3);
  EXPECT_FALSE(c.Has(0));
  EXPECT_EQ(c.Get(0), "");
  c.Set(1, "");
  EXPECT_TRUE(c.Has(1));
  EXPECT_EQ(c.Get(1), "");
  c.Set(2, "a@example.org");
  EXPECT_EQ(c.Get(2), "a@example.org");
  c.Set(5, "late");  // grows
  EXPECT_EQ(c.size(), 6u);
  EXPECT_FALSE(c.Has(4));
  EXPECT_EQ(c.Get(5), "late");
  c.Clear(2);
  EXPECT_FALSE(c.Has(2));
  EXPECT_FALSE(c.Has(100));
}

// Random sets and clears against a vector of optional strings, through many compactions.
TEST(StringColumn, SameAsStringsThroughReplacementsAndCompaction) {
  std::mt19937 rng(7);
  StringColumn c;
  std::vector<std::optional<std::string>> model(500);
  c.Resize(model.size());
  for (int step = 0; step < 200000; ++step) {
    size_t r = rng() % model.size();
    if (rng() % 5 == 0) {
      c.Clear(r);
      model[r].reset();
    } else {
      std::string v(rng() % 40, static_cast<char>('a' + rng() % 26));
      c.Set(r, v);
      model[r] = v;
    }
  }
  for (size_t r = 0; r < model.size(); ++r) {
    ASSERT_EQ(c.Has(r), model[r].has_value()) << r;
    if (model[r]) ASSERT_EQ(c.Get(r), *model[r]) << r;
  }
  // Replaced bytes were reclaimed: the buffer holds at most about twice the live bytes.
  size_t live = 0;
  for (const auto& v : model) live += v ? v->size() : 0;
  EXPECT_LT(c.Bytes(), model.size() * 8 + 4 * live + 16384);
}

}  // namespace
}  // namespace rapport::segment
