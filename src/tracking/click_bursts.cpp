#include "tracking/click_bursts.h"

#include <algorithm>

namespace rapport::tracking {

int ClickBursts::Record(int64_t key, int32_t index, Timestamp now) {
  std::lock_guard lock(mu_);
  // Forget messages whose last click is out of the window, and the oldest past the bound.
  while (!order_.empty() && (order_.front().second + window_ <= now || clicks_.size() > max_messages_)) {
    auto [old_key, at] = order_.front();
    order_.pop_front();
    auto it = clicks_.find(old_key);
    if (it != clicks_.end() && it->second.last == at) clicks_.erase(it);
  }
  // Per message, each link's latest click: at most one entry per link, however often a link is
  // clicked (a list of every click made each click cost the clicks before it in the window).
  Burst& burst = clicks_[key];
  std::erase_if(burst.links, [&](const auto& c) { return c.second + window_ <= now; });
  auto link =
      std::find_if(burst.links.begin(), burst.links.end(), [&](const auto& c) { return c.first == index; });
  if (link == burst.links.end())
    burst.links.emplace_back(index, now);
  else
    link->second = std::max(link->second, now);
  burst.last = std::max(burst.last, now);
  order_.emplace_back(key, now);
  return static_cast<int>(burst.links.size());
}

}  // namespace rapport::tracking
