// Filters over plain columns (one value a row, indexed by row): the rows of a bitmap whose values
// pass a test, for the evaluator's scans of typed columns. Several filters (the operands of an
// `and` that each read a column) run in one pass over the rows, batch by batch, so that no bitmap
// is built between them.
// Thread-safety: a RowFilter is immutable once made; Keep and FilterRows read only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "segment/bitmap.h"

namespace rapport::segment {

class RowFilter {
 public:
  virtual ~RowFilter() = default;
  // Moves the rows of rows[0, n) that pass to the front, in order; returns how many pass.
  virtual size_t Keep(uint32_t* rows, size_t n) const = 0;
};

// The rows are scattered over a column of millions (a cache miss each): their values are fetched
// kAhead rows ahead, so the misses of a batch overlap, and a row is kept without a branch on the
// test (which a predictor cannot learn on scattered values). bench/RESULTS.md, "## segment".
template <class T, class Pass>
class ColumnFilter final : public RowFilter {
 public:
  ColumnFilter(const T* values, Pass pass) : values_(values), pass_(std::move(pass)) {}
  size_t Keep(uint32_t* rows, size_t n) const override {
    constexpr size_t kAhead = 16;
    for (size_t i = 0; i < n && i < kAhead; ++i) __builtin_prefetch(values_ + rows[i]);
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(values_ + rows[i + kAhead]);
      const uint32_t r = rows[i];
      rows[k] = r;  // k <= i: the rows still to be read are not overwritten
      k += pass_(values_[r]) ? 1 : 0;
    }
    return k;
  }

 private:
  const T* values_;
  Pass pass_;
};

// A filter over `values` (which must outlive it); every row it is given must be below the
// column's size.
template <class T, class Pass>
std::unique_ptr<RowFilter> MakeColumnFilter(const T* values, Pass pass) {
  return std::make_unique<ColumnFilter<T, Pass>>(values, std::move(pass));
}

// A column's test: its filter (null when no row can pass) and the column's size (rows at or past
// it have no value, and fail).
struct ColumnTest {
  std::unique_ptr<RowFilter> filter;
  size_t size = 0;
};

// The rows of `rows` that pass every test (in one pass over the rows).
inline Bitmap PassAll(const Bitmap& rows, const std::vector<ColumnTest>& tests) {
  size_t size = SIZE_MAX;
  for (const ColumnTest& t : tests) {
    if (!t.filter || t.size == 0) return Bitmap();
    size = std::min(size, t.size);
  }
  if (rows.Empty()) return Bitmap();
  Bitmap within;
  const bool beyond = rows.Maximum() >= size;
  if (beyond) {
    within = rows;
    within.RemoveRange(size, uint64_t{1} << 32);
  }
  const Bitmap& in = beyond ? within : rows;
  std::vector<uint32_t> kept(in.Cardinality());
  size_t k = 0;
  in.ForEachBatch([&](const uint32_t* batch, uint32_t n) {
    uint32_t* out = kept.data() + k;
    std::memcpy(out, batch, size_t{n} * sizeof(uint32_t));
    size_t m = n;
    for (const ColumnTest& t : tests) {
      if (m == 0) break;
      m = t.filter->Keep(out, m);
    }
    k += m;
  });
  Bitmap out;
  out.AddMany(kept.data(), k);
  return out;
}

}  // namespace rapport::segment
