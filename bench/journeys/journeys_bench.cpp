// journeys_bench: the journey engine on the embedded SQLite store, in one process.
//
//   journeys_bench --db PATH [--timers N] [--events N] [--rate R] [--journeys J] [--baseline N]
//                  [--seed events|store] [--append-batch K]
//
// 1. Due timers: N runs of a journey "wait 1s, then update an attribute" are entered at once;
//    after the wait the service (started, on its own threads, as `rapport serve` runs it) claims
//    and advances them all. Prints the time from the first timer due to the last run ended and
//    the last of their timeline events read by the feed consumer, and the rate. With --seed store the runs
//    are not entered through events (257 us each: 1M would take minutes before the measure begins) but
//    written at their wait directly, as the engine would have left them (NewRun, then Advance to
//    the wait; the run, its timer, the counters and the journey.entered and journey.step
//    events, 1,000 per JourneyStore::Apply); only the due timers are measured.
// 2. Events to message queued: J active journeys with mixed triggers (event with a property
//    filter, event keyed by a cart id with a goal, segment-free API-less sends); N events are
//    appended at R per second, each a trigger of one journey
//    whose first step sends a transactional template through the real send service. The latency
//    of each is the time from its Append returning (accepted) to the message being queued;
//    prints p50, p99 and max, and counts that every event queued exactly one message.
//    The appender makes one Append per event (--append-batch 1, the default: the API with one
//    event per request, which one thread cannot offer at 5,000/s here), or, with --append-batch
//    K, one Append of every event whose time has come, up to K (what several clients posting
//    at once, or one posting {"events": [...]}, give the store); an event is accepted when the
//    Append holding it returns, and its latency counts from then. The CPU per event is split into
//    the appender's (its thread's CPU time), the send service's (the CPU time of the threads
//    inside Mailer::Send/SendMany) and the rest: the journey engine's feed consumer and scheduler.
// There is no peer: no other journey engine runs here (Dittofeed needs Temporal and ClickHouse).
#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/journey_setup.h"
#include "automation/journey_service.h"
#include "mail/header.h"
#include "store/open.h"

namespace {

using namespace rapport;
using Steady = std::chrono::steady_clock;

int64_t NowNs() { return Steady::now().time_since_epoch().count(); }

// CPU seconds of the calling thread so far.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// CPU seconds (user + system) of the whole process so far: on a shared, loaded machine the wall
// time says how much CPU the process was given; this says how much the work needed.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// Wraps the real mailer: records when the message of entry event "n" was queued.
class TimingMailer final : public automation::Mailer {
 public:
  explicit TimingMailer(automation::Mailer& real) : real_(real) {}
  Result<automation::SendReply> Send(const automation::SendAsk& ask) override {
    double cpu0 = ThreadCpuSeconds();
    auto r = real_.Send(ask);
    send_cpu_ += ThreadCpuSeconds() - cpu0;
    if (r.ok() && r->queued && !r->replayed) {
      std::lock_guard lock(mu_);
      Record(ask, NowNs());
    }
    return r;
  }
  std::vector<Result<automation::SendReply>> SendMany(const std::vector<automation::SendAsk>& asks) override {
    double cpu0 = ThreadCpuSeconds();
    auto out = real_.SendMany(asks);
    send_cpu_ += ThreadCpuSeconds() - cpu0;
    int64_t now = NowNs();
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < asks.size() && i < out.size(); ++i)
      if (out[i].ok() && out[i]->queued && !out[i]->replayed) Record(asks[i], now);
    return out;
  }
  Result<std::string> PreviewSubject(const automation::SendAsk& ask) override {
    return real_.PreviewSubject(ask);
  }
  std::vector<std::pair<int64_t, int64_t>> Take() {
    std::lock_guard lock(mu_);
    return queued_;
  }
  // CPU seconds spent in the send service (render, compose, the outbox's enqueue and commit),
  // on the threads that called it.
  double SendCpu() const { return send_cpu_.load(); }

 private:
  void Record(const automation::SendAsk& ask, int64_t ns) {  // mu_ held
    const json::value* e = ask.data.if_contains("entry");
    const json::value* n = e && e->is_object() ? e->get_object().if_contains("n") : nullptr;
    if (n && n->is_int64()) queued_.emplace_back(n->get_int64(), ns);
  }
  automation::Mailer& real_;
  std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> queued_;  // (n, ns)
  std::atomic<double> send_cpu_{0};
};

struct Args {
  std::string db;
  int64_t timers = 100000;
  int64_t events = 20000;
  int rate = 5000;
  int journeys = 20;
  int64_t baseline = 0;
  bool seed_store = false;
  int append_batch = 1;
};

