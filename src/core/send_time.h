// Send-time optimization as a port: "when, within this window, is this contact most likely to
// read mail?" Campaigns and journey steps that ask for send-time optimization call it; the
// analytics module implements it from each contact's human opens and clicks by hour of the week,
// shrunk towards the workspace's pattern when the contact has little history
// (analytics/send_time.h documents the model).
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"

namespace rapport {

struct SendTimeChoice {
  Timestamp at{};         // within [window_start, window_end)
  int hour_of_week = 0;   // 0 = Sunday 00:00-00:59 in the contact's timezone .. 167
  double expected = 0;    // the model's engagement weight of that hour (0..1, sums to 1 over a week)
  bool personal = false;  // false: the contact has no history and the workspace pattern decided
};

// Thread-safe.
class SendTimeAdvisor {
 public:
  virtual ~SendTimeAdvisor() = default;
  // The best moment for `contact` in [window_start, window_end); the window's start when the
  // window is shorter than an hour. kNotFound for an unknown contact, kInvalid for an empty window.
  virtual Result<SendTimeChoice> BestTime(WorkspaceId ws, ContactId contact, Timestamp window_start,
                                          Timestamp window_end) const = 0;
};

}  // namespace rapport
