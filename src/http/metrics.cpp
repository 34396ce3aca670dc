#include "http/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "tracking/deliverability_health.h"

namespace rapport::http {

namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A label value that needs no escaping and stays short: a lower-case domain.
bool PlainLabel(std::string_view v) {
  return !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

}  // namespace

Metrics::Metrics()
    : bounds_{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10} {}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& h = latency_[{std::string(route), std::string(method)}];
  if (h.buckets.empty()) h.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i)
    if (seconds <= bounds_[i]) {
      ++h.buckets[i];
      break;
    }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mu_);
  out += "# HELP http_requests_total HTTP requests served, by route pattern, method and status.\n";
  out += "# TYPE http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += "http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
           std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP http_request_duration_seconds Time from a parsed request to its response.\n";
  out += "# TYPE http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels = "route=\"" + key.first + "\",method=\"" + key.second + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += h.buckets[i];
      out += "http_request_duration_seconds_bucket{" + labels + ",le=\"" + Num(bounds_[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out +=
        "http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "http_request_duration_seconds_sum{" + labels + "} " + Num(h.sum) + "\n";
    out += "http_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP events_ingested_total Events accepted through the API.\n";
  out += "# TYPE events_ingested_total counter\n";
  out += "events_ingested_total " + std::to_string(events_ingested_.load()) + "\n";
  out += "# HELP messages_queued_total Messages queued through the API.\n";
  out += "# TYPE messages_queued_total counter\n";
  out += "messages_queued_total " + std::to_string(messages_queued_.load()) + "\n";
  out += "# HELP store_errors_total Store calls that failed as internal or unavailable.\n";
  out += "# TYPE store_errors_total counter\n";
  out += "store_errors_total " + std::to_string(store_errors_.load()) + "\n";
  out +=
      "# HELP feedback_reports_total Bounces, blocks and complaints recorded, by kind and mailbox "
      "provider.\n";
  out += "# TYPE feedback_reports_total counter\n";
  for (const auto& [key, n] : feedback_)
    out += "feedback_reports_total{kind=\"" + key.first + "\",provider=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  return out;
}

void Metrics::AddFeedback(std::string_view kind, std::string_view provider) {
  bool plain = PlainLabel(provider);
  feedback_recorded_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  std::pair<std::string, std::string> key{std::string(kind), plain ? std::string(provider) : "other"};
  if (!feedback_.contains(key)) {
    size_t providers = 0;
    for (const auto& [k, n] : feedback_) providers += k.first == key.first;
    if (providers >= 32) key.second = "other";
  }
  ++feedback_[key];
}

std::string RenderFeedLag(const std::vector<std::pair<std::string, FeedLag::Snapshot>>& consumers) {
  std::string out;
  if (consumers.empty()) return out;
  out +=
      "# HELP rapport_feed_lag_seconds Time from an event's acceptance to its application by a feed "
      "consumer.\n";
  out += "# TYPE rapport_feed_lag_seconds histogram\n";
  for (const auto& [consumer, s] : consumers) {
    const std::string labels = "consumer=\"" + consumer + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < FeedLag::kBoundsMicros.size(); ++i) {
      cumulative += s.buckets[i];
      out += "rapport_feed_lag_seconds_bucket{" + labels + ",le=\"" +
             Num(static_cast<double>(FeedLag::kBoundsMicros[i]) / 1e6) + "\"} " + std::to_string(cumulative) +
             "\n";
    }
    out += "rapport_feed_lag_seconds_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(s.count) + "\n";
    out +=
        "rapport_feed_lag_seconds_sum{" + labels + "} " + Num(static_cast<double>(s.sum_micros) / 1e6) + "\n";
    out += "rapport_feed_lag_seconds_count{" + labels + "} " + std::to_string(s.count) + "\n";
  }
  return out;
}

std::string RenderDeliverabilityRates(const std::vector<DeliverabilityCounts>& rows) {
  std::string out;
  if (rows.empty()) return out;
  // Every day as one: the summary is then one entry per provider over the whole period.
  std::vector<DeliverabilityCounts> undated = rows;
  for (DeliverabilityCounts& r : undated) r.day = 0;
  std::vector<tracking::ProviderHealth> providers = tracking::SummarizeDeliverability(undated);
  auto attempted = [](const tracking::ProviderHealth& h) { return h.counts.delivered + h.counts.rejected; };
  std::stable_sort(providers.begin(), providers.end(),
                   [&](const auto& a, const auto& b) { return attempted(a) > attempted(b); });
  // Summarized again, by provider name (a provider group is its own group), the rest as "other".
  std::vector<DeliverabilityCounts> grouped;
  DeliverabilityCounts other;
  other.domain = "other";
  bool any_other = false;
  for (const tracking::ProviderHealth& h : providers) {
    if (grouped.size() < kMaxRateProviders && PlainLabel(h.provider) && h.provider != "other") {
      DeliverabilityCounts c = h.counts;
      c.day = 0;
      c.domain = h.provider;
      grouped.push_back(std::move(c));
    } else {
      tracking::AddCounts(other, h.counts);
      any_other = true;
    }
  }
  if (any_other) grouped.push_back(std::move(other));
  std::vector<tracking::ProviderHealth> rates = tracking::SummarizeDeliverability(grouped);
  auto gauge = [&](std::string_view name, std::string_view help, double tracking::ProviderHealth::*rate) {
    out += fmt::format("# HELP {} {} over the last 7 days, by mailbox provider.\n# TYPE {} gauge\n", name,
                       help, name);
    for (const tracking::ProviderHealth& h : rates)
      out += fmt::format("{}{{provider=\"{}\"}} {}\n", name, h.provider, Num(h.*rate));
  };
  gauge("rapport_complaint_rate", "Complaints per delivered message",
        &tracking::ProviderHealth::complaint_rate);
  gauge("rapport_bounce_rate", "Bounces and SMTP rejections per attempted delivery",
        &tracking::ProviderHealth::bounce_rate);
  return out;
}

}  // namespace rapport::http
