#include "tracking/click_bursts.h"

#include <algorithm>
#include <set>

namespace rapport::tracking {

int ClickBursts::Record(int64_t key, int32_t index, Timestamp now) {
  std::lock_guard lock(mu_);
  // Forget messages whose last click is out of the window, and the oldest past the bound.
  while (!order_.empty() && (order_.front().second + window_ <= now || clicks_.size() > max_messages_)) {
    auto [old_key, at] = order_.front();
    order_.pop_front();
    auto it = clicks_.find(old_key);
    if (it != clicks_.end() && !it->second.empty() && it->second.back().second == at) clicks_.erase(it);
  }
  auto& list = clicks_[key];
  std::erase_if(list, [&](const auto& c) { return c.second + window_ <= now; });
  list.emplace_back(index, now);
  order_.emplace_back(key, now);
  std::set<int32_t> distinct;
  for (const auto& c : list) distinct.insert(c.first);
  return static_cast<int>(distinct.size());
}

}  // namespace rapport::tracking
