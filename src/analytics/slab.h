// Slab<T>: states addressed by a dense 32-bit slot, in fixed chunks of 4,096 (pure, no I/O).
//
// The folds keep one state per message and per contact and index them by id in a flat map
// id -> slot. A std::deque of a 170-byte state holds 3 per 512-byte block, so reaching a slot
// is two dependent cache misses (the block map, then the block); a std::vector moves every
// state when it grows. Here the chunk table is small enough to stay in cache, a slot's address
// never changes (references stay valid as the slab grows), and freed slots are reused.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace rapport::analytics {

template <class T>
class Slab {
 public:
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunk = 1u << kChunkBits;

  T& operator[](uint32_t slot) { return chunks_[slot >> kChunkBits][slot & (kChunk - 1)]; }
  const T& operator[](uint32_t slot) const { return chunks_[slot >> kChunkBits][slot & (kChunk - 1)]; }

  // A slot holding a default state: a freed one when there is one, else a new one.
  uint32_t Add() {
    if (!free_.empty()) {
      uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<T[]>(kChunk));
    return size_++;
  }
  // Resets the slot's state to the default and makes the slot reusable.
  void Free(uint32_t slot) {
    (*this)[slot] = T{};
    free_.push_back(slot);
  }
  // Slots handed out so far (live or free): valid slots are [0, size()).
  uint32_t size() const { return size_; }

  template <class F>
  void ForEach(F&& f) {  // every slot, live or free
    for (uint32_t i = 0; i < size_; ++i) f((*this)[i]);
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  uint32_t size_ = 0;
  std::vector<uint32_t> free_;
};

}  // namespace rapport::analytics
