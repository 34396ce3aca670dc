// Deliverability health: the store's counts per recipient domain and day (core/feedback.h)
// folded into mailbox providers (delivery/provider_groups.h: googlemail.com is gmail.com), with
// the rates and the complaint warnings of the Gmail and Yahoo bulk-sender rules (stay under
// 0.1%, never reach 0.3%). Pure; thread-safe.
//
// Rates (0 when the denominator is 0):
//   bounce_rate    = (hard + soft bounces + rejected at SMTP time) / (delivered + rejected)
//   block_rate     = blocks / (delivered + rejected)
//   complaint_rate = complaints / delivered
// warning: "complaints_over_0.3%" when complaint_rate > 0.003, "complaints_over_0.1%" when
// > 0.001, else empty.
#pragma once

#include <string>
#include <vector>

#include "core/feedback.h"

namespace rapport::tracking {

inline constexpr double kComplaintWarningRate = 0.001;
inline constexpr double kComplaintCriticalRate = 0.003;

struct ProviderHealth {
  int64_t day = 0;  // days since 1970-01-01 (UTC)
  std::string provider;
  DeliverabilityCounts counts;  // summed over the provider's domains (counts.domain is empty)
  double bounce_rate = 0;
  double block_rate = 0;
  double complaint_rate = 0;
  std::string warning;
};

// One entry per (day, provider), ordered by day then provider.
std::vector<ProviderHealth> SummarizeDeliverability(const std::vector<DeliverabilityCounts>& rows);

// Adds c's counts to into's (its day and domain stay).
void AddCounts(DeliverabilityCounts& into, const DeliverabilityCounts& c);
// The warning of one complaint rate ("" when none).
std::string ComplaintWarning(double complaint_rate);

}  // namespace rapport::tracking
