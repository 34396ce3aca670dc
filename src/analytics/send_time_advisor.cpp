#include "analytics/send_time_advisor.h"

namespace rapport::analytics {

Result<SendTimeChoice> SendTimeOptimizer::BestTime(WorkspaceId ws, ContactId contact, Timestamp window_start,
                                                   Timestamp window_end) const {
  if (window_end <= window_start) return Error::Invalid("window", "the send-time window is empty");
  RAPPORT_ASSIGN_OR_RETURN(Contact c, store_.contacts().Get(ws, contact));
  RAPPORT_ASSIGN_OR_RETURN(SendTimeProfile p,
                           analytics_.SendTime(ws, contact, c.timezone, /*catch_up=*/false));
  return BestInWindow(p.posterior, *ZoneOrUtc(p.timezone), window_start, window_end, p.evidence > 0);
}

}  // namespace rapport::analytics
