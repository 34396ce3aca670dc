// The store contract: the facets through which everything in rapport reads and writes its data.
//
// Two implementations (store/sqlite, store/postgres) pass one contract test suite. Every method
// is thread-safe and may be called from any thread. Every write is durable when it returns OK
// (committed; for SQLite in WAL mode with synchronous=NORMAL+fsync on commit of the batch, for
// PostgreSQL synchronous_commit on). Errors: kNotFound for unknown ids, kConflict for unique keys,
// kInvalid for values the schema refuses, kUnavailable when the database cannot be reached or is
// busy past its timeout, kInternal otherwise. Every query is parameterized.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/analytics_store.h"
#include "core/campaign.h"
#include "core/consent.h"
#include "core/feed_notifier.h"
#include "core/feedback.h"
#include "core/governance.h"
#include "core/journey.h"
#include "core/message_template.h"
#include "core/model.h"
#include "core/outbox.h"
#include "core/saved_segment.h"
#include "core/sender.h"
#include "core/work_queue.h"

namespace rapport {

struct ContactQuery {
  int limit = 50;  // 1..1000
  std::string cursor;
  std::optional<std::string> email;  // exact (normalized) match
  bool include_erased = false;
};

// What ContactStore::Erase removed that lives on outside the store: the ids of the contact's
// outbox messages, whose delivered copies (a maildir transport's files) the caller erases too
// (DeliveredCopies in core/outbox.h; the use case is tracking/erasure.h).
struct ErasedContact {
  std::vector<MessageId> message_ids;
};

struct UpsertResult {
  Contact contact;
  bool created = false;
};

// Every write below records itself on the contact's timeline, in the same transaction as the
// change (docs/events.md lists the names and properties): Create "contact.created"; Update and
// Upsert "contact.updated" (the changed fields and attribute keys, old and new values) and, when
// the status changes, "contact.status_changed"; Erase a "contact.erased" tombstone without
// personal data; Import "contact.imported" per contact it creates or changes; Merge
// "contact.merged". A write that changes nothing records nothing.
class ContactStore {
 public:
  virtual ~ContactStore() = default;
  // Creates a contact; kConflict (field "email" or "external_id") if one already has that key.
  virtual Result<Contact> Create(WorkspaceId ws, const ContactInput& input) = 0;
  // Finds by external_id when given, else by email; updates (merging attributes) or creates.
  // kConflict when the external_id and the email name two different contacts.
  virtual Result<UpsertResult> Upsert(WorkspaceId ws, const ContactInput& input) = 0;
  virtual Result<Contact> Get(WorkspaceId ws, ContactId id) = 0;
  // Get() for many ids in one read (a campaign's batch): the contacts of `ws` among `ids`, in no
  // particular order; an unknown id (or one of another workspace) is simply absent.
  virtual Result<std::vector<Contact>> GetMany(WorkspaceId ws, std::span<const ContactId> ids) = 0;
  virtual Result<Contact> GetByEmail(WorkspaceId ws, std::string_view email) = 0;
  virtual Result<Contact> GetByExternalId(WorkspaceId ws, std::string_view external_id) = 0;
  virtual Result<Contact> Update(WorkspaceId ws, ContactId id, const ContactInput& patch) = 0;
  // The same, with `origin` (what made the change, e.g. {"via": "unsubscribe_link"}) recorded as
  // the "origin" property of the change events.
  virtual Result<Contact> Update(WorkspaceId ws, ContactId id, const ContactInput& patch,
                                 const json::object& origin) = 0;
  // GDPR erasure: removes the contact's events, subscriptions, attributes, identifiers, outbox
  // messages and bodies and delivery attempts; keeps a row with status erased and the keyed hash
  // of the email (Store::SetErasureKey): every create path then refuses the address with
  // kConflict (field "email", message starting "erased:") unless ContactInput::reconsent.
  // Nothing deleted stays in a file of the store (sql::Database::WriteAndPurge on SQLite: the
  // deleted content zeroed and the WAL truncated before it returns). Erasing an erased contact
  // changes nothing and returns no message ids.
  virtual Result<ErasedContact> Erase(WorkspaceId ws, ContactId id) = 0;
  virtual Result<Page<Contact>> List(WorkspaceId ws, const ContactQuery& q) = 0;
  // Bulk import: upserts every input in as few transactions as it can. `on_result` is called in
  // order with the index and the outcome of each input; a bad input does not stop the others.
  virtual Status Import(WorkspaceId ws, const std::vector<ContactInput>& inputs,
                        const std::function<void(size_t, const Result<UpsertResult>&)>& on_result) = 0;
  // Contacts whose emails differ only in letter case (one contact per address whatever its case:
  // core/email_address.h; migration v6 left the ones it found, merging nothing itself): groups of
  // two or more live contacts, oldest first, groups in key order.
  virtual Result<std::vector<std::vector<Contact>>> ListDuplicates(WorkspaceId ws) = 0;
  // Merges `from` into `into` in one transaction: moves from's events, idempotency keys,
  // subscriptions (of two to one topic, the more recently updated wins), messages and delivery
  // attempts to into; adds from's attributes into lacks and its external_id when into has none;
  // leaves from as a row without identifiers (status erased, no email hash: the person still gets
  // mail as `into`); records "contact.merged" on into. Returns into as merged. kNotFound for
  // unknown ids, kInvalid when they are the same, kConflict when either is erased.
  virtual Result<Contact> Merge(WorkspaceId ws, ContactId into, ContactId from) = 0;
  // Streams every live contact of the workspace (erased and merged ones skipped) in id order, for
  // export, in chunks each read by one keyset query on (workspace_id, id) (migration v11), so
  // memory stays that of a chunk whatever the size of the workspace. Stops when fn returns false.
  virtual Status ForEach(WorkspaceId ws, const std::function<bool(const Contact&)>& fn) = 0;
  virtual Result<int64_t> Count(WorkspaceId ws) = 0;
};

enum class AppendOutcome { kAccepted, kDuplicate, kFailed };

struct AppendResult {
  AppendOutcome outcome = AppendOutcome::kAccepted;
  EventId event_id = 0;  // the new event, or the first one for a duplicate key
  ContactId contact_id = 0;
  Error error;  // when kFailed (e.g. kNotFound for an unknown contact id)
};

// A page of a contact's timeline, newest first (by id), with optional filters applied in the store
// before the limit, so a reader looking for a few names is not bounded by the contact's other
// events. The cursor pages the filtered list: pass the same filters with it.
struct EventQuery {
  int limit = 50;  // 1..1000; newest first
  std::string cursor;
  // Only events with one of these names (exact match); empty = every name. At most
  // kMaxEventQueryNames, each 1..128 bytes: kInvalid with field "names" otherwise.
  std::vector<std::string> names;
  // Only events with occurred_at >= since. The order stays by id, not by occurred_at.
  std::optional<Timestamp> since;
};
inline constexpr size_t kMaxEventQueryNames = 16;

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Appends a batch in one transaction: resolves (and may create) each event's contact, merges
  // contact_attributes (a contact created or changed this way gets its "contact.created" /
  // "contact.updated" event just before the event that caused it), skips events whose idempotency key the
  // workspace has seen already (kDuplicate). Items that fail are reported and the rest are stored. When this
  // returns OK, every kAccepted event is durable. `received_at` is stamped by the caller's clock.
  virtual Result<std::vector<AppendResult>> Append(WorkspaceId ws, const std::vector<NewEvent>& events,
                                                   Timestamp received_at) = 0;
  // Append, and in the same transaction commits `consumer`'s feed position (FeedStore::Commit's
  // checks; kConflict when `position` is below the committed one, and then nothing is appended).
  // For producers that load events from elsewhere exactly once: the position says how far the
  // source is loaded (the tracking hit log: http/hit_loader.h). With no events it only commits.
  virtual Result<std::vector<AppendResult>> AppendAndCommit(WorkspaceId ws,
                                                            const std::vector<NewEvent>& events,
                                                            Timestamp received_at, std::string_view consumer,
                                                            int64_t position) = 0;
  virtual Result<Page<Event>> ListForContact(WorkspaceId ws, ContactId contact, const EventQuery& q) = 0;
  virtual Result<int64_t> Count(WorkspaceId ws) = 0;
};

