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

std::optional<int64_t> Engagement::WhenScoreAtMost(int q, const EngagementOptions& o) const {
  if (sum <= 0) return std::nullopt;
  if (ScoreAt(at_us, o) <= q) return at_us;
  // score <= q  <=>  100 (1 - exp(-S/K)) < q + 0.5  <=>  S < -K ln(1 - (q + 0.5) / 100) = S_q,
  // and S(t) = S0 2^(-(t - t0) / H) < S_q  <=>  t > t0 + H log2(S0 / S_q).
  double s_q = -o.scale * std::log(1.0 - (q + 0.5) / 100.0);
  double h_us = o.half_life_days * static_cast<double>(kMicrosPerDay);
  auto t = at_us + static_cast<int64_t>(std::ceil(h_us * std::log2(sum / s_q)));
  // The rounding of the floating point may leave it a hair short: step on until it holds.
  for (int i = 0; i < 64 && ScoreAt(t, o) > q; ++i) t += 1'000'000;
  return t;
}

}  // namespace rapport::analytics
