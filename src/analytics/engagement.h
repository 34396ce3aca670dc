// The engagement score (pure): how much a contact engaged lately, 0 to 100.
//
// Every human open, human click and chosen event adds its weight w to a sum that halves every
// half-life H (exponential decay, so it is kept in O(1) per contact: the sum at its last update
// and that time):
//     S(t) = sum_i w_i * 2^(-(t - t_i) / H)
//     score(t) = round(100 * (1 - exp(-S(t) / K)))
// Defaults: H = 30 days; w = 1 (open), 3 (click), 5 (a goal event: an order); K = 5, so one
// click today scores 45, a click and two opens 63, an order and a click 80; with nothing new
// the score halves in weight every 30 days. Machine opens and clicks add nothing.
#pragma once

#include <cstdint>
#include <optional>

namespace rapport::analytics {

struct EngagementOptions {
  double half_life_days = 30;
  double open_weight = 1;
  double click_weight = 3;
  double goal_weight = 5;
  double scale = 5;  // K
  // The score is published to the contact (attribute `engagement_score`, event
  // `engagement_changed`) when it has moved by this many points from the last published value,
  // by an event or by decay (docs/analytics.md).
  int publish_step = 10;
};

struct Engagement {
  double sum = 0;  // S at `at_us`
  int64_t at_us = 0;

  // Adds weight w at time t (t before at_us counts as at_us: the decay never runs backwards).
  void Add(double w, int64_t t_us, const EngagementOptions& o);
  double SumAt(int64_t t_us, const EngagementOptions& o) const;
  int ScoreAt(int64_t t_us, const EngagementOptions& o) const;
  // The first time at or after at_us at which the score, decaying with no new weight, is at
  // most q (0 <= q < 100); nullopt when the sum is 0 already.
  std::optional<int64_t> WhenScoreAtMost(int q, const EngagementOptions& o) const;
};

}  // namespace rapport::analytics
