// Customer lifetime value models (pure): BG/NBD for the number of future purchases and the
// probability that a customer is still alive (Fader, Hardie & Lee 2005), Gamma-Gamma for the
// spend per purchase (Fader & Hardie 2013), both fitted by maximum likelihood (Nelder-Mead on
// the log of the parameters). docs/analytics.md gives the likelihoods and the predictions.
//
// Time is in days. A customer's summary: x = repeat purchases (orders - 1), t_x = time of the
// last purchase after the first, T = time from the first purchase to the end of observation,
// m = mean value of the repeat purchases (Gamma-Gamma uses customers with x >= 1 only).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace rapport::analytics {

struct CustomerSummary {
  double x = 0;
  double t_x = 0;
  double T = 0;
  double m = 0;  // mean repeat spend (0 when x == 0)
};

struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
};
struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
};

// Log-likelihood of one customer under BG/NBD.
double BgNbdLogLikelihood(const BgNbdParams& p, const CustomerSummary& c);
// Log-likelihood of one customer's mean spend under Gamma-Gamma (x >= 1).
double GammaGammaLogLikelihood(const GammaGammaParams& p, const CustomerSummary& c);

// Maximum-likelihood fits; nullopt when there is nothing to fit or the optimizer finds no
// finite optimum.
std::optional<BgNbdParams> FitBgNbd(const std::vector<CustomerSummary>& customers);
std::optional<GammaGammaParams> FitGammaGamma(const std::vector<CustomerSummary>& customers);

// E[purchases in the next t days | x, t_x, T].
double ExpectedPurchases(const BgNbdParams& p, const CustomerSummary& c, double t);
// P(alive | x, t_x, T).
double ProbabilityAlive(const BgNbdParams& p, const CustomerSummary& c);
// E[spend per purchase | x, m] (the population mean for x == 0).
double ExpectedSpend(const GammaGammaParams& p, const CustomerSummary& c);

// The workspace's fitted model, or the fallback when there are too few customers.
struct ClvModel {
  bool fitted = false;  // false: the fallback (below)
  std::string reason;   // why the fallback was used
  BgNbdParams bgnbd;
  GammaGammaParams gg;
  int64_t customers = 0;         // customers in the fit
  int64_t repeat_customers = 0;  // with x >= 1
};

struct ClvOptions {
  int64_t min_customers = 200;        // below: fallback
  int64_t min_repeat_customers = 50;  // below: fallback
  double horizon_days = 365;
  // The fit uses at most this many customers: a stable pseudo-random sample, chosen by a hash of
  // the contact id (ReportBook::CustomerSample), all of them when fewer; 0: all. The parameters
  // are the population's, and 20,000 customers recover them closely (bench/RESULTS.md), so the
  // fit's time (linear in the customers: about 2.5 s at 20,000) is bounded whatever the
  // workspace's size.
  int64_t max_fit_customers = 20000;
};

// Fits both models on the summaries, or says why not.
ClvModel FitClv(const std::vector<CustomerSummary>& customers, const ClvOptions& o);

// Predicted value over the horizon. Fitted: E[purchases] * E[spend]. Fallback: the customer's
// historic revenue per day of tenure (since the first order, at least 30 days) times the
// horizon, scaled by a crude P(alive) = 1 when the last order is within twice the mean gap, else 0.5.
struct ClvPrediction {
  double purchases = 0;
  double spend = 0;
  double value = 0;
  double p_alive = 0;
  bool fallback = false;
};
ClvPrediction PredictClv(const ClvModel& m, const CustomerSummary& c, double revenue, double orders,
                         const ClvOptions& o);

// Draws `n` customers from known parameters, observed for T_days from each one's first
// purchase (for the model checks): each customer's purchase rate ~ Gamma(r, alpha), dropout
// probability ~ Beta(a, b), spend rate ~ Gamma(q, gamma), each spend ~ Gamma(p, nu). Purchase
// times (days after the first) go to `times` when not null.
struct SimulatedCustomer {
  std::vector<double> times;   // repeat purchase times in days after the first purchase
  std::vector<double> spends;  // one per purchase, the first included
  double T = 0;
};
std::vector<SimulatedCustomer> Simulate(const BgNbdParams& bg, const GammaGammaParams& gg, int n,
                                        double min_T, double max_T, std::mt19937_64& rng);
// The summary of a simulated customer cut at `cut` days after its first purchase.
CustomerSummary Summarize(const SimulatedCustomer& c, double cut);

}  // namespace rapport::analytics
