// The lifecycle stage (pure): where a contact stands in their relationship as a customer.
//
// From the contact's goal events (orders): n orders, the last at L; their rhythm R is the mean
// gap between their orders when they have two or more, else the workspace's default (90 days).
// With g = now - L:
//   subscriber    no order yet
//   new_customer  one order and g <= 2R
//   active        two or more orders and g <= 2R
//   at_risk       2R < g <= 4R
//   lapsed        g > 4R
//   won_back      an order placed while lapsed, for as long as g <= 2R after it (then the usual
//                 rules: the next order makes the contact active)
// The stage changes by an order (at once) or by time passing (at L + 2R, L + 4R): NextChangeAt
// says when, so a consumer can wake then.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rapport::analytics {

enum class Stage : uint8_t { kSubscriber, kNewCustomer, kActive, kAtRisk, kLapsed, kWonBack };
inline constexpr size_t kStageCount = 6;
std::string_view StageName(Stage s);
std::optional<Stage> ParseStage(std::string_view s);

struct LifecycleOptions {
  double default_rhythm_days = 90;
  double at_risk_factor = 2;  // at risk after factor * R without an order
  double lapsed_factor = 4;
};

struct PurchaseHistory {
  int64_t orders = 0;
  int64_t first_us = 0;
  int64_t last_us = 0;
  bool won_back = false;  // the last order was placed while lapsed

  // Records an order at t (orders come in time order; an earlier one is taken as at last_us).
  // `stage_before` is the stage just before the order.
  void AddOrder(int64_t t_us, Stage stage_before);
  // Mean gap between orders, or the default.
  int64_t RhythmUs(const LifecycleOptions& o) const;
};

Stage StageAt(const PurchaseHistory& h, int64_t now_us, const LifecycleOptions& o);
// The next moment after now_us at which the stage changes without a new order, or nullopt.
std::optional<int64_t> NextChangeAt(const PurchaseHistory& h, int64_t now_us, const LifecycleOptions& o);

}  // namespace rapport::analytics
