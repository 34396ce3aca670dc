// Set-wise statements with a bounded number of texts: a multi-row INSERT ("VALUES (...), (...)")
// or an IN list ("... IN ($2, $3, ...)") is written for 1, 2, 4 ... kChunk rows only, and a
// batch of any size is run as power-of-two pieces of at most kChunk. Statements are prepared
// once per connection and cached by their text (store/sql/database.h), so a batch-sized text
// per batch size would fill the cache; these few texts are prepared once.
//
// Both dialects accept both shapes ($n placeholders; PostgreSQL infers each parameter's type
// from the column it is inserted into or compared with).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/sql/database.h"

namespace rapport::sql {

// Rows per multi-row INSERT and values per IN list.
inline constexpr size_t kChunk = 64;

// "$<first>, $<first+1>, ..." for `count` placeholders.
inline void AppendPlaceholders(std::string& sql, int first, int count) {
  for (int i = 0; i < count; ++i) {
    if (i > 0) sql += ", ";
    sql += '$';
    sql += std::to_string(first + i);
  }
}

// One statement text per power-of-two row count: prefix + rows of `columns` placeholders
// (kValues: "(...), (...)" follows the prefix), or prefix + one IN list after the `leading`
// fixed parameters (kInList: "($<leading+1>, ...)"), then `suffix`. With `first_row_types`
// (one SQL type per column), the first row's placeholders are written CAST($n AS type): a
// VALUES list in a FROM clause has no target columns for PostgreSQL to infer types from, and
// the other rows take the first row's types.
class StatementSet {
 public:
  enum class Shape { kValues, kInList };
  StatementSet(std::string_view prefix, int columns, Shape shape, int leading = 1,
               std::string_view suffix = {}, std::span<const std::string_view> first_row_types = {}) {
    for (int k = 0; k < kSizes; ++k) {
      const int rows = 1 << k;
      std::string sql(prefix);
      if (shape == Shape::kValues) {
        for (int r = 0; r < rows; ++r) {
          sql += r == 0 ? "(" : ", (";
          if (r == 0 && !first_row_types.empty()) {
            for (int c = 0; c < columns; ++c) {
              if (c > 0) sql += ", ";
              sql += "CAST($" + std::to_string(1 + c) + " AS " + std::string(first_row_types[c]) + ")";
            }
          } else {
            AppendPlaceholders(sql, 1 + r * columns, columns);
          }
          sql += ')';
        }
      } else {
        sql += '(';
        AppendPlaceholders(sql, leading + 1, rows);
        sql += ')';
      }
      sql += suffix;
      texts_[k] = std::move(sql);
    }
  }
  // The statement for `rows` (a power of two up to kChunk).
  std::string_view For(size_t rows) const { return texts_[std::countr_zero(rows)]; }

 private:
  static constexpr int kSizes = std::countr_zero(kChunk) + 1;  // 1, 2, 4 ... kChunk rows
  static_assert(std::has_single_bit(kChunk));
  std::array<std::string, kSizes> texts_;
};

// Calls fn(begin, count) over [0, n) in power-of-two pieces of at most kChunk; stops at the
// first error.
template <typename Fn>
Status ForChunks(size_t n, Fn&& fn) {
  size_t begin = 0;
  while (begin < n) {
    const size_t count = std::bit_floor(std::min(n - begin, kChunk));
    RAPPORT_TRY(fn(begin, count));
    begin += count;
  }
  return {};
}

// Runs `select` (Shape::kInList, after its `leading` parameters) over `ids` a chunk at a time
// (ForChunks), calling on_row for every row: reads of many rows by key in a few statements.
inline Status SelectInChunks(Session& s, const StatementSet& select, std::span<const Param> leading,
                             std::span<const int64_t> ids, const RowFn& on_row) {
  std::vector<Param> params;
  params.reserve(leading.size() + std::min(ids.size(), kChunk));
  return ForChunks(ids.size(), [&](size_t begin, size_t count) -> Status {
    params.assign(leading.begin(), leading.end());
    params.insert(params.end(), ids.begin() + static_cast<std::ptrdiff_t>(begin),
                  ids.begin() + static_cast<std::ptrdiff_t>(begin + count));
    RAPPORT_TRY(s.Exec(select.For(count), params, on_row));
    return {};
  });
}

}  // namespace rapport::sql
