// The campaign engine's ports wired to the real parts (campaign/campaign_service.h): batches
// through the one send service's bulk path, audiences from the segment service. Thread-safe as
// the parts they wrap are.
#pragma once

#include "campaign/campaign_service.h"
#include "send/send_service.h"

namespace rapport::segment {
class SegmentService;
}

namespace rapport::app {

// A refusal of one recipient (suppressed, no consent, contact gone) is a skipped recipient with
// its reason; a failure of the whole batch (store, template) is an error, retried by the engine.
class SendServiceCampaignMailer final : public campaign::CampaignMailer {
 public:
  SendServiceCampaignMailer(Store& store, send::SendService& sender) : store_(store), sender_(sender) {}
  Result<std::vector<campaign::BatchItem>> SendBatch(const campaign::CampaignBatch& batch) override;
  Result<std::vector<campaign::BatchItem>> SendProof(const campaign::CampaignBatch& batch,
                                                     const std::vector<std::string>& emails) override;
  // The send service's own sender rule (SendService::CheckSender).
  Status CheckSender(WorkspaceId ws, std::optional<int64_t> sender_id, MessageClass c) override;

 private:
  Store& store_;
  send::SendService& sender_;
};

// Include minus exclude as one segment expression evaluated on the profile index at this moment:
// (in segment "a" or subscribed to "t") and not (in segment "x" or subscribed to "y").
class SegmentAudience final : public campaign::AudienceSource {
 public:
  explicit SegmentAudience(segment::SegmentService& segments) : segments_(segments) {}
  Result<std::vector<ContactId>> Resolve(WorkspaceId ws, const campaign::Audience& audience) override;
  static std::string Expression(const campaign::Audience& audience);

 private:
  segment::SegmentService& segments_;
};

// Each contact's goal events over a period, from the segment service's profile index (a scan of
// the index, never a database query).
class SegmentOutcomes final : public campaign::OutcomeSource {
 public:
  explicit SegmentOutcomes(segment::SegmentService& segments) : segments_(segments) {}
  Status ForEachContact(WorkspaceId ws, const std::string& event, const std::string& property, Timestamp from,
                        Timestamp to, const std::function<void(ContactId, int64_t, double)>& fn) override;

 private:
  segment::SegmentService& segments_;
};

}  // namespace rapport::app
