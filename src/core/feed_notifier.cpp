#include "core/feed_notifier.h"

namespace rapport {

void FeedNotifier::Notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

uint64_t FeedNotifier::Generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

uint64_t FeedNotifier::WaitPast(uint64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_ > seen; });
  return generation_;
}

}  // namespace rapport
