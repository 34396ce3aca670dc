#include "http/hit_batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rapport::http {
namespace {

using namespace std::chrono_literals;

// An event store whose every Append waits until the test releases it, and which records what each
// Append (one transaction) held. Call numbers in `failing` return an error instead.
class GatedEvents : public EventStore {
 public:
  Result<std::vector<AppendResult>> Append(WorkspaceId ws, const std::vector<NewEvent>& events,
                                           Timestamp) override {
    std::unique_lock lock(mu_);
    size_t call = calls_.size();
    std::vector<std::string> names;
    for (const NewEvent& e : events) names.push_back(e.name);
    calls_.push_back({ws, std::move(names)});
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_ > call; });
    if (failing_.count(call)) return Error::Unavailable("disk I/O error");
    std::vector<AppendResult> out(events.size());
    for (AppendResult& r : out) {
      r.event_id = ++next_id_;
      r.contact_id = 7;
    }
    return out;
  }
  Result<std::vector<AppendResult>> AppendAndCommit(WorkspaceId, const std::vector<NewEvent>&, Timestamp,
                                                    std::string_view, int64_t) override {
    return Error::Internal("unused");
  }
  Result<Page<Event>> ListForContact(WorkspaceId, ContactId, const EventQuery&) override {
    return Error::Internal("unused");
  }
  Result<int64_t> Count(WorkspaceId) override { return Error::Internal("unused"); }

  // Waits until `n` Appends have started.
  void AwaitCalls(size_t n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 10s, [&] { return calls_.size() >= n; }))
        << "Append #" << n << " never began";
  }
  void Release(size_t n) {  // lets the first n Appends return
    std::lock_guard lock(mu_);
    released_ = std::max(released_, n);
    cv_.notify_all();
  }
  void FailCall(size_t call) {
    std::lock_guard lock(mu_);
    failing_.insert(call);
  }
  std::pair<WorkspaceId, std::set<std::string>> Call(size_t i) {
    std::lock_guard lock(mu_);
    const auto& c = calls_.at(i);
    return {c.first, std::set<std::string>(c.second.begin(), c.second.end())};
  }
  size_t Calls() {
    std::lock_guard lock(mu_);
    return calls_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<WorkspaceId, std::vector<std::string>>> calls_;
  size_t released_ = 0;
  std::set<size_t> failing_;
  EventId next_id_ = 0;
};

NewEvent Hit(std::string name) {
  NewEvent e;
  e.contact.id = 7;
  e.contact.create_contact = false;
  e.name = std::move(name);
  return e;
}

std::future<Result<AppendResult>> Submit(HitBatcher& b, std::string name, WorkspaceId ws = 1) {
  return std::async(std::launch::async, [&b, name = std::move(name), ws] { return b.Submit(ws, Hit(name)); });
}

void AwaitQueued(HitBatcher& b, size_t n) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (b.stats().queued < n && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(b.stats().queued, n);
}

bool Ready(std::future<Result<AppendResult>>& f) { return f.wait_for(20ms) == std::future_status::ready; }

TEST(HitBatcher, HitsArrivingDuringACommitShareTheNextAndEachWaitsForItsOwn) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock);
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);
  auto b = Submit(batcher, "b");
  auto c = Submit(batcher, "c");
  auto d = Submit(batcher, "d");
  AwaitQueued(batcher, 3);
  EXPECT_FALSE(Ready(a));  // its commit has not returned
  events.Release(1);
  ASSERT_TRUE(a.get().ok());
  events.AwaitCalls(2);
  EXPECT_EQ(events.Call(0).second, (std::set<std::string>{"a"}));
  EXPECT_EQ(events.Call(1).second, (std::set<std::string>{"b", "c", "d"}));  // one transaction
  EXPECT_FALSE(Ready(b));
  EXPECT_FALSE(Ready(c));
  EXPECT_FALSE(Ready(d));
  events.Release(2);
  std::set<EventId> ids;
  for (auto* f : {&b, &c, &d}) {
    Result<AppendResult> r = f->get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcome, AppendOutcome::kAccepted);
    ids.insert(r->event_id);
  }
  EXPECT_EQ(ids, (std::set<EventId>{2, 3, 4}));  // each got its own event's result
  EXPECT_EQ(events.Calls(), 2u);
  EXPECT_EQ(batcher.stats().batches, 2u);
  EXPECT_EQ(batcher.stats().hits, 4u);
}

TEST(HitBatcher, AFailedCommitFailsEveryHitInItAndNoLaterOne) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock);
  events.FailCall(1);
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);
  auto b = Submit(batcher, "b");
  auto c = Submit(batcher, "c");
  AwaitQueued(batcher, 2);
  events.Release(1);
  EXPECT_TRUE(a.get().ok());
  events.AwaitCalls(2);
  auto d = Submit(batcher, "d");
  AwaitQueued(batcher, 1);
  events.Release(3);
  for (auto* f : {&b, &c}) {
    Result<AppendResult> r = f->get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  }
  Result<AppendResult> later = d.get();
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->outcome, AppendOutcome::kAccepted);
  EXPECT_EQ(events.Call(2).second, (std::set<std::string>{"d"}));
}

