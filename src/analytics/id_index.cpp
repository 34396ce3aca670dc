#include "analytics/id_index.h"

#include <algorithm>
#include <limits>

namespace rapport::analytics {

namespace {

constexpr size_t kFreeWindow = size_t{1} << 20;  // entries any window may have, however sparse
constexpr size_t kMaxWindow = size_t{1} << 31;
constexpr size_t kMaxPerLive = 4;  // beyond kFreeWindow: at most this many entries per live id

}  // namespace

bool IdIndex::Reach(int64_t id) {
  const size_t allowed = std::min(kMaxWindow, std::max(kFreeWindow, kMaxPerLive * (in_window_ + 1)));
  if (window_.empty()) {
    base_ = id;
    window_.assign(1, kNone);
    return true;
  }
  if (id >= base_) {
    const uint64_t span = Distance(id, base_);  // >= window_.size() here
    if (span >= allowed) return false;
    window_.resize(static_cast<size_t>(span) + 1, kNone);
    return true;
  }
  // Below the window: grow its front, with some room below (ids arrive in any order at a
  // rebuild: each new lowest id would otherwise move the whole window).
  const uint64_t below = Distance(base_, id);
  if (window_.size() >= allowed || below > allowed - window_.size()) return false;
  const uint64_t above_min = Distance(id, std::numeric_limits<int64_t>::min());
  const uint64_t room = std::min<uint64_t>({window_.size() / 4, allowed - below - window_.size(), above_min});
  const uint64_t grow = below + room;
  window_.insert(window_.begin(), static_cast<size_t>(grow), kNone);
  base_ -= static_cast<int64_t>(grow);
  return true;
}

std::pair<uint32_t, bool> IdIndex::TryEmplace(int64_t id, uint32_t slot) {
  if (!spill_.empty())
    if (auto it = spill_.find(id); it != spill_.end()) return {it->second, false};
  if (InWindow(id) || Reach(id)) {
    uint32_t& entry = window_[static_cast<size_t>(id - base_)];
    if (entry != kNone) return {entry, false};
    entry = slot;
    ++in_window_;
    ++size_;
    return {slot, true};
  }
  spill_.emplace(id, slot);
  ++size_;
  return {slot, true};
}

bool IdIndex::Erase(int64_t id) {
  if (InWindow(id)) {
    uint32_t& entry = window_[static_cast<size_t>(id - base_)];
    if (entry != kNone) {
      entry = kNone;
      --in_window_;
      --size_;
      if (++erased_ > window_.size() / 2) DropEmptyFront();
      return true;
    }
  }
  if (!spill_.empty() && spill_.erase(id) > 0) {
    --size_;
    return true;
  }
  return false;
}

void IdIndex::DropEmptyFront() {
  erased_ = 0;
  auto first = std::find_if(window_.begin(), window_.end(), [](uint32_t s) { return s != kNone; });
  if (first == window_.end()) {
    window_.clear();
    window_.shrink_to_fit();
    base_ = 0;
    return;
  }
  const auto drop = first - window_.begin();
  if (drop == 0) return;
  window_.erase(window_.begin(), first);
  base_ += drop;
}

}  // namespace rapport::analytics
