// DueQueue<T>: a min-priority queue of timed entries for a fold whose clock only moves forward
// (pure, no I/O): a calendar queue of two levels.
//
// The analytics fold keeps one pending moment per contact and purpose (a score's next decay
// step, a lifecycle threshold): about one entry per contact, a million at a million contacts.
// In one binary heap of that size every pop sifts through twenty levels, the lower ten of them
// cache misses: the heap's pops were two thirds of the fold's time in Advance at 1M contacts
// (bench/RESULTS.md, "## analytics"). Here only the entries of the earliest time bucket
// (2^bucket_bits microseconds: 71 minutes by default) are in a heap ("near"), small enough to
// stay in cache; later ones wait unsorted in a vector per bucket ("far"), in a map of buckets.
// When the near heap runs dry the earliest bucket becomes the near heap.
//
// Invariant: every near entry is earlier than `horizon_`, the end of the bucket last moved near,
// and every far entry is at or after it; so the near heap's top is the earliest of all. Entries
// pushed before the horizon go near (a fold often schedules something due soon).
//
// T needs an int64_t member `at` and a strict weak order `operator>` that agrees with `at`
// (entries with a smaller `at` compare smaller; ties broken as T likes): the order of pops is
// exactly that of std::priority_queue<T, std::vector<T>, std::greater<>>.
//
// Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace rapport::analytics {

template <class T>
class DueQueue {
 public:
  explicit DueQueue(int bucket_bits = 32) : bits_(bucket_bits) {}

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The earliest entry. Not empty().
  const T& top() {
    Refill();
    return near_.front();
  }

  void pop() {
    Refill();
    std::pop_heap(near_.begin(), near_.end(), std::greater<>{});
    near_.pop_back();
    --size_;
  }

  void push(const T& entry) {
    ++size_;
    if (entry.at < horizon_) {
      near_.push_back(entry);
      std::push_heap(near_.begin(), near_.end(), std::greater<>{});
      return;
    }
    far_[entry.at >> bits_].push_back(entry);
  }

 private:
  // Makes the near heap hold the earliest entries when it has none and there are some.
  void Refill() {
    if (!near_.empty() || far_.empty()) return;
    auto first = far_.begin();
    const int64_t bucket = first->first;
    near_.swap(first->second);  // the old near buffer (empty) goes with the erased bucket
    far_.erase(first);
    std::make_heap(near_.begin(), near_.end(), std::greater<>{});
    // The bucket's end; the last bucket has none (every later `at` is in it).
    horizon_ = bucket >= (std::numeric_limits<int64_t>::max() >> bits_) ? std::numeric_limits<int64_t>::max()
                                                                        : (bucket + 1) << bits_;
  }

  int bits_;
  std::vector<T> near_;  // a min-heap (std::greater) of the entries before horizon_
  int64_t horizon_ = std::numeric_limits<int64_t>::min();
  std::map<int64_t, std::vector<T>> far_;  // bucket (at >> bits_) -> its entries, unordered
  size_t size_ = 0;
};

}  // namespace rapport::analytics