TEST(HitBatcher, RefusesAHitWhenTheQueueIsFullAndAcceptsAgainAfterACommit) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock, HitBatcherOptions{/*max_queued=*/2, /*max_batch=*/1024});
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);  // a is in the commit under way
  auto b = Submit(batcher, "b");
  AwaitQueued(batcher, 1);
  Result<AppendResult> c = batcher.Submit(1, Hit("c"));  // a and b wait: full; refused at once
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(batcher.stats().refused, 1u);
  events.Release(2);
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
  events.Release(3);
  EXPECT_TRUE(batcher.Submit(1, Hit("e")).ok());
  EXPECT_EQ(events.Calls(), 3u);  // c never reached the store
}

TEST(HitBatcher, ABatchIsCappedAtMaxBatch) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock, HitBatcherOptions{/*max_queued=*/100, /*max_batch=*/2});
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);
  std::vector<std::future<Result<AppendResult>>> rest;
  for (const char* n : {"b", "c", "d"}) rest.push_back(Submit(batcher, n));
  AwaitQueued(batcher, 3);
  events.Release(10);
  EXPECT_TRUE(a.get().ok());
  for (auto& f : rest) EXPECT_TRUE(f.get().ok());
  ASSERT_EQ(events.Calls(), 3u);
  EXPECT_EQ(events.Call(1).second.size(), 2u);
  EXPECT_EQ(events.Call(2).second.size(), 1u);
}

TEST(HitBatcher, HitsOfTwoWorkspacesGoToTheirOwnAppend) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock);
  auto a = Submit(batcher, "a", 1);
  events.AwaitCalls(1);
  auto b = Submit(batcher, "b", 1);
  auto c = Submit(batcher, "c", 2);
  auto d = Submit(batcher, "d", 1);
  AwaitQueued(batcher, 3);
  events.Release(10);
  for (auto* f : {&a, &b, &c, &d}) EXPECT_TRUE(f->get().ok());
  ASSERT_EQ(events.Calls(), 3u);
  std::set<std::pair<WorkspaceId, std::set<std::string>>> calls{events.Call(1), events.Call(2)};
  EXPECT_EQ(calls, (std::set<std::pair<WorkspaceId, std::set<std::string>>>{{1, {"b", "d"}}, {2, {"c"}}}));
}

TEST(HitBatcher, StopCommitsWhatIsQueuedThenRefuses) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock);
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);
  auto b = Submit(batcher, "b");
  AwaitQueued(batcher, 1);
  auto stopped = std::async(std::launch::async, [&] { batcher.Stop(); });
  EXPECT_EQ(stopped.wait_for(50ms), std::future_status::timeout);  // it flushes first
  events.Release(10);
  stopped.get();
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());  // queued before the stop: committed, not dropped
  Result<AppendResult> late = batcher.Submit(1, Hit("c"));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(events.Calls(), 2u);
}

// SubmitAsync: the callback runs only after the commit that holds the hit returned, with that hit's
// own result; async and blocking hits share the batch.
TEST(HitBatcher, AsyncHitsAreAnsweredAfterTheirOwnCommit) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock);
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);
  std::promise<Result<AppendResult>> bp, cp;
  batcher.SubmitAsync(1, Hit("b"), [&](Result<AppendResult> r) { bp.set_value(std::move(r)); });
  auto d = Submit(batcher, "d");
  batcher.SubmitAsync(1, Hit("c"), [&](Result<AppendResult> r) { cp.set_value(std::move(r)); });
  AwaitQueued(batcher, 3);
  auto b = bp.get_future();
  auto c = cp.get_future();
  EXPECT_FALSE(Ready(b));  // queued behind a's commit
  events.Release(1);
  ASSERT_TRUE(a.get().ok());
  events.AwaitCalls(2);
  EXPECT_EQ(events.Call(1).second, (std::set<std::string>{"b", "c", "d"}));
  EXPECT_FALSE(Ready(b));  // its own commit has not returned yet
  EXPECT_FALSE(Ready(c));
  events.Release(2);
  std::set<EventId> ids;
  for (auto* f : {&b, &c, &d}) {
    Result<AppendResult> r = f->get();
    ASSERT_TRUE(r.ok());
    ids.insert(r->event_id);
  }
  EXPECT_EQ(ids, (std::set<EventId>{2, 3, 4}));
}

TEST(HitBatcher, AsyncHitsShareAFailedCommitsErrorAndARefusalIsAnsweredAtOnce) {
  GatedEvents events;
  FakeClock clock(FromMicros(1'700'000'000'000'000));
  HitBatcher batcher(events, clock, HitBatcherOptions{/*max_queued=*/2, /*max_batch=*/1024});
  events.FailCall(1);
  auto a = Submit(batcher, "a");
  events.AwaitCalls(1);
  std::promise<Result<AppendResult>> bp;
  batcher.SubmitAsync(1, Hit("b"), [&](Result<AppendResult> r) { bp.set_value(std::move(r)); });
  AwaitQueued(batcher, 1);
  bool refused_now = false;
  batcher.SubmitAsync(1, Hit("c"), [&](Result<AppendResult> r) {
    refused_now = !r.ok() && r.error().code == ErrorCode::kUnavailable;
  });
  EXPECT_TRUE(refused_now);  // full: called before SubmitAsync returned
  events.Release(2);
  EXPECT_TRUE(a.get().ok());
  Result<AppendResult> b = bp.get_future().get();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kUnavailable);
  batcher.Stop();
  bool after_stop = false;
  batcher.SubmitAsync(1, Hit("d"), [&](Result<AppendResult> r) { after_stop = !r.ok(); });
  EXPECT_TRUE(after_stop);
}

}  // namespace
}  // namespace rapport::http
