// Campaigns as the store keeps them (docs/campaigns.md): a campaign is a name, a state and its
// settings document (JSON text that campaign/campaign_model.h parses and checks: audience,
// template or variants, sender, topic, schedule, throttle, archive, experiment, holdout); an
// occurrence is one send of it (one per schedule occurrence) with its own report; a recipient is
// one contact of an occurrence's FROZEN audience: its arm (holdout / test variant / rest), the
// time it is due and what became of it. The campaign's work item (queue "campaign.tick", key
// "campaign:<id>", core/work_queue.h) drives it; the service reconciles from these rows, so a
// kill at any point resumes where the rows say.
//
// Thread-safe like every store facet (core/store.h); errors as listed there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/outbox.h"

namespace rapport {

using CampaignId = int64_t;
using OccurrenceId = int64_t;

inline constexpr size_t kMaxCampaignDocumentBytes = 256 * 1024;
inline constexpr std::string_view kCampaignQueue = "campaign.tick";

// draft: editable, nothing scheduled. scheduled: waiting for its first occurrence. running: an
// occurrence is sending or more are to come. paused: no new batch until resumed. cancelled: stops
// for good. done: every occurrence finished.
enum class CampaignState { kDraft, kScheduled, kRunning, kPaused, kCancelled, kDone };
std::string_view CampaignStateName(CampaignState s);
std::optional<CampaignState> ParseCampaignState(std::string_view s);

struct Campaign {
  CampaignId id = 0;
  WorkspaceId workspace_id = 0;
  std::string name;  // unique per workspace: [a-z0-9][a-z0-9_-]{0,63}
  CampaignState state = CampaignState::kDraft;
  std::string definition;  // the settings document (JSON object text)
  bool archive = false;    // listed on the public web archive (copied from the document)
  Timestamp created_at{};
  Timestamp updated_at{};
};

// sending: audience frozen, recipients being sent (the test portion first when there is an
// experiment); deciding: the test portion is sent, the winner is chosen at decide_at; done;
// cancelled (the campaign was, or the occurrence was missed by more than a day).
enum class OccurrenceState { kSending, kDeciding, kDone, kCancelled };
std::string_view OccurrenceStateName(OccurrenceState s);
std::optional<OccurrenceState> ParseOccurrenceState(std::string_view s);

struct CampaignOccurrence {
  OccurrenceId id = 0;
  WorkspaceId workspace_id = 0;
  CampaignId campaign_id = 0;
  int64_t seq = 0;           // 1, 2, ...: the schedule's n-th occurrence
  Timestamp scheduled_at{};  // the nominal time of the occurrence
  OccurrenceState state = OccurrenceState::kSending;
  int send_variant = -1;               // the variant the rest receives; -1 until decided (or no experiment)
  std::optional<Timestamp> decide_at;  // when the winner is chosen
  std::string decision;                // JSON object text: the decision and its reason ("" none)
  int64_t recipients = 0;              // the frozen audience's size
  Timestamp started_at{};
  std::optional<Timestamp> finished_at;
};

enum class RecipientArm { kHoldout, kTest, kRest };
std::string_view RecipientArmName(RecipientArm a);
std::optional<RecipientArm> ParseRecipientArm(std::string_view s);

// pending: to send at due_at; queued: a message is in the outbox (message_id); skipped: the send
// service refused it (reason); held: in the holdout, receives nothing.
enum class RecipientStatus { kPending, kQueued, kSkipped, kHeld };
std::string_view RecipientStatusName(RecipientStatus s);
std::optional<RecipientStatus> ParseRecipientStatus(std::string_view s);

struct CampaignRecipient {
  OccurrenceId occurrence_id = 0;
  ContactId contact_id = 0;
  RecipientArm arm = RecipientArm::kTest;
  int variant = 0;  // the test variant; -1 for the rest until sent (then the variant it got)
  Timestamp due_at{};
  RecipientStatus status = RecipientStatus::kPending;
  MessageId message_id = 0;
  std::string reason;
};

// What a send did to one recipient (CampaignStore::Mark).
struct RecipientOutcome {
  ContactId contact_id = 0;
  RecipientStatus status = RecipientStatus::kQueued;
  int variant = 0;
  MessageId message_id = 0;
  std::string reason;
};

// What a campaign sent lately (CampaignStore::SentSince).
struct CampaignSends {
  int64_t count = 0;
  std::optional<Timestamp> first;  // when the outbox created the earliest of them; none when count is 0
};

class CampaignStore {
 public:
  virtual ~CampaignStore() = default;
  // Creates the campaign (state draft unless given). kConflict (field "name") when taken.
  virtual Result<Campaign> Create(const Campaign& campaign) = 0;
  virtual Result<Campaign> Get(WorkspaceId ws, CampaignId id) = 0;
  virtual Result<Campaign> GetByName(WorkspaceId ws, std::string_view name) = 0;
  virtual Result<std::vector<Campaign>> List(WorkspaceId ws) = 0;  // newest first
  // Replaces name, definition and archive. kNotFound, kConflict (field "name").
  virtual Result<Campaign> Update(const Campaign& campaign) = 0;
  // Sets the state; with `expect`, only when the stored state is one of them (kConflict, naming
  // the current state, otherwise).
  virtual Result<Campaign> SetState(WorkspaceId ws, CampaignId id, CampaignState state,
                                    const std::vector<CampaignState>& expect = {}) = 0;

