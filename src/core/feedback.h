// What a message's recipient side says after it was handed over: asynchronous bounces (DSN),
// complaints (ARF, a provider's feedback loop) and blocks, and what each does to the contact.
//
// The rule (pure, FeedbackContactStatus below; docs/feedback.md):
//  - a hard bounce (the address does not exist: DeliveryFailure::kRecipientAddress) bounces the
//    contact at once;
//  - a soft bounce (a full or disabled mailbox, a temporary failure that outlived its retries,
//    another permanent failure that is not the sender's) bounces the contact when
//    `soft_threshold` of their last `soft_window` delivered messages soft-bounced (3 of 5);
//  - a block (a rejection about the sender: a listed IP or domain, a rate, content, DMARC,
//    RFC 3463 x.7.x) never changes the contact: it is counted per mailbox provider;
//  - a complaint ("this is spam") unsubscribes the contact from all marketing (status
//    complained; transactional mail still arrives, core/outbox.h SuppressionReason).
// A bounced or erased contact keeps its status; an unsubscribed one who complains becomes
// complained (the stronger record).
//
// FeedbackStore records one report about one message in one transaction: the feedback row (one
// per message and kind; the same report twice records nothing), the timeline event that ends
// the message's record with the reason ("message.bounced", "message.soft_bounced",
// "message.blocked", "message.complained"), the message's state (a delivered message that
// bounces or is blocked afterwards becomes bounced or failed, last_reply the reason) and the
// contact's status change with its "contact.status_changed" event. Thread-safe (core/store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/outbox.h"

namespace rapport {

enum class FeedbackKind { kHardBounce, kSoftBounce, kBlock, kComplaint };
std::string_view FeedbackKindName(FeedbackKind k);  // "hard_bounce", "soft_bounce", "block", "complaint"
std::optional<FeedbackKind> ParseFeedbackKind(std::string_view s);
// The timeline event of one kind: "message.bounced", "message.soft_bounced", "message.blocked",
// "message.complained".
std::string_view FeedbackEventName(FeedbackKind k);

// What a permanent failure reported after delivery means: kRecipientAddress a hard bounce;
// a block for failures about the sender or the message (kPolicyBlock, kSenderAuth, kContent,
// kThrottled, kMessageSize, kProtocol); a soft bounce for the rest (kMailboxFull,
// kMailboxDisabled, kTransient, kConnection, kOther, kNone).
FeedbackKind FeedbackKindOf(DeliveryFailure failure);

struct BouncePolicy {
  int soft_threshold = 3;  // soft bounces ...
  int soft_window = 5;     // ... among the contact's last this many delivered messages
};
// kInvalid unless 1 <= soft_threshold <= soft_window <= 100.
Status ValidateBouncePolicy(const BouncePolicy& p);

// The contact's new status after a report of `kind`, or nullopt when it does not change.
// `soft_in_window`: the soft bounces among the contact's last soft_window messages, this one
// included.
std::optional<ContactStatus> FeedbackContactStatus(ContactStatus current, FeedbackKind kind,
                                                   int soft_in_window, const BouncePolicy& policy);

// One report about one message, as the reader or the feedback API understood it.
struct FeedbackInput {
  WorkspaceId workspace_id = 0;
  MessageId message_id = 0;
  FeedbackKind kind = FeedbackKind::kHardBounce;
  DeliveryFailure failure = DeliveryFailure::kNone;  // the classified reply (kNone for complaints)
  std::string status;                                // RFC 3463 code, "5.1.1"; may be empty
  std::string diagnostic;                            // the reply text or the complaint's type
  std::string source;                                // "dsn", "arf", "api"
  std::string reporter;                              // who reported it (Reporting-MTA, a relay name)
  std::string provider;                              // the mailbox provider ("gmail.com")
  Timestamp at{};                                    // when it was received
};

struct FeedbackOutcome {
  bool duplicate = false;  // this message already had feedback of this kind: nothing recorded
  ContactId contact_id = 0;
  ContactStatus status_before = ContactStatus::kActive;
  ContactStatus status_after = ContactStatus::kActive;
  int soft_in_window = 0;
  EventId event_id = 0;  // the feedback event (0 when duplicate)
};

// Counts of one mailbox provider (by recipient domain) on one UTC day.
struct DeliverabilityCounts {
  int64_t day = 0;        // days since 1970-01-01 (UTC)
  std::string domain;     // recipient domain, lower case
  int64_t delivered = 0;  // messages whose final attempt that day was accepted ("sent")
  int64_t rejected = 0;   // messages refused at SMTP time that day (bounced or failed)
  int64_t hard_bounces = 0;
  int64_t soft_bounces = 0;
  int64_t blocks = 0;
  int64_t complaints = 0;
};

struct FeedbackRecord {
  MessageId message_id = 0;
  ContactId contact_id = 0;
  FeedbackKind kind = FeedbackKind::kHardBounce;
  std::string failure;
  std::string status;
  std::string diagnostic;
  std::string source;
  std::string reporter;
  std::string provider;
  Timestamp at{};
};

class FeedbackStore {
 public:
  virtual ~FeedbackStore() = default;
  // Records the report (see the file comment). kNotFound when the workspace has no such message,
  // kConflict when the message was never handed over (queued, sending, suppressed, cancelled),
  // kInvalid for a bad policy.
  virtual Result<FeedbackOutcome> Record(const FeedbackInput& input, const BouncePolicy& policy) = 0;
  // Per recipient domain and UTC day, days in [from_day, to_day], ordered by day then domain:
  // delivered and rejected from the delivery attempts, the rest from recorded feedback (by the
  // day it was received). Only domains with a count appear.
  virtual Result<std::vector<DeliverabilityCounts>> Deliverability(WorkspaceId ws, int64_t from_day,
                                                                   int64_t to_day) = 0;
  // The feedback recorded about a contact's messages, oldest first (for the export).
  virtual Result<std::vector<FeedbackRecord>> ListForContact(WorkspaceId ws, ContactId contact) = 0;
};

}  // namespace rapport
