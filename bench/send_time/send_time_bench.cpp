// bench/send_time: the cost of send-time optimization beside its peer in the same run.
//
//   send_time_bench CONTACTS EVENTS ROUNDS
//
// Generates CONTACTS contacts (a third in each of New York, Paris, Tokyo; contact.created with the
// zone) and EVENTS message events in time order (queued, sent, human and machine opens, clicks),
// then, ROUNDS times alternately:
//   - folds them into analytics' ReportBook alone (the peer: the analytics fold that already runs
//     over the same events) and into ReportBook + SendTimeBook (what the consumer does now), taking
//     the changed state every 10,000 events as the consumer does for its commit;
//     prints both rates and the ratio (the send-time fold's share of the consumer's cost);
//   - asks for the best moment of a 7-day window for every contact (profile + choice), per second;
//   - decides a 2- and a 4-variant experiment (campaign::Decide, 20,000 Monte Carlo draws).
// Medians of the rounds are printed last.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <date/tz.h>

#include "analytics/report_book.h"
#include "analytics/send_time.h"
#include "campaign/experiment.h"

using namespace rapport;
using namespace rapport::analytics;

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// As AnalyticsService does after each batch it reads: the changed values and entity states,
// serialized for the commit (the store itself is not measured).
constexpr size_t kBatch = 10000;
void TakeAll(ReportBook& book, SendTimeBook* sto) {
  std::vector<AnalyticsDailyValue> daily;
  std::vector<AnalyticsEntityWrite> entities;
  book.TakeChanges(daily, entities);
  if (sto) sto->TakeChanges(entities);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<Event> Generate(int64_t contacts, int64_t events) {
  const char* zones[] = {"America/New_York", "Europe/Paris", "Asia/Tokyo"};
  std::vector<Event> log;
  log.reserve(static_cast<size_t>(events + contacts));
  const int64_t start = 1'767'225'600'000'000;  // 2026-01-01
  int64_t id = 0;
  for (ContactId c = 1; c <= contacts; ++c) {
    Event e;
    e.id = e.position = ++id;
    e.workspace_id = 1;
    e.contact_id = c;
    e.name = "contact.created";
    e.properties = json::object{{"timezone", zones[c % 3]}};
    e.occurred_at = FromMicros(start);
    log.push_back(std::move(e));
  }
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> who(1, contacts);
  std::uniform_real_distribution<double> u(0, 1);
  const int64_t step = 180 * kMicrosPerDay / std::max<int64_t>(1, events);
  int64_t t = start, message = 0;
  auto add = [&](ContactId c, const char* name, int64_t at, int64_t mid, int machine) {
    Event e;
    e.id = e.position = ++id;
    e.workspace_id = 1;
    e.contact_id = c;
    e.name = name;
    e.properties = json::object{{"message_id", mid}, {"template", "news"}, {"class", "marketing"}};
    if (machine >= 0) e.properties["machine"] = machine == 1;
    e.occurred_at = FromMicros(at);
    log.push_back(std::move(e));
  };
  while (static_cast<int64_t>(log.size()) < events + contacts) {
    const ContactId c = who(rng);
    const int64_t mid = ++message;
    t += step * 3;
    add(c, "message.queued", t, mid, -1);
    add(c, "message.sent", t + 1000, mid, -1);
    // Each contact has a habit: an offset of hours after the send at which they read.
    const int64_t habit = (c * 7919) % 48;
    if (u(rng) < 0.35) add(c, "email_opened", t + habit * 3'600'000'000, mid, u(rng) < 0.3 ? 1 : 0);
    if (u(rng) < 0.08) add(c, "email_clicked", t + habit * 3'600'000'000 + 60'000'000, mid, 0);
  }
  return log;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: send_time_bench CONTACTS EVENTS ROUNDS\n");
    return 2;
  }
  const int64_t contacts = std::stoll(argv[1]), events = std::stoll(argv[2]);
  const int rounds = std::stoi(argv[3]);
  const std::vector<Event> log = Generate(contacts, events);
  auto utc = [](WorkspaceId) { return std::string("UTC"); };
  std::vector<double> peer_rate, both_rate, ratio, choices_rate, decide2_ms, decide4_ms;
  for (int r = 0; r < rounds; ++r) {
    double peer = 0, both = 0;
    {
      ReportBook book(AnalyticsOptions{}, utc);
      auto t0 = std::chrono::steady_clock::now();
      size_t i = 0;
      for (const Event& e : log) {
        book.Apply(e, ToMicros(e.occurred_at));
        if (++i % kBatch == 0) TakeAll(book, nullptr);
      }
      TakeAll(book, nullptr);
      peer = Seconds(t0);
    }
    ReportBook book(AnalyticsOptions{}, utc);
    SendTimeBook sto({}, utc);
    auto t0 = std::chrono::steady_clock::now();
    size_t i = 0;
    for (const Event& e : log) {
      book.Apply(e, ToMicros(e.occurred_at));
      sto.Apply(e);
      if (++i % kBatch == 0) TakeAll(book, &sto);
    }
    TakeAll(book, &sto);
    both = Seconds(t0);
    const double n = static_cast<double>(log.size());
    peer_rate.push_back(n / peer);
    both_rate.push_back(n / both);
    ratio.push_back(both / peer);

    const char* zones[] = {"America/New_York", "Europe/Paris", "Asia/Tokyo"};
    const Timestamp from = FromMicros(1'783'000'000'000'000), to = from + std::chrono::days(7);
    int64_t personal = 0;
    t0 = std::chrono::steady_clock::now();
    for (ContactId c = 1; c <= contacts; ++c) {
      SendTimeProfile p = sto.Profile(1, c, zones[c % 3]);
      auto choice = BestInWindow(p.posterior, *ZoneOrUtc(p.timezone), from, to, p.evidence > 0);
      personal += choice.ok() && choice->personal ? 1 : 0;
    }
    choices_rate.push_back(static_cast<double>(contacts) / Seconds(t0));

    using campaign::ArmOutcome;
    t0 = std::chrono::steady_clock::now();
    auto d2 = campaign::Decide(
        campaign::WinnerMetric::kClicks,
        {ArmOutcome{.recipients = 5000, .successes = 150}, ArmOutcome{.recipients = 5000, .successes = 175}},
        {});
    decide2_ms.push_back(Seconds(t0) * 1000);
    t0 = std::chrono::steady_clock::now();
    auto d4 = campaign::Decide(
        campaign::WinnerMetric::kClicks,
        {ArmOutcome{.recipients = 5000, .successes = 150}, ArmOutcome{.recipients = 5000, .successes = 175},
         ArmOutcome{.recipients = 5000, .successes = 160}, ArmOutcome{.recipients = 5000, .successes = 140}},
        {});
    decide4_ms.push_back(Seconds(t0) * 1000);
    std::printf(
        "round %d: events %zu; peer ReportBook %.0f events/s; ReportBook+SendTimeBook %.0f events/s; ratio "
        "%.3f; "
        "best moment %.0f contacts/s (%lld personal); Decide 2 variants %.2f ms (P(B best) %.3f), 4 variants "
        "%.2f "
        "ms\n",
        r + 1, log.size(), peer_rate.back(), both_rate.back(), ratio.back(), choices_rate.back(),
        static_cast<long long>(personal), decide2_ms.back(), d2.probability_best[1], decide4_ms.back());
    (void)d4;
  }
  std::printf(
      "median: peer %.0f events/s, with send-time %.0f events/s, time ratio %.3f; best moment %.0f "
      "contacts/s; "
      "Decide %.2f ms (2 variants), %.2f ms (4)\n",
      Median(peer_rate), Median(both_rate), Median(ratio), Median(choices_rate), Median(decide2_ms),
      Median(decide4_ms));
  return 0;
}
