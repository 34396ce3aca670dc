// feed_bench: how fast one consumer reads the event log through FeedStore::Read, and the sqlite3
// CLI reading the same rows from the same file, side by side (bench/feed/run prints the ratio).
//
//   feed_bench --db PATH [--events N] [--batch B] [--fill-only | --read-only]
// --fill-only: creates PATH with N events (10,000 contacts by email; 1,000 events per Append)
// unless it already holds them. --read-only: reads the whole feed once as a consumer does
// (Read(after, B) until empty), checks every position is above the previous and the count, and
// prints one line: "rapport feed: N events in S s = R events/s (process CPU C s)".
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "store/open.h"

namespace {

using namespace rapport;

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int Fill(Store& store, int64_t n) {
  auto head = store.feed().Head();
  if (!head.ok()) return 1;
  if (*head >= n) return 0;
  auto ws = store.workspaces().FindByName("bench");
  if (!ws.ok()) return 1;
  WorkspaceId id = *ws ? (*ws)->id : store.workspaces().Create("bench")->id;
  constexpr int kContacts = 10'000, kPerBatch = 1'000;
  std::vector<NewEvent> batch(kPerBatch);
  int64_t written = *head;
  for (int64_t b = 0; written < n; ++b) {
    size_t size = static_cast<size_t>(std::min<int64_t>(kPerBatch, n - written));
    batch.resize(size);
    for (size_t i = 0; i < size; ++i) {
      int64_t k = b * kPerBatch + static_cast<int64_t>(i);
      NewEvent& e = batch[i];
      e.contact.email = "user" + std::to_string(k % kContacts) + "@example.com";
      e.name = k % 3 ? "page.viewed" : "email.opened";
      e.properties = {{"path", "/products/" + std::to_string(k % 997)}, {"ms", k % 1000}};
    }
    auto r = store.events().Append(id, batch, SystemClock::Instance().Now());
    if (!r.ok()) {
      std::fprintf(stderr, "feed_bench: append: %s\n", r.error().message.c_str());
      return 1;
    }
    auto h = store.feed().Head();
    if (!h.ok()) return 1;
    written = *h;  // contacts created on the way add their own events
  }
  return 0;
}

int ReadAll(Store& store, int batch) {
  FeedStore& feed = store.feed();
  int64_t after = 0, count = 0, checksum = 0;
  double cpu0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  while (true) {
    auto events = feed.Read(after, batch);
    if (!events.ok()) {
      std::fprintf(stderr, "feed_bench: read: %s\n", events.error().message.c_str());
      return 1;
    }
    if (events->empty()) break;
    for (const Event& e : *events) {
      if (e.position <= after) {
        std::fprintf(stderr, "feed_bench: position %lld after %lld\n", static_cast<long long>(e.position),
                     static_cast<long long>(after));
        return 1;
      }
      after = e.position;
      checksum += static_cast<int64_t>(e.properties.size() + e.name.size());
    }
    count += static_cast<int64_t>(events->size());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "rapport feed: %lld events in %.3f s = %.0f events/s (batch %d, process CPU %.3f s, check %lld)\n",
      static_cast<long long>(count), secs, count / secs, batch, CpuSeconds() - cpu0,
      static_cast<long long>(checksum));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  int64_t events = 2'000'000;
  int batch = 10'000;
  bool fill = true, read = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--db" && i + 1 < argc)
      db = argv[++i];
    else if (a == "--events" && i + 1 < argc)
      events = std::atoll(argv[++i]);
    else if (a == "--batch" && i + 1 < argc)
      batch = std::atoi(argv[++i]);
    else if (a == "--fill-only")
      read = false;
    else if (a == "--read-only")
      fill = false;
    else {
      std::fprintf(stderr,
                   "usage: feed_bench --db PATH [--events N] [--batch B] [--fill-only|--read-only]\n");
      return 2;
    }
  }
  if (db.empty()) return 2;
  auto store = OpenStore("sqlite:" + db);
  if (!store.ok() || !(*store)->Migrate().ok()) {
    std::fprintf(stderr, "feed_bench: cannot open %s\n", db.c_str());
    return 1;
  }
  if (fill && Fill(**store, events) != 0) return 1;
  if (read) return ReadAll(**store, batch);
  return 0;
}
