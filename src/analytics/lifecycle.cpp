#include "analytics/lifecycle.h"

#include <array>
#include <cmath>

#include "analytics/attribution.h"

namespace rapport::analytics {

namespace {
constexpr std::array<std::string_view, kStageCount> kNames = {"subscriber", "new_customer", "active",
                                                              "at_risk",    "lapsed",       "won_back"};
int64_t Scaled(int64_t us, double f) {
  return static_cast<int64_t>(std::llround(static_cast<double>(us) * f));
}
}  // namespace

std::string_view StageName(Stage s) { return kNames[static_cast<size_t>(s)]; }

std::optional<Stage> ParseStage(std::string_view s) {
  for (size_t i = 0; i < kStageCount; ++i)
    if (kNames[i] == s) return static_cast<Stage>(i);
  return std::nullopt;
}

void PurchaseHistory::AddOrder(int64_t t_us, Stage stage_before) {
  if (orders > 0 && t_us < last_us) t_us = last_us;
  if (orders == 0) first_us = t_us;
  won_back = stage_before == Stage::kLapsed;
  last_us = t_us;
  ++orders;
}

int64_t PurchaseHistory::RhythmUs(const LifecycleOptions& o) const {
  if (orders >= 2 && last_us > first_us) return (last_us - first_us) / (orders - 1);
  return static_cast<int64_t>(std::llround(o.default_rhythm_days * static_cast<double>(kMicrosPerDay)));
}

Stage StageAt(const PurchaseHistory& h, int64_t now_us, const LifecycleOptions& o) {
  if (h.orders == 0) return Stage::kSubscriber;
  int64_t r = h.RhythmUs(o);
  int64_t g = now_us - h.last_us;
  if (g > Scaled(r, o.lapsed_factor)) return Stage::kLapsed;
  if (g > Scaled(r, o.at_risk_factor)) return Stage::kAtRisk;
  if (h.won_back) return Stage::kWonBack;
  return h.orders == 1 ? Stage::kNewCustomer : Stage::kActive;
}

std::optional<int64_t> NextChangeAt(const PurchaseHistory& h, int64_t now_us, const LifecycleOptions& o) {
  if (h.orders == 0) return std::nullopt;
  int64_t r = h.RhythmUs(o);
  int64_t risk = h.last_us + Scaled(r, o.at_risk_factor) + 1;
  int64_t lapse = h.last_us + Scaled(r, o.lapsed_factor) + 1;
  if (now_us < risk) return risk;
  if (now_us < lapse) return lapse;
  return std::nullopt;
}

}  // namespace rapport::analytics
