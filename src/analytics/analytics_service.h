// AnalyticsService: the analytics consumer of the feed and the reads the API makes of it.
//
// Start() loads the state the consumer committed (core/analytics_store.h) and reads the feed
// from its committed position; then a consumer thread folds each new batch of events into the
// ReportBook (report_book.h), appends the `lifecycle_changed` events the batch caused (each also
// setting the contact's attribute `lifecycle`, so templates see `contact.lifecycle`; with
// idempotency keys, so a batch folded again after a crash appends nothing twice), then commits
// the changed values and entity states with the batch's position in one transaction. So every
// event is counted exactly once across restarts, and Rebuild() (state dropped, the whole log
// folded again) gives the same numbers.
//
// The workspace's CLV model is refitted off the consumer's thread: after a pass, when a
// workspace's model is missing or an hour old (ReportBook::ModelsDue), the consumer takes the
// customers' sample (ReportBook::CustomerSample, bounded by ClvOptions::max_fit_customers) under
// the lock and starts a thread of the service's own ("analytics-fit") that fits it holding no
// lock and installs the model under the lock, then goes on with the next workspace due. One such
// thread at a time; the consumer never waits for it; Stop() joins it. With
// AnalyticsOptions::fit_in_background false no thread is started: RefitNow() fits what is due.
// Until a large workspace's first model is installed its predictions are the fallback, saying so
// (ReportBook::Contact).
//
// Time comes from the Clock only; the store is reached through its facets. Thread-safety: every
// public method is thread-safe. Reads first catch up with the log (read-your-writes within this
// process). Failure: store errors are returned.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "analytics/report_book.h"
#include "core/clock.h"
#include "core/store.h"

namespace rapport::analytics {

inline constexpr std::string_view kConsumerName = "analytics";

class AnalyticsService {
 public:
  AnalyticsService(Store& store, const Clock& clock, AnalyticsOptions options = {});
  ~AnalyticsService();

  // Loads the committed state and catches up with the log; with run_thread, keeps folding as
  // events arrive (tests drive Step() themselves).
  Status Start(bool run_thread = true);
  // Stops the consumer's threads and joins the background fit (waiting for a fit under way).
  void Stop();
  // One pass: folds the events after the committed position and the lifecycle thresholds due
  // now, appends the lifecycle changes, commits. Returns the number of events folded.
  Result<size_t> Step();
  // Drops the state and folds the whole log again.
  Status Rebuild();

  Result<int64_t> Today(WorkspaceId ws);
  Result<std::vector<std::pair<int64_t, Counts>>> Series(WorkspaceId ws, Dimension d, const std::string& key,
                                                         int64_t from_day, int64_t to_day);
  Result<std::vector<std::pair<std::string, Counts>>> Breakdown(WorkspaceId ws, Dimension d, int64_t from_day,
                                                                int64_t to_day);
  Result<Overview> OverviewOf(WorkspaceId ws, int64_t from_day, int64_t to_day);
  Result<ContactView> Contact(WorkspaceId ws, ContactId id);
  Result<ReportBook::MessageView> Message(WorkspaceId ws, int64_t message_id);
  // The workspace's CLV model, fitted now on its sample (on the caller's thread, holding the lock
  // only to take the sample and to install the model).
  Result<ClvModel> Model(WorkspaceId ws);
  // Fits on the caller's thread, one after another, the models due now (ReportBook::ModelsDue),
  // and installs them; returns how many. For tests that run with fit_in_background false.
  Result<size_t> RefitNow();
  // Blocks until no background fit runs (e.g. a test waiting for the one a Step() started).
  void WaitForFits();
  // The contact's send-time profile (send_time.h); `timezone` is the contact's zone now (empty:
  // the workspace's default). Without catch_up it reads what is folded already (at most about a
  // second behind the log while the consumer thread runs): for callers asking for many contacts.
  Result<SendTimeProfile> SendTime(WorkspaceId ws, ContactId id, std::string_view timezone,
                                   bool catch_up = true);
  int64_t position();

 private:
  Status LoadLocked();
  Result<size_t> StepLocked();
  Status CatchUp();
  void Run();
  std::string TimezoneOf(WorkspaceId ws);
  // Starts the background fit of the workspaces due, unless one runs (or fits are off or stopped).
  void StartFitLocked();
  // The background fit's thread: fits `sample`, installs it, then the next workspace due.
  void FitLoop(WorkspaceId ws, std::vector<CustomerSummary> sample, int64_t sampled_at_us);
  // Takes the sample under the lock, fits without it, installs under it.
  ClvModel FitAndInstall(WorkspaceId ws);

  Store& store_;
  const Clock& clock_;
  AnalyticsOptions options_;
  std::mutex mu_;
  std::unique_ptr<ReportBook> book_;         // guarded by mu_
  std::unique_ptr<SendTimeBook> send_time_;  // guarded by mu_
  ChangeSet changes_;                        // guarded by mu_; reused batch to batch
  std::vector<EventFacts> facts_;            // guarded by mu_; the batch's, reused
  int64_t position_ = 0;                     // guarded by mu_
  std::optional<int64_t> next_deadline_;
  std::atomic<bool> running_{false};
  Alarm alarm_;
  std::thread consumer_;
  std::thread watcher_;
  bool fitting_ = false;              // guarded by mu_: the background fit's thread runs
  bool fits_stopped_ = false;         // guarded by mu_: Stop() was called; no fit starts
  std::condition_variable fit_done_;  // with mu_: fitting_ became false
  std::thread fitter_;                // set under mu_ while !fitting_
};

}  // namespace rapport::analytics