class TopicStore {
 public:
  virtual ~TopicStore() = default;
  virtual Result<Topic> Create(WorkspaceId ws, const Topic& topic) = 0;  // kConflict on key
  virtual Result<std::vector<Topic>> List(WorkspaceId ws) = 0;
  virtual Result<Topic> GetByKey(WorkspaceId ws, std::string_view key) = 0;
  // Sets the contact's subscription to the topic with the consent record; creates or replaces.
  // Records "topic.subscribed" or "topic.unsubscribed" (topic key and consent) in the same
  // transaction.
  virtual Result<Subscription> SetSubscription(WorkspaceId ws, ContactId contact, std::string_view topic_key,
                                               SubscriptionStatus status, const Consent& consent) = 0;
  // Removes the subscription row (kNotFound when there is none); records
  // "topic.subscription_removed" in the same transaction.
  virtual Status DeleteSubscription(WorkspaceId ws, ContactId contact, std::string_view topic_key) = 0;
  virtual Result<std::vector<Subscription>> ListSubscriptions(WorkspaceId ws, ContactId contact) = 0;
  // The status of each of `contacts`' subscriptions to the topic `topic_key` of `ws`, in one read
  // (a campaign's batch): (contact, status) pairs in no particular order; a contact without a
  // subscription row (or unknown) is absent.
  virtual Result<std::vector<std::pair<ContactId, SubscriptionStatus>>> SubscriptionStatuses(
      WorkspaceId ws, std::string_view topic_key, std::span<const ContactId> contacts) = 0;
};

