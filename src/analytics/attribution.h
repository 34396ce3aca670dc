// Conversion attribution (pure): which messages get the credit for a goal event.
//
// A touch is a human open or a human click of a message by the contact. A touch is eligible for
// a conversion at time C when it happened at or before C and within the window of its kind
// before C (default: 5 days after a click, 1 day after an open). Of the eligible touches:
//   - last touch: the message of the latest eligible touch gets 1 (a click wins a tie);
//   - first touch: the message of the earliest eligible touch gets 1 (a click wins a tie);
//   - linear: each distinct message with an eligible touch gets 1/m (m distinct messages).
// No eligible touch: the conversion is unattributed (it still counts as an order).
#pragma once

#include <cstdint>
#include <vector>

namespace rapport::analytics {

inline constexpr int64_t kMicrosPerDay = 86'400'000'000;

struct AttributionWindows {
  int64_t click_us = 5 * kMicrosPerDay;
  int64_t open_us = 1 * kMicrosPerDay;
};

struct Touch {
  int64_t message_id = 0;
  int64_t at_us = 0;
  bool click = false;
};

struct Credit {
  int64_t message_id = 0;
  double last = 0;    // 0 or 1
  double first = 0;   // 0 or 1
  double linear = 0;  // 1/m
};

// The credits of one conversion at `conversion_us` over `touches` (any order). Messages with
// no credit are not listed; the result is ordered by message id.
std::vector<Credit> Attribute(const std::vector<Touch>& touches, int64_t conversion_us,
                              const AttributionWindows& windows);

// Whether a touch at `touch_us` can still be eligible for a conversion at or after `now_us`
// (the longest window has not passed): touches older than that can be forgotten.
bool TouchMayMatter(const Touch& t, int64_t now_us, const AttributionWindows& windows);

}  // namespace rapport::analytics
