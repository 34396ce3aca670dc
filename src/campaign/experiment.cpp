#include "campaign/experiment.h"

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/hash.h"

namespace rapport::campaign {
namespace {

// Every Monte Carlo estimate uses this many draws from a generator seeded with kMonteCarloSeed,
// so the same outcomes always give the same probabilities and intervals (the report does not
// flicker between page loads, and a test can pin a figure). 20,000 draws put the standard error
// of a probability near 0.5 at 0.0035.
constexpr int kDraws = 20000;
constexpr uint64_t kMonteCarloSeed = 0x5eed'0f'a11'b0a7ULL;
constexpr double kZ975 = 1.959963984540054;  // the 97.5% quantile of the standard normal

double UnitInterval(uint64_t h) { return static_cast<double>(h >> 11) * 0x1p-53; }  // [0, 1)

// A small, fully specified generator (SplitMix64 stream, Marsaglia's polar normal, Marsaglia and
// Tsang's gamma): unlike <random>'s distributions its output is the same on every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  double Uniform() { return UnitInterval(SplitMix64(state_++)); }

  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0, v = 0, s = 0;
    do {
      u = 2 * Uniform() - 1;
      v = 2 * Uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double f = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  double Gamma(double shape) {  // scale 1; shape > 0
    if (shape < 1) {
      const double u = std::max(Uniform(), 0x1p-60);
      return Gamma(shape + 1) * std::pow(u, 1 / shape);
    }
    const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
      double x = 0, v = 0;
      do {
        x = Normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = Uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (u > 0 && std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
    }
  }

  double Beta(double a, double b) {
    const double x = Gamma(a), y = Gamma(b);
    return x / (x + y);
  }

 private:
  uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

double StandardNormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// The posterior of one arm's metric, from which Decide and the lifts draw.
struct Posterior {
  bool beta = true;  // Beta(a, b) of a rate; otherwise Normal(mean, sd) of revenue per recipient
  double a = 1, b = 1;
  double mean = 0, sd = 0;

  double Draw(Rng& rng) const { return beta ? rng.Beta(a, b) : mean + sd * rng.Normal(); }
};

// Beta(1, 1) prior (uniform on the rate) and a binomial likelihood: Beta(1 + s, 1 + n - s).
Posterior RatePosterior(const ArmOutcome& o) {
  const double n = static_cast<double>(std::max<int64_t>(o.recipients, 0));
  const double s = std::clamp(static_cast<double>(o.successes), 0.0, n);
  return Posterior{.beta = true, .a = 1 + s, .b = 1 + n - s};
}

double SampleVariance(const ArmOutcome& o) {  // of per-recipient revenue; needs n >= 2
  const double n = static_cast<double>(o.recipients);
  const double mean = o.revenue / n;
  return std::max(0.0, (o.revenue_sq - n * mean * mean) / (n - 1));
}

// Revenue per recipient: a flat prior on the mean and the normal approximation of the sample
// mean (central limit theorem), so the posterior is Normal(mean, s^2 / n). An arm with fewer than
// two recipients has no variance of its own: it borrows the variance pooled over the other arms.
std::vector<Posterior> RevenuePosteriors(const std::vector<const ArmOutcome*>& arms) {
  double pooled_ss = 0, pooled_df = 0;
  for (const ArmOutcome* o : arms) {
    if (o->recipients >= 2) {
      pooled_ss += SampleVariance(*o) * static_cast<double>(o->recipients - 1);
      pooled_df += static_cast<double>(o->recipients - 1);
    }
  }
  const double pooled = pooled_df > 0 ? pooled_ss / pooled_df : 1.0;
  std::vector<Posterior> out;
  for (const ArmOutcome* o : arms) {
    const double n = static_cast<double>(std::max<int64_t>(o->recipients, 0));
    const double mean = n > 0 ? o->revenue / n : 0;
    const double var = n >= 2 ? SampleVariance(*o) : pooled;
    out.push_back(Posterior{.beta = false, .mean = mean, .sd = std::sqrt(var / std::max(n, 1.0))});
  }
  return out;
}

// Variant i as the reason calls it: its name, else its letter.
std::string VariantName(const DecisionRules& rules, int i) {
  if (i >= 0 && static_cast<size_t>(i) < rules.variant_names.size() &&
      !rules.variant_names[static_cast<size_t>(i)].empty())
    return rules.variant_names[static_cast<size_t>(i)];
  if (i >= 0 && i < 26) return std::string(1, static_cast<char>('A' + i));
  return "#" + std::to_string(i + 1);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Percent(double rate) { return Fixed(rate * 100, 1) + "%"; }

double ObservedValue(WinnerMetric m, const ArmOutcome& o) {
  if (o.recipients <= 0) return 0;
  const double n = static_cast<double>(o.recipients);
  return m == WinnerMetric::kRevenuePerRecipient ? o.revenue / n : static_cast<double>(o.successes) / n;
}

std::string FormatValue(WinnerMetric m, double v) {
  return m == WinnerMetric::kRevenuePerRecipient ? Fixed(v, 2) + " per recipient" : Percent(v);
}

// P(arm i has the largest draw), ties split evenly between the tied arms.
std::vector<double> ProbabilityBest(const std::vector<Posterior>& posts) {
  const size_t k = posts.size();
  std::vector<double> wins(k, 0), draw(k, 0);
  Rng rng(kMonteCarloSeed);
  for (int d = 0; d < kDraws; ++d) {
    for (size_t i = 0; i < k; ++i) draw[i] = posts[i].Draw(rng);
    const double best = *std::max_element(draw.begin(), draw.end());
    const auto tied = static_cast<double>(std::count(draw.begin(), draw.end(), best));
    for (size_t i = 0; i < k; ++i) {
      if (draw[i] == best) wins[i] += 1 / tied;
    }
  }
  for (double& w : wins) w /= kDraws;
  return wins;
}

Lift LiftByMonteCarlo(const Posterior& treated, const Posterior& holdout) {
  Rng rng(kMonteCarloSeed);
  std::vector<double> diffs(kDraws);
  int positive = 0;
  for (double& d : diffs) {
    const double t = treated.Draw(rng);
    d = t - holdout.Draw(rng);
    positive += d > 0 ? 1 : 0;
  }
  auto quantile = [&](double q) {
    const auto idx = static_cast<size_t>(q * (kDraws - 1) + 0.5);
    std::nth_element(diffs.begin(), diffs.begin() + static_cast<std::ptrdiff_t>(idx), diffs.end());
    return diffs[idx];
  };
  Lift lift;
  lift.low = quantile(0.025);
  lift.high = quantile(0.975);
  lift.probability_positive = static_cast<double>(positive) / kDraws;
  return lift;
}

std::string_view MetricPhrase(WinnerMetric m) {
  switch (m) {
    case WinnerMetric::kHumanOpens: return "human unique opens";
    case WinnerMetric::kClicks: return "unique clicks";
    case WinnerMetric::kConversions: return "conversions";
    case WinnerMetric::kRevenuePerRecipient: return "revenue per recipient";
  }
  return "the metric";
}

uint64_t AssignmentHash(uint64_t seed, ContactId contact) {
  return SplitMix64(SplitMix64(seed) ^ static_cast<uint64_t>(contact));
}

}  // namespace

Arm Assign(const SplitPlan& plan, ContactId contact) {
  const uint64_t h = AssignmentHash(plan.seed, contact);
  const double holdout = std::clamp(plan.holdout_share, 0.0, 1.0);
  const double test = std::clamp(plan.test_share, 0.0, 1.0);
  const double u = UnitInterval(h);
  if (u < holdout) return Arm{.kind = ArmKind::kHoldout, .variant = 0};
  // Uniform again on [0, 1) given "not held out": growing the holdout only moves contacts at the
  // margin, and growing the test share only adds contacts to the test.
  const double rest = (u - holdout) / (1 - holdout);
  if (rest >= test) return Arm{.kind = ArmKind::kRest, .variant = 0};
  // The variant from an independent hash, so a change of the shares never reshuffles variants.
  const int variants = std::max(plan.variants, 1);
  const double v = UnitInterval(SplitMix64(h ^ 0x76617269616e7473ULL));  // "variants"
  const int variant = std::min(static_cast<int>(v * variants), variants - 1);
  return Arm{.kind = ArmKind::kTest, .variant = variant};
}

bool InGlobalHoldout(WorkspaceId ws, ContactId contact, double share) {
  if (!(share > 0)) return false;
  SplitPlan plan;
  plan.seed = SplitMix64(static_cast<uint64_t>(ws) ^ 0x676c6f62616c686fULL);  // "globalho"
  plan.holdout_share = share;
  return Assign(plan, contact).kind == ArmKind::kHoldout;
}

std::string_view WinnerMetricName(WinnerMetric m) {
  switch (m) {
    case WinnerMetric::kHumanOpens: return "human_opens";
    case WinnerMetric::kClicks: return "clicks";
    case WinnerMetric::kConversions: return "conversions";
    case WinnerMetric::kRevenuePerRecipient: return "revenue_per_recipient";
  }
  return "human_opens";
}

std::optional<WinnerMetric> ParseWinnerMetric(std::string_view s) {
  for (WinnerMetric m : {WinnerMetric::kHumanOpens, WinnerMetric::kClicks, WinnerMetric::kConversions,
                         WinnerMetric::kRevenuePerRecipient}) {
    if (s == WinnerMetricName(m)) return m;
  }
  return std::nullopt;
}

double SampleRatioPValue(const std::vector<int64_t>& observed, const std::vector<double>& expected_shares) {
  const size_t k = observed.size();
  if (k < 2) return 1;
  std::vector<double> shares = expected_shares;
  if (shares.size() != k) shares.assign(k, 1.0);
  double share_sum = 0, total = 0;
  for (size_t i = 0; i < k; ++i) {
    share_sum += std::max(shares[i], 0.0);
    total += static_cast<double>(std::max<int64_t>(observed[i], 0));
  }
  if (total <= 0 || share_sum <= 0) return 1;
  double chi2 = 0;
  int cells = 0;
  for (size_t i = 0; i < k; ++i) {
    const double obs = static_cast<double>(std::max<int64_t>(observed[i], 0));
    const double exp = total * std::max(shares[i], 0.0) / share_sum;
    if (exp <= 0) {
      if (obs > 0) return 0;  // recipients in an arm that should have none
      continue;
    }
    chi2 += (obs - exp) * (obs - exp) / exp;
    ++cells;
  }
  if (cells < 2) return 1;
  // The chi-square survival function with cells - 1 degrees of freedom: Q((k - 1) / 2, chi2 / 2).
  return boost::math::gamma_q((cells - 1) / 2.0, chi2 / 2);
}

Decision Decide(WinnerMetric metric, const std::vector<ArmOutcome>& variants, const DecisionRules& rules,
                const std::vector<double>& expected_shares) {
  Decision d;
  const int k = static_cast<int>(variants.size());
  const int fallback = rules.fallback_variant >= 0 && rules.fallback_variant < k ? rules.fallback_variant : 0;
  d.send_variant = fallback;
  if (k == 0) {
    d.reason = "there are no variants to compare";
    return d;
  }

  std::vector<int64_t> recipients;
  for (const ArmOutcome& o : variants) recipients.push_back(o.recipients);
  d.srm_p_value = SampleRatioPValue(recipients, expected_shares);
  d.srm_warning = d.srm_p_value < rules.srm_alpha;

  std::vector<Posterior> posts;
  if (metric == WinnerMetric::kRevenuePerRecipient) {
    std::vector<const ArmOutcome*> arms;
    for (const ArmOutcome& o : variants) arms.push_back(&o);
    posts = RevenuePosteriors(arms);
  } else {
    for (const ArmOutcome& o : variants) posts.push_back(RatePosterior(o));
  }
  d.probability_best = ProbabilityBest(posts);
  const int best = static_cast<int>(std::max_element(d.probability_best.begin(), d.probability_best.end()) -
                                    d.probability_best.begin());
  const std::string fallback_clause = "; sending the fallback variant " + VariantName(rules, fallback);

  if (k == 1) {
    d.reason = "only one variant: there is nothing to compare" + fallback_clause;
  } else {
    std::string too_small;
    for (int i = 0; i < k && too_small.empty(); ++i) {
      if (variants[static_cast<size_t>(i)].recipients < rules.min_recipients_per_variant) {
        too_small = "variant " + VariantName(rules, i) + " has " +
                    std::to_string(variants[static_cast<size_t>(i)].recipients) +
                    " recipients, fewer than the " + std::to_string(rules.min_recipients_per_variant) +
                    " required";
      }
    }
    const double p = d.probability_best[static_cast<size_t>(best)];
    if (!too_small.empty()) {
      d.reason = "no winner: " + too_small + fallback_clause;
    } else if (p < rules.min_probability) {
      d.reason = "no winner: variant " + VariantName(rules, best) + " leads on " +
                 std::string(MetricPhrase(metric)) + " but its probability of being best is " + Fixed(p, 3) +
                 ", below the " + Fixed(rules.min_probability, 3) + " required" + fallback_clause;
    } else {
      d.winner = best;
      d.send_variant = best;
      std::string others;
      for (int i = 0; i < k; ++i) {
        if (i == best) continue;
        others += (others.empty() ? "" : ", ") + VariantName(rules, i) + " " +
                  FormatValue(metric, ObservedValue(metric, variants[static_cast<size_t>(i)]));
      }
      d.reason = "variant " + VariantName(rules, best) + " wins on " + std::string(MetricPhrase(metric)) +
                 " (" + FormatValue(metric, ObservedValue(metric, variants[static_cast<size_t>(best)])) +
                 " against " + others + ") with probability " + Fixed(p, 3) + " of being best";
    }
  }
  if (d.srm_warning) {
    d.reason += ". Warning: sample-ratio mismatch (chi-square p = " + Fixed(d.srm_p_value, 6) +
                "): the arms' sizes do not match the planned split, so the assignment or the delivery "
                "of some arm is suspect and the comparison may be biased";
  }
  return d;
}

Lift ConversionLift(const ArmOutcome& treated, const ArmOutcome& holdout) {
  Lift lift = LiftByMonteCarlo(RatePosterior(treated), RatePosterior(holdout));
  lift.treated = ObservedValue(WinnerMetric::kConversions, treated);
  lift.holdout = ObservedValue(WinnerMetric::kConversions, holdout);
  lift.absolute = lift.treated - lift.holdout;
  lift.relative = lift.holdout > 0 ? lift.absolute / lift.holdout : 0;
  return lift;
}

Lift RevenueLift(const ArmOutcome& treated, const ArmOutcome& holdout) {
  const std::vector<Posterior> posts = RevenuePosteriors({&treated, &holdout});
  Lift lift;
  lift.treated = posts[0].mean;
  lift.holdout = posts[1].mean;
  lift.absolute = lift.treated - lift.holdout;
  lift.relative = lift.holdout > 0 ? lift.absolute / lift.holdout : 0;
  // The difference of two independent normals is normal: the interval and P(> 0) in closed form.
  const double sd = std::hypot(posts[0].sd, posts[1].sd);
  lift.low = lift.absolute - kZ975 * sd;
  lift.high = lift.absolute + kZ975 * sd;
  if (sd > 0) {
    lift.probability_positive = StandardNormalCdf(lift.absolute / sd);
  } else {
    lift.probability_positive = lift.absolute > 0 ? 1 : lift.absolute < 0 ? 0 : 0.5;
  }
  return lift;
}

Lift MetricLift(WinnerMetric metric, const ArmOutcome& treated, const ArmOutcome& control) {
  return metric == WinnerMetric::kRevenuePerRecipient ? RevenueLift(treated, control)
                                                      : ConversionLift(treated, control);
}

Comparison Compare(WinnerMetric metric, const ArmOutcome& treated, const ArmOutcome& control,
                   std::string_view treated_name, std::string_view control_name, double min_probability) {
  Comparison c;
  c.lift = MetricLift(metric, treated, control);
  const Lift& l = c.lift;
  const bool revenue = metric == WinnerMetric::kRevenuePerRecipient;
  auto amount = [&](double v) {
    const std::string sign = v > 0 ? "+" : v < 0 ? "-" : "";
    return revenue ? sign + Fixed(std::abs(v), 2) : sign + Fixed(std::abs(v) * 100, 1) + " points";
  };
  // The metric's phrase already says "per recipient": the values are bare amounts.
  auto value = [&](double v) { return revenue ? Fixed(v, 2) : Percent(v); };
  const std::string metric_phrase(MetricPhrase(metric));
  const std::string figures = metric_phrase + " from " + value(l.holdout) + " (" + std::string(control_name) +
                              ") to " + value(l.treated) + ", " + amount(l.absolute) + " (95% interval " +
                              amount(l.low) + " to " + amount(l.high) + ")";
  // The treated group's name inside a sentence: "The programme" reads "the programme" there (an
  // acronym such as "STO" stays as it is).
  std::string inner(treated_name);
  if (inner.size() > 1 && std::isupper(static_cast<unsigned char>(inner[0])) &&
      std::islower(static_cast<unsigned char>(inner[1])))
    inner[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(inner[0])));
  const std::string prob = Fixed(l.probability_positive, 2);
  if (treated.recipients <= 0 || control.recipients <= 0) {
    c.verdict = Verdict::kInconclusive;
    c.sentence = "Not measured yet: " + inner + " or " + std::string(control_name) + " has no recipients.";
  } else if (l.probability_positive >= min_probability) {
    c.verdict = Verdict::kHelped;
    c.sentence = std::string(treated_name) + " helped: it raised " + figures + "; probability " + prob +
                 " that it helped.";
  } else if (1 - l.probability_positive >= min_probability) {
    c.verdict = Verdict::kHurt;
    c.sentence = std::string(treated_name) + " did not help: it lowered " + figures + "; probability " +
                 prob + " that it helped.";
  } else {
    c.verdict = Verdict::kInconclusive;
    c.sentence = "Not clear whether " + inner + " helped: " + figures + "; probability " + prob +
                 " that it helped, short of the " + Fixed(min_probability, 2) + " needed to say so.";
  }
  return c;
}

}  // namespace rapport::campaign
