// feed_consumer: a feed consumer in a process of its own, for the restart test of the feed
// (feed_contract_test.cpp kills it with SIGKILL mid-run) and for trying the feed by hand.
//   feed_consumer URL CONSUMER UNTIL [BATCH] [PAUSE_US]
// Reads the feed after its committed position in batches of BATCH (default 100), and commits,
// with each batch's last position, its state: "count" (events handled) and "sum" (of their
// positions), so a test can tell that every event was handled exactly once. Sleeps PAUSE_US
// after each commit. Exits 0 once it has committed UNTIL or beyond; 1 on an error.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/open.h"

namespace {

int64_t ToInt(const std::optional<std::string>& s) { return s ? std::strtoll(s->c_str(), nullptr, 10) : 0; }

}  // namespace

int main(int argc, char** argv) {
  using namespace rapport;
  if (argc < 4) {
    std::fprintf(stderr, "usage: feed_consumer URL CONSUMER UNTIL [BATCH] [PAUSE_US]\n");
    return 2;
  }
  const std::string consumer = argv[2];
  const int64_t until = std::strtoll(argv[3], nullptr, 10);
  const int batch = argc > 4 ? std::atoi(argv[4]) : 100;
  const int pause_us = argc > 5 ? std::atoi(argv[5]) : 0;
  auto opened = OpenStore(argv[1]);
  if (!opened.ok()) {
    std::fprintf(stderr, "feed_consumer: %s\n", opened.error().message.c_str());
    return 1;
  }
  FeedStore& feed = (*opened)->feed();
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "feed_consumer: %s\n", e.message.c_str());
    return 1;
  };
  auto position = feed.Position(consumer);
  auto count = feed.State(consumer, "count");
  auto sum = feed.State(consumer, "sum");
  if (!position.ok()) return fail(position.error());
  if (!count.ok()) return fail(count.error());
  if (!sum.ok()) return fail(sum.error());
  int64_t at = *position, n = ToInt(*count), total = ToInt(*sum);
  while (at < until) {
    uint64_t generation = feed.notifier().Generation();
    auto events = feed.Read(at, batch);
    if (!events.ok()) return fail(events.error());
    if (events->empty()) {
      feed.notifier().WaitPast(generation, std::chrono::milliseconds(100));
      continue;
    }
    for (const Event& e : *events) {
      ++n;
      total += e.position;
    }
    at = events->back().position;
    Status st = feed.Commit(consumer, at, {{"count", std::to_string(n)}, {"sum", std::to_string(total)}});
    if (!st.ok()) return fail(st.error());
    if (pause_us > 0) usleep(static_cast<useconds_t>(pause_us));
  }
  return 0;
}
