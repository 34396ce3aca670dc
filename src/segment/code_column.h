// CodeColumn: one dictionary code (or none) per row, for a text attribute's values, in the
// narrowest of uint8, uint16 and uint32 that holds every code set so far: 1 byte a row while the
// dictionary has up to 255 values (a city, a plan, a language) instead of 4, so the column costs
// a quarter and a scan of scattered rows reads a column that fits in the cache. The first code
// past the width widens the whole column, for good. A row holds its code + 1, and 0 when it has
// no value, so that a scan needs no presence bitmap (Visit's callers index a pass table by it).
// Thread-safety: like a std::vector (concurrent reads are safe, writes need exclusion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

namespace rapport::segment {

class CodeColumn {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;  // Get's answer for a row without a value

  size_t size() const {
    return std::visit([](const auto& v) { return v.size(); }, data_);
  }
  bool Has(size_t r) const { return Stored(r) != 0; }
  uint32_t Get(size_t r) const { return Stored(r) - 1; }  // kNone when none
  // code < kNone.
  void Set(size_t r, uint32_t code) {
    const uint32_t stored = code + 1;
    if (stored > 0xffff && data_.index() < 2)
      Widen<uint32_t>();
    else if (stored > 0xff && data_.index() < 1)
      Widen<uint16_t>();
    std::visit(
        [&](auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if (v.size() <= r) v.resize(r + 1, 0);
          v[r] = static_cast<T>(stored);
        },
        data_);
  }
  void Clear(size_t r) {
    std::visit(
        [r](auto& v) {
          if (r < v.size()) v[r] = 0;
        },
        data_);
  }
  size_t Bytes() const {
    return std::visit([](const auto& v) { return v.capacity() * sizeof(v[0]); }, data_);
  }
  size_t width_bytes() const {
    return std::visit([](const auto& v) { return sizeof(v[0]); }, data_);
  }
  // Calls fn(const T* stored) with the column's current type (uint8_t, uint16_t or uint32_t):
  // each row's code + 1, 0 for none. Rows past size() have none.
  template <class Fn>
  decltype(auto) Visit(Fn&& fn) const {
    return std::visit([&](const auto& v) -> decltype(auto) { return fn(v.data()); }, data_);
  }

 private:
  uint32_t Stored(size_t r) const {
    return std::visit([r](const auto& v) { return r < v.size() ? uint32_t{v[r]} : 0; }, data_);
  }
  template <class T>
  void Widen() {
    std::vector<T> out;
    std::visit([&](const auto& v) { out.assign(v.begin(), v.end()); }, data_);
    data_ = std::move(out);
  }
  std::variant<std::vector<uint8_t>, std::vector<uint16_t>, std::vector<uint32_t>> data_;
};

}  // namespace rapport::segment
