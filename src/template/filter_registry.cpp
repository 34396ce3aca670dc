#include "template/filter_registry.h"

#include <algorithm>

namespace rapport::liquid {

const Value* FilterArgs::Keyword(std::string_view name) const {
  for (size_t i = 0; i < keyword_count; ++i) {
    if (keywords[i].first == name) return &keywords[i].second;
  }
  return nullptr;
}

void FilterRegistry::Register(std::string_view name, FilterFn fn, uint8_t min_args, uint8_t max_args) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const FilterEntry& e, std::string_view n) { return e.name < n; });
  FilterEntry entry{name, fn, min_args, max_args};
  if (it != entries_.end() && it->name == name) {
    *it = entry;
  } else {
    entries_.insert(it, entry);
  }
}

const FilterEntry* FilterRegistry::Find(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const FilterEntry& e, std::string_view n) { return e.name < n; });
  if (it != entries_.end() && it->name == name) return &*it;
  return nullptr;
}

const FilterRegistry& FilterRegistry::Builtin() {
  static const FilterRegistry* registry = [] {
    auto* r = new FilterRegistry();
    RegisterStringFilters(*r);
    RegisterMathFilters(*r);
    RegisterArrayFilters(*r);
    RegisterHtmlFilters(*r);
    RegisterDateFilters(*r);
    RegisterMoneyFilters(*r);
    return r;
  }();
  return *registry;
}

Error FilterError(std::string message) {
  return Error{ErrorCode::kInvalid, "Liquid error: " + std::move(message), {}};
}

Error TooLarge(const FilterContext& ctx) {
  return Error{ErrorCode::kLimitExceeded,
               "Liquid error: output size limit exceeded (a filter result over " +
                   std::to_string(ctx.max_bytes) + " bytes)",
               {}};
}

Value MakeString(FilterContext& ctx, std::string_view s) { return Value::String(ctx.arena.Copy(s)); }

std::string_view AsText(FilterContext& ctx, const Value& v) { return ToStringView(v, ctx.arena); }

}  // namespace rapport::liquid
