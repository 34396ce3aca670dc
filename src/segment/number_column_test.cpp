#include "segment/number_column.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace rapport::segment {
namespace {

using Width = NumberColumn::Width;

std::vector<uint32_t> Rows(const Bitmap& b) { return b.ToVector(); }

Bitmap All(size_t n) {
  Bitmap b;
  b.AddRange(0, n);
  return b;
}

TEST(NumberColumn, SmallIntegersTakeOneByteAndReadBackExactly) {
  NumberColumn c;
  c.Set(0, 18);
  c.Set(1, -5);
  c.Set(3, 127);
  c.Set(4, -127);
  EXPECT_EQ(c.width(), Width::kInt8);
  EXPECT_EQ(c.Get(0), 18);
  EXPECT_EQ(c.Get(1), -5);
  EXPECT_FALSE(c.Has(2));  // a gap holds no value
  EXPECT_TRUE(std::isnan(c.Get(2)));
  EXPECT_EQ(c.Get(3), 127);
  EXPECT_EQ(c.Get(4), -127);
  EXPECT_FALSE(c.Has(100));
  EXPECT_TRUE(std::isnan(c.Get(100)));
}

TEST(NumberColumn, WidensToTheNarrowestTypeThatHoldsEveryValue) {
  NumberColumn c;
  c.Set(0, 1);
  c.Set(2, -128);  // int8's smallest is its "no value" code
  EXPECT_EQ(c.width(), Width::kInt16);
  c.Set(3, 40000);
  EXPECT_EQ(c.width(), Width::kInt32);
  c.Set(4, 2147483647);
  EXPECT_EQ(c.width(), Width::kInt32);
  c.Set(5, -2147483648.0);
  EXPECT_EQ(c.width(), Width::kDouble);
  EXPECT_EQ(c.Get(0), 1);
  EXPECT_FALSE(c.Has(1));  // absent stays absent through every widening
  EXPECT_EQ(c.Get(2), -128);
  EXPECT_EQ(c.Get(3), 40000);
  EXPECT_EQ(c.Get(4), 2147483647);
  EXPECT_EQ(c.Get(5), -2147483648.0);
  c.Set(6, 3);  // never narrows back
  EXPECT_EQ(c.width(), Width::kDouble);
}

TEST(NumberColumn, AFractionSwitchesToDoubles) {
  NumberColumn c;
  for (size_t r = 0; r < 1000; ++r) c.Set(r, static_cast<double>(r % 100));
  EXPECT_EQ(c.width(), Width::kInt8);
  c.Set(500, 2.5);
  EXPECT_EQ(c.width(), Width::kDouble);
  EXPECT_EQ(c.Get(500), 2.5);
  EXPECT_EQ(c.Get(999), 99);
  EXPECT_EQ(Rows(c.Select(All(1000), CmpOp::kEq, 2.5)), std::vector<uint32_t>{500});
  EXPECT_EQ(c.Select(All(1000), CmpOp::kGe, 99).Cardinality(), 10u);
}

TEST(NumberColumn, MinusZeroIsKeptAsADouble) {
  EXPECT_EQ(NumberColumn::WidthFor(0.0), Width::kInt8);
  EXPECT_EQ(NumberColumn::WidthFor(-0.0), Width::kDouble);
  NumberColumn c;
  c.Set(0, 0);
  c.Set(1, -0.0);
  EXPECT_EQ(c.width(), Width::kDouble);
  EXPECT_TRUE(std::signbit(c.Get(1)));
  EXPECT_FALSE(std::signbit(c.Get(0)));
  // -0.0 == 0 as doubles compare, in both directions.
  EXPECT_EQ(c.Select(All(2), CmpOp::kEq, 0).Cardinality(), 2u);
  EXPECT_EQ(c.Select(All(2), CmpOp::kNe, 0).Cardinality(), 0u);
  NumberColumn ints;
  ints.Set(0, 0);
  EXPECT_EQ(ints.Select(All(1), CmpOp::kEq, -0.0).Cardinality(), 1u);
  EXPECT_EQ(ints.Select(All(1), CmpOp::kLt, -0.0).Cardinality(), 0u);
  EXPECT_EQ(ints.Select(All(1), CmpOp::kNe, -0.0).Cardinality(), 0u);
}

TEST(NumberColumn, InfinitiesAndNaN) {
  EXPECT_EQ(NumberColumn::WidthFor(std::numeric_limits<double>::infinity()), Width::kDouble);
  NumberColumn c;
  c.Set(0, 7);
  c.Set(1, std::numeric_limits<double>::quiet_NaN());  // not a value: leaves none
  EXPECT_EQ(c.width(), Width::kInt8);
  EXPECT_FALSE(c.Has(1));
  c.Set(0, std::nan(""));
  EXPECT_FALSE(c.Has(0));
  c.Set(2, 5);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(c.Select(All(3), CmpOp::kLt, inf).Cardinality(), 1u);
  EXPECT_EQ(c.Select(All(3), CmpOp::kGt, -inf).Cardinality(), 1u);
  EXPECT_EQ(c.Select(All(3), CmpOp::kGe, inf).Cardinality(), 0u);
  EXPECT_EQ(c.Select(All(3), CmpOp::kNe, std::nan("")).Cardinality(), 1u);  // as doubles: NaN != 5
  EXPECT_EQ(c.Select(All(3), CmpOp::kEq, std::nan("")).Cardinality(), 0u);
}

TEST(NumberColumn, ClearAndRowsPastTheEndHaveNoValue) {
  NumberColumn c;
  c.Set(0, 1);
  c.Set(1, 2);
  c.Clear(0);
  c.Clear(50);  // past the end: nothing to do
  EXPECT_FALSE(c.Has(0));
  Bitmap rows;
  rows.AddRange(0, 10);
  rows.Add(1u << 31);
  EXPECT_EQ(Rows(c.Select(rows, CmpOp::kNe, 7)), std::vector<uint32_t>{1});
  EXPECT_EQ(Rows(c.Select(rows, CmpOp::kLe, 2)), std::vector<uint32_t>{1});
}

// Select in every width against the doubles' own comparison, over literals at and around the
// values and the widths' limits.
TEST(NumberColumn, SelectMatchesDoubleComparisonInEveryWidth) {
  const std::vector<double> extra = {0, 1e9, 3.25};  // none, int32, double
  const std::vector<Width> widths = {Width::kInt8, Width::kInt32, Width::kDouble};
  std::mt19937 rng(7);
  for (size_t w = 0; w < widths.size(); ++w) {
    for (int16_t base : {int16_t{0}, int16_t{-100}, int16_t{100}}) {
      NumberColumn c;
      std::vector<double> truth(300, std::nan(""));
      for (size_t r = 0; r < truth.size(); ++r) {
        if (rng() % 5 == 0) continue;  // absent
        double v = base + static_cast<int>(rng() % 55) - 27;
        v = std::clamp(v, -127.0, 127.0);
        truth[r] = v;
        c.Set(r, v);
      }
      if (extra[w] != 0) {
        truth[7] = extra[w];
        c.Set(7, extra[w]);
      }
      ASSERT_EQ(c.width(), widths[w]);
      std::vector<double> lits = {-1e300, -2147483649.0, -2147483648.0, -129, -128, -127.5, -0.0,
                                  0.5,    126.5,         127,           128,  1e9,  3.25,   1e300};
      for (int k = -130; k <= 130; k += 7) lits.push_back(k);
      for (double lit : lits)
        for (CmpOp op : {CmpOp::kEq, CmpOp::kNe, CmpOp::kLt, CmpOp::kLe, CmpOp::kGt, CmpOp::kGe}) {
          std::vector<uint32_t> want;
          for (size_t r = 0; r < truth.size(); ++r) {
            const double v = truth[r];
            if (std::isnan(v)) continue;
            bool pass = op == CmpOp::kEq   ? v == lit
                        : op == CmpOp::kNe ? v != lit
                        : op == CmpOp::kLt ? v < lit
                        : op == CmpOp::kLe ? v <= lit
                        : op == CmpOp::kGt ? v > lit
                                           : v >= lit;
            if (pass) want.push_back(static_cast<uint32_t>(r));
          }
          EXPECT_EQ(Rows(c.Select(All(truth.size() + 5), op, lit)), want)
              << "width " << w << " lit " << lit << " op " << CmpOpText(op);
        }
    }
  }
}

}  // namespace
}  // namespace rapport::segment
