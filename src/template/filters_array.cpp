// Array filters (join, sort, map, where, ...) over ruby-liquid's InputIterator view of the
// input (template/filter_util.h), plus default.
#include <algorithm>
#include <cmath>
#include <string>

#include "template/filter_registry.h"
#include "template/filter_util.h"
#include "template/number.h"

namespace rapport::liquid {

namespace {

using R = Result<Value>;

Error PropertyError(FilterContext& ctx, const Value& property) {
  return FilterError("cannot select the property '" + std::string(AsText(ctx, property)) + "'");
}

R Join(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  std::string_view glue = " ";
  if (a.count > 0) glue = AsText(ctx, a[0]);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += glue;
    AppendValue(out, items[i]);
    if (out.size() > ctx.max_bytes) return TooLarge(ctx);
  }
  return MakeString(ctx, out);
}

R First(FilterContext& ctx, const Value& in, const FilterArgs&) {
  if (in.is_array()) return in.as_array().size ? in.as_array().items[0] : Value();
  if (in.is_range()) return Value::Int(in.range_first());
  if (in.is_object()) {
    const ObjectData& o = in.as_object();
    if (o.size == 0) return Value();
    Value pair[2] = {Value::String(o.members[0].key), o.members[0].value};
    return Value::Array(MakeArray(ctx.arena, pair, 2));
  }
  return Value();
}

R Last(FilterContext&, const Value& in, const FilterArgs&) {
  if (in.is_array()) {
    const ArrayData& a = in.as_array();
    return a.size ? a.items[a.size - 1] : Value();
  }
  if (in.is_range()) return Value::Int(in.range_last());
  return Value();
}

// Ruby's <=>; false when the values are not comparable.
bool Spaceship(const Value& a, const Value& b, int* out) {
  if (a.is_number() && b.is_number()) {
    double x = a.as_number(), y = b.as_number();
    if (a.is_int() && b.is_int()) {
      *out = a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    } else {
      if (std::isnan(x) || std::isnan(y)) return false;
      *out = x < y ? -1 : (x > y ? 1 : 0);
    }
    return true;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());
    *out = c < 0 ? -1 : (c > 0 ? 1 : 0);
    return true;
  }
  if (a.is_nil() && b.is_nil()) {
    *out = 0;
    return true;
  }
  if (a.is_bool() && b.is_bool() && a.as_bool() == b.as_bool()) {
    *out = 0;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    const ArrayData& x = a.as_array();
    const ArrayData& y = b.as_array();
    for (size_t i = 0; i < x.size && i < y.size; ++i) {
      int c;
      if (!Spaceship(x.items[i], y.items[i], &c)) return false;
      if (c != 0) {
        *out = c;
        return true;
      }
    }
    *out = x.size < y.size ? -1 : (x.size > y.size ? 1 : 0);
    return true;
  }
  return false;
}

int CaseCmp(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// Keys for sorting by property; false (with *error) when Ruby would raise.
Status SortKeys(FilterContext& ctx, const std::vector<Value>& items, const FilterArgs& a,
                std::vector<Value>& keys, bool* all_respond) {
  *all_respond = true;
  keys.clear();
  bool has_prop = a.count > 0 && !a[0].is_nil();
  for (const Value& item : items) {
    if (!has_prop) {
      keys.push_back(item);
      continue;
    }
    if (!(item.is_object() || item.is_array() || item.is_string() || item.is_int())) {
      *all_respond = false;
      return {};
    }
    bool responds;
    Value v = PropertyOf(item, a[0], &responds);
    if (!responds) return PropertyError(ctx, a[0]);
    keys.push_back(v);
  }
  return {};
}

R SortImpl(FilterContext& ctx, const Value& in, const FilterArgs& a, bool natural) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  if (items.empty()) return ItemsValue(ctx, items);
  std::vector<Value> keys;
  bool all_respond;
  RAPPORT_TRY(SortKeys(ctx, items, a, keys, &all_respond));
  if (!all_respond) return Value();
  std::vector<size_t> idx(items.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  bool bad = false;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) {
    const Value& p = keys[x];
    const Value& q = keys[y];
    if (natural) {
      if (!p.is_nil() && !q.is_nil()) {
        std::string ps, qs;
        AppendValue(ps, p);
        AppendValue(qs, q);
        return CaseCmp(ps, qs) < 0;
      }
      return !p.is_nil() && q.is_nil();
    }
    int c;
    if (Spaceship(p, q, &c)) return c < 0;
    if (p.is_nil()) return false;
    if (q.is_nil()) return true;
    bad = true;
    return false;
  });
  if (bad) return FilterError("cannot sort values of incompatible types");
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (size_t i : idx) sorted.push_back(items[i]);
  return ItemsValue(ctx, sorted);
}

