// CampaignService: campaigns kept running from their work items, and the operations the API and
// the CLI call (create, edit, schedule, pause, resume, cancel, proofs, reports).
//
// How it runs (docs/campaigns.md, "Execution"):
//   - each scheduled campaign has one work item (queue "campaign.tick", key "campaign:<id>")
//     claimed with a lease, as journeys claim their timers. A tick reconciles the campaign from its
//     rows: it freezes every occurrence whose start has come (the audience resolved then: include
//     minus exclude; each recipient's arm from campaign::Assign and due time: the nominal time, the
//     contact's local wall time, or the send-time advisor's choice in the window; then its variant's
//     send time: the advisor's best hour after it, or the first "HH:MM" in the contact's zone) in one
//     transaction (CampaignStore::Freeze, once per sequence number); it sends due recipients in
//     batches through the CampaignMailer (the one send service's bulk path) with the idempotency key
//     "campaign:<campaign>:<occurrence>:<contact>", then marks them; it chooses an experiment's
//     winner after the wait (campaign::Decide on the test portion's outcomes) and sends the rest
//     with it; it sets the item's next due time (the next recipient due, the decision, the next
//     occurrence, the throttle's next minute).
//   - the throttle (throttle_per_minute) is the campaign's, not each occurrence's: the open
//     occurrences of one campaign (a per-contact recurring schedule whose occurrences overlap)
//     share one budget per minute, the oldest occurrence first. The minute is kept in memory; the
//     campaign's first tick in a process (a start, a restart after a kill, another node taking
//     the campaign over) seeds it from the store: the window opens at the earliest of the
//     campaign's messages the outbox created in the last 60 s and has sent them all, so a restart
//     never adds a minute's budget.
//   - a crash between a send and its mark sends the same keys again: the send service queues
//     nothing twice. A paused campaign's tick does nothing (resume schedules it again); a cancelled
//     one cancels its open occurrences. An occurrence missed by more than `missed_after` (the node
//     was down) is skipped, never sent late.
//
// Thread-safety: every public method is thread-safe. Start() runs one worker thread; tests call
// Step() themselves on a FakeClock. The Store, Clock and ports must outlive the service.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "campaign/campaign_model.h"
#include "core/clock.h"
#include "core/send_time.h"
#include "core/store.h"

