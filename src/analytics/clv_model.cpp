#include "analytics/clv_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>

namespace rapport::analytics {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double LogSumExp(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

// Gauss' hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 by its series.
double Hyp2F1(double a, double b, double c, double z) {
  double term = 1, sum = 1;
  for (int n = 0; n < 100000; ++n) {
    term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (std::fabs(term) < 1e-14 * std::fabs(sum)) break;
  }
  return sum;
}

// Nelder-Mead minimization of f over R^N from x0.
template <size_t N>
std::array<double, N> NelderMead(const std::function<double(const std::array<double, N>&)>& f,
                                 std::array<double, N> x0, int max_iter = 4000) {
  using P = std::array<double, N>;
  std::array<P, N + 1> s;
  std::array<double, N + 1> fs;
  s[0] = x0;
  for (size_t i = 0; i < N; ++i) {
    s[i + 1] = x0;
    s[i + 1][i] += 0.5;
  }
  for (size_t i = 0; i <= N; ++i) fs[i] = f(s[i]);
  for (int it = 0; it < max_iter; ++it) {
    std::array<size_t, N + 1> idx;
    for (size_t i = 0; i <= N; ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return fs[a] < fs[b]; });
    size_t best = idx[0], worst = idx[N], second = idx[N - 1];
    if (std::fabs(fs[worst] - fs[best]) < 1e-10 * (1 + std::fabs(fs[best]))) break;
    P c{};
    for (size_t i = 0; i <= N; ++i)
      if (i != worst)
        for (size_t d = 0; d < N; ++d) c[d] += s[i][d] / N;
    auto along = [&](double t) {
      P p;
      for (size_t d = 0; d < N; ++d) p[d] = c[d] + t * (s[worst][d] - c[d]);
      return p;
    };
    P xr = along(-1);
    double fr = f(xr);
    if (fr < fs[best]) {
      P xe = along(-2);
      double fe = f(xe);
      if (fe < fr) {
        s[worst] = xe, fs[worst] = fe;
      } else {
        s[worst] = xr, fs[worst] = fr;
      }
    } else if (fr < fs[second]) {
      s[worst] = xr, fs[worst] = fr;
    } else {
      P xc = fr < fs[worst] ? along(-0.5) : along(0.5);
      double fc = f(xc);
      if (fc < std::min(fr, fs[worst])) {
        s[worst] = xc, fs[worst] = fc;
      } else {
        for (size_t i = 0; i <= N; ++i) {
          if (i == best) continue;
          for (size_t d = 0; d < N; ++d) s[i][d] = s[best][d] + 0.5 * (s[i][d] - s[best][d]);
          fs[i] = f(s[i]);
        }
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= N; ++i)
    if (fs[i] < fs[best]) best = i;
  return s[best];
}

}  // namespace

double BgNbdLogLikelihood(const BgNbdParams& p, const CustomerSummary& c) {
  double x = c.x;
  double a1 = std::lgamma(p.r + x) - std::lgamma(p.r) + p.r * std::log(p.alpha);
  double a2 = std::lgamma(p.a + p.b) + std::lgamma(p.b + x) - std::lgamma(p.b) - std::lgamma(p.a + p.b + x);
  double a3 = -(p.r + x) * std::log(p.alpha + c.T);
  double a4 = x > 0 ? std::log(p.a) - std::log(p.b + x - 1) - (p.r + x) * std::log(p.alpha + c.t_x) : kNegInf;
  return a1 + a2 + LogSumExp(a3, a4);
}

double GammaGammaLogLikelihood(const GammaGammaParams& p, const CustomerSummary& c) {
  double x = c.x, m = c.m;
  return std::lgamma(p.p * x + p.q) - std::lgamma(p.p * x) - std::lgamma(p.q) + p.q * std::log(p.gamma) +
         (p.p * x - 1) * std::log(m) + p.p * x * std::log(x) - (p.p * x + p.q) * std::log(p.gamma + m * x);
}

std::optional<BgNbdParams> FitBgNbd(const std::vector<CustomerSummary>& customers) {
  if (customers.empty()) return std::nullopt;
  // Start: r = 1, alpha = mean T / (1 + mean x), a = 1, b = 1 (log scale).
  double mx = 0, mt = 0;
  for (const auto& c : customers) mx += c.x, mt += c.T;
  mx /= static_cast<double>(customers.size());
  mt /= static_cast<double>(customers.size());
  auto nll = [&](const std::array<double, 4>& v) {
    BgNbdParams p{std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])};
    double ll = 0;
    for (const auto& c : customers) ll += BgNbdLogLikelihood(p, c);
    if (!std::isfinite(ll)) return std::numeric_limits<double>::max();
    return -ll;
  };
  std::array<double, 4> v{0, std::log(std::max(mt / (1 + mx), 1e-3)), 0, 0};
  for (int restart = 0; restart < 3; ++restart) v = NelderMead<4>(nll, v);
  if (nll(v) == std::numeric_limits<double>::max()) return std::nullopt;
  return BgNbdParams{std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])};
}