// One write of a feed consumer's own state, committed with its position (FeedStore::Commit).
struct ConsumerStateWrite {
  std::string key;                   // 1..255 bytes
  std::optional<std::string> value;  // bytes; nullopt deletes the key
};

// The event log as a feed: read in commit order after a position, in batches, by consumers whose
// positions are kept here (docs/events.md, "The feed").
//
// Positions: every event gets a position when its transaction commits its events; positions
// are unique, increase in commit order (a reader that has read up to P never later finds a new
// event at or below P) and are never reused. SQLite: the event id (one writer at a time, ids
// never reused). PostgreSQL: a counter row taken as the transaction appends its events and held
// until it commits, so the next transaction's positions come after (events.position).
// Erasure deletes a contact's events, so a position may be missing from the log later; the
// order of those that remain holds.
//
// A consumer commits its position (and, in the same transaction, its own state) after it has
// handled the events up to it; after a restart it reads after Position(): nothing missed, and
// nothing it committed is read again. Engines whose state lives in store tables of their own
// commit the position inside their own write transaction (sql::CommitPositionIn).
class FeedStore {
 public:
  virtual ~FeedStore() = default;
  // Events of every workspace with position > after, in position order; at most `limit`
  // (1..10000, else kInvalid "limit"). Each Event has its position set.
  virtual Result<std::vector<Event>> Read(int64_t after, int limit) = 0;
  // The highest position in the log (0 when empty).
  virtual Result<int64_t> Head() = 0;
  // The consumer's committed position; 0 when it never committed.
  virtual Result<int64_t> Position(std::string_view consumer) = 0;
  // Commits the consumer's position and its state writes in one transaction. kInvalid for an
  // empty name (or longer than 255 bytes), a negative position or a bad key; kConflict when
  // `position` is below the committed one (a consumer never moves back, so a second instance
  // of the same consumer is noticed).
  virtual Status Commit(std::string_view consumer, int64_t position,
                        const std::vector<ConsumerStateWrite>& state) = 0;
  // One value of the consumer's state; nullopt when absent.
  virtual Result<std::optional<std::string>> State(std::string_view consumer, std::string_view key) = 0;
  // Signalled after every commit (through this store object) that appended events.
  virtual FeedNotifier& notifier() = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Result<ApiKey> Create(const ApiKey& key) = 0;
  // The live (not revoked) key with this hash; kNotFound otherwise.
  virtual Result<ApiKey> FindByHash(std::string_view hash) = 0;
  virtual Result<std::vector<ApiKey>> List(WorkspaceId ws) = 0;
  virtual Status Revoke(WorkspaceId ws, KeyId id, Timestamp at) = 0;
  virtual Status TouchLastUsed(KeyId id, Timestamp at) = 0;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual Status Record(const AuditEntry& entry) = 0;
  virtual Result<std::vector<AuditEntry>> List(WorkspaceId ws, int limit) = 0;  // newest first
};

