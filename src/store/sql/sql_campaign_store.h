// The campaigns facet (core/campaign.h) over SQL: tables campaigns, campaign_occurrences and
// campaign_recipients (migration v17). Thread-safe as the Database is.
#pragma once

#include "core/campaign.h"
#include "core/clock.h"
#include "store/sql/database.h"

namespace rapport::sql {

class SqlCampaignStore final : public CampaignStore {
 public:
  SqlCampaignStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<Campaign> Create(const Campaign& campaign) override;
  Result<Campaign> Get(WorkspaceId ws, CampaignId id) override;
  Result<Campaign> GetByName(WorkspaceId ws, std::string_view name) override;
  Result<std::vector<Campaign>> List(WorkspaceId ws) override;
  Result<Campaign> Update(const Campaign& campaign) override;
  Result<Campaign> SetState(WorkspaceId ws, CampaignId id, CampaignState state,
                            const std::vector<CampaignState>& expect) override;
  Result<CampaignOccurrence> Freeze(const CampaignOccurrence& occurrence,
                                    const std::vector<CampaignRecipient>& recipients) override;
  Result<CampaignOccurrence> GetOccurrence(WorkspaceId ws, OccurrenceId id) override;
  Result<std::vector<CampaignOccurrence>> ListOccurrences(WorkspaceId ws, CampaignId id) override;
  Status UpdateOccurrence(const CampaignOccurrence& occurrence) override;
  Result<std::vector<CampaignRecipient>> Due(OccurrenceId id, Timestamp now, bool include_rest,
                                             int limit) override;
  Result<std::optional<Timestamp>> NextDue(OccurrenceId id, bool include_rest) override;
  Status Mark(OccurrenceId id, const std::vector<RecipientOutcome>& outcomes) override;
  Status Reschedule(OccurrenceId id, const std::vector<std::pair<ContactId, Timestamp>>& due) override;
  Result<std::vector<CampaignRecipient>> Recipients(OccurrenceId id, ContactId after_contact,
                                                    int limit) override;
  Result<std::vector<Campaign>> ListArchived(WorkspaceId ws) override;
  Result<CampaignSends> SentSince(WorkspaceId ws, CampaignId id, Timestamp since) override;

  // Recipients inserted per statement by Freeze.
  static constexpr size_t kInsertChunk = 200;

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