namespace rapport::campaign {

struct BatchRecipient {
  ContactId contact_id = 0;
  std::string idempotency_key;
};

// One bulk send of one variant.
struct CampaignBatch {
  WorkspaceId workspace_id = 0;
  CampaignId campaign_id = 0;
  OccurrenceId occurrence_id = 0;
  Variant variant;  // template and its overrides
  std::optional<std::string> topic;
  boost::json::object data;  // shared data, with data.campaign = {id, name, occurrence, variant}
  // The campaign's sender identity and what the frequency governor does with its mail (priority,
  // defer or skip at a cap; the source is "campaign:<id>").
  std::optional<int64_t> sender_id;
  GovernanceSettings governance;
  bool proof = false;  // a proof: transactional-like, to addresses, not counted
  std::vector<BatchRecipient> recipients;
};

struct BatchItem {
  bool queued = false;  // false: refused (reason says why), a final outcome
  MessageId message_id = 0;
  std::string reason;
};

// The one send service's bulk path (app/ wires it). One item per recipient, in order; an error
// (store, template gone) fails the batch, which is tried again.
class CampaignMailer {
 public:
  virtual ~CampaignMailer() = default;
  virtual Result<std::vector<BatchItem>> SendBatch(const CampaignBatch& batch) = 0;
  // A proof to addresses (not contacts of the audience): transactional class, no topic, not
  // recorded with the campaign.
  virtual Result<std::vector<BatchItem>> SendProof(const CampaignBatch& batch,
                                                   const std::vector<std::string>& emails) = 0;
  // Whether mail of class `c` from sender `sender_id` (nullopt: the workspace's default) would be
  // accepted, sending nothing: kInvalid when the sender is not in the workspace or is refused for
  // that class (marketing mail from a domain without a DKIM key, a sender without a postal
  // address), with a message that says what to fix; store errors as they come.
  virtual Status CheckSender(WorkspaceId ws, std::optional<int64_t> sender_id, MessageClass c) = 0;
};

// The audience at a moment (the segment service); ids sorted and unique.
class AudienceSource {
 public:
  virtual ~AudienceSource() = default;
  virtual Result<std::vector<ContactId>> Resolve(WorkspaceId ws, const Audience& audience) = 0;
};

// Per-contact totals of one event over a period (the segment service's profile index).
class OutcomeSource {
 public:
  virtual ~OutcomeSource() = default;
  // For every live contact of the workspace created before `to`: fn(id, count, sum), its `event`
  // events in [from, to) and the sum of their numeric `property` values.
  virtual Status ForEachContact(WorkspaceId ws, const std::string& event, const std::string& property,
                                Timestamp from, Timestamp to,
                                const std::function<void(ContactId, int64_t, double)>& fn) = 0;
};

struct CampaignPorts {
  CampaignMailer* mailer = nullptr;            // required to send
  AudienceSource* audience = nullptr;          // required to freeze an occurrence
  const SendTimeAdvisor* send_time = nullptr;  // null: "sto" schedules send at the window's start
  OutcomeSource* outcomes = nullptr;           // required for the global holdout's report
};

struct CampaignServiceOptions {
  std::string owner = "campaigns";  // the lease owner (node name)
  Micros lease = std::chrono::seconds(120);
  Micros error_retry = std::chrono::seconds(30);
  Micros missed_after = std::chrono::hours(24);
  Micros tick_budget = std::chrono::seconds(20);  // a tick yields after this much time sending
  int batch = 500;
  int claim_batch = 4;                      // x tick_budget stays within the lease
  std::string goal_event = "order_placed";  // conversions for experiments and lift
  std::string revenue_property = "total";
  std::function<void(const Error&)> on_error;
};

class CampaignService {
 public:
  CampaignService(Store& store, const Clock& clock, CampaignPorts ports, CampaignServiceOptions options = {});
  ~CampaignService();
  CampaignService(const CampaignService&) = delete;
  CampaignService& operator=(const CampaignService&) = delete;

  Status Start();
  void Stop();
  void Wake();
  // One pass: every due campaign tick. Returns the ticks handled.
  Result<size_t> Step();

  // The document must carry "name"; kInvalid with the JSON path in field.
  Result<Campaign> Create(WorkspaceId ws, const boost::json::value& document);
  // Replaces the settings; a draft, scheduled or paused campaign only (kConflict otherwise).
  // Occurrences already frozen keep their audience and arms.
  Result<Campaign> Update(WorkspaceId ws, CampaignId id, const boost::json::value& document);
  Result<Campaign> Get(WorkspaceId ws, CampaignId id);
  Result<std::vector<Campaign>> List(WorkspaceId ws);
  // draft -> scheduled; the first tick is due at once. Its templates, segments and topics must
  // exist, and its sender must be accepted for marketing mail (CampaignMailer::CheckSender; not
  // checked without a mailer): kInvalid naming the field ("template", "audience.include_segments[0]",
  // "sender_id" ...).
  Result<Campaign> Schedule(WorkspaceId ws, CampaignId id);
  Result<Campaign> Pause(WorkspaceId ws, CampaignId id);
  Result<Campaign> Resume(WorkspaceId ws, CampaignId id);
  Result<Campaign> Cancel(WorkspaceId ws, CampaignId id);
  // A proof of variant `variant` (default 0) to the addresses (1..20).
  Result<std::vector<BatchItem>> SendProof(WorkspaceId ws, CampaignId id,
                                           const std::vector<std::string>& emails, int variant = 0);
  // The report (docs/campaigns.md, "Report"): per occurrence, per variant, rest and holdout.
  Result<boost::json::object> Report(WorkspaceId ws, CampaignId id);
  // The global holdout's report (docs/campaigns.md, "The global holdout's report"): over the days
  // [from_day, to_day] of the workspace's timezone (days since 1970-01-01; default: the 30 days
  // ending today), every contact in the global holdout against every other contact, by intention
  // to treat: each group's conversion rate and revenue per contact from the goal event, and the
  // programme's lift with its 95% interval. kInvalid (field "from") for an empty or over-long
  // period; kUnavailable without an OutcomeSource.
  Result<boost::json::object> ProgrammeReport(WorkspaceId ws, std::optional<int64_t> from_day,
                                              std::optional<int64_t> to_day);
  // The campaign as the API shows it: its row and its settings.
  static boost::json::object ToJson(const Campaign& c);

