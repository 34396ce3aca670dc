// FeedNotifier: how the store wakes the feed's consumers in this process the moment a commit
// appends events, so a consumer's latency is the wake-up's, not a poll interval's.
//
// The store calls Notify() after every committed transaction that appended events (never before
// the commit, so a woken consumer always finds them). A consumer remembers the generation it last
// saw and waits for a later one with a timeout; the timeout also covers what this notifier cannot
// see (events appended by another process, e.g. `rapport contacts import` while `serve` runs, or
// another node on the same PostgreSQL), so a consumer polls at the timeout's rate at worst.
// Thread-safety: every method is thread-safe. No I/O.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace rapport {

class FeedNotifier {
 public:
  // A commit appended events: wakes every waiter.
  void Notify();
  // The current generation (the number of Notify() calls so far).
  uint64_t Generation() const;
  // Waits until the generation is past `seen` or `timeout` passes; returns the generation then.
  // Returns at once when it is already past `seen`.
  uint64_t WaitPast(uint64_t seen, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t generation_ = 0;  // guarded by mu_
};

}  // namespace rapport
