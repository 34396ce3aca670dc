#include "template/number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace rapport::liquid {

namespace {

constexpr int kMaxDigits = 36;

__int128 Pow10(int n) {
  __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

int DigitCount(__int128 m) {
  if (m < 0) m = -m;
  int n = 1;
  while (m >= 10) {
    m /= 10;
    ++n;
  }
  return n;
}

Number Dec(__int128 m, int scale) {
  Number n;
  n.kind = Number::Kind::kDecimal;
  n.m = m;
  n.scale = scale;
  return n;
}

// Brings both to the same scale; false when that would overflow.
bool Align(Number& a, Number& b) {
  if (a.kind == Number::Kind::kInt) {
    a = Dec(a.i, 0);
  }
  if (b.kind == Number::Kind::kInt) {
    b = Dec(b.i, 0);
  }
  while (a.scale < b.scale) {
    if (DigitCount(a.m) >= kMaxDigits) return false;
    a.m *= 10;
    ++a.scale;
  }
  while (b.scale < a.scale) {
    if (DigitCount(b.m) >= kMaxDigits) return false;
    b.m *= 10;
    ++b.scale;
  }
  return true;
}

__int128 FloorDiv(__int128 a, __int128 b) {
  __int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Number Normalize(Number n) {
  if (n.kind != Number::Kind::kDecimal) return n;
  while (n.scale > 0 && n.m % 10 == 0) {
    n.m /= 10;
    --n.scale;
  }
  return n;
}

}  // namespace

double Number::ToDouble() const {
  switch (kind) {
    case Kind::kInt: return static_cast<double>(i);
    case Kind::kDouble: return d;
    case Kind::kDecimal: {
      // Exact fast path (Clinger): the mantissa and 10^scale are both exact doubles, so one
      // correctly rounded division gives the correctly rounded result, as strtod would.
      constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
      constexpr __int128 kExact = __int128{1} << 53;
      if (m > -kExact && m < kExact && scale >= 0 && scale <= 22) {
        return static_cast<double>(static_cast<int64_t>(m)) / kPow10[scale];
      }
      if (m > -kExact && m < kExact && scale < 0 && scale >= -22) {
        return static_cast<double>(static_cast<int64_t>(m)) * kPow10[-scale];
      }
      __int128 v = m < 0 ? -m : m;
      char buf[64];
      int p = 63;
      buf[p] = 0;
      do {
        buf[--p] = static_cast<char>('0' + static_cast<int>(v % 10));
        v /= 10;
      } while (v);
      std::string s;
      if (m < 0) s += '-';
      s += buf + p;
      s += 'e';
      s += std::to_string(-scale);
      return std::strtod(s.c_str(), nullptr);
    }
  }
  return 0;
}

int64_t ClampToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return INT64_MAX;
  if (d <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(d);
}

int64_t RangeCount(int64_t lo, int64_t hi) {
  if (hi < lo) return 0;
  __int128 n = static_cast<__int128>(hi) - lo + 1;
  return n > INT64_MAX ? INT64_MAX : static_cast<int64_t>(n);
}

int64_t ValueToI(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kDouble: return ClampToInt64(v.as_double());
    case Value::Kind::kString: return RubyStringToI(v.as_string());
    default: return 0;
  }
}

int64_t RubyStringToI(std::string_view s) {
  size_t i = 0;
  while (i < s.size() &&
         (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\r'))
    ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  __int128 v = 0;
  bool any = false;
  while (i < s.size()) {
    if (s[i] >= '0' && s[i] <= '9') {
      if (v < (__int128)1 << 100) v = v * 10 + (s[i] - '0');
      any = true;
      ++i;
    } else if (s[i] == '_' && any && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      ++i;
    } else {
      break;
    }
  }
  if (neg) v = -v;
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

Number ParseDecimal(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    neg = s[i] == '-';
    ++i;
  }
  __int128 m = 0;
  int scale = 0;
  int digits = 0;
  bool frac = false;
  bool ok = true;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (digits >= kMaxDigits) {
        ok = false;
        break;
      }
      m = m * 10 + (c - '0');
      if (m != 0) ++digits;
      if (frac) ++scale;
    } else if (c == '.' && !frac) {
      frac = true;
    } else if (c == 'e' || c == 'E') {
      int exp = std::atoi(std::string(s.substr(i + 1)).c_str());
      scale -= exp;
      break;
    } else {
      ok = false;
      break;
    }
  }
  if (!ok || scale < -kMaxDigits || scale > 4 * kMaxDigits) {
    return Number::Double(std::strtod(std::string(s).c_str(), nullptr));
  }
  while (scale < 0) {
    if (DigitCount(m) >= kMaxDigits) return Number::Double(std::strtod(std::string(s).c_str(), nullptr));
    m *= 10;
    ++scale;
  }
  return Normalize(Dec(neg ? -m : m, scale));
}

Number ToNumber(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt: return Number::Int(v.as_int());
    case Value::Kind::kDouble: {
      double d = v.as_double();
      if (!std::isfinite(d)) return Number::Double(d);
      char buf[kRubyFloatChars];
      return ParseDecimal(std::string_view(buf, FormatRubyFloat(d, buf)));
    }
    case Value::Kind::kString: {
      std::string_view s = v.as_string();
      // /\A-?\d+\.\d+\z/ on the stripped string
      std::string_view t = s;
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t' || t.front() == '\n' || t.front() == '\r' ||
                            t.front() == '\f' || t.front() == '\v'))
        t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r' ||
                            t.back() == '\f' || t.back() == '\v' || t.back() == '\0'))
        t.remove_suffix(1);
      size_t k = 0;
      if (k < t.size() && t[k] == '-') ++k;
      size_t d1 = k;
      while (k < t.size() && t[k] >= '0' && t[k] <= '9') ++k;
      bool decimal = false;
      if (k > d1 && k < t.size() && t[k] == '.') {
        size_t d2 = ++k;
        while (k < t.size() && t[k] >= '0' && t[k] <= '9') ++k;
        decimal = k > d2 && k == t.size();
      }
      if (decimal) return ParseDecimal(t);
      return Number::Int(RubyStringToI(s));
    }
    default: return Number::Int(0);
  }
}

