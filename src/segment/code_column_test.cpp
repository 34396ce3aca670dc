#include "segment/code_column.h"

#include <gtest/gtest.h>

namespace rapport::segment {
namespace {

TEST(CodeColumn, OneByteUntilACodePast254ThenWidens) {
  CodeColumn c;
  c.Set(0, 3);
  c.Set(2, 254);
  c.Set(5, 0);
  EXPECT_EQ(c.width_bytes(), 1u);
  EXPECT_FALSE(c.Has(1));  // never set
  EXPECT_EQ(c.Get(1), CodeColumn::kNone);
  EXPECT_FALSE(c.Has(99));  // past the end
  EXPECT_EQ(c.Get(99), CodeColumn::kNone);
  EXPECT_TRUE(c.Has(5));
  EXPECT_EQ(c.Get(5), 0u);
  c.Set(3, 255);  // stored as 256
  EXPECT_EQ(c.width_bytes(), 2u);
  c.Set(4, 70000);
  EXPECT_EQ(c.width_bytes(), 4u);
  EXPECT_EQ(c.Get(0), 3u);
  EXPECT_EQ(c.Get(2), 254u);
  EXPECT_EQ(c.Get(3), 255u);
  EXPECT_EQ(c.Get(4), 70000u);
  EXPECT_EQ(c.Get(5), 0u);
  EXPECT_FALSE(c.Has(1));  // none stays none through every widening
  c.Clear(0);
  EXPECT_FALSE(c.Has(0));
  c.Clear(1000);  // past the end: nothing to do
  c.Set(0, 1);    // never narrows back
  EXPECT_EQ(c.width_bytes(), 4u);
  EXPECT_EQ(c.size(), 6u);
}

TEST(CodeColumn, VisitSeesCodePlusOneAndZeroForNone) {
  CodeColumn c;
  c.Set(1, 7);
  c.Visit([](const auto* stored) {
    EXPECT_EQ(stored[0], 0u);
    EXPECT_EQ(stored[1], 8u);
  });
}

}  // namespace
}  // namespace rapport::segment