double Load1() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--db")
      a.db = v;
    else if (k == "--timers")
      a.timers = std::stoll(v);
    else if (k == "--events")
      a.events = std::stoll(v);
    else if (k == "--rate")
      a.rate = std::stoi(v);
    else if (k == "--journeys")
      a.journeys = std::stoi(v);
    else if (k == "--baseline")
      a.baseline = std::stoll(v);
    else if (k == "--seed")
      a.seed_store = v == "store";
    else if (k == "--append-batch")
      a.append_batch = std::max(1, std::stoi(v));
  }
  if (a.db.empty()) {
    std::fprintf(stderr,
                 "usage: journeys_bench --db PATH [--timers N] [--events N] [--rate R] [--journeys J] "
                 "[--baseline N] [--seed events|store] [--append-batch K]\n");
    return 2;
  }
  std::filesystem::remove(a.db);
  std::filesystem::remove(a.db + "-wal");
  std::filesystem::remove(a.db + "-shm");
  const Clock& clock = SystemClock::Instance();
  auto opened = OpenStore("sqlite:" + a.db, clock);
  if (!opened.ok()) return std::fprintf(stderr, "%s\n", opened.error().message.c_str()), 1;
  std::unique_ptr<Store> store = std::move(opened).value();
  if (!store->Migrate().ok()) return 1;
  WorkspaceId ws = store->workspaces().Create("bench")->id;
  MessageTemplate t;
  t.workspace_id = ws;
  t.name = "hello";
  t.subject = "Hello {{ contact.email }}";
  t.text = "Order {{ data.entry.n }}";
  if (!store->templates().Create(t).ok()) return 1;
  auto links = tracking::LinkSigner::Create(std::string(32, 'k'));
  send::SendOptions so;
  so.sender.from = *mail::ParseMailbox("from", "Shop <hello@shop.example>");
  so.public_url = "https://mail.shop.example";
  send::SendService sender(*store, clock, *links, so);
  app::SendServiceMailer real(*store, sender, clock);
  TimingMailer mailer(real);
  auto registry = app::BuildStepRegistry();
  automation::JourneyService svc(*store, clock, *registry,
                                 automation::JourneyPorts{&mailer, nullptr, nullptr});
  if (!svc.Step().ok()) return 1;

  // Contacts, created before the journeys so that nothing triggers on them.
  int64_t contacts = std::max<int64_t>(a.timers, 10000);
  {
    std::vector<NewEvent> batch;
    for (int64_t i = 0; i < contacts; ++i) {
      NewEvent e;
      e.contact.email = "u" + std::to_string(i) + "@example.com";
      e.name = "seen";
      batch.push_back(std::move(e));
      if (batch.size() == 1000 || i + 1 == contacts) {
        if (!store->events().Append(ws, batch, clock.Now()).ok()) return 1;
        batch.clear();
      }
    }
  }

  // 1. Due timers, on a service of their own whose clock is a FakeClock: the runs are entered
  // and brought to their wait, then the clock moves past the wait and the time to advance every
  // due timer is measured (wall time). With --baseline N, the same is first done for N runs with
  // a claim batch of 1 (one transaction per timer, one send transaction per message: the engine
  // before issue 18's batching), and the ratio of the two due-timer rates is printed.
  auto timers_phase = [&](const std::string& name, int64_t n, int claim_batch, double& rate) -> int {
    FakeClock fake(clock.Now());
    automation::JourneyServiceOptions options;
    options.claim_batch = claim_batch;
    automation::JourneyService timers(*store, fake, *registry,
                                      automation::JourneyPorts{&mailer, nullptr, nullptr}, options);
    auto timer_doc = json::parse(
        R"({"name":")" + name + R"(","trigger":{"type":"event","event":")" + name +
        R"("},"steps":[{"id":"w","kind":"wait","duration":"1h","next":"u"},{"id":"u","kind":"exit"}]})");
    auto tj = timers.Create(ws, timer_doc);
    if (!tj.ok() || !timers.Activate(ws, tj->id).ok()) return 1;
    if (!timers.Step().ok()) return 1;
    auto begin = Steady::now();
    double begin_cpu = CpuSeconds();
    if (a.seed_store) {
      auto def = timers.Definition(ws, tj->id, 1);
      auto live = store->journeys().Get(ws, tj->id);
      if (!def.ok() || !live.ok()) return 1;
      JourneyWrite w;
      for (int64_t i = 0; i < n; ++i) {
        JourneyRun run = automation::NewRun(**def, *live, i + 1, "", name, json::object{}, fake.Now());
        auto r = automation::Advance(**def, run, fake.Now(), timers.env());
        if (!r.ok()) return 1;
        run.seq = 1;
        int index = static_cast<int>(w.runs.size());
        w.events.push_back(
            JourneyEvent{ws, i + 1, "journey.entered",
                         json::object{{"journey_id", tj->id}, {"version", 1}, {"trigger", name}}, index});
        for (auto& [ename, props] : r->events)
          w.events.push_back(JourneyEvent{ws, i + 1, ename, props, index});
        w.runs.push_back(RunWrite{std::move(run), 0, r->timer});
        if (w.runs.size() == 1000 || i + 1 == n) {
          w.counts.push_back(StepCount{ws, tj->id, 1, "w", static_cast<int64_t>(w.runs.size())});
          if (!store->journeys().Apply(w).ok()) return 1;
          w = JourneyWrite{};
        }
      }
    }
    std::vector<NewEvent> batch;
    for (int64_t i = 0; i < (a.seed_store ? 0 : n); ++i) {
      NewEvent e;
      e.contact.id = i + 1;
      e.contact.create_contact = false;
      e.name = name;
      batch.push_back(std::move(e));
      if (batch.size() == 1000 || i + 1 == n) {
        if (!store->events().Append(ws, batch, clock.Now()).ok()) return 1;
        batch.clear();
      }
    }
    // Entered, and each run brought to its wait (a pass handles a bounded number: loop).
    for (auto r = timers.Step();; r = timers.Step()) {
      if (!r.ok()) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
      if (*r == 0) break;
    }
    double enter_s = std::chrono::duration<double>(Steady::now() - begin).count();
    double enter_cpu = CpuSeconds() - begin_cpu;
    // The timers come due; the service runs as `rapport serve` runs it (Start: its own threads)
    // until no timer is left and its feed consumer has read every event the runs appended.
    fake.Advance(std::chrono::hours(2));
    auto due = Steady::now();
    double due_cpu0 = CpuSeconds();
    if (!timers.Start().ok()) return 1;
    timers.Wake();
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      auto next = store->work().NextDue(kJourneyTimerQueue);
      if (!next.ok()) return 1;
      if (*next) continue;
      auto head = store->feed().Head();
      auto at = store->feed().Position(automation::kJourneyConsumer);
      if (head.ok() && at.ok() && *at >= *head) break;
    }
    double s = std::chrono::duration<double>(Steady::now() - due).count();
    double due_cpu = CpuSeconds() - due_cpu0;
    timers.Stop();
    auto rows = store->journeys().Stats(ws, tj->id);
    int64_t exited = rows->front().exited;
    rate = static_cast<double>(n) / s;
    std::printf(
        "journeys timers (claim batch %d): %lld runs entered (event -> run at its wait) in %.2f s = %.0f/s; "
        "%lld due timers advanced in %.2f s = %.0f timers/s (runs ended: %lld; load %.1f)\n",
        claim_batch, static_cast<long long>(n), enter_s, static_cast<double>(n) / enter_s,
        static_cast<long long>(n), s, rate, static_cast<long long>(exited), Load1());
    std::printf(
        "journeys timers (claim batch %d): CPU %.1f us per run entered (append included), %.1f us per due "
        "timer "
        "(%.0f timers per CPU-second)\n",
        claim_batch, 1e6 * enter_cpu / static_cast<double>(n), 1e6 * due_cpu / static_cast<double>(n),
        static_cast<double>(n) / due_cpu);
    std::fflush(stdout);
    if (!timers.Archive(ws, tj->id).ok()) return 1;
    return exited == n ? 0 : 3;
  };
  double base_rate = 0, rate = 0;
  if (a.baseline > 0)
    if (int rc = timers_phase("tick_one", std::min(a.baseline, contacts), 1, base_rate); rc != 0) return rc;
  if (a.timers > 0)
    if (int rc = timers_phase("tick", a.timers, 1000, rate); rc != 0) return rc;
  if (base_rate > 0 && rate > 0)
    std::printf("journeys timers: batched / one-at-a-time due timers/s = %.1fx\n", rate / base_rate);

  // 2. Events to message queued, with the service's own thread (woken by appends). Its consumer
  // first reads past phase 1's events (no live journey yet: they trigger nothing).
  for (auto r = svc.Step(); r.ok() && *r > 0; r = svc.Step()) {
  }
  std::vector<JourneyId> ids;
  for (int j = 0; j < a.journeys; ++j) {
    std::string doc;
    if (j % 2 == 0)
      doc = fmt::format(
          R"({{"name":"ev{}","trigger":{{"type":"event","event":"e{}","where":{{"n":{{"gte":0}}}}}},
        "entry":{{"reentry":"always"}},
        "steps":[{{"id":"s","kind":"send","template":"hello","class":"transactional"}}]}})",
          j, j);
    else
      doc = fmt::format(R"({{"name":"ev{}","trigger":{{"type":"event","event":"e{}"}},
        "entry":{{"key":"n","reentry":"always"}},"goal":{{"event":"bought","match":"n"}},
        "steps":[{{"id":"s","kind":"send","template":"hello","class":"transactional","next":"w"}},
                 {{"id":"w","kind":"wait","duration":"1d"}}]}})",
                        j, j);
    auto jj = svc.Create(ws, json::parse(doc));
    if (!jj.ok() || !svc.Activate(ws, jj->id).ok()) return std::fprintf(stderr, "journey %d\n", j), 1;
    ids.push_back(jj->id);
  }
  if (!svc.Start().ok()) return 1;
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the live set is refreshed
  std::vector<int64_t> accepted(static_cast<size_t>(a.events), 0);
  auto begin = Steady::now();
  double events_cpu0 = CpuSeconds();
  double append_cpu0 = ThreadCpuSeconds();
  double send_cpu0 = mailer.SendCpu();
  double load_begin = Load1();
  int64_t appends = 0;
  auto due_at = [&](int64_t i) {
    return begin + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * i / a.rate));
  };
  std::vector<NewEvent> batch;
  for (int64_t i = 0; i < a.events;) {
    std::this_thread::sleep_until(due_at(i));
    // Every event whose time has come, up to --append-batch, in one Append.
    int64_t from = i;
    auto now = Steady::now();
    batch.clear();
    do {
      NewEvent e;
      e.contact.id = 1 + (i % contacts);
      e.contact.create_contact = false;
      e.name = "e" + std::to_string(i % a.journeys);
      e.properties = json::object{{"n", i}};
      batch.push_back(std::move(e));
      ++i;
    } while (i < a.events && static_cast<int64_t>(batch.size()) < a.append_batch && due_at(i) <= now);
    auto r = store->events().Append(ws, batch, clock.Now());
    if (!r.ok()) return 1;
    ++appends;
    int64_t ns = NowNs();  // durable: what the API's 202 says
    for (int64_t k = from; k < i; ++k) accepted[static_cast<size_t>(k)] = ns;
  }
  double offered = std::chrono::duration<double>(Steady::now() - begin).count();
  double append_cpu = ThreadCpuSeconds() - append_cpu0;  // this thread only appends
  int64_t queued = 0;
  for (int k = 0; k < 600 && queued < a.events; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    queued = static_cast<int64_t>(mailer.Take().size());
  }
  svc.Stop();
  double events_cpu = CpuSeconds() - events_cpu0;
  std::vector<int64_t> lat;
  std::vector<int> times(static_cast<size_t>(a.events), 0);
  for (const auto& [n, ns] : mailer.Take()) {
    if (n < 0 || n >= a.events) continue;
    ++times[static_cast<size_t>(n)];
    lat.push_back(std::max<int64_t>(0, ns - accepted[static_cast<size_t>(n)]) / 1000);
  }
  int64_t twice = std::count_if(times.begin(), times.end(), [](int t) { return t > 1; });
  int64_t lost = std::count(times.begin(), times.end(), 0);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))];
  };
  int64_t outbox = *store->outbox().CountByState(MessageState::kQueued);
  std::printf(
      "journeys events: %lld events over %d journeys at %.0f/s offered (%.1f s); queued %zu (outbox %lld); "
      "lost %lld, twice %lld; latency accepted->queued p50 %.2f ms p99 %.2f ms max %.2f ms\n",
      static_cast<long long>(a.events), a.journeys, a.events / offered, offered, lat.size(),
      static_cast<long long>(outbox), static_cast<long long>(lost), static_cast<long long>(twice),
      pct(0.5) / 1000.0, pct(0.99) / 1000.0, lat.empty() ? 0.0 : lat.back() / 1000.0);
  if (a.events > 0)
    std::printf("journeys events: %lld appends (%.1f events each, --append-batch %d); load %.1f -> %.1f\n",
                static_cast<long long>(appends), static_cast<double>(a.events) / static_cast<double>(appends),
                a.append_batch, load_begin, Load1());
  if (a.events > 0)
    std::printf(
        "journeys events: CPU %.1f us per event (append, run, send, writes; %.1f s in %.1f s of wall time)\n",
        1e6 * events_cpu / static_cast<double>(a.events), events_cpu,
        std::chrono::duration<double>(Steady::now() - begin).count());
  if (a.events > 0) {
    double send_cpu = mailer.SendCpu() - send_cpu0;
    double per = 1e6 / static_cast<double>(a.events);
    std::printf(
        "journeys events: CPU per event by part: append %.1f us, send service %.1f us, journey engine (feed "
        "consumer + scheduler) and the rest %.1f us\n",
        per * append_cpu, per * send_cpu, per * (events_cpu - append_cpu - send_cpu));
  }
  return lost == 0 && twice == 0 ? 0 : 3;
}