Value NumberValue(const Number& n) {
  if (n.kind == Number::Kind::kInt) return Value::Int(n.i);
  return Value::Double(n.ToDouble());
}

Result<Number> Arith(const Number& a0, const Number& b0, ArithOp op) {
  if (a0.is_int() && b0.is_int()) {
    int64_t a = a0.i, b = b0.i, r = 0;
    switch (op) {
      case ArithOp::kAdd:
        if (__builtin_add_overflow(a, b, &r))
          return Error{ErrorCode::kInvalid, "Liquid error: integer overflow", {}};
        return Number::Int(r);
      case ArithOp::kSub:
        if (__builtin_sub_overflow(a, b, &r))
          return Error{ErrorCode::kInvalid, "Liquid error: integer overflow", {}};
        return Number::Int(r);
      case ArithOp::kMul:
        if (__builtin_mul_overflow(a, b, &r))
          return Error{ErrorCode::kInvalid, "Liquid error: integer overflow", {}};
        return Number::Int(r);
      case ArithOp::kDiv:
      case ArithOp::kMod: {
        if (b == 0) return Error{ErrorCode::kInvalid, "Liquid error: divided by 0", {}};
        if (a == INT64_MIN && b == -1)
          return Error{ErrorCode::kInvalid, "Liquid error: integer overflow", {}};
        int64_t q = a / b;
        int64_t m = a % b;
        if (m != 0 && ((m < 0) != (b < 0))) {
          --q;
          m += b;
        }
        return Number::Int(op == ArithOp::kDiv ? q : m);
      }
    }
  }
  Number a = a0, b = b0;
  bool exact = a.kind != Number::Kind::kDouble && b.kind != Number::Kind::kDouble;
  if (exact && op != ArithOp::kDiv) {
    if (op == ArithOp::kMul) {
      Number x = a.is_int() ? Dec(a.i, 0) : a;
      Number y = b.is_int() ? Dec(b.i, 0) : b;
      if (DigitCount(x.m) + DigitCount(y.m) <= kMaxDigits) {
        return Normalize(Dec(x.m * y.m, x.scale + y.scale));
      }
    } else if (Align(a, b)) {
      if (op == ArithOp::kAdd) return Normalize(Dec(a.m + b.m, a.scale));
      if (op == ArithOp::kSub) return Normalize(Dec(a.m - b.m, a.scale));
      if (b.m == 0) return Error{ErrorCode::kInvalid, "Liquid error: divided by 0", {}};
      __int128 q = FloorDiv(a.m, b.m);
      return Normalize(Dec(a.m - q * b.m, a.scale));
    }
  }
  double x = a0.ToDouble(), y = b0.ToDouble();
  switch (op) {
    case ArithOp::kAdd: return Number::Double(x + y);
    case ArithOp::kSub: return Number::Double(x - y);
    case ArithOp::kMul: return Number::Double(x * y);
    case ArithOp::kDiv: return Number::Double(x / y);
    case ArithOp::kMod: {
      if (y == 0) return Error{ErrorCode::kInvalid, "Liquid error: divided by 0", {}};
      double r = std::fmod(x, y);
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Number::Double(r);
    }
  }
  return Number::Int(0);
}

