#include "segment/number_column.h"

#include <cmath>
#include <limits>

#include "segment/filter_rows.h"

namespace rapport::segment {

namespace {

// The code of "no value" in a column of T.
template <class T>
constexpr T Absent() {
  if constexpr (std::is_floating_point_v<T>)
    return std::numeric_limits<T>::quiet_NaN();
  else
    return std::numeric_limits<T>::min();
}

template <class T>
bool IsAbsent(T x) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(x);
  else
    return x == Absent<T>();
}

template <class T>
bool Fits(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return true;
  } else {
    // Absent<T>() itself is not a value; -0.0 would read back as 0.
    constexpr double kLo = static_cast<double>(std::numeric_limits<T>::min()) + 1;
    constexpr double kHi = static_cast<double>(std::numeric_limits<T>::max());
    return v >= kLo && v <= kHi && v == std::trunc(v) && !(v == 0 && std::signbit(v));
  }
}

// A filter passing the values v with `v op lit`; null when no value can.
template <class T>
std::unique_ptr<RowFilter> FilterOf(const std::vector<T>& values, CmpOp op, double lit) {
  const T* v = values.data();
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case CmpOp::kEq: return MakeColumnFilter(v, [=](double x) { return x == lit; });
      case CmpOp::kNe: return MakeColumnFilter(v, [=](double x) { return (x == x) & (x != lit); });
      case CmpOp::kLt: return MakeColumnFilter(v, [=](double x) { return x < lit; });
      case CmpOp::kLe: return MakeColumnFilter(v, [=](double x) { return x <= lit; });
      case CmpOp::kGt: return MakeColumnFilter(v, [=](double x) { return x > lit; });
      case CmpOp::kGe: return MakeColumnFilter(v, [=](double x) { return x >= lit; });
    }
    return nullptr;
  } else {
    constexpr T kAbsent = Absent<T>();
    constexpr double kLo = static_cast<double>(std::numeric_limits<T>::min()) + 1;
    constexpr double kHi = static_cast<double>(std::numeric_limits<T>::max());
    if (std::isnan(lit)) {
      if (op != CmpOp::kNe) return nullptr;
      return MakeColumnFilter(v, [=](T x) { return x != kAbsent; });
    }
    if (op == CmpOp::kNe) {
      if (!Fits<T>(lit == 0 ? 0.0 : lit))  // no value equals lit: every value passes
        return MakeColumnFilter(v, [=](T x) { return x != kAbsent; });
      const T code = static_cast<T>(lit);
      return MakeColumnFilter(v, [=](T x) { return (x != kAbsent) & (x != code); });
    }
    // The integers that pass form one interval [lo, hi] (empty when lo > hi).
    double lo = kLo, hi = kHi;
    switch (op) {
      case CmpOp::kEq:
        if (lit != std::trunc(lit)) return nullptr;
        lo = hi = lit;
        break;
      case CmpOp::kLt: hi = std::ceil(lit) - 1; break;
      case CmpOp::kLe: hi = std::floor(lit); break;
      case CmpOp::kGt: lo = std::floor(lit) + 1; break;
      case CmpOp::kGe: lo = std::ceil(lit); break;
      case CmpOp::kNe: break;
    }
    lo = std::max(lo, kLo);
    hi = std::min(hi, kHi);
    if (!(lo <= hi)) return nullptr;
    // One unsigned comparison: x - lo wraps past the span for x < lo (the absent code included).
    const uint32_t base = static_cast<uint32_t>(static_cast<int32_t>(lo));
    const uint32_t span = static_cast<uint32_t>(static_cast<int64_t>(hi) - static_cast<int64_t>(lo));
    return MakeColumnFilter(
        v, [=](T x) { return static_cast<uint32_t>(static_cast<int32_t>(x)) - base <= span; });
  }
}

}  // namespace

size_t NumberColumn::size() const {
  return std::visit([](const auto& v) { return v.size(); }, data_);
}

bool NumberColumn::Has(size_t r) const {
  return std::visit([r](const auto& v) { return r < v.size() && !IsAbsent(v[r]); }, data_);
}

double NumberColumn::Get(size_t r) const {
  return std::visit(
      [r](const auto& v) {
        return r < v.size() && !IsAbsent(v[r]) ? static_cast<double>(v[r])
                                               : std::numeric_limits<double>::quiet_NaN();
      },
      data_);
}

NumberColumn::Width NumberColumn::WidthFor(double v) {
  if (Fits<int8_t>(v)) return Width::kInt8;
  if (Fits<int16_t>(v)) return Width::kInt16;
  if (Fits<int32_t>(v)) return Width::kInt32;
  return Width::kDouble;
}

void NumberColumn::Set(size_t r, double v) {
  if (std::isnan(v)) {
    Clear(r);
    return;
  }
  if (Width need = WidthFor(v); need > width()) Widen(need);
  std::visit(
      [&](auto& col) {
        using T = typename std::decay_t<decltype(col)>::value_type;
        if (col.size() <= r) col.resize(r + 1, Absent<T>());
        col[r] = static_cast<T>(v);
      },
      data_);
}

void NumberColumn::Clear(size_t r) {
  std::visit(
      [r](auto& col) {
        using T = typename std::decay_t<decltype(col)>::value_type;
        if (r < col.size()) col[r] = Absent<T>();
      },
      data_);
}

size_t NumberColumn::Bytes() const {
  return std::visit([](const auto& v) { return v.capacity() * sizeof(v[0]); }, data_);
}

void NumberColumn::Widen(Width to) {
  auto convert = [&](auto& out) {
    using U = typename std::decay_t<decltype(out)>::value_type;
    std::visit(
        [&](const auto& in) {
          out.reserve(in.size());
          for (auto x : in) out.push_back(IsAbsent(x) ? Absent<U>() : static_cast<U>(x));
        },
        data_);
  };
  switch (to) {
    case Width::kInt8: return;  // the narrowest: nothing to widen to
    case Width::kInt16: {
      std::vector<int16_t> out;
      convert(out);
      data_ = std::move(out);
      return;
    }
    case Width::kInt32: {
      std::vector<int32_t> out;
      convert(out);
      data_ = std::move(out);
      return;
    }
    case Width::kDouble: {
      std::vector<double> out;
      convert(out);
      data_ = std::move(out);
      return;
    }
  }
}

std::unique_ptr<RowFilter> NumberColumn::Filter(CmpOp op, double lit) const {
  return std::visit([&](const auto& v) { return FilterOf(v, op, lit); }, data_);
}

Bitmap NumberColumn::Select(const Bitmap& rows, CmpOp op, double lit) const {
  std::vector<ColumnTest> test(1);
  test[0] = {Filter(op, lit), size()};
  return PassAll(rows, test);
}

}  // namespace rapport::segment
