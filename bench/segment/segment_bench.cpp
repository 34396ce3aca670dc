// The segment benchmark's rapport side: generates N contacts (10 attributes of mixed types, a
// topic) and ~10 events each, deterministically; builds the profile index from them as the feed
// would (one contact.created / topic.subscribed / event at a time: the rebuild path), writes the
// same data as CSV for the peers (bench/segment/run loads them into SQLite, PostgreSQL, DuckDB),
// then counts the three expressions `rounds` times and prints one JSON line per expression with
// the count and the median scan time, and the index's size, build time and an incremental
// update's cost with 100 saved segments.
//
//   segment_bench N OUT_DIR [rounds] [events_per_contact=10] [segments=100]
//
// `segments` 0 skips the incremental part (whose deadline queue grows with N x segments).
//
// Each contact gets between E/2 and 3E/2 events (E = events_per_contact; 5..15 for the default
// 10, 1..3 for 2: the issue's 10M contacts with 20M events).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <date/date.h>
#include <fmt/format.h>

#include "segment/checker.h"
#include "segment/evaluator.h"
#include "segment/segment_engine.h"

using namespace rapport;
using namespace rapport::segment;

namespace {

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t kNow = 1'781'524'800'000'000;  // 2026-06-15T12:00:00Z

const char* kPlans[] = {"free", "pro", "team"};
const char* kLangs[] = {"en", "fr", "de", "es", "it", "nl", "pt", "sv"};
const char* kSources[] = {"ads", "seo", "referral", "social", "email", "event"};
const char* kCountries[] = {"FR", "DE", "US", "GB", "ES", "IT", "NL", "BE", "CH", "SE",
                            "NO", "DK", "PL", "PT", "IE", "AT", "CA", "AU", "JP", "BR"};

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

long MaxRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: segment_bench N OUT_DIR [rounds] [events_per_contact]\n";
    return 2;
  }
  const int64_t n = std::stoll(argv[1]);
  const std::string dir = argv[2];
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 7;
  const int per_contact = std::max(1, argc > 4 ? std::stoi(argv[4]) : 10);
  const int segments = argc > 5 ? std::stoi(argv[5]) : 100;
  const int min_events = std::max(1, per_contact / 2), max_events = per_contact + per_contact / 2;
  std::mt19937_64 rng(42);
  auto pick = [&](uint64_t k) { return rng() % k; };

  std::ofstream contacts(dir + "/contacts.csv"), events(dir + "/events.csv"), topics(dir + "/topics.csv");
  contacts << "id,city,country,age,plan,vip,score,signup,lang,source,ltv\n";
  events << "contact_id,name,at,total\n";
  topics << "contact_id,topic\n";

  SegmentEngine engine;
  ProfileIndex& index = engine.index();
  // The three expressions' streams exist before the data arrives (as saved segments' would).
  Schema schema;
  const std::vector<std::string> kExpr = {
      R"(city = "city7" and age >= 30 and plan in ("pro", "team"))",
      R"(country = "FR" and at least 2 order_placed where total > 50 in the last 90 days)",
      R"(opened any message in the last 30 days and subscribed to news and no page_viewed in the last 14 days)"};
  schema.topics = {"news"};
  std::vector<ExprPtr> exprs;
  for (const auto& text : kExpr) {
    auto r = Compile(text, schema);
    if (auto* e = std::get_if<ParseError>(&r)) {
      std::cerr << e->ToString() << "\n";
      return 1;
    }
    exprs.push_back(std::get<ExprPtr>(std::move(r)));
    BindStreams(*exprs.back(), index);
  }

  int64_t position = 0, event_count = 0;
  auto build_start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration csv_time{};
  for (int64_t id = 1; id <= n; ++id) {
    std::string city = fmt::format("city{}", pick(50));
    std::string country = kCountries[pick(20)];
    int age = 18 + static_cast<int>(pick(63));
    std::string plan = kPlans[pick(3)];
    bool vip = pick(10) == 0;
    double score = static_cast<double>(pick(10000)) / 100;
    int64_t signup_day = (kNow / kDay) - static_cast<int64_t>(pick(1500));
    std::string lang = kLangs[pick(8)];
    std::string source = kSources[pick(6)];
    double ltv = static_cast<double>(pick(500000)) / 100;
    std::string signup = date::format("%F", date::sys_days(date::days(signup_day)));
    Event c;
    c.workspace_id = 1;
    c.contact_id = id;
    c.name = "contact.created";
    c.position = ++position;
    c.occurred_at = FromMicros(signup_day * kDay);
    c.properties = json::object{{"email", fmt::format("c{}@example.org", id)},
                                {"status", "active"},
                                {"attributes", json::object{{"city", city},
                                                            {"country", country},
                                                            {"age", age},
                                                            {"plan", plan},
                                                            {"vip", vip},
                                                            {"score", score},
                                                            {"signup", signup},
                                                            {"lang", lang},
                                                            {"source", source},
                                                            {"ltv", ltv}}}};
    engine.Apply(c, kNow);
    bool news = pick(10) < 4;
    if (news) {
      Event t;
      t.workspace_id = 1;
      t.contact_id = id;
      t.name = "topic.subscribed";
      t.position = ++position;
      t.occurred_at = c.occurred_at;
      t.properties = json::object{{"topic", "news"}};
      engine.Apply(t, kNow);
    }
    int k = min_events + static_cast<int>(pick(static_cast<uint64_t>(max_events - min_events + 1)));
    std::vector<std::tuple<std::string, int64_t, int>> evs;
    for (int j = 0; j < k; ++j) {
      uint64_t kind = pick(10);
      const char* name = kind < 3 ? "order_placed" : kind < 8 ? "page_viewed" : "email_opened";
      int64_t at = kNow - static_cast<int64_t>(pick(365 * 24 * 60)) * 60'000'000;
      int total = kind < 3 ? static_cast<int>(pick(200)) : -1;
      Event e;
      e.workspace_id = 1;
      e.contact_id = id;
      e.name = name;
      e.position = ++position;
      e.occurred_at = FromMicros(at);
      if (total >= 0) e.properties = json::object{{"total", total}};
      if (kind >= 8) e.properties = json::object{{"machine", false}};  // a human open, as tracking records it
      engine.Apply(e, kNow);
      evs.emplace_back(name, at, total);
      ++event_count;
    }
    auto csv_start = std::chrono::steady_clock::now();
    contacts << fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", id, city, country, age, plan,
                            vip ? "true" : "false", score, signup, lang, source, ltv);
    if (news) topics << id << ",news\n";
    for (auto& [name, at, total] : evs)
      events << fmt::format("{},{},{},{}\n", id, name, at, total >= 0 ? std::to_string(total) : "");
    csv_time += std::chrono::steady_clock::now() - csv_start;
  }
  double build_s = Seconds(std::chrono::steady_clock::now() - build_start - csv_time);
  contacts.close();
  events.close();
  topics.close();
  IndexStats st = index.Stats();
  std::cout << json::serialize(
                   json::object{{"kind", "index"},
                                {"contacts", st.contacts},
                                {"events", event_count},
                                {"stream_entries", st.events},
                                {"bytes", st.bytes},
                                {"bytes_per_contact", static_cast<double>(st.bytes) / static_cast<double>(n)},
                                {"build_s", build_s},
                                {"max_rss_mb", MaxRssMb()}})
            << std::endl;

  EvalContext ctx{kNow, "UTC", nullptr};
  const unsigned threads = ScanThreads();
  // SEGMENT_BENCH_EXPR=i: count only the i-th expression (to profile it alone with perf record).
  const char* only_env = std::getenv("SEGMENT_BENCH_EXPR");
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (only_env && std::to_string(i) != only_env) continue;
    // Alternated: the parallel scan (what the service runs) and one thread.
    std::vector<double> ms, ms1;
    uint64_t count = 0, count1 = 0;
    for (int r = 0; r < rounds; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      count = ParallelScan(index, ctx, *exprs[i], index.Workspace(1), threads).Cardinality();
      ms.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1000);
      t0 = std::chrono::steady_clock::now();
      Evaluator ev(index, ctx);
      count1 = ev.Scan(*exprs[i], index.Workspace(1)).Cardinality();
      ms1.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1000);
    }
    if (count != count1) {
      std::cerr << "parallel and single-threaded counts differ: " << count << " vs " << count1 << "\n";
      return 1;
    }
    std::sort(ms.begin(), ms.end());
    std::sort(ms1.begin(), ms1.end());
    std::cout << json::serialize(json::object{{"kind", "count"},
                                              {"expression", kExpr[i]},
                                              {"count", count},
                                              {"threads", threads},
                                              {"median_ms", ms[ms.size() / 2]},
                                              {"min_ms", ms.front()},
                                              {"single_thread_median_ms", ms1[ms1.size() / 2]}})
              << std::endl;
  }

  // Incremental: 100 saved segments (the three expressions and variants), then events for
  // random contacts: the time to apply one event and re-evaluate what it affects.
  if (segments == 0) return 0;
  for (int s = 0; s < segments; ++s) {
    SavedSegment seg;
    seg.id = s + 1;
    seg.workspace_id = 1;
    seg.name = fmt::format("s{}", s);
    seg.expression =
        s % 3 == 0 ? fmt::format(R"(city = "city{}" and age >= {})", s % 50, 18 + s % 40)
        : s % 3 == 1
            ? fmt::format("at least {} order_placed where total > {} in the last {} days", 1 + s % 3, s % 150,
                          7 + s)
            : fmt::format("opened any message in the last {} days and no page_viewed in the last {} days",
                          10 + s, 3 + s % 20);
    auto r = engine.Upsert(seg, schema, kNow, "UTC");
    if (!r.ok()) {
      std::cerr << r.error().message << "\n";
      return 1;
    }
    if (!r->empty()) engine.Recompute(seg.id, kNow);  // streams of new filters start empty here
  }
  engine.TakeChanges(SIZE_MAX);
  std::vector<double> us;
  // SEGMENT_BENCH_UPDATES: more updates, to profile this part alone (perf record).
  const char* updates_env = std::getenv("SEGMENT_BENCH_UPDATES");
  const int updates = updates_env ? std::max(100, std::atoi(updates_env)) : 20000;
  for (int u = 0; u < updates; ++u) {
    Event e;
    e.workspace_id = 1;
    e.contact_id = 1 + static_cast<int64_t>(pick(static_cast<uint64_t>(n)));
    e.name = u % 2 ? "order_placed" : "page_viewed";
    e.position = ++position;
    e.occurred_at = FromMicros(kNow - static_cast<int64_t>(pick(1000)) * 1'000'000);
    if (u % 2) e.properties = json::object{{"total", static_cast<int>(pick(200))}};
    auto t0 = std::chrono::steady_clock::now();
    engine.Apply(e, kNow);
    us.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e6);
  }
  std::sort(us.begin(), us.end());
  std::cout << json::serialize(json::object{{"kind", "incremental"},
                                            {"segments", segments},
                                            {"updates", updates},
                                            {"median_us", us[us.size() / 2]},
                                            {"p99_us", us[us.size() * 99 / 100]},
                                            {"max_rss_mb", MaxRssMb()}})
            << std::endl;
  return 0;
}
