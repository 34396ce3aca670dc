#include "tracking/deliverability_health.h"

#include <map>

#include "delivery/provider_groups.h"

namespace rapport::tracking {

std::string ComplaintWarning(double rate) {
  if (rate > kComplaintCriticalRate) return "complaints_over_0.3%";
  if (rate > kComplaintWarningRate) return "complaints_over_0.1%";
  return {};
}

void AddCounts(DeliverabilityCounts& into, const DeliverabilityCounts& c) {
  into.delivered += c.delivered;
  into.rejected += c.rejected;
  into.hard_bounces += c.hard_bounces;
  into.soft_bounces += c.soft_bounces;
  into.blocks += c.blocks;
  into.complaints += c.complaints;
}

std::vector<ProviderHealth> SummarizeDeliverability(const std::vector<DeliverabilityCounts>& rows) {
  std::map<std::pair<int64_t, std::string>, ProviderHealth> by;
  for (const DeliverabilityCounts& r : rows) {
    std::string provider = delivery::ProviderGroup(r.domain);
    ProviderHealth& h = by[{r.day, provider}];
    h.day = r.day;
    h.provider = provider;
    h.counts.day = r.day;
    AddCounts(h.counts, r);
  }
  std::vector<ProviderHealth> out;
  out.reserve(by.size());
  for (auto& [key, h] : by) {
    const DeliverabilityCounts& c = h.counts;
    double attempted = static_cast<double>(c.delivered + c.rejected);
    if (attempted > 0) {
      h.bounce_rate = static_cast<double>(c.hard_bounces + c.soft_bounces + c.rejected) / attempted;
      h.block_rate = static_cast<double>(c.blocks) / attempted;
    }
    if (c.delivered > 0)
      h.complaint_rate = static_cast<double>(c.complaints) / static_cast<double>(c.delivered);
    h.warning = ComplaintWarning(h.complaint_rate);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace rapport::tracking