int Compare(const Number& a0, const Number& b0) {
  if (a0.is_int() && b0.is_int()) return a0.i < b0.i ? -1 : (a0.i > b0.i ? 1 : 0);
  Number a = a0, b = b0;
  if (a.kind != Number::Kind::kDouble && b.kind != Number::Kind::kDouble && Align(a, b)) {
    return a.m < b.m ? -1 : (a.m > b.m ? 1 : 0);
  }
  double x = a0.ToDouble(), y = b0.ToDouble();
  return x < y ? -1 : (x > y ? 1 : 0);
}

Number Round(const Number& a, int digits) {
  if (a.kind == Number::Kind::kDouble) {
    double p = std::pow(10.0, digits);
    return Number::Double(std::round(a.d * p) / p);
  }
  Number x = a.is_int() ? Dec(a.i, 0) : a;
  if (a.is_int() && digits >= 0) return a;
  if (a.is_int() && digits < -18) return Number::Int(0);
  int drop = x.scale - digits;
  if (drop <= 0) return a.is_int() ? a : x;
  if (drop > kMaxDigits) return a.is_int() ? Number::Int(0) : Dec(0, 0);
  __int128 p = Pow10(drop);
  __int128 q = x.m / p;
  __int128 r = x.m % p;
  if (r < 0) r = -r;
  if (2 * r >= p) q += x.m < 0 ? -1 : 1;
  if (a.is_int()) {
    __int128 v = q * Pow10(-digits);
    return Number::Int(static_cast<int64_t>(v));
  }
  return Normalize(Dec(q, digits));
}

Number Floor(const Number& a) {
  if (a.is_int()) return a;
  if (a.kind == Number::Kind::kDouble) return Number::Int(ClampToInt64(std::floor(a.d)));
  if (a.scale <= 0) return Number::Int(static_cast<int64_t>(a.m * Pow10(-a.scale)));
  return Number::Int(static_cast<int64_t>(FloorDiv(a.m, Pow10(a.scale))));
}

Number Ceil(const Number& a) {
  if (a.is_int()) return a;
  if (a.kind == Number::Kind::kDouble) return Number::Int(ClampToInt64(std::ceil(a.d)));
  if (a.scale <= 0) return Number::Int(static_cast<int64_t>(a.m * Pow10(-a.scale)));
  return Number::Int(static_cast<int64_t>(-FloorDiv(-a.m, Pow10(a.scale))));
}

Number Abs(const Number& a) {
  Number r = a;
  if (a.kind == Number::Kind::kInt)
    r.i = a.i < 0 ? -a.i : a.i;
  else if (a.kind == Number::Kind::kDecimal)
    r.m = a.m < 0 ? -a.m : a.m;
  else
    r.d = std::fabs(a.d);
  return r;
}

}  // namespace rapport::liquid
