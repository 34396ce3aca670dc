// The durable outbox: one row per message, claimed by delivery workers with expiring leases.
//
// A message is rendered (MIME, without DKIM) when it is queued; DKIM is applied at send time.
// States: queued -> sending -> sent | deferred (-> sending ...) | bounced | failed;
// queued -> suppressed | cancelled. A worker claims due messages with a lease; a lease that
// expires (the process died) makes the message claimable again, so a kill loses nothing.
// A message is marked sent only after the server accepted it.
// Lease owners are "<node id>/<process nonce>" (LeaseOwner below): a node that starts again
// after a crash hands back every lease its earlier processes held (ReleaseNode), so their
// messages are due at once instead of when the leases expire.
// Every state change is recorded in the same transaction as an event on the contact's timeline
// (names "message.queued", "message.sent", "message.deferred", "message.bounced",
// "message.failed", "message.suppressed"; properties carry message_id and the SMTP reply).
// Thread-safe, like every store facet (see core/store.h).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace rapport {

using MessageId = int64_t;

enum class MessageState { kQueued, kSending, kSent, kDeferred, kBounced, kFailed, kSuppressed, kCancelled };
std::string_view MessageStateName(MessageState s);
std::optional<MessageState> ParseMessageState(std::string_view s);

// A node id names one rapport node (one data directory): 1 to 64 of [A-Za-z0-9._-]. Returns
// the reason it is not one, or nullopt when it is.
std::optional<std::string_view> NodeIdProblem(std::string_view node_id);
// The lease owner of one process of a node: "<node_id>/<nonce>" (the nonce is new per process).
std::string LeaseOwner(std::string_view node_id, std::string_view nonce);
// Whether `owner` is a lease owner of a process of `node_id` (an owner without a '/' belongs to
// no node).
bool LeaseOwnerOfNode(std::string_view owner, std::string_view node_id);

// What queued a message (OutboxMessage::source, the governor's source): "api",
// "campaign:<id>", "journey:<id>:<step id>". Adds the properties its message events and hits
// carry: `campaign_id` (number) for a campaign's message; `journey_id` (number) and
// `journey_step` (text) for a journey's. Anything else adds nothing.
void AddSourceProperties(std::string_view source, json::object& props);
// The state a message goes back to when its lease is handed back unsent: kQueued if it was never
// attempted, kDeferred (its next_attempt_at kept) otherwise.
MessageState ReleasedState(int attempts);

// Transactional mail has its own lane and never waits behind marketing mail.
enum class MessageClass { kTransactional, kMarketing };
std::string_view MessageClassName(MessageClass c);
std::optional<MessageClass> ParseMessageClass(std::string_view s);

// Who may be mailed: checked when a message is queued and again when it is claimed for sending.
// Marketing mail never goes to unsubscribed, bounced, complained or erased contacts.
// Transactional mail (an order confirmation, a password reset) still reaches unsubscribed and
// complained contacts, but never a bounced address or an erased person.
// Returns the reason the contact must not get this class of mail, or nullopt when it may.
std::optional<std::string_view> SuppressionReason(ContactStatus status, MessageClass message_class);

// A tracked message's tracking data (tracking/, migration v9): the random key its signed open,
// click and web-view tokens name, the original targets of its rewritten links by index (a click
// goes where the stored message pointed, never where a token says), and its HTML as rendered
// (links rewritten, no pixel) for the web view. Stored with the message, in the same transaction.
struct MessageTracking {
  int64_t key = 0;  // > 0; unique
  std::vector<std::string> links;
  std::string html;
};

// The frequency governor's record on a marketing message (core/governance.h, campaign/governor.h,
// migration v16).
// What the governor decided when a marketing message was queued.
enum class GovernorVerdict { kAllow, kDefer, kSkip };
std::string_view GovernorVerdictName(GovernorVerdict v);  // "allowed", "deferred", "skipped"

// Stored with a governed (marketing) message. Enqueue writes it; when the verdict is not kAllow,
// the message's last_reply is `reason` and a "message.governed" event (decision, reason, source,
// priority, until) is appended to the contact's timeline in the same transaction. A kSkip message
// is enqueued kSuppressed; a kDefer one kQueued with next_attempt_at = the allowed moment.
struct MessageGovernance {
  std::string source;        // who sent it: "campaign:7", "journey:3:welcome", "api"
  int priority = 0;          // higher wins a full cap
  bool skip_on_cap = false;  // what the message does when a cap stops it (else it is deferred)
  GovernorVerdict verdict = GovernorVerdict::kAllow;
  std::string reason;  // empty when allowed
};

