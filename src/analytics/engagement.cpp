#include "analytics/engagement.h"

#include <cmath>

#include "analytics/attribution.h"

namespace rapport::analytics {

double Engagement::SumAt(int64_t t_us, const EngagementOptions& o) const {
  if (sum <= 0) return 0;
  if (t_us <= at_us) return sum;
  double days = static_cast<double>(t_us - at_us) / static_cast<double>(kMicrosPerDay);
  return sum * std::exp2(-days / o.half_life_days);
}

void Engagement::Add(double w, int64_t t_us, const EngagementOptions& o) {
  if (t_us < at_us) t_us = at_us;
  sum = SumAt(t_us, o) + w;
  at_us = t_us;
}

int Engagement::ScoreAt(int64_t t_us, const EngagementOptions& o) const {
  double s = SumAt(t_us, o);
  return static_cast<int>(std::lround(100.0 * (1.0 - std::exp(-s / o.scale))));
}

}  // namespace rapport::analytics