std::optional<GammaGammaParams> FitGammaGamma(const std::vector<CustomerSummary>& customers) {
  std::vector<const CustomerSummary*> repeat;
  double mean_m = 0;
  for (const auto& c : customers)
    if (c.x >= 1 && c.m > 0) repeat.push_back(&c), mean_m += c.m;
  if (repeat.empty()) return std::nullopt;
  mean_m /= static_cast<double>(repeat.size());
  auto nll = [&](const std::array<double, 3>& v) {
    GammaGammaParams p{std::exp(v[0]), std::exp(v[1]), std::exp(v[2])};
    double ll = 0;
    for (const auto* c : repeat) ll += GammaGammaLogLikelihood(p, *c);
    if (!std::isfinite(ll)) return std::numeric_limits<double>::max();
    return -ll;
  };
  std::array<double, 3> v{0, std::log(2.0), std::log(std::max(mean_m, 1e-3))};
  for (int restart = 0; restart < 3; ++restart) v = NelderMead<3>(nll, v);
  if (nll(v) == std::numeric_limits<double>::max()) return std::nullopt;
  return GammaGammaParams{std::exp(v[0]), std::exp(v[1]), std::exp(v[2])};
}

double ProbabilityAlive(const BgNbdParams& p, const CustomerSummary& c) {
  if (c.x <= 0) return 1.0;
  double d = (p.a / (p.b + c.x - 1)) * std::pow((p.alpha + c.T) / (p.alpha + c.t_x), p.r + c.x);
  return 1.0 / (1.0 + d);
}

double ExpectedPurchases(const BgNbdParams& p, const CustomerSummary& c, double t) {
  double x = c.x;
  if (std::fabs(p.a - 1) < 1e-9) return std::numeric_limits<double>::quiet_NaN();
  double z = t / (p.alpha + c.T + t);
  double f = Hyp2F1(p.r + x, p.b + x, p.a + p.b + x - 1, z);
  double num =
      (p.a + p.b + x - 1) / (p.a - 1) * (1 - std::pow((p.alpha + c.T) / (p.alpha + c.T + t), p.r + x) * f);
  double den = 1;
  if (x > 0) den += (p.a / (p.b + x - 1)) * std::pow((p.alpha + c.T) / (p.alpha + c.t_x), p.r + x);
  return num / den;
}

double ExpectedSpend(const GammaGammaParams& p, const CustomerSummary& c) {
  if (p.q <= 1) return std::numeric_limits<double>::quiet_NaN();
  if (c.x <= 0 || c.m <= 0) return p.p * p.gamma / (p.q - 1);
  return p.p * (p.gamma + c.x * c.m) / (p.p * c.x + p.q - 1);
}