struct OutboxMessage {
  MessageId id = 0;
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  MessageClass message_class = MessageClass::kTransactional;
  MessageState state = MessageState::kQueued;
  std::string template_name;  // what produced it, for display
  std::string mail_from;      // envelope sender (bounce address)
  std::string rcpt_to;        // envelope recipient
  std::string subject;
  std::string mime;  // the complete message, CRLF line ends, unsigned (empty in listings)
  int64_t size = 0;  // bytes of `mime` (set by the store, also in listings)
  std::optional<std::string> idempotency_key;  // unique per workspace
  int attempts = 0;
  Timestamp next_attempt_at{};
  Timestamp created_at{};
  Timestamp updated_at{};
  std::string last_reply;   // the last SMTP reply or transport error text
  std::string lease_owner;  // set while kSending
  Timestamp lease_until{};
  // The topic key the message is sent under (marketing consent), if any; stored with it.
  std::optional<std::string> topic;
  // Set on enqueue for a message with tracked links, a pixel or a web view; not read back in
  // claims or listings (TrackingStore reads it).
  std::optional<MessageTracking> tracking;
  // Set on enqueue by the send service for marketing mail (MessageGovernance); not read back in
  // claims or listings (GovernorStore::Recent reads it).
  std::optional<MessageGovernance> governance;
  // Who queued it ("api", "campaign:7", "journey:3:welcome"; the send service sets it), stored
  // with it (column gov_source; before this, only marketing messages kept theirs): its timeline
  // events and its opens and clicks carry the campaign or journey (AddSourceProperties), so
  // reports and segments can name them.
  std::string source;
};

// Why an attempt did not deliver, as the reply tells it (delivery classifies replies:
// delivery/bounce_classifier.h). It decides what a permanent failure does: only
// kRecipientAddress ends a message kBounced and marks its contact bounced (the address does not
// exist); every other permanent failure (a block, a policy or content rejection, a message too
// large, a full or disabled mailbox, a problem with the sender) ends the message kFailed and
// leaves the contact mailable. Temporary ones (kThrottled, kTransient, kConnection) defer it.
enum class DeliveryFailure {
  kNone,              // delivered (or nothing to classify)
  kRecipientAddress,  // no such user / domain: 5.1.1, 5.1.2, 5.1.3, 5.1.10, "user unknown"
  kMailboxFull,       // x.2.2, over quota
  kMailboxDisabled,   // x.2.1: the account exists but is disabled or suspended
  kPolicyBlock,       // x.7.x: blocked, spam, block lists, reputation (about the sender)
  kContent,           // x.6.x, viruses, content filters
  kMessageSize,       // x.3.4, x.2.3: the message is too large
  kSenderAuth,        // SPF, DKIM, DMARC, the sender's address (x.1.7, x.1.8), AUTH at the relay
  kThrottled,         // 421, x.7.28, rate limits (temporary)
  kTransient,         // other temporary failures (4xx): greylisting, server trouble
  kConnection,        // no reply at all: refused, timeout, TLS, lost connection
  kProtocol,          // x.5.x: the server did not take a command as sent
  kOther,             // any other permanent failure
};
std::string_view DeliveryFailureName(DeliveryFailure f);
std::optional<DeliveryFailure> ParseDeliveryFailure(std::string_view s);

struct DeliveryAttempt {
  MessageId message_id = 0;
  int attempt = 0;  // 1-based
  Timestamp at{};
  MessageState outcome = MessageState::kSent;  // kSent, kDeferred, kBounced or kFailed
  int smtp_code = 0;                           // 250, 421, 550 ...; 0 for connection-level failures
  std::string enhanced_code;                   // "5.1.1" when the server gave one
  std::string reply;                           // the server's reply text, or the error
  std::string remote;                          // the host that answered, or the transport ("maildir")
  // Why it failed (kNone when sent). kBounced requires kRecipientAddress. Recorded in the
  // timeline event's properties ("failure"); delivery_attempts has no column for it, so
  // Attempts() returns kNone.
  DeliveryFailure failure = DeliveryFailure::kNone;
  std::string smtp_step;  // the protocol step that answered ("greeting", "rcpt" ...); may be empty
};

// One outcome for OutboxStore::CompleteBatch.
struct OutboxCompletion {
  MessageId id = 0;
  DeliveryAttempt attempt;
  Timestamp next_attempt_at{};  // for kDeferred
};

struct EnqueueResult {
  OutboxMessage message;
  bool created = true;  // false: an existing message had the idempotency key; nothing was queued
};

struct OutboxQuery {
  int limit = 50;  // newest first
  std::string cursor;
};

