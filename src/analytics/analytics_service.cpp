#include "analytics/analytics_service.h"

#include <chrono>
#include <cmath>

#include "core/thread_name.h"

namespace rapport::analytics {

namespace {
constexpr int kBatch = 10000;
constexpr int kCommitBatches = 10;  // while catching up, a commit every 100,000 events
}  // namespace

AnalyticsService::AnalyticsService(Store& store, const Clock& clock, AnalyticsOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

AnalyticsService::~AnalyticsService() { Stop(); }

std::string AnalyticsService::TimezoneOf(WorkspaceId ws) {
  auto w = store_.workspaces().Get(ws);
  if (!w.ok() || w->default_timezone.empty()) return "UTC";
  return w->default_timezone;
}

Status AnalyticsService::LoadLocked() {
  book_ = std::make_unique<ReportBook>(options_, [this](WorkspaceId ws) { return TimezoneOf(ws); });
  send_time_ =
      std::make_unique<SendTimeBook>(options_.send_time, [this](WorkspaceId ws) { return TimezoneOf(ws); });
  RAPPORT_ASSIGN_OR_RETURN(position_, store_.feed().Position(kConsumerName));
  RAPPORT_TRY(store_.analytics().ForEachDaily([&](const AnalyticsDailyValue& v) {
    book_->LoadDaily(v);
    return true;
  }));
  RAPPORT_TRY(store_.analytics().ForEachEntity(
      [&](WorkspaceId ws, std::string_view kind, int64_t id, std::string_view state) {
        book_->LoadEntity(ws, kind, id, state);
        send_time_->LoadEntity(ws, kind, id, state);
        return true;
      }));
  book_->Rebuilt();
  return {};
}

Status AnalyticsService::Start(bool run_thread) {
  {
    std::lock_guard lock(mu_);
    fits_stopped_ = false;
    RAPPORT_TRY(LoadLocked());
    RAPPORT_TRY(StepLocked());
  }
  if (run_thread) {
    running_ = true;
    consumer_ = std::thread([this] {
      NameThisThread("analytics");
      Run();
    });
    watcher_ = std::thread([this] {
      NameThisThread("analytics-wake");
      uint64_t seen = store_.feed().notifier().Generation();
      while (running_) {
        uint64_t now = store_.feed().notifier().WaitPast(seen, std::chrono::milliseconds(200));
        if (now != seen) {
          seen = now;
          alarm_.Ring();
        }
      }
    });
  }
  return {};
}

void AnalyticsService::Stop() {
  if (running_.exchange(false)) {
    alarm_.Ring();
    store_.feed().notifier().Notify();
    if (consumer_.joinable()) consumer_.join();
    if (watcher_.joinable()) watcher_.join();
  }
  {
    std::lock_guard lock(mu_);
    fits_stopped_ = true;  // from here on nobody assigns fitter_
  }
  if (fitter_.joinable()) fitter_.join();  // it needs mu_ to finish: not held here
}

void AnalyticsService::StartFitLocked() {
  if (!options_.fit_in_background || fitting_ || fits_stopped_) return;
  const int64_t now = ToMicros(clock_.Now());
  std::vector<WorkspaceId> due = book_->ModelsDue(now);
  if (due.empty()) return;
  // A previous thread is done: it cleared fitting_ under mu_ as its last use of the lock.
  if (fitter_.joinable()) fitter_.join();
  fitting_ = true;
  fitter_ =
      std::thread([this, ws = due.front(), sample = book_->CustomerSample(due.front(), now), now]() mutable {
        NameThisThread("analytics-fit");
        FitLoop(ws, std::move(sample), now);
      });
}

void AnalyticsService::FitLoop(WorkspaceId ws, std::vector<CustomerSummary> sample, int64_t sampled_at_us) {
  while (true) {
    if (options_.before_fit) options_.before_fit(ws);
    ClvModel model = FitClv(sample, options_.clv);  // no lock held: the consumer goes on meanwhile
    std::lock_guard lock(mu_);
    // Into the current book: one loaded again meanwhile (Rebuild) folded the same log.
    book_->InstallModel(ws, std::move(model), sampled_at_us);
    const int64_t now = ToMicros(clock_.Now());
    std::vector<WorkspaceId> due;
    if (!fits_stopped_) due = book_->ModelsDue(now);
    if (due.empty()) {
      fitting_ = false;
      fit_done_.notify_all();
      return;
    }
    ws = due.front();
    sample = book_->CustomerSample(ws, now);
    sampled_at_us = now;
  }
}

void AnalyticsService::WaitForFits() {
  std::unique_lock lock(mu_);
  fit_done_.wait(lock, [this] { return !fitting_; });
}

ClvModel AnalyticsService::FitAndInstall(WorkspaceId ws) {
  std::vector<CustomerSummary> sample;
  int64_t now = 0;
  {
    std::lock_guard lock(mu_);
    now = ToMicros(clock_.Now());
    sample = book_->CustomerSample(ws, now);
  }
  if (options_.before_fit) options_.before_fit(ws);
  ClvModel model = FitClv(sample, options_.clv);
  std::lock_guard lock(mu_);
  book_->InstallModel(ws, model, now);
  return model;
}

Result<size_t> AnalyticsService::RefitNow() {
  RAPPORT_TRY(CatchUp());
  std::vector<WorkspaceId> due;
  {
    std::lock_guard lock(mu_);
    due = book_->ModelsDue(ToMicros(clock_.Now()));
  }
  for (WorkspaceId ws : due) (void)FitAndInstall(ws);
  return due.size();
}

void AnalyticsService::Run() {
  while (running_) {
    std::optional<int64_t> next;
    {
      std::lock_guard lock(mu_);
      (void)StepLocked();
      next = next_deadline_;
    }
    // Events from other processes are not heard by the notifier: look again within a second.
    Timestamp wake = clock_.Now() + std::chrono::seconds(1);
    if (next && FromMicros(*next) < wake) wake = FromMicros(*next);
    clock_.SleepUntil(wake, alarm_);
  }
}

Result<size_t> AnalyticsService::Step() {
  std::lock_guard lock(mu_);
  return StepLocked();
}

Result<size_t> AnalyticsService::StepLocked() {
  size_t folded = 0;
  int uncommitted = 0;  // batches folded (their events appended) since the last commit
  while (true) {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Event> batch, store_.feed().Read(position_, kBatch));
    int64_t now = ToMicros(clock_.Now());
    // Each event's facts are read once for both folds, in a pass of their own (independent
    // reads of the events' properties, which the processor overlaps).
    facts_.resize(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) facts_[i] = ReadFacts(batch[i]);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (size_t j = i + ReportBook::kIndexAhead; j < batch.size()) {
        book_->PrefetchIndex(batch[j], facts_[j]);
        send_time_->PrefetchIndex(batch[j], facts_[j]);
      }
      if (size_t j = i + ReportBook::kStateAhead; j < batch.size()) {
        book_->PrefetchState(batch[j], facts_[j]);
        send_time_->PrefetchState(batch[j], facts_[j]);
      }
      book_->Apply(batch[i], facts_[i], now);
      send_time_->Apply(batch[i], facts_[i]);
    }
    // The fold's clock moves to now only once the log is folded through. While more follows (a
    // restart behind the log, a rebuild), its clock follows the events (Apply): moved to now
    // first, it would fire lifecycle thresholds and score decays on half a history, and forget
    // as past the message horizon messages whose later events are still to come.
    const bool caught_up = batch.size() < static_cast<size_t>(kBatch);
    if (caught_up) {  // due up to now, less the grace for late events (AnalyticsOptions)
      const int64_t grace = book_->options().late_event_grace_us;
      auto next = book_->Advance(now - grace);
      next_deadline_ = next ? std::optional<int64_t>(*next + grace) : std::nullopt;
    }
    int64_t position = batch.empty() ? position_ : batch.back().position;
    std::vector<LifecycleChange> changes = book_->TakeLifecycleChanges();
    // Appended before the commit: folded again after a crash, the same keys append nothing.
    std::map<WorkspaceId, std::vector<NewEvent>> by_ws;
    for (const LifecycleChange& c : changes) {
      NewEvent e;
      e.contact.id = c.contact_id;
      e.contact.create_contact = false;
      e.name = std::string(kLifecycleChanged);
      e.properties = json::object{{"from", StageName(c.from)}, {"to", StageName(c.to)}};
      e.occurred_at = FromMicros(c.at_us);
      e.idempotency_key = c.idempotency_key;
      // The stage also becomes the contact's attribute `lifecycle` (merged by the store in the
      // same transaction, with its contact.updated): templates read {{ contact.lifecycle }}.
      e.contact_attributes = json::object{{"lifecycle", StageName(c.to)}};
      by_ws[c.workspace_id].push_back(std::move(e));
    }
    // The engagement score, as published by steps (report_book.h), becomes the attribute
    // `engagement_score`: segments and templates read it like any attribute.
    for (const EngagementChange& c : book_->TakeEngagementChanges()) {
      NewEvent e;
      e.contact.id = c.contact_id;
      e.contact.create_contact = false;
      e.name = std::string(kEngagementChanged);
      e.properties =
          json::object{{"from", c.from < 0 ? json::value(nullptr) : json::value(c.from)}, {"to", c.to}};
      e.occurred_at = FromMicros(c.at_us);
      e.idempotency_key = c.idempotency_key;
      e.contact_attributes = json::object{{"engagement_score", c.to}};
      by_ws[c.workspace_id].push_back(std::move(e));
    }
    // Each order: the historic CLV and the prediction with the workspace's model as of now.
    for (const ClvChange& c : book_->TakeClvChanges()) {
      ContactView v = book_->Contact(c.workspace_id, c.contact_id, now);
      if (!v.known) continue;
      auto cents = [](double x) { return std::round(x * 100) / 100; };
      NewEvent e;
      e.contact.id = c.contact_id;
      e.contact.create_contact = false;
      e.name = std::string(kClvChanged);
      e.properties = json::object{{"clv", cents(v.revenue)},
                                  {"predicted_clv", cents(v.predicted.value)},
                                  {"p_alive", std::round(v.predicted.p_alive * 1000) / 1000},
                                  {"orders", v.orders},
                                  {"fallback", v.predicted.fallback}};
      e.occurred_at = FromMicros(c.at_us);
      e.idempotency_key = c.idempotency_key;
      e.contact_attributes =
          json::object{{"clv", cents(v.revenue)}, {"predicted_clv", cents(v.predicted.value)}};
      by_ws[c.workspace_id].push_back(std::move(e));
    }
    for (auto& [ws, events] : by_ws) {
      auto r = store_.events().Append(ws, events, clock_.Now());
      if (!r.ok() && r.error().code == ErrorCode::kNotFound) {
        // A contact erased since (later in the log than this batch): its changes are moot. One
        // by one, dropping those whose contact is gone, so the consumer never stalls on them.
        for (const NewEvent& e : events) {
          r = store_.events().Append(ws, std::vector<NewEvent>{e}, clock_.Now());
          if (!r.ok() && r.error().code != ErrorCode::kNotFound) break;
        }
        if (!r.ok() && r.error().code == ErrorCode::kNotFound) r = std::vector<AppendResult>{};
      }
      if (!r.ok()) {
        (void)LoadLocked();  // the fold is ahead of what is committed: start again from the store
        return r.error();
      }
    }
    position_ = position;
    folded += batch.size();
    // The states and the position are committed when caught up, and while catching up every
    // kCommitBatches batches: a state changed in several batches is written once, the daily
    // cells too. A crash in between folds those batches again from the last commit (the events
    // appended meanwhile carry their idempotency keys: appended again, they add nothing).
    if (caught_up || ++uncommitted >= kCommitBatches) {
      changes_.Clear();
      book_->TakeChanges(changes_);
      send_time_->TakeChanges(changes_);
      if (batch.empty() && uncommitted == 0 && changes_.daily_size() == 0 && changes_.entities_size() == 0)
        break;
      Status st = store_.analytics().Commit(kConsumerName, position_, changes_.daily(), changes_.entities());
      if (!st.ok()) {
        (void)LoadLocked();
        return st.error();
      }
      uncommitted = 0;
    }
    if (caught_up) break;
  }
  StartFitLocked();  // a model due is fitted off this thread: the consumer does not wait for it
  return folded;
}

