// DueQueue<T>: a min-priority queue of timed entries for a fold whose clock only moves forward
// (pure, no I/O): a calendar queue of two levels.
//
// The analytics fold keeps one pending moment per contact and purpose (a score's next decay
// step, a lifecycle threshold): about one entry per contact, a million at a million contacts.
// In one binary heap of that size every pop sifts through twenty levels, the lower ten of them
// cache misses: the heap's pops were two thirds of the fold's time in Advance at 1M contacts
// (bench/RESULTS.md, "## analytics"). Here only the entries of the earliest time bucket
// (2^bucket_bits microseconds: 71 minutes by default) are sorted ("near"), small enough to stay
// in cache; later ones wait unsorted in a vector per bucket ("far"): a ring of buckets (4,096 by
// default: 203 days), and a map for any bucket beyond it. When the near entries run out the
// earliest bucket is sorted and becomes near; entries pushed before its end meanwhile go to a
// small heap beside it. The sorted part lets the owner see the next pops ahead (Ahead) and fetch
// what they will read.
//
// Invariant: every near entry is earlier than `horizon_`, the end of the bucket last moved near,
// and every far entry is at or after it; so the earliest near entry is the earliest of all.
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
  explicit DueQueue(int bucket_bits = 32, size_t ring_buckets = 4096)
      : bits_(bucket_bits), ring_(ring_buckets) {}

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The earliest entry. Not empty().
  const T& top() {
    Refill();
    return late_.empty() || (!sorted_.empty() && late_.front() > sorted_.back()) ? sorted_.back()
                                                                                 : late_.front();
  }

  void pop() {
    Refill();
    if (late_.empty() || (!sorted_.empty() && late_.front() > sorted_.back())) {
      sorted_.pop_back();
    } else {
      std::pop_heap(late_.begin(), late_.end(), std::greater<>{});
      late_.pop_back();
    }
    --size_;
  }

  void push(const T& entry) {
    ++size_;
    if (entry.at < horizon_) {
      late_.push_back(entry);
      std::push_heap(late_.begin(), late_.end(), std::greater<>{});
      return;
    }
    const int64_t bucket = entry.at >> bits_;
    if (in_ring_ == 0) ring_first_ = bucket;  // an empty ring is anchored anywhere
    if (InRing(bucket)) {
      ring_[Slot(bucket)].push_back(entry);
      ++in_ring_;
    } else {
      overflow_[bucket].push_back(entry);
    }
  }

  // The entry k places after the top among those of the current bucket as it was when it came
  // near, or nullptr: a hint, to fetch what the next pops will read (entries pushed since are
  // not seen, and ones popped are skipped only as far as the sorted part goes).
  const T* Ahead(size_t k) const { return k < sorted_.size() ? &sorted_[sorted_.size() - 1 - k] : nullptr; }

 private:
  bool InRing(int64_t bucket) const {
    return bucket >= ring_first_ &&
           static_cast<uint64_t>(bucket) - static_cast<uint64_t>(ring_first_) < ring_.size();
  }
  size_t Slot(int64_t bucket) const {
    return static_cast<size_t>(static_cast<uint64_t>(bucket) % ring_.size());
  }

  // When nothing is near and something is far: the earliest bucket comes near, sorted.
  void Refill() {
    if (!sorted_.empty() || !late_.empty() || size_ == 0) return;
    // The earliest bucket: the ring's first non-empty one, or the overflow's first if earlier.
    int64_t bucket = std::numeric_limits<int64_t>::max();
    bool from_ring = false;
    if (in_ring_ > 0) {
      int64_t b = ring_first_;
      while (ring_[Slot(b)].empty()) ++b;  // in the ring's span: some slot holds an entry
      bucket = b;
      from_ring = true;
    }
    if (!overflow_.empty() && overflow_.begin()->first <= bucket) {
      if (overflow_.begin()->first < bucket) from_ring = false;
      bucket = overflow_.begin()->first;
    }
    if (from_ring) {
      sorted_.swap(ring_[Slot(bucket)]);  // the old (empty) near buffer goes back to the ring
      in_ring_ -= sorted_.size();
    }
    if (auto o = overflow_.find(bucket); o != overflow_.end()) {
      sorted_.insert(sorted_.end(), o->second.begin(), o->second.end());
      overflow_.erase(o);
    }
    std::sort(sorted_.begin(), sorted_.end(), std::greater<>{});  // the earliest at the back
    const bool last = bucket >= (std::numeric_limits<int64_t>::max() >> bits_);
    // The bucket's end; the last bucket has none (every later `at` is in it).
    horizon_ = last ? std::numeric_limits<int64_t>::max() : (bucket + 1) << bits_;
    // The ring's slots up to the bucket are empty now: its span moves on (never back: the ring's
    // entries, all after the bucket, must stay in it).
    if (in_ring_ > 0 && !last) ring_first_ = std::max(ring_first_, bucket + 1);
  }

  int bits_;
  // Near: the current bucket's entries (before horizon_), sorted latest first, and those pushed
  // before the horizon since, in a min-heap.
  std::vector<T> sorted_;
  std::vector<T> late_;
  int64_t horizon_ = std::numeric_limits<int64_t>::min();
  // Far (at or after horizon_): a ring of buckets [ring_first_, ring_first_ + ring_.size()),
  // each unordered, and any other bucket in a map (a moment further ahead than the ring spans).
  std::vector<std::vector<T>> ring_;
  int64_t ring_first_ = 0;
  size_t in_ring_ = 0;
  std::map<int64_t, std::vector<T>> overflow_;
  size_t size_ = 0;
};

}  // namespace rapport::analytics
