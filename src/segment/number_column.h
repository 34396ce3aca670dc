// NumberColumn: one number (or none) per row, for a numeric custom attribute.
//
// While every value is an integer of a small range, the column holds int8, int16 or int32 codes:
// 1, 2 or 4 bytes a row instead of a double's 8, so a scan reads a fraction of the memory (the
// column of 10M ages fits in the L3 cache as int8, not as doubles) and the index is smaller. The
// first value that does not fit (a fraction, -0.0, an integer past the type's range, an infinity)
// widens the whole column, for good, to the narrowest type that holds every value, doubles at
// last. Every value reads back as exactly the double that was set (-0.0 included). A row without
// a value holds the type's smallest integer (NaN among doubles), which no comparison passes, so a
// scan needs no presence bitmap. NaN is not a value (JSON has none): setting it leaves no value.
// Thread-safety: like a std::vector (concurrent reads are safe, writes need exclusion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "segment/ast.h"
#include "segment/bitmap.h"
#include "segment/filter_rows.h"

namespace rapport::segment {

class NumberColumn {
 public:
  enum class Width : uint8_t { kInt8, kInt16, kInt32, kDouble };

  Width width() const { return static_cast<Width>(data_.index()); }
  size_t size() const;
  bool Has(size_t r) const;
  double Get(size_t r) const;    // NaN when the row has no value
  void Set(size_t r, double v);  // grows the column as needed; widens it when v does not fit
  void Clear(size_t r);
  size_t Bytes() const;

  // The rows of `rows` whose value v satisfies `v op lit` (as doubles compare; a row without a
  // value satisfies none, `!=` included). Rows past the column's end have no value.
  Bitmap Select(const Bitmap& rows, CmpOp op, double lit) const;
  // The same test as a filter over the column (valid until the column changes; rows given to it
  // must be below size()); null when no value can pass.
  std::unique_ptr<RowFilter> Filter(CmpOp op, double lit) const;

  // The narrowest width that holds v exactly (kDouble for fractions, -0.0, infinities, NaN and
  // integers past int32).
  static Width WidthFor(double v);

 private:
  void Widen(Width to);
  std::variant<std::vector<int8_t>, std::vector<int16_t>, std::vector<int32_t>, std::vector<double>> data_;
};

}  // namespace rapport::segment