  // Freezes one occurrence: inserts it with its recipients in one transaction. Idempotent per
  // (campaign, seq): when that occurrence exists already nothing is written and it is returned
  // (a retry after a crash freezes nothing twice).
  virtual Result<CampaignOccurrence> Freeze(const CampaignOccurrence& occurrence,
                                            const std::vector<CampaignRecipient>& recipients) = 0;
  virtual Result<CampaignOccurrence> GetOccurrence(WorkspaceId ws, OccurrenceId id) = 0;
  virtual Result<std::vector<CampaignOccurrence>> ListOccurrences(WorkspaceId ws,
                                                                  CampaignId id) = 0;  // by seq
  // Writes state, send_variant, decide_at, decision and finished_at.
  virtual Status UpdateOccurrence(const CampaignOccurrence& occurrence) = 0;
  // Pending recipients due at `now` (due_at <= now), by due time then contact; the rest arm
  // only when `include_rest`. At most `limit` (1..10000).
  virtual Result<std::vector<CampaignRecipient>> Due(OccurrenceId id, Timestamp now, bool include_rest,
                                                     int limit) = 0;
  // The earliest due time of a pending recipient (the rest arm only when `include_rest`).
  virtual Result<std::optional<Timestamp>> NextDue(OccurrenceId id, bool include_rest) = 0;
  // Records what sends did, in one transaction; only pending recipients change.
  virtual Status Mark(OccurrenceId id, const std::vector<RecipientOutcome>& outcomes) = 0;
  // Moves pending recipients to new due times, in one transaction (the rest arm of a test won by
  // a variant with an optimized send time, each at the contact's best hour); recipients no longer
  // pending keep theirs.
  virtual Status Reschedule(OccurrenceId id, const std::vector<std::pair<ContactId, Timestamp>>& due) = 0;
  // Recipients in contact order after `after_contact`, at most `limit` (1..10000), for reports.
  virtual Result<std::vector<CampaignRecipient>> Recipients(OccurrenceId id, ContactId after_contact,
                                                            int limit) = 0;
  // The archived campaigns of a workspace (archive = true), newest first.
  virtual Result<std::vector<Campaign>> ListArchived(WorkspaceId ws) = 0;
  // The campaign's recipients, of all its occurrences, whose message the outbox created strictly
  // after `since` (the outbox row's created_at): how many, and the earliest created_at. A
  // recipient with no message (pending, held, or refused with message_id 0) is not counted; nor is
  // one whose message is gone (an erased contact's). Reads only the occurrences still open or
  // finished after `since`, each through its recipients: the throttle's seed after a restart
  // (campaign/campaign_service.h), not a per-batch query.
  virtual Result<CampaignSends> SentSince(WorkspaceId ws, CampaignId id, Timestamp since) = 0;
};

}  // namespace rapport