  Store& store() { return store_; }

 private:
  struct OccurrenceStart {
    int64_t seq = 0;
    Timestamp nominal{};
    Timestamp freeze_at{};
    LocalDateTime local;  // the wall time of a per-contact schedule
  };
  // A campaign's current throttle minute: it starts at the first tick after the last one ended
  // and `sent` counts what all the campaign's occurrences sent in it. A campaign's first tick in
  // this process seeds it from the store (SeedThrottle).
  struct ThrottleWindow {
    Timestamp start{};
    int64_t sent = 0;
  };
  Status Tick(const WorkItem& item);
  Result<std::optional<Timestamp>> Reconcile(Campaign& c, const CampaignDef& def, Timestamp now);
  Result<std::optional<OccurrenceStart>> NextStart(const Campaign& c, const CampaignDef& def,
                                                   int64_t after_seq, Timestamp now) const;
  Status FreezeOccurrence(const Campaign& c, const CampaignDef& def, const OccurrenceStart& start,
                          Timestamp now);
  // The window a campaign's first tick in this process starts from: the campaign's messages the
  // outbox created in the 60 s before `now` (CampaignStore::SentSince), the window opening at the
  // earliest of them; none (an expired window) when there are none. Store errors as they come.
  Result<ThrottleWindow> SeedThrottle(const Campaign& c, Timestamp now);
  // Sends what is due of one occurrence; `throttle` (null: no throttle) is the campaign's minute,
  // shared with its other open occurrences, and counts what this one sends.
  Result<std::optional<Timestamp>> Advance(const Campaign& c, const CampaignDef& def, CampaignOccurrence& occ,
                                           Timestamp now, ThrottleWindow* throttle);
  Status SendGroup(const Campaign& c, const CampaignDef& def, const CampaignOccurrence& occ, int variant,
                   const std::vector<CampaignRecipient>& group);
  Status Decide(const Campaign& c, const CampaignDef& def, CampaignOccurrence& occ, Timestamp now);
  Status ScheduleTick(const Campaign& c, Timestamp at);
  // The zone a contact's wall times are read in (a local schedule, a variant sent at a time of
  // day): its own timezone, else `fallback`, which FallbackZone gives: the schedule's `timezone`,
  // else the workspace's.
  std::string FallbackZone(const Campaign& c, const CampaignDef& def);
  std::string ContactZone(WorkspaceId ws, ContactId id, const std::string& fallback);
  void Run();

  Store& store_;
  const Clock& clock_;
  CampaignPorts ports_;
  CampaignServiceOptions options_;
  std::mutex mu_;                                  // one tick at a time
  std::map<CampaignId, ThrottleWindow> throttle_;  // GUARDED_BY(mu_): throttled campaigns only
  std::atomic<bool> running_{false};
  Alarm alarm_;
  std::thread worker_;
};

// The idempotency key of one recipient's message.
std::string RecipientKey(CampaignId campaign, OccurrenceId occurrence, ContactId contact);

}  // namespace rapport::campaign
