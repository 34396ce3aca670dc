#include "analytics/metrics.h"

namespace rapport::analytics {

namespace {
constexpr std::array<std::string_view, kMetricCount> kMetricNames = {
    "sent",          "suppressed",        "delivered",     "deferred",           "bounced_hard",
    "bounced_soft",  "blocked",           "failed",        "opened_human",       "opened_machine",
    "clicked_human", "clicked_machine",   "unsubscribed",  "complained",         "conversions",
    "revenue",       "conversions_first", "revenue_first", "conversions_linear", "revenue_linear",
    "orders",        "order_revenue"};
constexpr std::array<std::string_view, kDimensionCount> kDimensionNames = {
    "workspace", "template", "topic", "class", "journey", "campaign", "journey_step"};

std::optional<double> Ratio(double a, double b) {
  if (b <= 0) return std::nullopt;
  return a / b;
}
}  // namespace

std::string_view MetricName(Metric m) { return kMetricNames[static_cast<size_t>(m)]; }

std::optional<Metric> ParseMetric(std::string_view name) {
  for (size_t i = 0; i < kMetricCount; ++i)
    if (kMetricNames[i] == name) return static_cast<Metric>(i);
  return std::nullopt;
}

Rates RatesOf(const Counts& c) {
  Rates r;
  double delivered = c[Metric::kDelivered];
  r.open_rate = Ratio(c[Metric::kOpenedHuman], delivered);
  r.click_rate = Ratio(c[Metric::kClickedHuman], delivered);
  r.click_to_open = Ratio(c[Metric::kClickedHuman], c[Metric::kOpenedHuman]);
  r.conversion_rate = Ratio(c[Metric::kConversions], delivered);
  r.bounce_rate = Ratio(c[Metric::kBouncedHard] + c[Metric::kBouncedSoft], c[Metric::kSent]);
  return r;
}

std::string_view DimensionName(Dimension d) { return kDimensionNames[static_cast<size_t>(d)]; }

std::optional<Dimension> ParseDimension(std::string_view s) {
  if (s.size() > 1 && s.back() == 's' && s != "class") s.remove_suffix(1);
  if (s == "classe") s = "class";
  if (s == "classes") s = "class";
  for (size_t i = 0; i < kDimensionCount; ++i)
    if (kDimensionNames[i] == s) return static_cast<Dimension>(i);
  return std::nullopt;
}

}  // namespace rapport::analytics
