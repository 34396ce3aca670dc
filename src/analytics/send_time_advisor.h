// SendTimeOptimizer: the analytics module's implementation of the SendTimeAdvisor port
// (core/send_time.h), for campaigns and journey steps that ask for send-time optimization.
//
// It reads the contact's current timezone from the store (else the workspace's default) and the
// contact's send-time profile from the analytics consumer without waiting for it to catch up
// with the log (a profile is at most about a second behind while the consumer runs, which does
// not move anyone's best hour), then picks the best moment of the window (send_time.h).
//
// Thread-safe (both the store and AnalyticsService are). Failure: kInvalid for an empty window,
// kNotFound for a contact the workspace does not have, store errors as returned.
#pragma once

#include "analytics/analytics_service.h"
#include "core/send_time.h"
#include "core/store.h"

namespace rapport::analytics {

class SendTimeOptimizer final : public SendTimeAdvisor {
 public:
  // Both must outlive the optimizer.
  SendTimeOptimizer(Store& store, AnalyticsService& analytics) : store_(store), analytics_(analytics) {}

  Result<SendTimeChoice> BestTime(WorkspaceId ws, ContactId contact, Timestamp window_start,
                                  Timestamp window_end) const override;

 private:
  Store& store_;
  AnalyticsService& analytics_;
};

}  // namespace rapport::analytics
