// Bitmap: a set of row numbers (uint32) as a CRoaring compressed bitmap, owned by value.
// Thread-safety: like a std::vector (concurrent reads are safe, writes need exclusion).
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <vector>

namespace rapport::segment {

class Bitmap {
 public:
  Bitmap() : r_(roaring_bitmap_create()) {}
  ~Bitmap() { roaring_bitmap_free(r_); }
  Bitmap(const Bitmap& o) : r_(roaring_bitmap_copy(o.r_)) {}
  Bitmap& operator=(const Bitmap& o) {
    if (this != &o) {
      roaring_bitmap_free(r_);
      r_ = roaring_bitmap_copy(o.r_);
    }
    return *this;
  }
  Bitmap(Bitmap&& o) noexcept : r_(o.r_) { o.r_ = roaring_bitmap_create(); }
  Bitmap& operator=(Bitmap&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }

  void Add(uint32_t x) { roaring_bitmap_add(r_, x); }
  void AddMany(const uint32_t* xs, size_t n) { roaring_bitmap_add_many(r_, n, xs); }
  void AddRange(uint64_t from, uint64_t to) {  // [from, to)
    if (to > from) roaring_bitmap_add_range(r_, from, to);
  }
  void Remove(uint32_t x) { roaring_bitmap_remove(r_, x); }
  void RemoveRange(uint64_t from, uint64_t to) {  // [from, to)
    if (to > from) roaring_bitmap_remove_range(r_, from, to);
  }
  void Set(uint32_t x, bool on) { on ? Add(x) : Remove(x); }
  bool Contains(uint32_t x) const { return roaring_bitmap_contains(r_, x); }
  uint64_t Cardinality() const { return roaring_bitmap_get_cardinality(r_); }
  bool Empty() const { return roaring_bitmap_is_empty(r_); }
  uint32_t Maximum() const { return roaring_bitmap_maximum(r_); }  // 0 when empty
  void Clear() { roaring_bitmap_clear(r_); }

  Bitmap& operator&=(const Bitmap& o) {
    roaring_bitmap_and_inplace(r_, o.r_);
    return *this;
  }
  Bitmap& operator|=(const Bitmap& o) {
    roaring_bitmap_or_inplace(r_, o.r_);
    return *this;
  }
  Bitmap& operator-=(const Bitmap& o) {
    roaring_bitmap_andnot_inplace(r_, o.r_);
    return *this;
  }
  bool operator==(const Bitmap& o) const { return roaring_bitmap_equals(r_, o.r_); }
  uint64_t AndCardinality(const Bitmap& o) const { return roaring_bitmap_and_cardinality(r_, o.r_); }

  // Calls fn(row) for every row in ascending order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    ForEachBatch([&](const uint32_t* rows, uint32_t n) {
      for (uint32_t i = 0; i < n; ++i) fn(rows[i]);
    });
  }
  // Calls fn(rows, n) for the rows in ascending order, up to 256 at a time (for loops that
  // fetch a column's values a few rows ahead).
  template <typename Fn>
  void ForEachBatch(Fn&& fn) const {
    roaring_uint32_iterator_t it;
    roaring_init_iterator(r_, &it);
    uint32_t buf[256];
    while (true) {
      uint32_t n = roaring_read_uint32_iterator(&it, buf, 256);
      if (n > 0) fn(static_cast<const uint32_t*>(buf), n);
      if (n < 256) break;
    }
  }
  // The rows in both (a new bitmap: neither operand is copied first).
  static Bitmap And(const Bitmap& a, const Bitmap& b) {
    Bitmap out;
    roaring_bitmap_free(out.r_);
    out.r_ = roaring_bitmap_and(a.r_, b.r_);
    return out;
  }
  // Up to `limit` rows >= `from`, ascending.
  std::vector<uint32_t> Slice(uint32_t from, size_t limit) const {
    std::vector<uint32_t> out;
    roaring_uint32_iterator_t it;
    roaring_init_iterator(r_, &it);
    if (!roaring_move_uint32_iterator_equalorlarger(&it, from)) return out;
    while (it.has_value && out.size() < limit) {
      out.push_back(it.current_value);
      roaring_advance_uint32_iterator(&it);
    }
    return out;
  }
  std::vector<uint32_t> ToVector() const {
    std::vector<uint32_t> out(Cardinality());
    roaring_bitmap_to_uint32_array(r_, out.data());
    return out;
  }
  // The union of many bitmaps in one pass.
  static Bitmap Union(const std::vector<const Bitmap*>& parts) {
    Bitmap out;
    if (parts.empty()) return out;
    std::vector<const roaring_bitmap_t*> raw;
    raw.reserve(parts.size());
    for (const Bitmap* b : parts) raw.push_back(b->r_);
    roaring_bitmap_free(out.r_);
    out.r_ = roaring_bitmap_or_many(raw.size(), raw.data());
    return out;
  }
  void Optimize() { roaring_bitmap_run_optimize(r_); }
  size_t Bytes() const { return roaring_bitmap_size_in_bytes(r_); }

 private:
  roaring_bitmap_t* r_;
};

}  // namespace rapport::segment