Status AnalyticsService::Rebuild() {
  std::lock_guard lock(mu_);
  RAPPORT_TRY(store_.analytics().Reset(kConsumerName));
  RAPPORT_TRY(LoadLocked());
  RAPPORT_TRY(StepLocked());
  return {};
}

Status AnalyticsService::CatchUp() {
  RAPPORT_ASSIGN_OR_RETURN(int64_t head, store_.feed().Head());
  std::lock_guard lock(mu_);
  if (position_ >= head) return {};
  RAPPORT_TRY(StepLocked());
  return {};
}

int64_t AnalyticsService::position() {
  std::lock_guard lock(mu_);
  return position_;
}

Result<int64_t> AnalyticsService::Today(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  return book_->DayOf(ws, ToMicros(clock_.Now()));
}

Result<std::vector<std::pair<int64_t, Counts>>> AnalyticsService::Series(WorkspaceId ws, Dimension d,
                                                                         const std::string& key,
                                                                         int64_t from_day, int64_t to_day) {
  RAPPORT_TRY(CatchUp());
  std::lock_guard lock(mu_);
  return book_->Series(ws, d, key, from_day, to_day);
}

Result<std::vector<std::pair<std::string, Counts>>> AnalyticsService::Breakdown(WorkspaceId ws, Dimension d,
                                                                                int64_t from_day,
                                                                                int64_t to_day) {
  RAPPORT_TRY(CatchUp());
  std::lock_guard lock(mu_);
  return book_->Breakdown(ws, d, from_day, to_day);
}