// Copies of messages that rapport keeps outside the store after delivering them (the maildir
// transport's files). Erasing a contact erases them too (tracking/erasure.h).
// Thread-safety: implementations are thread-safe.
class DeliveredCopies {
 public:
  virtual ~DeliveredCopies() = default;
  // Removes every kept copy of these messages; ids with no copy are no error.
  virtual Status EraseCopies(std::span<const MessageId> ids) = 0;
};

class MailRule;  // core/mail_rule.h

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  // The rule Claim() asks again for each due message (default: DefaultMailRule(), the consent
  // rule). The composition root gives the send service and the store the same rule. `rule`
  // must outlive the store; set it before claims start.
  virtual void UseMailRule(const MailRule& rule) = 0;
  // Queues a message (state kQueued or kSuppressed as given, next_attempt_at as given).
  virtual Result<EnqueueResult> Enqueue(const OutboxMessage& message) = 0;
  // Enqueue() for many messages in one transaction (a campaign's batch): one result per message,
  // in order. A message that is invalid or names an unknown or erased contact gets its own error
  // and the others are queued; a store failure (or an idempotency key taken by a concurrent
  // writer in the meantime) fails the call and queues nothing.
  virtual Result<std::vector<Result<EnqueueResult>>> EnqueueBatch(std::span<const OutboxMessage> batch) = 0;
  // Claims up to `max` messages of the lane that are due: kQueued/kDeferred with
  // next_attempt_at <= now, or kSending whose lease has expired. Marks them kSending with
  // lease_owner = owner and lease_until = now + lease. Never hands one message to two live leases.
  // The mail rule is asked again here, in the same transaction, with the contact's status and its
  // subscription to the message's topic as they are now: a due message it refuses becomes
  // kSuppressed, with the reason as last_reply and a "message.suppressed" timeline event, and is
  // not returned.
  virtual Result<std::vector<OutboxMessage>> Claim(MessageClass lane, int max, std::string_view owner,
                                                   Timestamp now, Micros lease) = 0;
  // Records the outcome of an attempt for a message this owner holds: appends the attempt,
  // sets state (kSent, kDeferred with next_attempt_at, kBounced, kFailed), clears the lease,
  // and appends the timeline event. kConflict if the lease is no longer this owner's. Only a
  // kBounced attempt marks the contact bounced, and kBounced is accepted only with failure
  // kRecipientAddress (kInvalid, field "failure", otherwise): a block or a rejected message
  // never suppresses the person.
  virtual Status Complete(MessageId id, std::string_view owner, const DeliveryAttempt& attempt,
                          Timestamp next_attempt_at) = 0;
  // Complete() for a whole batch in one transaction (what a worker does after a batch was sent).
  // Returns one Status per item: ok, or kConflict / kNotFound for that item alone (nothing
  // written for it). A store failure fails the call and writes nothing.
  virtual Result<std::vector<Status>> CompleteBatch(std::span<const OutboxCompletion> batch,
                                                    std::string_view owner) = 0;
  // Extends the leases of messages this owner holds (long SMTP sessions).
  virtual Status Renew(const std::vector<MessageId>& ids, std::string_view owner, Timestamp lease_until) = 0;
  // Hands back the leases held by earlier processes of this node: every kSending message whose
  // lease_owner belongs to `node_id` (LeaseOwnerOfNode) and is not `current_owner` goes back to
  // ReleasedState(attempts) with its lease cleared, in one transaction, whatever the lane and
  // however long the lease has to run. Leases of other nodes are never touched. No timeline event
  // (claims and lease expiry write none either). Call it when a node starts, before its worker
  // claims; it is only safe if no other live process uses the same node id. Returns how many
  // messages were released.
  virtual Result<int64_t> ReleaseNode(std::string_view node_id, std::string_view current_owner,
                                      Timestamp now) = 0;
  // Cancels a queued or deferred message (kConflict in any other state).
  virtual Status Cancel(WorkspaceId ws, MessageId id) = 0;
  virtual Result<OutboxMessage> Get(WorkspaceId ws, MessageId id) = 0;
  // The message queued with this idempotency key, if any.
  virtual Result<std::optional<OutboxMessage>> FindByIdempotencyKey(WorkspaceId ws, std::string_view key) = 0;
  virtual Result<std::vector<DeliveryAttempt>> Attempts(WorkspaceId ws, MessageId id) = 0;
  virtual Result<Page<OutboxMessage>> ListForContact(WorkspaceId ws, ContactId contact,
                                                     const OutboxQuery& q) = 0;
  // Messages by state, for metrics and tests.
  virtual Result<int64_t> CountByState(MessageState state) = 0;
};

}  // namespace rapport
