// IdIndex: id -> 32-bit slot, for ids handed out by a sequence (pure, no I/O).
//
// The folds find a message's and a contact's state by id for every event. Contact ids and
// message ids are the store's sequences: dense, and for messages increasing with time. A hash
// map costs a cache miss per lookup at a million ids, and its probe address is not known before
// the lookup, so it cannot be fetched ahead. Here the ids of a window [base, base + size) are
// an array of slots: the address of an id's entry is known at once (Prefetch), and a lookup is
// one load. An id the window cannot take without becoming mostly empty (more than 4 entries
// per live id, beyond a first million) goes to a hash map beside it; so does any id when the
// window would pass 2^31 entries. The window's empty front is dropped as the lowest ids are
// erased (messages forgotten past their horizon), so it follows a sequence forward.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

namespace rapport::analytics {

class IdIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The id's slot, or kNone.
  uint32_t Find(int64_t id) const {
    if (InWindow(id)) {
      uint32_t slot = window_[static_cast<size_t>(id - base_)];
      if (slot != kNone || spill_.empty()) return slot;  // spilled before the window reached it?
    } else if (spill_.empty()) {
      return kNone;
    }
    auto it = spill_.find(id);
    return it == spill_.end() ? kNone : it->second;
  }
  // Sets the id's slot when it has none; returns the slot it has and whether it was new.
  // `slot` is not kNone.
  std::pair<uint32_t, bool> TryEmplace(int64_t id, uint32_t slot);
  // The id's slot; when it has none, the slot make() returns (a new state's), given to the id.
  // Returns the slot and whether it was made.
  template <class Make>
  std::pair<uint32_t, bool> FindOrAdd(int64_t id, Make&& make) {
    if (uint32_t slot = Find(id); slot != kNone) return {slot, false};
    const uint32_t slot = make();
    TryEmplace(id, slot);
    return {slot, true};
  }
  // Forgets the id; false when it had no slot.
  bool Erase(int64_t id);
  size_t size() const { return size_; }
  // Entries of the window (4 bytes each), live or empty.
  size_t window() const { return window_.size(); }
  // Fetches the cache line of the id's entry (no effect for an id outside the window).
  void Prefetch(int64_t id) const {
    if (InWindow(id)) __builtin_prefetch(&window_[static_cast<size_t>(id - base_)]);
  }
  // fn(id, slot) for every id, in no particular order.
  template <class F>
  void ForEach(F&& fn) const {
    for (size_t i = 0; i < window_.size(); ++i)
      if (window_[i] != kNone) fn(base_ + static_cast<int64_t>(i), window_[i]);
    for (const auto& [id, slot] : spill_) fn(id, slot);
  }

 private:
  // hi - lo for hi >= lo, without overflow.
  static uint64_t Distance(int64_t hi, int64_t lo) {
    return static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  }
  bool InWindow(int64_t id) const { return id >= base_ && Distance(id, base_) < window_.size(); }
  // Grows the window to hold `id` when that keeps it dense enough; false when it would not.
  bool Reach(int64_t id);
  void DropEmptyFront();

  int64_t base_ = 0;
  std::vector<uint32_t> window_;  // slot of base_ + i, or kNone
  size_t in_window_ = 0;          // ids with a slot in the window
  size_t erased_ = 0;             // window erasures since the front was last dropped
  boost::unordered_flat_map<int64_t, uint32_t> spill_;
  size_t size_ = 0;
};

}  // namespace rapport::analytics
