#include "app/campaign_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/email_address.h"
#include "segment/segment_service.h"

namespace rapport::app {

namespace {

send::BulkSend BulkOf(const campaign::CampaignBatch& b) {
  send::BulkSend bulk;
  bulk.template_name = b.variant.template_name;
  bulk.message_class = b.proof ? MessageClass::kTransactional : MessageClass::kMarketing;
  if (!b.proof) bulk.topic = b.topic;
  bulk.data = b.data;
  bulk.subject_override = b.variant.subject;
  bulk.preheader_override = b.variant.preheader;
  bulk.sender_id = b.sender_id;
  if (b.variant.from_name) bulk.from_name_override = *b.variant.from_name;
  bulk.governance.source = "campaign:" + std::to_string(b.campaign_id);
  bulk.governance.priority = b.governance.priority;
  bulk.governance.on_cap =
      b.governance.on_cap == "skip" ? send::Governance::OnCap::kSkip : send::Governance::OnCap::kDefer;
  return bulk;
}

campaign::BatchItem ItemOf(const Result<send::SendOutcome>& r) {
  campaign::BatchItem item;
  if (r.ok() && r->message.state == MessageState::kSuppressed) {
    // The frequency governor skipped it (on_cap "skip"): recorded on the message, not sent.
    item.message_id = r->message.id;
    item.reason = r->message.last_reply;
  } else if (r.ok()) {
    item.queued = true;
    item.message_id = r->message.id;
  } else {
    item.reason = r.error().message.empty() ? std::string(ErrorCodeName(r.error().code)) : r.error().message;
  }
  return item;
}

}  // namespace

Result<std::vector<campaign::BatchItem>> SendServiceCampaignMailer::SendBatch(
    const campaign::CampaignBatch& b) {
  send::BulkSend bulk = BulkOf(b);
  bulk.recipients.reserve(b.recipients.size());
  for (const campaign::BatchRecipient& r : b.recipients)
    bulk.recipients.push_back(send::BulkRecipient{r.contact_id, {}, r.idempotency_key});
  RAPPORT_ASSIGN_OR_RETURN(auto results, sender_.SendBulk(b.workspace_id, bulk));
  std::vector<campaign::BatchItem> out;
  out.reserve(results.size());
  for (const auto& r : results) {
    // A store failure of one recipient is retried with the batch; refusals are final.
    if (!r.ok() && (r.error().code == ErrorCode::kUnavailable || r.error().code == ErrorCode::kInternal))
      return r.error();
    out.push_back(ItemOf(r));
  }
  return out;
}

Result<std::vector<campaign::BatchItem>> SendServiceCampaignMailer::SendProof(
    const campaign::CampaignBatch& b, const std::vector<std::string>& emails) {
  // The proof's subject: the variant's, or the template's own, marked as a proof.
  auto tpl = store_.templates().GetByName(b.workspace_id, b.variant.template_name);
  if (!tpl.ok()) {
    if (tpl.error().code == ErrorCode::kNotFound)
      return Error::Invalid("template", fmt::format("no template named '{}'", b.variant.template_name));
    return tpl.error();
  }
  send::BulkSend bulk = BulkOf(b);
  bulk.subject_override = "[Proof] " + b.variant.subject.value_or(tpl->subject);
  for (size_t i = 0; i < emails.size(); ++i) {
    RAPPORT_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(emails[i], fmt::format("to[{}]", i)));
    ContactInput in;
    in.email = std::move(email);
    RAPPORT_ASSIGN_OR_RETURN(UpsertResult c, store_.contacts().Upsert(b.workspace_id, in));
    bulk.recipients.push_back(send::BulkRecipient{c.contact.id, {}, std::nullopt});
  }
  RAPPORT_ASSIGN_OR_RETURN(auto results, sender_.SendBulk(b.workspace_id, bulk));
  std::vector<campaign::BatchItem> out;
  for (const auto& r : results) out.push_back(ItemOf(r));
  return out;
}

Status SendServiceCampaignMailer::CheckSender(WorkspaceId ws, std::optional<int64_t> sender_id,
                                              MessageClass c) {
  return sender_.CheckSender(ws, sender_id, c);
}

std::string SegmentAudience::Expression(const campaign::Audience& a) {
  auto terms = [](const std::vector<std::string>& segments, const std::vector<std::string>& topics) {
    std::string out;
    for (const auto& s : segments) out += fmt::format("{}in segment \"{}\"", out.empty() ? "" : " or ", s);
    for (const auto& t : topics) out += fmt::format("{}subscribed to \"{}\"", out.empty() ? "" : " or ", t);
    return out;
  };
  std::string include = terms(a.include_segments, a.include_topics);
  std::string exclude = terms(a.exclude_segments, a.exclude_topics);
  if (exclude.empty()) return include;
  return fmt::format("({}) and not ({})", include, exclude);
}

Result<std::vector<ContactId>> SegmentAudience::Resolve(WorkspaceId ws, const campaign::Audience& audience) {
  RAPPORT_ASSIGN_OR_RETURN(segment::PreviewResult r,
                           segments_.Preview(ws, Expression(audience), std::numeric_limits<size_t>::max()));
  std::vector<ContactId> ids;
  ids.reserve(r.sample.size());
  for (const auto& b : r.sample) ids.push_back(b.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status SegmentOutcomes::ForEachContact(WorkspaceId ws, const std::string& event, const std::string& property,
                                       Timestamp from, Timestamp to,
                                       const std::function<void(ContactId, int64_t, double)>& fn) {
  return segments_.ForEachEventTotals(ws, event, property, ToMicros(from), ToMicros(to), fn);
}

}  // namespace rapport::app
