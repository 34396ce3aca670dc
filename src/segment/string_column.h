// StringColumn: one short text value (or none) per row, all in one buffer. A row costs an
// 8-byte reference (presence, offset and length) plus its bytes, instead of a std::string's 32
// bytes and a heap block of its own for anything over 15 characters (the profile index's emails
// and external ids: ~64 bytes a contact as std::string, ~30 here).
// A value replaced leaves its old bytes behind until they outweigh the live ones; then the
// buffer is rewritten (amortized: each byte is copied once per replacement at most).
// Thread-safety: like a std::vector (concurrent reads are safe, writes need exclusion).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace rapport::segment {

class StringColumn {
 public:
  // Values up to 16 MiB - 1 bytes; a longer one is cut there (emails and external ids are
  // limited far below that by the contact model).
  static constexpr size_t kMaxLength = (size_t{1} << 24) - 1;

  size_t size() const { return refs_.size(); }
  void Resize(size_t rows) { refs_.resize(rows, 0); }  // new rows hold no value
  bool Has(size_t r) const { return r < refs_.size() && (refs_[r] & kPresent); }
  // The value ("" for none). Valid until the next Set.
  std::string_view Get(size_t r) const {
    if (!Has(r)) return {};
    const uint64_t ref = refs_[r];
    return std::string_view(bytes_.data() + ((ref & ~kPresent) >> 24), ref & kMaxLength);
  }
  // `v` must not point into this column's own bytes.
  void Set(size_t r, std::string_view v) {
    if (r >= refs_.size()) Resize(r + 1);
    Drop(r);
    if (v.size() > kMaxLength) v = v.substr(0, kMaxLength);
    if (garbage_ > 4096 && garbage_ > bytes_.size() / 2) Compact();
    const uint64_t offset = bytes_.size();
    bytes_.insert(bytes_.end(), v.begin(), v.end());
    refs_[r] = kPresent | (offset << 24) | v.size();
  }
  void Clear(size_t r) {
    if (r >= refs_.size()) return;
    Drop(r);
    refs_[r] = 0;
  }
  size_t Bytes() const { return refs_.capacity() * sizeof(uint64_t) + bytes_.capacity(); }

 private:
  static constexpr uint64_t kPresent = uint64_t{1} << 63;
  void Drop(size_t r) {
    if (refs_[r] & kPresent) garbage_ += refs_[r] & kMaxLength;
  }
  void Compact() {
    std::vector<char> fresh;
    fresh.reserve(bytes_.size() - garbage_ + bytes_.size() / 8);
    for (uint64_t& ref : refs_) {
      if (!(ref & kPresent)) continue;
      const size_t len = ref & kMaxLength;
      const char* from = bytes_.data() + ((ref & ~kPresent) >> 24);
      const uint64_t offset = fresh.size();
      fresh.insert(fresh.end(), from, from + len);
      ref = kPresent | (offset << 24) | len;
    }
    bytes_ = std::move(fresh);
    garbage_ = 0;
  }

  std::vector<uint64_t> refs_;  // 0: none; else kPresent | offset << 24 | length
  std::vector<char> bytes_;
  size_t garbage_ = 0;  // bytes of replaced values still in bytes_
};

}  // namespace rapport::segment
