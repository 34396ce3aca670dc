#include "campaign/experiment.h"

#include <gtest/gtest.h>

#include <cmath>

namespace rapport::campaign {
namespace {

// --- Assignment

TEST(AssignTest, SharesComeOutRightOver100kContacts) {
  const SplitPlan plan{.seed = 42, .holdout_share = 0.05, .test_share = 0.2, .variants = 3};
  constexpr int kN = 100000;
  int holdout = 0, rest = 0;
  int variant[3] = {0, 0, 0};
  for (ContactId id = 1; id <= kN; ++id) {
    const Arm arm = Assign(plan, id);
    switch (arm.kind) {
      case ArmKind::kHoldout: ++holdout; break;
      case ArmKind::kRest: ++rest; break;
      case ArmKind::kTest:
        ASSERT_GE(arm.variant, 0);
        ASSERT_LT(arm.variant, 3);
        ++variant[arm.variant];
        break;
    }
  }
  // Binomial standard errors: holdout sqrt(1e5 * .05 * .95) = 69; test ~ 0.95 * 0.2 = 19%: 124;
  // each variant ~6.33%: 77. Tolerances of about 5 standard errors.
  EXPECT_NEAR(holdout, 5000, 350);
  EXPECT_NEAR(variant[0] + variant[1] + variant[2], 19000, 600);
  EXPECT_NEAR(rest, 76000, 700);
  for (int v : variant) EXPECT_NEAR(v, 19000 / 3.0, 400);
  // And the split passes its own sample-ratio check.
  EXPECT_GT(SampleRatioPValue({variant[0], variant[1], variant[2]}), 0.001);
}

TEST(AssignTest, IsDeterministicAndDependsOnTheSeed) {
  const SplitPlan a{.seed = 7, .holdout_share = 0.1, .test_share = 0.5, .variants = 2};
  SplitPlan b = a;
  b.seed = 8;
  int differ = 0;
  for (ContactId id = 1; id <= 10000; ++id) {
    const Arm x = Assign(a, id), y = Assign(a, id);
    ASSERT_EQ(x.kind, y.kind);
    ASSERT_EQ(x.variant, y.variant);
    const Arm z = Assign(b, id);
    differ += (z.kind != x.kind || z.variant != x.variant) ? 1 : 0;
  }
  EXPECT_GT(differ, 3000);  // another campaign's seed gives an independent split
}

TEST(AssignTest, GrowingTheTestShareOnlyAddsContactsAndKeepsVariants) {
  const SplitPlan small{.seed = 3, .holdout_share = 0.05, .test_share = 0.1, .variants = 2};
  SplitPlan large = small;
  large.test_share = 0.3;
  for (ContactId id = 1; id <= 20000; ++id) {
    const Arm s = Assign(small, id), l = Assign(large, id);
    if (s.kind == ArmKind::kHoldout) {
      EXPECT_EQ(l.kind, ArmKind::kHoldout);
    }
    if (s.kind == ArmKind::kTest) {
      EXPECT_EQ(l.kind, ArmKind::kTest);
      EXPECT_EQ(l.variant, s.variant);
    }
  }
}

TEST(AssignTest, EdgeShares) {
  for (ContactId id = 1; id <= 1000; ++id) {
    EXPECT_EQ(Assign({.seed = 1, .holdout_share = 0, .test_share = 1, .variants = 1}, id).kind,
              ArmKind::kTest);
    EXPECT_EQ(Assign({.seed = 1, .holdout_share = 0, .test_share = 0, .variants = 1}, id).kind,
              ArmKind::kRest);
    EXPECT_EQ(Assign({.seed = 1, .holdout_share = 0, .test_share = 1, .variants = 0}, id).variant, 0);
  }
}

// --- Metric names

TEST(WinnerMetricTest, NamesRoundTrip) {
  for (WinnerMetric m : {WinnerMetric::kHumanOpens, WinnerMetric::kClicks, WinnerMetric::kConversions,
                         WinnerMetric::kRevenuePerRecipient}) {
    EXPECT_EQ(ParseWinnerMetric(WinnerMetricName(m)), m);
  }
  EXPECT_FALSE(ParseWinnerMetric("opens_total").has_value());
}

// --- Decide

ArmOutcome Rate(int64_t n, double rate) {
  return ArmOutcome{.recipients = n,
                    .successes = static_cast<int64_t>(std::llround(static_cast<double>(n) * rate))};
}

TEST(DecideTest, PicksTheKnownBetterVariant) {
  const Decision d =
      Decide(WinnerMetric::kClicks, {Rate(5000, 0.030), Rate(5000, 0.045), Rate(5000, 0.031)}, {});
  ASSERT_TRUE(d.winner.has_value());
  EXPECT_EQ(*d.winner, 1);
  EXPECT_EQ(d.send_variant, 1);
  EXPECT_GT(d.probability_best[1], 0.99);
  double sum = 0;
  for (double p : d.probability_best) sum += p;
  EXPECT_NEAR(sum, 1, 1e-9);
  EXPECT_NE(d.reason.find("variant B wins"), std::string::npos) << d.reason;
  EXPECT_FALSE(d.srm_warning);
}

TEST(DecideTest, ProbabilityBestMatchesTheNormalApproximation) {
  // 2,000 each, 10% against 11%: P(B > A) ~ Phi(0.01 / sqrt(.1*.9/2000 + .11*.89/2000)) = 0.849.
  const Decision d = Decide(WinnerMetric::kHumanOpens, {Rate(2000, 0.10), Rate(2000, 0.11)}, {});
  EXPECT_NEAR(d.probability_best[1], 0.849, 0.015);
  EXPECT_FALSE(d.winner.has_value());  // below 0.90
  EXPECT_EQ(d.send_variant, 0);
  EXPECT_NE(d.reason.find("below the 0.900 required"), std::string::npos) << d.reason;
  // The same data decides the same way twice (fixed-seed Monte Carlo).
  EXPECT_EQ(Decide(WinnerMetric::kHumanOpens, {Rate(2000, 0.10), Rate(2000, 0.11)}, {}).probability_best,
            d.probability_best);
}

TEST(DecideTest, EqualVariantsDeclareNoWinner) {
  const Decision d =
      Decide(WinnerMetric::kConversions, {Rate(8000, 0.02), Rate(8000, 0.02), Rate(8000, 0.02)},
             DecisionRules{.fallback_variant = 2});
  EXPECT_FALSE(d.winner.has_value());
  EXPECT_EQ(d.send_variant, 2);
  for (double p : d.probability_best) EXPECT_NEAR(p, 1 / 3.0, 0.03);
  EXPECT_NE(d.reason.find("fallback variant C"), std::string::npos) << d.reason;
}

TEST(DecideTest, SmallSamplesRefuseAndSayWhy) {
  const Decision d = Decide(WinnerMetric::kClicks, {Rate(600, 0.05), Rate(312, 0.30)}, {});
  EXPECT_FALSE(d.winner.has_value());
  EXPECT_EQ(d.send_variant, 0);
  EXPECT_GT(d.probability_best[1], 0.99);  // B looks far better, but 312 is too few
  EXPECT_NE(d.reason.find("variant B has 312 recipients, fewer than the 500 required"), std::string::npos)
      << d.reason;
}

TEST(DecideTest, TheReasonCallsVariantsByTheirNames) {
  DecisionRules rules;
  rules.variant_names = {"plain", "bold", ""};  // the third has none: its letter
  Decision d =
      Decide(WinnerMetric::kClicks, {Rate(5000, 0.030), Rate(5000, 0.045), Rate(5000, 0.031)}, rules);
  ASSERT_TRUE(d.winner.has_value());
  EXPECT_EQ(*d.winner, 1);
  EXPECT_NE(d.reason.find("variant bold wins on unique clicks (4.5% against plain 3.0%, C 3.1%)"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(d.reason.find("variant B"), std::string::npos) << d.reason;
  rules.variant_names = {"plain", "bold"};
  d = Decide(WinnerMetric::kClicks, {Rate(600, 0.05), Rate(312, 0.30)}, rules);
  EXPECT_NE(d.reason.find("variant bold has 312 recipients"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("sending the fallback variant plain"), std::string::npos) << d.reason;
  d = Decide(WinnerMetric::kHumanOpens, {Rate(2000, 0.10), Rate(2000, 0.11)}, rules);
  EXPECT_NE(d.reason.find("no winner: variant bold leads"), std::string::npos) << d.reason;
}

TEST(DecideTest, RevenuePerRecipientUsesTheNormalApproximation) {
  // A: 1000 recipients, 100 of them spent 50 (mean 5, variance ~225); B: 150 of them spent 50.
  const ArmOutcome a{.recipients = 1000, .successes = 100, .revenue = 5000, .revenue_sq = 250000};
  const ArmOutcome b{.recipients = 1000, .successes = 150, .revenue = 7500, .revenue_sq = 375000};
  const Decision d = Decide(WinnerMetric::kRevenuePerRecipient, {a, b}, {});
  // sd of the difference: sqrt(225.2/1000 + 318.8/1000) = 0.7376; P(B > A) = Phi(2.5 / 0.7376) = 0.99965.
  EXPECT_NEAR(d.probability_best[1], 0.9996, 0.002);
  ASSERT_TRUE(d.winner.has_value());
  EXPECT_EQ(*d.winner, 1);
  EXPECT_NE(d.reason.find("7.50 per recipient"), std::string::npos) << d.reason;
}

TEST(DecideTest, NoRevenueAnywhereIsATie) {
  const ArmOutcome none{.recipients = 1000};
  const Decision d = Decide(WinnerMetric::kRevenuePerRecipient, {none, none}, {});
  EXPECT_NEAR(d.probability_best[0], 0.5, 1e-9);
  EXPECT_FALSE(d.winner.has_value());
}

TEST(DecideTest, SampleRatioMismatchWarns) {
  // 55/45 of 20,000: chi-square 200 on 1 degree of freedom.
  Decision d = Decide(WinnerMetric::kClicks, {Rate(11000, 0.05), Rate(9000, 0.05)}, {});
  EXPECT_LT(d.srm_p_value, 1e-40);
  EXPECT_TRUE(d.srm_warning);
  EXPECT_NE(d.reason.find("sample-ratio mismatch"), std::string::npos);
  // A fair split: 10,050 / 9,950 has chi-square 0.5, p = erfc(sqrt(0.5 / 2)) = 0.4795.
  d = Decide(WinnerMetric::kClicks, {Rate(10050, 0.05), Rate(9950, 0.05)}, {});
  EXPECT_NEAR(d.srm_p_value, std::erfc(0.5), 1e-12);
  EXPECT_FALSE(d.srm_warning);
  // 55/45 is right when that was the plan.
  d = Decide(WinnerMetric::kClicks, {Rate(11000, 0.05), Rate(9000, 0.05)}, {}, {0.55, 0.45});
  EXPECT_NEAR(d.srm_p_value, 1, 1e-12);
  EXPECT_FALSE(d.srm_warning);
}

TEST(SampleRatioTest, KnownChiSquareTailProbabilities) {
  // Three arms, expected 1000 each, observed 1050/1000/950: chi-square 5, 2 df: p = exp(-2.5).
  EXPECT_NEAR(SampleRatioPValue({1050, 1000, 950}), std::exp(-2.5), 1e-12);
  EXPECT_EQ(SampleRatioPValue({5}), 1);
  EXPECT_EQ(SampleRatioPValue({0, 0}), 1);
  EXPECT_EQ(SampleRatioPValue({10, 10, 3}, {0.5, 0.5, 0}), 0);
}

// --- Lifts

TEST(LiftTest, ConversionLiftMatchesTheNormalApproximationOnLargeSamples) {
  // 12% of 10,000 against 10% of 10,000: sd sqrt(.12*.88/1e4 + .1*.9/1e4) = 0.004423.
  const Lift l = ConversionLift(Rate(10000, 0.12), Rate(10000, 0.10));
  EXPECT_DOUBLE_EQ(l.treated, 0.12);
  EXPECT_DOUBLE_EQ(l.holdout, 0.10);
  EXPECT_NEAR(l.absolute, 0.02, 1e-12);
  EXPECT_NEAR(l.relative, 0.2, 1e-12);
  EXPECT_NEAR(l.low, 0.02 - 1.96 * 0.004423, 0.0006);
  EXPECT_NEAR(l.high, 0.02 + 1.96 * 0.004423, 0.0006);
  EXPECT_GT(l.probability_positive, 0.999);
}

TEST(LiftTest, ConversionLiftWithNoDataIsTheDifferenceOfTwoUniforms) {
  // Beta(1,1) - Beta(1,1) is triangular on [-1, 1]: the 2.5% quantile is sqrt(0.05) - 1.
  const Lift l = ConversionLift({}, {});
  EXPECT_NEAR(l.low, std::sqrt(0.05) - 1, 0.01);
  EXPECT_NEAR(l.high, 1 - std::sqrt(0.05), 0.01);
  EXPECT_NEAR(l.probability_positive, 0.5, 0.01);
  EXPECT_EQ(l.relative, 0);
}

TEST(LiftTest, RevenueLiftInClosedForm) {
  // Treated: 2,000 recipients, mean 3, sample variance 100; holdout: 500, mean 2, variance 80.
  auto arm = [](int64_t n, double mean, double var) {
    const double nn = static_cast<double>(n);
    return ArmOutcome{.recipients = n, .revenue = mean * nn, .revenue_sq = var * (nn - 1) + nn * mean * mean};
  };
  const Lift l = RevenueLift(arm(2000, 3, 100), arm(500, 2, 80));
  const double sd = std::sqrt(100.0 / 2000 + 80.0 / 500);  // 0.4583
  EXPECT_NEAR(l.absolute, 1, 1e-9);
  EXPECT_NEAR(l.relative, 0.5, 1e-9);
  EXPECT_NEAR(l.low, 1 - 1.959964 * sd, 1e-6);
  EXPECT_NEAR(l.high, 1 + 1.959964 * sd, 1e-6);
  EXPECT_NEAR(l.probability_positive, 0.5 * std::erfc(-(1 / sd) / std::sqrt(2.0)), 1e-9);  // 0.9854
}

// --- Compare (send-time optimization against a fixed time)

TEST(CompareTest, SaysWhetherTheTreatmentHelped) {
  Comparison c = Compare(WinnerMetric::kHumanOpens, Rate(10000, 0.24), Rate(10000, 0.22),
                         "Send-time optimization", "a fixed time");
  EXPECT_EQ(c.verdict, Verdict::kHelped);
  EXPECT_NE(c.sentence.find("Send-time optimization helped: it raised human unique opens from 22.0% (a fixed "
                            "time) to 24.0%, +2.0 points (95% interval +0.8 points to +3.2 points)"),
            std::string::npos)
      << c.sentence;

  c = Compare(WinnerMetric::kHumanOpens, Rate(1000, 0.22), Rate(1000, 0.22), "STO", "a fixed time");
  EXPECT_EQ(c.verdict, Verdict::kInconclusive);
  EXPECT_EQ(c.sentence.rfind("Not clear whether STO helped", 0), 0u) << c.sentence;

  c = Compare(WinnerMetric::kClicks, Rate(10000, 0.02), Rate(10000, 0.04), "STO", "a fixed time");
  EXPECT_EQ(c.verdict, Verdict::kHurt);
  EXPECT_NE(c.sentence.find("STO did not help: it lowered"), std::string::npos) << c.sentence;

  c = Compare(WinnerMetric::kClicks, {}, Rate(10, 0.1), "STO", "a fixed time");
  EXPECT_EQ(c.verdict, Verdict::kInconclusive);
}

TEST(Experiment, TheGlobalHoldoutIsAStableShareIndependentOfCampaignsAndNested) {
  int five = 0, ten = 0, both = 0;
  for (ContactId id = 1; id <= 100000; ++id) {
    const bool a = InGlobalHoldout(7, id, 0.05), b = InGlobalHoldout(7, id, 0.10);
    five += a;
    ten += b;
    both += a && b;
    EXPECT_EQ(a, InGlobalHoldout(7, id, 0.05));
  }
  EXPECT_NEAR(five / 100000.0, 0.05, 0.004);
  EXPECT_NEAR(ten / 100000.0, 0.10, 0.005);
  EXPECT_EQ(both, five);  // growing the share only adds contacts
  // Another workspace holds out other contacts; no share holds out no one.
  int same = 0;
  for (ContactId id = 1; id <= 100000; ++id)
    same += InGlobalHoldout(7, id, 0.05) && InGlobalHoldout(8, id, 0.05);
  EXPECT_LT(same, 600);  // independent: about 0.25% = 250
  EXPECT_FALSE(InGlobalHoldout(7, 1, 0));
}

}  // namespace
}  // namespace rapport::campaign