class WorkspaceStore {
 public:
  virtual ~WorkspaceStore() = default;
  virtual Result<Workspace> Create(std::string_view name) = 0;
  virtual Result<Workspace> Get(WorkspaceId id) = 0;
  virtual Result<std::optional<Workspace>> FindByName(std::string_view name) = 0;
  // Every workspace, in id order.
  virtual Result<std::vector<Workspace>> List() = 0;
};

// A tracked message as the public tracking endpoints need it (tracking/, docs/tracking.md).
struct TrackedMessage {
  MessageId message_id = 0;
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;  // the message's contact now (a merge moves it)
  std::string template_name;
  std::string source;  // OutboxMessage::source
  MessageClass message_class = MessageClass::kTransactional;
  MessageState state = MessageState::kQueued;
  Timestamp updated_at{};          // when the state last changed: the sending time once kSent
  std::vector<std::string> links;  // original targets by link index
};

// The tracking data kept with messages (OutboxMessage::tracking, written by Enqueue).
class TrackingStore {
 public:
  virtual ~TrackingStore() = default;
  // The message whose tracking key is `key` in the workspace; kNotFound when there is none
  // (never tracked, erased with its contact, or another workspace's).
  // Reads the message's row and its link targets, never its HTML: this is the lookup of every
  // open and click, so it stays small.
  virtual Result<TrackedMessage> FindByKey(WorkspaceId ws, int64_t key) = 0;
  // The HTML of the message's web view (as sent, without the pixel); kNotFound as FindByKey, and
  // an empty string when the message had no HTML part.
  virtual Result<std::string> ViewHtml(WorkspaceId ws, int64_t key) = 0;
};

// The whole store. Owns its connections; facets live as long as it does.
class Store {
 public:
  virtual ~Store() = default;
  // Applies pending migrations in order, each in its own transaction; returns the version.
  virtual Result<int> Migrate() = 0;
  virtual Result<int> SchemaVersion() = 0;
  // Cheap liveness check for /healthz.
  virtual Status Ping() = 0;
  virtual std::string_view Backend() const = 0;  // "sqlite" or "postgres"

  virtual WorkspaceStore& workspaces() = 0;
  virtual ContactStore& contacts() = 0;
  virtual EventStore& events() = 0;
  virtual TopicStore& topics() = 0;
  virtual KeyStore& keys() = 0;
  virtual AuditStore& audit() = 0;
  virtual OutboxStore& outbox() = 0;
  virtual TemplateStore& templates() = 0;
  virtual FeedStore& feed() = 0;
  virtual WorkQueueStore& work() = 0;
  virtual SegmentStore& segments() = 0;  // saved segments (core/saved_segment.h)
  virtual TrackingStore& tracking() = 0;
  virtual FeedbackStore& feedback() = 0;    // bounces and complaints after delivery (core/feedback.h)
  virtual ConsentStore& consents() = 0;     // the consent ledger and preferences (core/consent.h)
  virtual AnalyticsStore& analytics() = 0;  // the analytics consumer's state (core/analytics_store.h)
  virtual JourneyStore& journeys() = 0;     // journeys, versions, runs (core/journey.h)
  virtual GovernorStore& governor() = 0;    // the frequency governor's policy and facts (core/governance.h)

  // The key of the erasure list's HMAC (store/sql/erasure_list.h): a secret of the data
  // directory (app/ reads <data_dir>/erasure-secret). Set it before serving; every create path
  // (contacts, events, import, send) refuses an address erased under this key or, for tombstones
  // written before keys existed, under the bare SHA-256. Thread-safe.
  virtual void SetErasureKey(std::string key) = 0;

  virtual SenderStore& senders() = 0;  // sender identities (core/sender.h)
  // Campaigns, their occurrences and frozen recipients (core/campaign.h).
  virtual CampaignStore& campaigns() = 0;
};

}  // namespace rapport
