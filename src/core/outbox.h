// The durable outbox: one row per message, claimed by delivery workers with expiring leases.
//
// A message is rendered (MIME, without DKIM) when it is queued; DKIM is applied at send time.
// States: queued -> sending -> sent | deferred (-> sending ...) | bounced | failed;
// queued -> suppressed | cancelled. A worker claims due messages with a lease; a lease that
// expires (the process died) makes the message claimable again, so a kill loses nothing.
// A message is marked sent only after the server accepted it.
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
};

struct DeliveryAttempt {
  MessageId message_id = 0;
  int attempt = 0;  // 1-based
  Timestamp at{};
  MessageState outcome = MessageState::kSent;  // kSent, kDeferred, kBounced or kFailed
  int smtp_code = 0;                           // 250, 421, 550 ...; 0 for connection-level failures
  std::string enhanced_code;                   // "5.1.1" when the server gave one
  std::string reply;                           // the server's reply text, or the error
  std::string remote;                          // the host that answered, or the transport ("maildir")
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

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  // Queues a message (state kQueued or kSuppressed as given, next_attempt_at as given).
  virtual Result<EnqueueResult> Enqueue(const OutboxMessage& message) = 0;
  // Claims up to `max` messages of the lane that are due: kQueued/kDeferred with
  // next_attempt_at <= now, or kSending whose lease has expired. Marks them kSending with
  // lease_owner = owner and lease_until = now + lease. Never hands one message to two live leases.
  // Suppression is checked again here, in the same transaction: a due message whose contact may
  // no longer get its class of mail (SuppressionReason) becomes kSuppressed, with the reason as
  // last_reply and a "message.suppressed" timeline event, and is not returned.
  virtual Result<std::vector<OutboxMessage>> Claim(MessageClass lane, int max, std::string_view owner,
                                                   Timestamp now, Micros lease) = 0;
  // Records the outcome of an attempt for a message this owner holds: appends the attempt,
  // sets state (kSent, kDeferred with next_attempt_at, kBounced, kFailed), clears the lease,
  // and appends the timeline event. kConflict if the lease is no longer this owner's.
  virtual Status Complete(MessageId id, std::string_view owner, const DeliveryAttempt& attempt,
                          Timestamp next_attempt_at) = 0;
  // Complete() for a whole batch in one transaction (what a worker does after a batch was sent).
  // Returns one Status per item: ok, or kConflict / kNotFound for that item alone (nothing
  // written for it). A store failure fails the call and writes nothing.
  virtual Result<std::vector<Status>> CompleteBatch(std::span<const OutboxCompletion> batch,
                                                    std::string_view owner) = 0;
  // Extends the leases of messages this owner holds (long SMTP sessions).
  virtual Status Renew(const std::vector<MessageId>& ids, std::string_view owner, Timestamp lease_until) = 0;
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