Result<Overview> AnalyticsService::OverviewOf(WorkspaceId ws, int64_t from_day, int64_t to_day) {
  RAPPORT_TRY(CatchUp());
  std::lock_guard lock(mu_);
  return book_->OverviewOf(ws, from_day, to_day, ToMicros(clock_.Now()));
}

Result<ContactView> AnalyticsService::Contact(WorkspaceId ws, ContactId id) {
  RAPPORT_TRY(CatchUp());
  std::lock_guard lock(mu_);
  return book_->Contact(ws, id, ToMicros(clock_.Now()));
}

Result<ReportBook::MessageView> AnalyticsService::Message(WorkspaceId ws, int64_t message_id) {
  RAPPORT_TRY(CatchUp());
  std::lock_guard lock(mu_);
  auto m = book_->Message(ws, message_id);
  if (!m) return Error::NotFound("no report for message " + std::to_string(message_id));
  return *m;
}

Result<ClvModel> AnalyticsService::Model(WorkspaceId ws) {
  RAPPORT_TRY(CatchUp());
  return FitAndInstall(ws);
}

Result<SendTimeProfile> AnalyticsService::SendTime(WorkspaceId ws, ContactId id, std::string_view timezone,
                                                   bool catch_up) {
  if (catch_up) RAPPORT_TRY(CatchUp());
  std::lock_guard lock(mu_);
  return send_time_->Profile(ws, id, timezone);
}

}  // namespace rapport::analytics