R Sort(FilterContext& ctx, const Value& in, const FilterArgs& a) { return SortImpl(ctx, in, a, false); }
R SortNatural(FilterContext& ctx, const Value& in, const FilterArgs& a) { return SortImpl(ctx, in, a, true); }

// Ruby's eql? for uniq: numbers of different classes differ.
bool StrictEquals(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  return ValueEquals(a, b);
}

R Uniq(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  bool has_prop = a.count > 0 && !a[0].is_nil();
  std::vector<Value> out, keys;
  for (const Value& item : items) {
    Value key = item;
    if (has_prop) {
      if (!(item.is_object() || item.is_array() || item.is_string() || item.is_int())) return Value();
      bool responds;
      key = PropertyOf(item, a[0], &responds);
      if (!responds) return PropertyError(ctx, a[0]);
    }
    bool seen = false;
    for (const Value& k : keys) {
      if (StrictEquals(k, key)) {
        seen = true;
        break;
      }
    }
    if (!seen) {
      keys.push_back(key);
      out.push_back(item);
    }
  }
  return ItemsValue(ctx, out);
}

R Reverse(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  std::reverse(items.begin(), items.end());
  return ItemsValue(ctx, items);
}

R Map(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  std::vector<Value> out;
  for (const Value& item : items) {
    if (item.is_object() || item.is_array() || item.is_string() || item.is_int()) {
      bool responds;
      Value v = PropertyOf(item, a[0], &responds);
      if (!responds) return PropertyError(ctx, a[0]);
      out.push_back(v);
    } else {
      out.push_back(Value());
    }
  }
  return ItemsValue(ctx, out);
}

R Compact(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  bool has_prop = a.count > 0 && !a[0].is_nil();
  std::vector<Value> out;
  for (const Value& item : items) {
    if (!has_prop) {
      if (!item.is_nil()) out.push_back(item);
      continue;
    }
    if (!(item.is_object() || item.is_array() || item.is_string() || item.is_int())) return Value();
    bool responds;
    Value v = PropertyOf(item, a[0], &responds);
    if (!responds) return PropertyError(ctx, a[0]);
    if (!v.is_nil()) out.push_back(item);
  }
  return ItemsValue(ctx, out);
}

R Concat(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  if (!a[0].is_array()) return FilterError("concat filter requires an array argument");
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  for (const Value& v : a[0].as_array()) items.push_back(v);
  return ItemsValue(ctx, items);
}

// Selection shared by where, reject, has, find and find_index. *nil_result: Ruby returns nil.
Status Select(FilterContext& ctx, const Value& in, const FilterArgs& a, std::vector<Value>& items,
              std::vector<bool>& match, bool* nil_result) {
  *nil_result = false;
  RAPPORT_TRY(ToItems(ctx, in, items));
  match.assign(items.size(), false);
  bool has_target = a.count > 1 && !a[1].is_nil();
  for (size_t i = 0; i < items.size(); ++i) {
    const Value& item = items[i];
    if (!(item.is_object() || item.is_array() || item.is_string() || item.is_int())) {
      *nil_result = true;
      return {};
    }
    bool responds;
    Value v = PropertyOf(item, a[0], &responds);
    if (!responds) return PropertyError(ctx, a[0]);
    match[i] = has_target ? ValueEquals(v, a[1]) : v.Truthy();
  }
  return {};
}

