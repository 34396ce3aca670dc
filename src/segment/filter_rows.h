// FilterRows: the rows of a bitmap whose value in a plain column (one value a row, indexed by
// row) passes a test. Used by the evaluator's scans of typed columns.
// Thread-safety: reads its arguments only.
#pragma once

#include <cstdint>
#include <vector>

#include "segment/bitmap.h"

namespace rapport::segment {

// The rows of `rows` whose value passes `pass`; every row of `rows` must be below the column's
// size. The rows are scattered over a column of millions (a cache miss each): their values are
// fetched kAhead rows ahead, so the misses of a batch overlap, and a row is kept without a branch
// on the test (which a predictor cannot learn on scattered values). bench/RESULTS.md, "## segment".
template <class T, class Pass>
Bitmap FilterRows(const Bitmap& rows, const T* values, Pass pass) {
  constexpr uint32_t kAhead = 16;
  std::vector<uint32_t> kept(rows.Cardinality());
  size_t k = 0;
  rows.ForEachBatch([&](const uint32_t* batch, uint32_t n) {
    for (uint32_t i = 0; i < n && i < kAhead; ++i) __builtin_prefetch(values + batch[i]);
    for (uint32_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(values + batch[i + kAhead]);
      kept[k] = batch[i];
      k += pass(values[batch[i]]) ? 1 : 0;
    }
  });
  Bitmap out;
  out.AddMany(kept.data(), k);
  return out;
}

}  // namespace rapport::segment
