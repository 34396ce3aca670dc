// Helpers shared by the filter files: Ruby's conversions (to_s, Integer(), InputIterator's
// flattening) and UTF-8 character handling. Internal to the template module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "template/filter_registry.h"
#include "template/value.h"

namespace rapport::liquid {

// InputIterator: arrays flattened, a hash as [hash], nil as [], a range expanded, anything else
// as [value]. Ranges longer than the render's loop limit are an error.
Status ToItems(FilterContext& ctx, const Value& input, std::vector<Value>& items);
Value ItemsValue(FilterContext& ctx, const std::vector<Value>& items);
// Utils.to_integer: Integer or Integer(to_s), else "invalid integer".
Result<int64_t> ToIntegerArg(const Value& v);
// The byte offsets of each UTF-8 character start in s, plus s.size() at the end.
void CharOffsets(std::string_view s, std::vector<size_t>& offsets);
size_t CharCount(std::string_view s);
// The byte offset of the n-th UTF-8 character of s (s.size() when s has n or fewer).
size_t CharByteOffset(std::string_view s, size_t n);
// Ruby's ASCII whitespace: space, \t, \n, \v, \f, \r.
inline bool IsRubySpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
// item[property] for a hash item; for other items *ok is false when Ruby would raise.
Value PropertyOf(const Value& item, const Value& property, bool* responds);

}  // namespace rapport::liquid
