// Liquid's number rules, as ruby-liquid implements them: Utils.to_number turns floats and
// decimal strings into BigDecimal (exact decimal arithmetic, converted back to Float at the
// end), integer strings with String#to_i, and anything else into 0. Integer division and
// modulo floor like Ruby's.
//
// Thread-safety: pure functions. Failure: division by zero and integer overflow are errors.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "template/value.h"

namespace rapport::liquid {

// An exact decimal m * 10^-scale when it fits, else a plain double (is_double).
struct Number {
  enum class Kind : uint8_t { kInt, kDecimal, kDouble };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  __int128 m = 0;
  int scale = 0;
  double d = 0;

  static Number Int(int64_t v) {
    Number n;
    n.kind = Kind::kInt;
    n.i = v;
    return n;
  }
  static Number Double(double v) {
    Number n;
    n.kind = Kind::kDouble;
    n.d = v;
    return n;
  }
  double ToDouble() const;
  bool is_int() const { return kind == Kind::kInt; }
};

// Ruby String#to_i: leading whitespace, sign, digits (underscores between digits); 0 otherwise.
int64_t RubyStringToI(std::string_view s);
// A double truncated toward zero and clamped to int64 (NaN -> 0), like a saturating to_i.
int64_t ClampToInt64(double d);
// Ruby's #to_i of a value: integers as they are, floats truncated, strings with String#to_i,
// anything else 0.
int64_t ValueToI(const Value& v);
// hi - lo + 1 for an inclusive range, 0 when empty, saturated at INT64_MAX.
int64_t RangeCount(int64_t lo, int64_t hi);
// Parses a decimal such as "12.50", "-0.1", "1.0e+20" exactly when it fits.
Number ParseDecimal(std::string_view s);
// Utils.to_number.
Number ToNumber(const Value& v);
// The Liquid value of a result: an Int, or a Float (BigDecimal#to_f).
Value NumberValue(const Number& n);

enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod };
Result<Number> Arith(const Number& a, const Number& b, ArithOp op);
int Compare(const Number& a, const Number& b);  // -1, 0, 1
// BigDecimal/Integer round(digits) with half-up (away from zero) rounding.
Number Round(const Number& a, int digits);
Number Floor(const Number& a);
Number Ceil(const Number& a);
Number Abs(const Number& a);

}  // namespace rapport::liquid
