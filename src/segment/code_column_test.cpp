#include "segment/code_column.h"

#include <gtest/gtest.h>

namespace rapport::segment {
namespace {

TEST(CodeColumn, OneByteUntilACodePast255ThenWidens) {
  CodeColumn c;
  c.Set(0, 3);
  c.Set(2, 255);
  EXPECT_EQ(c.width_bytes(), 1u);
  EXPECT_EQ(c.Get(1), 0u);   // never set
  EXPECT_EQ(c.Get(99), 0u);  // past the end
  c.Set(3, 256);
  EXPECT_EQ(c.width_bytes(), 2u);
  c.Set(4, 70000);
  EXPECT_EQ(c.width_bytes(), 4u);
  EXPECT_EQ(c.Get(0), 3u);
  EXPECT_EQ(c.Get(2), 255u);
  EXPECT_EQ(c.Get(3), 256u);
  EXPECT_EQ(c.Get(4), 70000u);
  c.Set(0, 1);  // never narrows back
  EXPECT_EQ(c.width_bytes(), 4u);
  EXPECT_EQ(c.size(), 5u);
}

}  // namespace
}  // namespace rapport::segment
