#include "template/comparison.h"

#include <string>

#include "template/number.h"

namespace rapport::liquid {

namespace {

bool IsMethodLiteral(const Value& v) {
  return v.kind() == Value::Kind::kEmpty || v.kind() == Value::Kind::kBlank;
}

bool IsRubySpaceChar(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// `other == blank` / `other == empty`, as current Shopify Liquid evaluates them (Condition's
// liquid_blank? and liquid_empty?, which emulate ActiveSupport): blank is nil, false, a string of
// only whitespace, or an empty array or hash; empty is an empty string, array or hash. A method
// literal compared with another is neither. (ruby-liquid 5.4 without ActiveSupport answered nil
// for every `== blank` and for `nil == empty`; both are falsy, so only `blank` changed.)
bool ApplyMethodLiteral(const Value& literal, const Value& other) {
  bool blank = literal.kind() == Value::Kind::kBlank;
  switch (other.kind()) {
    case Value::Kind::kNil: return blank;
    case Value::Kind::kBool: return blank && !other.as_bool();
    case Value::Kind::kString: {
      std::string_view s = other.as_string();
      if (!blank) return s.empty();
      for (char c : s) {
        if (!IsRubySpaceChar(c)) return false;
      }
      return true;
    }
    case Value::Kind::kArray: return other.as_array().size == 0;
    case Value::Kind::kObject: return other.as_object().size == 0;
    default: return false;
  }
}

bool Equal(const Value& a, const Value& b) {
  if (IsMethodLiteral(a)) return ApplyMethodLiteral(a, b);
  if (IsMethodLiteral(b)) return ApplyMethodLiteral(b, a);
  return ValueEquals(a, b);
}

Value Contains(const Value& l, const Value& r) {
  if (!l.Truthy() || !r.Truthy()) return Value::Bool(false);
  if (l.is_string()) {
    if (r.is_string()) return Value::Bool(l.as_string().find(r.as_string()) != std::string_view::npos);
    std::string rs;
    AppendToS(rs, r);
    return Value::Bool(l.as_string().find(rs) != std::string_view::npos);
  }
  if (l.is_array()) {
    for (const Value& item : l.as_array()) {
      if (ValueEquals(item, r)) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (l.is_object()) return Value::Bool(r.is_string() && l.as_object().Find(r.as_string()) != nullptr);
  if (l.is_range()) {
    return Value::Bool(r.is_number() && r.as_number() >= l.range_first() && r.as_number() <= l.range_last());
  }
  return Value::Bool(false);
}

}  // namespace

bool ConditionEquals(const Value& a, const Value& b) { return Equal(a, b); }

Result<Value> CompareValues(Condition::Op op, const Value& l, const Value& r) {
  using Op = Condition::Op;
  switch (op) {
    case Op::kTruthy: return l;
    case Op::kEq: return Value::Bool(Equal(l, r));
    case Op::kNe: return Value::Bool(!Equal(l, r));
    case Op::kContains: return Contains(l, r);
    default: break;
  }
  auto comparable = [](const Value& v) { return v.is_number() || v.is_string(); };
  if (!comparable(l) || !comparable(r)) return Value();
  int cmp;
  if (l.is_int() && r.is_int()) {
    cmp = l.as_int() < r.as_int() ? -1 : (l.as_int() > r.as_int() ? 1 : 0);
  } else if (l.is_number() && r.is_number()) {
    cmp = Compare(l.is_int() ? Number::Int(l.as_int()) : Number::Double(l.as_double()),
                  r.is_int() ? Number::Int(r.as_int()) : Number::Double(r.as_double()));
  } else if (l.is_string() && r.is_string()) {
    int x = l.as_string().compare(r.as_string());
    cmp = x < 0 ? -1 : (x > 0 ? 1 : 0);
  } else {
    const char* lt = l.is_string() ? "String" : (l.is_int() ? "Integer" : "Float");
    std::string rt;
    if (l.is_string())
      AppendValue(rt, r);
    else
      rt = r.is_string() ? "String" : (r.is_int() ? "Integer" : "Float");
    return Error{ErrorCode::kInvalid,
                 std::string("Liquid error: comparison of ") + lt + " with " + rt + " failed",
                 {}};
  }
  switch (op) {
    case Op::kLt: return Value::Bool(cmp < 0);
    case Op::kGt: return Value::Bool(cmp > 0);
    case Op::kLe: return Value::Bool(cmp <= 0);
    case Op::kGe: return Value::Bool(cmp >= 0);
    default: return Value::Bool(false);
  }
}

}  // namespace rapport::liquid
