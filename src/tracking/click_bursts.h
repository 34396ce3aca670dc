// Recent clicks per tracked message, for the "every link clicked at once" rule of the machine
// classifier (machine_classifier.h): how many distinct links of a message were clicked within the
// burst window. Kept in memory per process (a node's view; clicks of one scanner reach one node in
// practice), bounded: at most `max_messages` messages, the oldest forgotten first.
//
// Time is passed in (no clock inside). Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace rapport::tracking {

class ClickBursts {
 public:
  explicit ClickBursts(Micros window, size_t max_messages = 100000)
      : window_(window), max_messages_(max_messages) {}
  // Records a click of link `index` of message `key` at `now`; returns the number of distinct
  // links of that message clicked within the window before now, this one included.
  int Record(int64_t key, int32_t index, Timestamp now);

 private:
  const Micros window_;
  const size_t max_messages_;
  std::mutex mu_;
  struct Burst {
    std::vector<std::pair<int32_t, Timestamp>> links;  // (link index, its latest click), one per link
    Timestamp last{};                                  // the message's latest click
  };
  std::map<int64_t, Burst> clicks_;                  // guarded by mu_
  std::deque<std::pair<int64_t, Timestamp>> order_;  // guarded by mu_
};

}  // namespace rapport::tracking