R Where(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items, out;
  std::vector<bool> match;
  bool nil_result;
  RAPPORT_TRY(Select(ctx, in, a, items, match, &nil_result));
  if (nil_result) return Value();
  for (size_t i = 0; i < items.size(); ++i) {
    if (match[i]) out.push_back(items[i]);
  }
  return ItemsValue(ctx, out);
}

R Reject(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items, out;
  std::vector<bool> match;
  bool nil_result;
  RAPPORT_TRY(Select(ctx, in, a, items, match, &nil_result));
  if (nil_result) return Value();
  for (size_t i = 0; i < items.size(); ++i) {
    if (!match[i]) out.push_back(items[i]);
  }
  return ItemsValue(ctx, out);
}

R Has(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  std::vector<bool> match;
  bool nil_result;
  RAPPORT_TRY(Select(ctx, in, a, items, match, &nil_result));
  if (nil_result) return Value::Bool(false);
  return Value::Bool(std::find(match.begin(), match.end(), true) != match.end());
}

R Find(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  std::vector<bool> match;
  bool nil_result;
  RAPPORT_TRY(Select(ctx, in, a, items, match, &nil_result));
  if (nil_result) return Value();
  for (size_t i = 0; i < items.size(); ++i) {
    if (match[i]) return items[i];
  }
  return Value();
}

R FindIndex(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  std::vector<bool> match;
  bool nil_result;
  RAPPORT_TRY(Select(ctx, in, a, items, match, &nil_result));
  if (nil_result) return Value();
  for (size_t i = 0; i < items.size(); ++i) {
    if (match[i]) return Value::Int(static_cast<int64_t>(i));
  }
  return Value();
}

R Sum(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::vector<Value> items;
  RAPPORT_TRY(ToItems(ctx, in, items));
  bool has_prop = a.count > 0 && !a[0].is_nil();
  Number total = Number::Int(0);
  for (const Value& item : items) {
    Value v = item;
    if (has_prop) {
      if (item.is_object()) {
        bool responds;
        v = PropertyOf(item, a[0], &responds);
      } else if (item.is_array()) {
        return PropertyError(ctx, a[0]);
      } else {
        v = Value::Int(0);
      }
    }
    RAPPORT_ASSIGN_OR_RETURN(total, Arith(total, ToNumber(v), ArithOp::kAdd));
  }
  return NumberValue(total);
}

R Default(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  Value fallback = a.count > 0 ? a[0] : Value::String("");
  bool allow_false = false;
  if (const Value* af = a.Keyword("allow_false")) allow_false = af->Truthy();
  bool missing = allow_false ? in.is_nil() : !in.Truthy();
  bool empty = (in.is_string() && in.as_string().empty()) || (in.is_array() && in.as_array().size == 0) ||
               (in.is_object() && in.as_object().size == 0);
  return (missing || empty) ? fallback : in;
}

}  // namespace

void RegisterArrayFilters(FilterRegistry& r) {
  r.Register("join", Join, 0, 1);
  r.Register("first", First, 0, 0);
  r.Register("last", Last, 0, 0);
  r.Register("sort", Sort, 0, 1);
  r.Register("sort_natural", SortNatural, 0, 1);
  r.Register("uniq", Uniq, 0, 1);
  r.Register("reverse", Reverse, 0, 0);
  r.Register("map", Map, 1, 1);
  r.Register("compact", Compact, 0, 1);
  r.Register("concat", Concat, 1, 1);
  r.Register("where", Where, 1, 2);
  r.Register("reject", Reject, 1, 2);
  r.Register("has", Has, 1, 2);
  r.Register("find", Find, 1, 2);
  r.Register("find_index", FindIndex, 1, 2);
  r.Register("sum", Sum, 0, 1);
  r.Register("default", Default, 0, 2);
}

}  // namespace rapport::liquid
