// bench/analytics (see ./run):
//   analytics_bench models              the CLV model checks: parameter recovery on data drawn
//                                       from known parameters, and a calibration/holdout split
//                                       against the naive "same as last period" baseline, and
//                                       the fit of 200,000 customers capped at the default sample
//   analytics_bench fold N M DIR ROUNDS  generates N contacts and M events, folds them into the
//                                       ReportBook on one core (events/s), times the overview
//                                       call, and writes DIR/events.csv for DuckDB's side
//   analytics_bench consumer N M DIR     the same history appended to a SQLite store in DIR, then
//                                       the AnalyticsService consumer run over it end to end
//                                       (feed reads, the fold, the store commits) on one thread
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "analytics/analytics_service.h"
#include "analytics/clv_model.h"
#include "analytics/report_book.h"
#include "analytics/send_time.h"
#include "core/clock.h"
#include "store/open.h"

using namespace rapport;
using namespace rapport::analytics;

namespace {

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= static_cast<double>(a.size());
  mb /= static_cast<double>(b.size());
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

// The fit at scale as the consumer runs it (issue 17): 200,000 customers' orders folded into a
// ReportBook, then the sample (ClvOptions::max_fit_customers, default 20,000) taken and fitted, as
// AnalyticsService's background fit does. One line, the times apart.
int CappedFit(const BgNbdParams& truth, const GammaGammaParams& spend) {
  constexpr int kCustomers = 200'000;
  std::mt19937_64 rng(2026 + kCustomers);
  auto sim = Simulate(truth, spend, kCustomers, 180, 360, rng);
  const int64_t day = kMicrosPerDay;
  const int64_t now = 1'798'761'600'000'000;  // 2027-01-01
  struct Order {
    int64_t at;
    ContactId contact;
    double total;
  };
  std::vector<Order> orders;
  for (size_t i = 0; i < sim.size(); ++i) {
    const int64_t first = now - static_cast<int64_t>(sim[i].T * static_cast<double>(day));
    const auto id = static_cast<ContactId>(i + 1);
    orders.push_back({first, id, sim[i].spends[0]});
    for (size_t k = 0; k < sim[i].times.size(); ++k)
      orders.push_back({first + static_cast<int64_t>(sim[i].times[k] * static_cast<double>(day)), id,
                        sim[i].spends[k + 1]});
  }
  std::sort(orders.begin(), orders.end(), [](const Order& a, const Order& b) { return a.at < b.at; });
  ReportBook book(AnalyticsOptions{}, [](WorkspaceId) { return std::string("UTC"); });
  EventId next = 0;
  for (const Order& o : orders) {
    Event e;
    e.id = e.position = ++next;
    e.workspace_id = 1;
    e.contact_id = o.contact;
    e.name = "order_placed";
    e.properties = json::object{{"total", std::round(o.total * 100) / 100}};
    e.occurred_at = e.received_at = FromMicros(o.at);
    book.Apply(e, o.at);
    if (next % 100'000 == 0) {  // what the consumer appends as events, taken per batch as it does
      (void)book.TakeClvChanges();
      (void)book.TakeLifecycleChanges();
      (void)book.TakeEngagementChanges();
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  std::vector<CustomerSummary> sample = book.CustomerSample(1, now);
  auto t1 = std::chrono::steady_clock::now();
  ClvModel m = FitClv(sample, book.options().clv);
  auto t2 = std::chrono::steady_clock::now();
  if (!m.fitted) return 1;
  fmt::print(
      "capped fit: {} customers ({} orders), sample of {} (max_fit_customers {}) taken in {:.0f} ms, fitted "
      "in {:.2f} s: r {:.3f} alpha {:.2f} a {:.3f} b {:.3f}, mean spend {:.2f} (true {:.2f})\n",
      book.Customers(1), orders.size(), sample.size(), book.options().clv.max_fit_customers,
      std::chrono::duration<double, std::milli>(t1 - t0).count(),
      std::chrono::duration<double>(t2 - t1).count(), m.bgnbd.r, m.bgnbd.alpha, m.bgnbd.a, m.bgnbd.b,
      m.gg.p * m.gg.gamma / (m.gg.q - 1), spend.p * spend.gamma / (spend.q - 1));
  return 0;
}

int Models() {
  BgNbdParams truth{0.5, 10.0, 0.7, 2.5};
  GammaGammaParams spend{6.0, 4.0, 15.0};
  for (int n : {2000, 6000, 20000}) {
    std::mt19937_64 rng(2026 + static_cast<uint64_t>(n));
    auto sim = Simulate(truth, spend, n, 180, 360, rng);
    std::vector<CustomerSummary> data;
    for (const auto& c : sim) data.push_back(Summarize(c, c.T));
    auto t0 = std::chrono::steady_clock::now();
    auto bg = FitBgNbd(data);
    auto gg = FitGammaGamma(data);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!bg || !gg) return 1;
    fmt::print(
        "recovery n={}: r {:.3f} (true {}), alpha {:.2f} ({}), a {:.3f} ({}), b {:.3f} ({}); "
        "p {:.2f} ({}), q {:.2f} ({}), gamma {:.2f} ({}), mean spend {:.2f} ({:.2f}); fit {:.2f} s\n",
        n, bg->r, truth.r, bg->alpha, truth.alpha, bg->a, truth.a, bg->b, truth.b, gg->p, spend.p, gg->q,
        spend.q, gg->gamma, spend.gamma, gg->p * gg->gamma / (gg->q - 1),
        spend.p * spend.gamma / (spend.q - 1), secs);
  }
  // Calibration/holdout: customers observed for 360 days after their first purchase (their
  // first purchases spread over the first 180 days of the period), fitted on the first 270 days
  // of each one's history, predicted for the next 90; the naive baseline predicts the purchases
  // of the last 90 days of the calibration period.
  std::mt19937_64 rng(7);
  auto sim = Simulate(truth, spend, 10000, 360, 360, rng);
  double cal = 270, hold = 90;
  std::vector<CustomerSummary> calib;
  for (const auto& c : sim) calib.push_back(Summarize(c, cal));
  auto bg = FitBgNbd(calib);
  if (!bg) return 1;
  std::vector<double> predicted, naive, actual;
  for (size_t i = 0; i < sim.size(); ++i) {
    double in_hold = 0, last = 0;
    for (double t : sim[i].times) {
      if (t > cal && t <= cal + hold) in_hold += 1;
      if (t > cal - hold && t <= cal) last += 1;
    }
    actual.push_back(in_hold);
    naive.push_back(last);
    predicted.push_back(ExpectedPurchases(*bg, calib[i], hold));
  }
  double sum_p = 0, sum_a = 0, mae_p = 0, mae_n = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    sum_p += predicted[i], sum_a += actual[i];
    mae_p += std::fabs(predicted[i] - actual[i]);
    mae_n += std::fabs(naive[i] - actual[i]);
  }
  auto n = static_cast<double>(actual.size());
  fmt::print(
      "holdout (10000 customers, 270-day calibration, 90-day holdout): correlation with actual "
      "purchases: BG/NBD {:.3f}, naive {:.3f}; mean absolute error: BG/NBD {:.3f}, naive {:.3f}; "
      "total purchases predicted {:.0f}, actual {:.0f}\n",
      Pearson(predicted, actual), Pearson(naive, actual), mae_p / n, mae_n / n, sum_p, sum_a);
  return CappedFit(truth, spend);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

constexpr int64_t kHistoryStart = 1'767'225'600'000'000;  // 2026-01-01

// One event of the benchmark's history.
struct HistoryEvent {
  ContactId contact = 0;
  const char* name = "";
  int64_t at = 0;
  int64_t message_id = 0;            // 0: an order
  const std::string* tpl = nullptr;  // the message's template
  int machine = -1;                  // a hit: 1 a machine's, 0 a person's; -1 not a hit
  double total = 0;                  // an order's
  json::object Properties() const {
    if (!message_id) return json::object{{"total", total}};
    json::object o{{"message_id", message_id}, {"template", *tpl}, {"class", "marketing"}};
    if (machine >= 0) o["machine"] = machine == 1;
    return o;
  }
};

struct HistoryTotals {
  int64_t events = 0, messages = 0;
  int64_t last_message_us = 0;  // when the last message was queued
  int64_t latest_us = 0;        // the latest event's time (an open or an order comes after it)
};

// The history both the fold and the consumer benchmarks fold: `events` events of `contacts`
// contacts from 2026-01-01 over about 220 days, deterministic (seed 42). Per message queued, sent,
// maybe opened (by a person or a machine), maybe clicked; some contacts order. Calls emit(event).
template <class Emit>
HistoryTotals History(int64_t contacts, int64_t events, Emit&& emit) {
  std::mt19937_64 rng(42);
  const int64_t step = 180 * kMicrosPerDay / std::max<int64_t>(1, events);
  std::vector<std::string> templates;
  for (int i = 0; i < 40; ++i) templates.push_back("template_" + std::to_string(i));
  HistoryTotals h;
  h.latest_us = kHistoryStart;
  auto add = [&](ContactId c, const char* name, int64_t at, int64_t mid, const std::string* tpl, int machine,
                 double total) {
    ++h.events;
    h.latest_us = std::max(h.latest_us, at);
    emit(HistoryEvent{c, name, at, mid, tpl, machine, total});
  };
  std::uniform_int_distribution<int64_t> who(1, contacts);
  std::uniform_real_distribution<double> u(0, 1);
  int64_t t = kHistoryStart;
  while (h.events < events) {
    ContactId c = who(rng);
    int64_t mid = ++h.messages;
    const std::string* tpl = &templates[rng() % templates.size()];
    t += step * 3;
    add(c, "message.queued", t, mid, tpl, -1, 0);
    add(c, "message.sent", t + 1000, mid, tpl, -1, 0);
    if (u(rng) < 0.35) add(c, "email_opened", t + 3'600'000'000, mid, tpl, u(rng) < 0.3 ? 1 : 0, 0);
    if (u(rng) < 0.08) add(c, "email_clicked", t + 3'700'000'000, mid, tpl, 0, 0);
    if (u(rng) < 0.03)
      add(c, "order_placed", t + 7'200'000'000, 0, nullptr, -1, std::round(u(rng) * 20000) / 100);
  }
  h.last_message_us = t;
  return h;
}

int Fold(int64_t contacts, int64_t events, const std::string& dir, int rounds) {
  const int64_t day = kMicrosPerDay;
  const int64_t start = kHistoryStart;
  ReportBook book(AnalyticsOptions{}, [](WorkspaceId) { return std::string("UTC"); });
  std::ofstream csv(dir + "/events.csv");
  csv << "contact_id,name,at,message_id,template,machine,total\n";
  // The history (History), folded in chunks as it is generated.
  int64_t made = 0;
  double fold_seconds = 0;
  std::vector<Event> chunk;
  chunk.reserve(100'000);
  double fold_cpu = 0;
  auto cpu_now = ThreadCpuSeconds;
  // As the consumer does (analytics_service.cpp): batches of 10,000 events, each followed by
  // TakeChanges (the changed cells and entity states serialized for the commit), timed apart.
  double take_cpu = 0, send_time_cpu = 0;
  SendTimeBook send_time(SendTimeOptions{}, [](WorkspaceId) { return std::string("UTC"); });
  ChangeSet changes;  // reused batch to batch, as the consumer's
  std::vector<EventFacts> facts(10'000);
  size_t peak_messages = 0, daily_values = 0, entity_writes = 0, contact_writes = 0, message_writes = 0,
         other_writes = 0, lifecycle_changes = 0, score_decays = 0, score_rises = 0, clv_changes = 0;
  auto flush = [&] {
    for (size_t b = 0; b < chunk.size(); b += 10'000) {
      size_t end = std::min(chunk.size(), b + 10'000);
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpu_now();
      // The event's facts are read once for both folds, as the consumer does; the time of
      // reading them is counted with ReportBook's.
      for (size_t i = b; i < end; ++i) facts[i - b] = ReadFacts(chunk[i]);
      for (size_t i = b; i < end; ++i) {
        if (size_t j = i + ReportBook::kIndexAhead; j < end) book.PrefetchIndex(chunk[j], facts[j - b]);
        if (size_t j = i + ReportBook::kStateAhead; j < end) book.PrefetchState(chunk[j], facts[j - b]);
        book.Apply(chunk[i], facts[i - b], ToMicros(chunk[i].occurred_at));
      }
      double c1 = cpu_now();
      fold_cpu += c1 - c0;
      changes.Clear();
      book.TakeChanges(changes);
      lifecycle_changes += book.TakeLifecycleChanges().size();  // what the consumer appends as events
      for (const auto& ch : book.TakeEngagementChanges())
        (ch.idempotency_key.find(":t") != std::string::npos ? score_decays : score_rises)++;
      clv_changes += book.TakeClvChanges().size();
      take_cpu += cpu_now() - c1;
      fold_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      peak_messages = std::max(peak_messages, book.messages());
      // The consumer's other fold over the same events (send_time.h), timed apart.
      double c2 = cpu_now();
      for (size_t i = b; i < end; ++i) {  // fetching ahead as the consumer's loop does
        if (size_t j = i + ReportBook::kIndexAhead; j < end) send_time.PrefetchIndex(chunk[j], facts[j - b]);
        if (size_t j = i + ReportBook::kStateAhead; j < end) send_time.PrefetchState(chunk[j], facts[j - b]);
        send_time.Apply(chunk[i], facts[i - b]);
      }
      send_time.TakeChanges(changes);
      (void)changes.daily();  // what the consumer hands to the store's Commit
      for (const auto& w : changes.entities())
        (w.kind == "contact" ? contact_writes : w.kind == "message" ? message_writes : other_writes)++;
      send_time_cpu += cpu_now() - c2;
      daily_values += changes.daily_size();
      entity_writes += changes.entities_size();
    }
    chunk.clear();
  };
  const HistoryTotals history = History(contacts, events, [&](const HistoryEvent& h) {
    Event e;
    e.id = ++made;
    e.position = e.id;
    e.workspace_id = 1;
    e.contact_id = h.contact;
    e.name = h.name;
    e.properties = h.Properties();
    e.occurred_at = FromMicros(h.at);
    csv << h.contact << ',' << h.name << ',' << h.at << ',' << h.message_id << ',' << (h.tpl ? *h.tpl : "")
        << ',' << (h.machine == 1 ? "true" : "false") << ',' << h.total << '\n';
    chunk.push_back(std::move(e));
    if (chunk.size() == 100'000) flush();
  });
  flush();
  csv.close();
  const int64_t message = history.messages;
  int64_t now = history.last_message_us + day;
  int64_t from = book.DayOf(1, start), to = book.DayOf(1, now);
  std::vector<double> ms, cpu_ms;
  Overview o;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_now();
    o = book.OverviewOf(1, from, to, now);
    cpu_ms.push_back((cpu_now() - c0) * 1000);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  fmt::print(
      "{{\"kind\":\"fold\",\"contacts\":{},\"events\":{},\"fold_seconds\":{:.3f},\"events_per_second\":{:.0f}"
      ","
      "\"fold_cpu_seconds\":{:.3f},\"events_per_cpu_second\":{:.0f},\"overview_median_ms\":{:.3f},\"overview_"
      "cpu_median_ms\":{:.3f},\"sent\":{},\"opened_human\":{},\"clicked_human\":{},\"orders\":{},"
      "\"order_revenue\":{:.2f},\"days\":{},\"known_contacts\":{},\"take_changes_cpu_seconds\":{:.3f},"
      "\"events_per_cpu_second_with_take_changes\":{:.0f},\"messages_kept\":{},\"peak_messages_kept\":{},"
      "\"messages\":{},\"send_time_cpu_seconds\":{:.3f},\"events_per_cpu_second_consumer\":{:.0f},\"daily_"
      "values_written\":{},\"entity_writes\":{},\"contact_writes\":{},\"message_writes\":{},\"other_writes\":"
      "{},\"lifecycle\":{},\"score_decays\":{},\"score_rises\":{},\"clv\":{}}}\n",
      contacts, made, fold_seconds, static_cast<double>(made) / fold_seconds, fold_cpu,
      static_cast<double>(made) / fold_cpu, ms[ms.size() / 2], cpu_ms[cpu_ms.size() / 2],
      o.totals[Metric::kSent], o.totals[Metric::kOpenedHuman], o.totals[Metric::kClickedHuman],
      o.totals[Metric::kOrders], o.totals[Metric::kOrderRevenue], o.series.size(), book.contacts(), take_cpu,
      static_cast<double>(made) / (fold_cpu + take_cpu), book.messages(), peak_messages, message,
      send_time_cpu, static_cast<double>(made) / (fold_cpu + take_cpu + send_time_cpu), daily_values,
      entity_writes, contact_writes, message_writes, other_writes, lifecycle_changes, score_decays,
      score_rises, clv_changes);
  return 0;
}

}  // namespace

// The consumer end to end: what `Fold` measures, plus reading the events from the store's feed
// (each decoded, its JSON properties parsed) and committing each batch's changed values and
// entity states with the position (SQLite upserts in one transaction), and the contacts that the
// history's first events create. One thread (Step() on the caller's), the CLV fit off.
int Consumer(int64_t contacts, int64_t events, const std::string& dir) {
  const int64_t day = kMicrosPerDay;
  const int64_t start = kHistoryStart;
  FakeClock clock(FromMicros(start));  // then a day after the history's last event
  auto opened = OpenStore("sqlite:" + dir + "/consumer.db", clock);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
    return 1;
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  if (auto m = store->Migrate(); !m.ok()) return 1;
  auto ws = store->workspaces().Create("bench");
  if (!ws.ok()) return 1;
  std::vector<NewEvent> batch;
  int64_t latest = start;
  double append_s = 0;
  auto flush = [&] {
    auto t0 = std::chrono::steady_clock::now();
    clock.Set(FromMicros(latest));  // received as they happen
    auto r = store->events().Append(ws->id, batch, clock.Now());
    append_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) {
      std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    for (const AppendResult& a : *r)
      if (a.outcome != AppendOutcome::kAccepted) {
        std::fprintf(stderr, "append: an event not accepted: %s\n", a.error.message.c_str());
        std::exit(1);
      }
    batch.clear();
  };
  const HistoryTotals history = History(contacts, events, [&](const HistoryEvent& h) {
    NewEvent e;
    e.contact.email = fmt::format("c{}@example.com", h.contact);
    e.name = h.name;
    e.properties = h.Properties();
    e.occurred_at = FromMicros(h.at);
    latest = std::max(latest, h.at);
    batch.push_back(std::move(e));
    if (batch.size() == 1'000) flush();
  });
  if (!batch.empty()) flush();
  const int64_t made = history.events;
  const int64_t now = history.latest_us + day;
  clock.Set(FromMicros(now));
  AnalyticsOptions options;
  options.fit_in_background = false;
  AnalyticsService service(*store, clock, options);
  auto cpu_now = ThreadCpuSeconds;
  auto t0 = std::chrono::steady_clock::now();
  double c0 = cpu_now();
  if (auto st = service.Start(/*run_thread=*/false); !st.ok()) {
    std::fprintf(stderr, "start: %s\n", st.error().message.c_str());
    return 1;
  }
  while (true) {  // Start() caught up; Step() folds what its own appends added after
    auto n = service.Step();
    if (!n.ok()) {
      std::fprintf(stderr, "step: %s\n", n.error().message.c_str());
      return 1;
    }
    if (*n == 0) break;
  }
  double cpu = cpu_now() - c0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto o = service.OverviewOf(ws->id, start / day, now / day);
  const int64_t position = service.position();
  auto head = store->feed().Head();
  service.Stop();
  fmt::print(
      "{{\"kind\":\"consumer\",\"contacts\":{},\"history_events\":{},\"append_seconds\":{:.3f},"
      "\"position\":{},\"log_head\":{},\"consumer_wall_seconds\":{:.3f},\"consumer_cpu_seconds\":{:.3f},"
      "\"history_events_per_cpu_second\":{:.0f},\"sent\":{},\"opened_human\":{},\"order_revenue\":{:.2f}}}\n",
      contacts, made, append_s, position, head.ok() ? *head : -1, wall, cpu, static_cast<double>(made) / cpu,
      o.ok() ? o->totals[Metric::kSent] : -1, o.ok() ? o->totals[Metric::kOpenedHuman] : -1,
      o.ok() ? o->totals[Metric::kOrderRevenue] : -1);
  return 0;
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "models";
  if (mode == "models") return Models();
  if (mode == "fold" && argc >= 6)
    return Fold(std::stoll(argv[2]), std::stoll(argv[3]), argv[4], std::stoi(argv[5]));
  if (mode == "consumer" && argc >= 5) return Consumer(std::stoll(argv[2]), std::stoll(argv[3]), argv[4]);
  std::fprintf(
      stderr,
      "usage: analytics_bench models | fold CONTACTS EVENTS DIR ROUNDS | consumer CONTACTS EVENTS DIR\n");
  return 2;
}
