// The filter registry: every Liquid filter is a plain function registered under its name.
// Each group of filters (string, math, array, html/url, date, money) lives in its own file and
// registers itself through one Register*Filters function; Builtin() holds them all.
//
// A filter receives its input, positional arguments and keyword arguments as Values and returns
// a Value or an Error (a bad argument, a division by zero). Strings it makes are allocated in the
// context's arena. Thread-safety: a registry is immutable once built; Builtin() is built once,
// thread-safely, on first use.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "template/value.h"

namespace rapport::liquid {

struct RenderOptions;

struct FilterContext {
  Arena& arena;
  const RenderOptions& options;
  std::string& scratch;  // reusable buffer; contents undefined between calls
  size_t max_bytes;      // the largest string a filter may build (render memory budget)
};

struct FilterArgs {
  const Value* positional = nullptr;
  size_t count = 0;
  const std::pair<std::string_view, Value>* keywords = nullptr;
  size_t keyword_count = 0;

  const Value& operator[](size_t i) const { return positional[i]; }
  // The keyword argument `name`, or null.
  const Value* Keyword(std::string_view name) const;
};

using FilterFn = Result<Value> (*)(FilterContext& ctx, const Value& input, const FilterArgs& args);

struct FilterEntry {
  std::string_view name;
  FilterFn fn = nullptr;
  uint8_t min_args = 0;  // positional arguments, keyword arguments counting as one
  uint8_t max_args = 0;
};

class FilterRegistry {
 public:
  void Register(std::string_view name, FilterFn fn, uint8_t min_args, uint8_t max_args);
  const FilterEntry* Find(std::string_view name) const;
  size_t size() const { return entries_.size(); }

  // All standard Liquid filters plus rapport's (money, raw, date with time zone and locale).
  static const FilterRegistry& Builtin();

 private:
  std::vector<FilterEntry> entries_;  // sorted by name
};

void RegisterStringFilters(FilterRegistry& registry);
void RegisterMathFilters(FilterRegistry& registry);
void RegisterArrayFilters(FilterRegistry& registry);
void RegisterHtmlFilters(FilterRegistry& registry);
void RegisterDateFilters(FilterRegistry& registry);
void RegisterMoneyFilters(FilterRegistry& registry);

// Helpers shared by the filter files.
Error FilterError(std::string message);
// The limit error for a filter result over ctx.max_bytes.
Error TooLarge(const FilterContext& ctx);
// A string made in the arena.
Value MakeString(FilterContext& ctx, std::string_view s);
// Ruby's to_s of a value, viewed (allocated in the arena only when not already a string).
std::string_view AsText(FilterContext& ctx, const Value& v);

}  // namespace rapport::liquid
