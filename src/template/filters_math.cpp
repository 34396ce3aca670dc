// Math filters with ruby-liquid's number rules (template/number.h).
#include "template/filter_registry.h"
#include "template/filter_util.h"
#include "template/number.h"

#include <cmath>

namespace rapport::liquid {

namespace {

using R = Result<Value>;

R Apply(const Value& in, const Value& arg, ArithOp op) {
  RAPPORT_ASSIGN_OR_RETURN(Number n, Arith(ToNumber(in), ToNumber(arg), op));
  return NumberValue(n);
}

R Plus(FilterContext&, const Value& in, const FilterArgs& a) { return Apply(in, a[0], ArithOp::kAdd); }
R Minus(FilterContext&, const Value& in, const FilterArgs& a) { return Apply(in, a[0], ArithOp::kSub); }
R Times(FilterContext&, const Value& in, const FilterArgs& a) { return Apply(in, a[0], ArithOp::kMul); }
R DividedBy(FilterContext&, const Value& in, const FilterArgs& a) {
  // Unless both are integers (floored division), Liquid divides as Floats; a Float's decimal
  // (Utils.to_number) converts back to the same Float, so numbers divide directly.
  const Value& d = a[0];
  if (in.is_number() && d.is_number() && !(in.is_int() && d.is_int())) {
    return Value::Double(in.as_number() / d.as_number());
  }
  return Apply(in, d, ArithOp::kDiv);
}
R Modulo(FilterContext&, const Value& in, const FilterArgs& a) { return Apply(in, a[0], ArithOp::kMod); }

R Abs(FilterContext&, const Value& in, const FilterArgs&) { return NumberValue(Abs(ToNumber(in))); }

R CheckFinite(const Number& n) {
  if (n.kind == Number::Kind::kDouble && !std::isfinite(n.d)) {
    return FilterError(std::isnan(n.d) ? "NaN" : (n.d < 0 ? "-Infinity" : "Infinity"));
  }
  return Value();
}

R Ceil(FilterContext&, const Value& in, const FilterArgs&) {
  Number n = ToNumber(in);
  RAPPORT_TRY(CheckFinite(n));
  return NumberValue(Ceil(n));
}

R Floor(FilterContext&, const Value& in, const FilterArgs&) {
  Number n = ToNumber(in);
  RAPPORT_TRY(CheckFinite(n));
  return NumberValue(Floor(n));
}

R Round(FilterContext&, const Value& in, const FilterArgs& a) {
  Number n = ToNumber(in);
  RAPPORT_TRY(CheckFinite(n));
  int64_t digits = 0;
  if (a.count > 0) {
    Number d = ToNumber(a[0]);
    digits = d.is_int() ? d.i : ClampToInt64(d.ToDouble());
  }
  bool zero_int = digits == 0;  // round(0) gives an Integer, whatever the argument was
  if (digits > 300) digits = 300;
  if (digits < -300) digits = -300;
  Number r = Round(n, static_cast<int>(digits));
  if (zero_int && !r.is_int()) return Value::Int(Floor(r).i);
  return NumberValue(r);
}

R AtLeast(FilterContext&, const Value& in, const FilterArgs& a) {
  Number bound = ToNumber(a[0]);
  Number n = ToNumber(in);
  if (Compare(bound, n) > 0) n = bound;
  return NumberValue(n);
}

R AtMost(FilterContext&, const Value& in, const FilterArgs& a) {
  Number bound = ToNumber(a[0]);
  Number n = ToNumber(in);
  if (Compare(bound, n) < 0) n = bound;
  return NumberValue(n);
}

}  // namespace

void RegisterMathFilters(FilterRegistry& r) {
  r.Register("plus", Plus, 1, 1);
  r.Register("minus", Minus, 1, 1);
  r.Register("times", Times, 1, 1);
  r.Register("divided_by", DividedBy, 1, 1);
  r.Register("modulo", Modulo, 1, 1);
  r.Register("abs", Abs, 0, 0);
  r.Register("ceil", Ceil, 0, 0);
  r.Register("floor", Floor, 0, 0);
  r.Register("round", Round, 0, 1);
  r.Register("at_least", AtLeast, 1, 1);
  r.Register("at_most", AtMost, 1, 1);
}

}  // namespace rapport::liquid
