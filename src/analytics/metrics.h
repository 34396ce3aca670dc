// The report's vocabulary: the metrics counted per day and dimension key, the dimensions a
// message is reported under, and the rates derived from the counts. Pure values.
//
// Every metric is a count of events of one day (the workspace's timezone) except the revenue
// metrics (sums) and the linear-attribution ones (fractions): see docs/analytics.md for the
// event each metric counts and the uniqueness rules.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rapport::analytics {

enum class Metric : uint8_t {
  kSent,              // message.queued: handed to the outbox
  kSuppressed,        // message.suppressed: refused by the mail rule
  kDelivered,         // message.sent: accepted by the receiving server
  kDeferred,          // message.deferred (every deferral)
  kBouncedHard,       // message.bounced (once per message)
  kBouncedSoft,       // message.soft_bounced (once per message)
  kBlocked,           // message.blocked (once per message)
  kFailed,            // message.failed
  kOpenedHuman,       // first human open (or first human click) of a message
  kOpenedMachine,     // first machine open of a message
  kClickedHuman,      // first human click of a message
  kClickedMachine,    // first machine click of a message
  kUnsubscribed,      // contact.status_changed to unsubscribed, topic.unsubscribed
  kComplained,        // message.complained (once per message)
  kConversions,       // goal events attributed last-touch
  kRevenue,           // their revenue
  kConversionsFirst,  // first-touch
  kRevenueFirst,
  kConversionsLinear,  // linear (a share per message touched)
  kRevenueLinear,
  kOrders,  // every goal event (workspace dimension only), attributed or not
  kOrderRevenue,
};
inline constexpr size_t kMetricCount = static_cast<size_t>(Metric::kOrderRevenue) + 1;

std::string_view MetricName(Metric m);
std::optional<Metric> ParseMetric(std::string_view name);

// The values of every metric for one (dimension key, day), or summed over days.
struct Counts {
  std::array<double, kMetricCount> v{};
  double& operator[](Metric m) { return v[static_cast<size_t>(m)]; }
  double operator[](Metric m) const { return v[static_cast<size_t>(m)]; }
  Counts& operator+=(const Counts& o) {
    for (size_t i = 0; i < kMetricCount; ++i) v[i] += o.v[i];
    return *this;
  }
  bool operator==(const Counts& o) const = default;
};

// Derived rates (nullopt when the denominator is 0):
//   open_rate = opened_human / delivered, click_rate (CTR) = clicked_human / delivered,
//   click_to_open (CTOR) = clicked_human / opened_human, conversion_rate = conversions / delivered.
struct Rates {
  std::optional<double> open_rate, click_rate, click_to_open, conversion_rate, bounce_rate;
};
Rates RatesOf(const Counts& c);

// The dimensions a message is reported under. Each message event counts once under
// kWorkspace (key ""), and under each other dimension for which the message has a key: its
// template, topic, class (transactional/marketing), and the `journey_id` / `campaign_id`
// properties that the journey and campaign engines put on the messages they queue.
// kJourneyStep's key is "<journey id>:<step id>" (a step id is unique within its journey only).
enum class Dimension : uint8_t { kWorkspace, kTemplate, kTopic, kClass, kJourney, kCampaign, kJourneyStep };
inline constexpr size_t kDimensionCount = 7;
std::string_view DimensionName(Dimension d);                  // "workspace", "template", ...
std::optional<Dimension> ParseDimension(std::string_view s);  // also plural: "templates"

}  // namespace rapport::analytics
