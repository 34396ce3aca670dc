// What a campaign's mail did, per recipient, read from each recipient's timeline (the event log)
// within the conversion window after the occurrence started: delivered (message.sent), human and
// machine opens and clicks (email_opened / email_clicked of the recipient's message, "machine"
// property), complaints (message.complained), unsubscribes (topic.unsubscribed of the campaign's
// topic or contact.status_changed to unsubscribed), conversions and revenue (the goal event and
// its revenue property; for holdout members too, who got no message). Pure over the store's
// event facet (no clock). Each recipient's timeline is read filtered by those names and from the
// occurrence's start (EventQuery::names, ::since), all of it: a busy contact's other events (page
// views, many pixel fetches) neither cost a read nor push these out of it.
#pragma once

#include <string>

#include "campaign/experiment.h"
#include "core/campaign.h"
#include "core/store.h"

namespace rapport::campaign {

struct RecipientResult {
  bool delivered = false, opened_human = false, opened_machine = false, clicked_human = false,
       clicked_machine = false, complained = false, unsubscribed = false;
  int64_t conversions = 0;
  double revenue = 0;
};

struct OutcomeOptions {
  std::string goal_event = "order_placed";
  std::string revenue_property = "total";
  Timestamp from{};  // the occurrence's start
  Timestamp to{};    // from + the conversion window
  std::optional<std::string> topic;
  // A safety bound on the matching events read per recipient (only the names above, occurred at
  // or after `from`, are read: the store filters them, so other events do not count). Far above
  // what a real recipient has within a conversion window.
  size_t max_events = 100'000;
};

Result<RecipientResult> ReadRecipientResult(EventStore& events, WorkspaceId ws, const CampaignRecipient& r,
                                            const OutcomeOptions& options);

// Sums of one group of recipients (a variant, the rest, the holdout).
struct GroupTotals {
  int64_t recipients = 0, sent = 0, skipped = 0, delivered = 0, opened_human = 0, opened_machine = 0,
          clicked_human = 0, clicked_machine = 0, complained = 0, unsubscribed = 0, converters = 0,
          conversions = 0;
  double revenue = 0, revenue_sq = 0;
  void Add(const CampaignRecipient& r, const RecipientResult& x);
  // The experiment's view of the group under `metric` (recipients: those sent, or the holdout).
  ArmOutcome Outcome(WinnerMetric metric, bool holdout = false) const;
};

}  // namespace rapport::campaign