ClvModel FitClv(const std::vector<CustomerSummary>& customers, const ClvOptions& o) {
  ClvModel m;
  m.customers = static_cast<int64_t>(customers.size());
  for (const auto& c : customers) m.repeat_customers += c.x >= 1 ? 1 : 0;
  if (m.customers < o.min_customers || m.repeat_customers < o.min_repeat_customers) {
    m.reason = "too few customers for the model (" + std::to_string(m.customers) + " customers, " +
               std::to_string(m.repeat_customers) + " with repeat orders; it needs " +
               std::to_string(o.min_customers) + " and " + std::to_string(o.min_repeat_customers) + ")";
    return m;
  }
  auto bg = FitBgNbd(customers);
  auto gg = FitGammaGamma(customers);
  if (!bg || !gg || gg->q <= 1) {
    m.reason = "the model did not converge on this data";
    return m;
  }
  m.fitted = true;
  m.bgnbd = *bg;
  m.gg = *gg;
  return m;
}

ClvPrediction PredictClv(const ClvModel& m, const CustomerSummary& c, double revenue, double orders,
                         const ClvOptions& o) {
  ClvPrediction p;
  if (orders <= 0) return p;
  if (m.fitted) {
    p.purchases = ExpectedPurchases(m.bgnbd, c, o.horizon_days);
    p.spend = ExpectedSpend(m.gg, c);
    p.p_alive = ProbabilityAlive(m.bgnbd, c);
    p.value = p.purchases * p.spend;
    if (std::isfinite(p.value)) return p;
    p = ClvPrediction{};
  }
  p.fallback = true;
  double tenure = std::max(c.T, 30.0);
  double gap = orders >= 2 ? c.t_x / (orders - 1) : 90.0;
  p.p_alive = (c.T - c.t_x) <= 2 * gap ? 1.0 : 0.5;
  p.purchases = orders / tenure * o.horizon_days * p.p_alive;
  p.spend = revenue / orders;
  p.value = p.purchases * p.spend;
  return p;
}

std::vector<SimulatedCustomer> Simulate(const BgNbdParams& bg, const GammaGammaParams& gg, int n,
                                        double min_T, double max_T, std::mt19937_64& rng) {
  std::vector<SimulatedCustomer> out;
  out.reserve(static_cast<size_t>(n));
  std::gamma_distribution<double> lambda_d(bg.r, 1.0 / bg.alpha);
  std::gamma_distribution<double> pa(bg.a, 1.0), pb(bg.b, 1.0);
  std::gamma_distribution<double> nu_d(gg.q, 1.0 / gg.gamma);
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_real_distribution<double> tdist(min_T, max_T);
  for (int i = 0; i < n; ++i) {
    SimulatedCustomer c;
    c.T = tdist(rng);
    double lambda = lambda_d(rng);
    double ga = pa(rng), gb = pb(rng);
    double p = ga / (ga + gb);
    double nu = nu_d(rng);
    std::gamma_distribution<double> spend(gg.p, 1.0 / nu);
    c.spends.push_back(spend(rng));
    std::exponential_distribution<double> gap(lambda);
    double t = 0;
    while (true) {  // alive at the first purchase; may drop out after each repeat purchase
      t += gap(rng);
      if (t > c.T) break;
      c.times.push_back(t);
      c.spends.push_back(spend(rng));
      if (u(rng) < p) break;
    }
    out.push_back(std::move(c));
  }
  return out;
}

CustomerSummary Summarize(const SimulatedCustomer& c, double cut) {
  CustomerSummary s;
  s.T = std::min(cut, c.T);
  double sum = 0;
  for (size_t i = 0; i < c.times.size(); ++i) {
    if (c.times[i] > s.T) break;
    s.x += 1;
    s.t_x = c.times[i];
    sum += c.spends[i + 1];
  }
  s.m = s.x > 0 ? sum / s.x : 0;
  return s;
}

}  // namespace rapport::analytics
