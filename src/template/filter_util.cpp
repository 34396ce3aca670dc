#include "template/filter_util.h"

#include "template/number.h"
#include "template/template.h"

namespace rapport::liquid {

namespace {

bool Flatten(FilterContext& ctx, const Value& v, std::vector<Value>& items, int depth) {
  if (depth > 100) return false;
  for (const Value& item : v.as_array()) {
    if (item.is_array()) {
      if (!Flatten(ctx, item, items, depth + 1)) return false;
    } else {
      items.push_back(item);
    }
  }
  return true;
}

}  // namespace

Status ToItems(FilterContext& ctx, const Value& input, std::vector<Value>& items) {
  items.clear();
  switch (input.kind()) {
    case Value::Kind::kNil: return {};
    case Value::Kind::kArray:
      if (!Flatten(ctx, input, items, 0)) return FilterError("array nesting too deep");
      return {};
    case Value::Kind::kRange: {
      int64_t lo = input.range_first(), hi = input.range_last();
      if (static_cast<uint64_t>(RangeCount(lo, hi)) > ctx.options.limits.max_loop_iterations) {
        return Error{ErrorCode::kLimitExceeded, "Liquid error: range too large", {}};
      }
      for (int64_t i = 0; i < RangeCount(lo, hi); ++i) items.push_back(Value::Int(lo + i));
      return {};
    }
    default: items.push_back(input); return {};
  }
}

Value ItemsValue(FilterContext& ctx, const std::vector<Value>& items) {
  return Value::Array(MakeArray(ctx.arena, items.data(), items.size()));
}

Result<int64_t> ToIntegerArg(const Value& v) {
  if (v.is_int()) return v.as_int();
  std::string s;
  if (!v.is_nil()) AppendValue(s, v);
  std::string_view t = s;
  while (!t.empty() && IsRubySpace(t.front())) t.remove_prefix(1);
  while (!t.empty() && IsRubySpace(t.back())) t.remove_suffix(1);
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  if (t.empty()) return FilterError("invalid integer");
  int64_t r = 0;
  bool prev_digit = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_' && prev_digit && i + 1 < t.size()) {
      prev_digit = false;
      continue;
    }
    if (c < '0' || c > '9') return FilterError("invalid integer");
    if (__builtin_mul_overflow(r, 10, &r) || __builtin_add_overflow(r, c - '0', &r)) {
      return FilterError("invalid integer");
    }
    prev_digit = true;
  }
  return neg ? -r : r;
}

void CharOffsets(std::string_view s, std::vector<size_t>& offsets) {
  offsets.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(s.size());
}

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

size_t CharByteOffset(std::string_view s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return i;
      ++seen;
    }
  }
  return s.size();
}

Value PropertyOf(const Value& item, const Value& property, bool* responds) {
  *responds = true;
  if (item.is_object()) {
    if (property.is_string()) {
      if (const Value* v = item.as_object().Find(property.as_string())) return *v;
    }
    return Value();
  }
  if (item.is_array()) {
    if (property.is_int()) {
      const ArrayData& a = item.as_array();
      int64_t i = property.as_int();
      if (i < 0) i += static_cast<int64_t>(a.size);
      if (i >= 0 && i < static_cast<int64_t>(a.size)) return a.items[i];
      return Value();
    }
    *responds = false;  // Array#[] with a string: TypeError
    return Value();
  }
  if (item.is_string()) {
    std::string_view s = item.as_string();
    if (property.is_string()) {  // String#[](str): the substring when present
      if (s.find(property.as_string()) != std::string_view::npos) return property;
      return Value();
    }
    if (property.is_number()) {  // String#[](int): one character
      int64_t i = property.is_int() ? property.as_int() : ClampToInt64(property.as_double());
      std::vector<size_t> offs;
      CharOffsets(s, offs);
      int64_t n = static_cast<int64_t>(offs.size()) - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value();
      return Value::String(s.substr(offs[i], offs[i + 1] - offs[i]));
    }
    *responds = false;
    return Value();
  }
  if (item.is_int() && property.is_number()) {  // Integer#[](bit)
    int64_t bit = property.is_int() ? property.as_int() : ClampToInt64(property.as_double());
    int64_t v = item.as_int();
    if (bit < 0) return Value::Int(0);
    if (bit >= 63) return Value::Int(v < 0 ? 1 : 0);
    return Value::Int((v >> bit) & 1);
  }
  *responds = false;
  return Value();
}

}  // namespace rapport::liquid
