// Experiments and holdouts, as pure functions (no I/O, no clock): who is in which arm, which
// variant won, and what the mail did against the holdout. The campaign engine calls them; the
// statistics are documented in docs/experiments.md (priors, thresholds, the sample-ratio check).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace rapport::campaign {

// --- Assignment: stable (the same contact lands in the same arm on every call and every run),
// even (a uniform hash of seed and contact id), independent between campaigns (the seed).
struct SplitPlan {
  uint64_t seed = 0;         // per campaign (or per workspace for the global holdout)
  double holdout_share = 0;  // 0..0.5: receives nothing
  double test_share = 1;     // 0..1 of the non-holdout audience in the test; the rest waits
  int variants = 1;          // >= 1; the test portion is split evenly between them
};

enum class ArmKind { kHoldout, kTest, kRest };

struct Arm {
  ArmKind kind = ArmKind::kTest;
  int variant = 0;  // for kTest: 0..variants-1
};

Arm Assign(const SplitPlan& plan, ContactId contact);

// The workspace's global holdout (the governor's policy, "global_holdout"): a stable share of
// its contacts that receives no marketing mail at all, from campaigns, journeys or the API, so
// the whole programme's effect can be measured against them. Independent of every campaign's own
// split (its own seed per workspace); growing the share only adds contacts.
bool InGlobalHoldout(WorkspaceId ws, ContactId contact, double share);

// --- Choosing a winner.
enum class WinnerMetric { kHumanOpens, kClicks, kConversions, kRevenuePerRecipient };
std::string_view WinnerMetricName(WinnerMetric m);
std::optional<WinnerMetric> ParseWinnerMetric(std::string_view s);

// What one variant (or the holdout, or the treated group) did. `successes` counts recipients
// with at least one of the metric's events (unique); revenue is summed per recipient.
struct ArmOutcome {
  int64_t recipients = 0;
  int64_t successes = 0;
  double revenue = 0;     // sum over recipients
  double revenue_sq = 0;  // sum of squares of per-recipient revenue
};

struct DecisionRules {
  int64_t min_recipients_per_variant = 500;  // no winner below it (Klaviyo's floor)
  double min_probability = 0.90;             // no winner below it
  int fallback_variant = 0;                  // sent when there is no winner
  double srm_alpha = 0.001;                  // sample-ratio mismatch warns below this p-value
  // The variants' names, as the reason calls them ("variant bold wins ..."); a variant without
  // one (past the end, or empty) is called by its letter: A, B, C ...
  std::vector<std::string> variant_names;
};

struct Decision {
  std::optional<int> winner;             // set only when the rules are met
  int send_variant = 0;                  // winner, or the fallback
  std::vector<double> probability_best;  // per variant, sums to 1
  double srm_p_value = 1;                // chi-square of recipients against the expected shares
  bool srm_warning = false;
  std::string reason;  // why this variant (a sentence for the report)
};

// `expected_shares` empty means an even split.
Decision Decide(WinnerMetric metric, const std::vector<ArmOutcome>& variants, const DecisionRules& rules,
                const std::vector<double>& expected_shares = {});

// --- Lift against a holdout, with a 95% credible interval.
struct Lift {
  double treated = 0;  // conversion rate, or revenue per recipient
  double holdout = 0;
  double absolute = 0;       // treated - holdout
  double relative = 0;       // absolute / holdout (0 when holdout is 0)
  double low = 0, high = 0;  // 95% interval of `absolute`
  double probability_positive = 0;
};

Lift ConversionLift(const ArmOutcome& treated, const ArmOutcome& holdout);
Lift RevenueLift(const ArmOutcome& treated, const ArmOutcome& holdout);

// --- Additions beside the declared seam.

// The sample-ratio mismatch test on its own: the p-value of Pearson's chi-square goodness of fit
// of `observed` counts against `expected_shares` (empty or of another size: an even split; shares
// need not sum to 1). 1 for fewer than two arms or no observations; 0 when an arm expected to
// be empty has members.
double SampleRatioPValue(const std::vector<int64_t>& observed,
                         const std::vector<double>& expected_shares = {});

// ConversionLift for the rate metrics (human opens, clicks, conversions), RevenueLift for revenue
// per recipient.
Lift MetricLift(WinnerMetric metric, const ArmOutcome& treated, const ArmOutcome& control);

// "Did it help?" for a treatment against a control: send-time optimization against a fixed send
// time, a campaign against its holdout. kHelped when P(treated better) >= min_probability, kHurt
// when P(treated worse) >= min_probability, otherwise kInconclusive (also when an arm is empty).
enum class Verdict { kHelped, kHurt, kInconclusive };

struct Comparison {
  Lift lift;
  Verdict verdict = Verdict::kInconclusive;
  // For the report, e.g. "Send-time optimization helped: it raised human unique opens from 10.0%
  // (a fixed time) to 12.1%, +2.1 points (95% interval +1.2 points to +3.0 points); probability
  // 0.99 that it helped."
  std::string sentence;
};

Comparison Compare(WinnerMetric metric, const ArmOutcome& treated, const ArmOutcome& control,
                   std::string_view treated_name, std::string_view control_name,
                   double min_probability = 0.90);

}  // namespace rapport::campaign
