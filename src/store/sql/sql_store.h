// The store facets written once over a sql::Database, and the Store that assembles them.
//
// Both backends (store/sqlite, store/postgres) are a Database plus their schema migrations; the
// PostgreSQL backend replaces the event facet's batch Append with a set-based one. Every facet
// holds references to the Database and the Clock that stamp created_at/updated_at; both must
// outlive it. Thread-safety: every method is thread-safe (the Database is). Failure: see
// core/store.h.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/mail_rule.h"
#include "core/store.h"
#include "store/sql/change_events.h"
#include "store/sql/database.h"
#include "store/sql/erasure_list.h"
#include "store/sql/sql_analytics_store.h"
#include "store/sql/sql_campaign_store.h"
#include "store/sql/sql_governor_store.h"
#include "store/sql/sql_journey_store.h"
#include "store/sql/sql_segment_store.h"
#include "store/sql/sql_sender_store.h"
#include "store/sql/sql_work_queue_store.h"

namespace rapport::sql {

// One schema migration: its version and a script of statements run in one transaction.
struct Migration {
  int version = 0;
  std::string name;
  std::string script;
  // Runs with foreign keys unenforced (SQLite table rebuilds), checked before it commits.
  bool foreign_keys_off = false;
};

// Tracked messages (sql_tracking_store.cpp; table message_tracking, migration v9).
class SqlTrackingStore final : public TrackingStore {
 public:
  explicit SqlTrackingStore(Database& db) : db_(db) {}
  Result<TrackedMessage> FindByKey(WorkspaceId ws, int64_t key) override;
  Result<std::string> ViewHtml(WorkspaceId ws, int64_t key) override;

 private:
  Database& db_;
};

// Writes a message's tracking row inside the caller's transaction (the outbox's enqueue).
Status InsertTrackingIn(Session& s, const OutboxMessage& m, MessageId id);

class SqlWorkspaceStore final : public WorkspaceStore {
 public:
  SqlWorkspaceStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<Workspace> Create(std::string_view name) override;
  Result<Workspace> Get(WorkspaceId id) override;
  Result<std::optional<Workspace>> FindByName(std::string_view name) override;
  Result<std::vector<Workspace>> List() override;

 private:
  Database& db_;
  const Clock& clock_;
};

class SqlContactStore final : public ContactStore {
 public:
  SqlContactStore(Database& db, const Clock& clock, const ErasureKey& erasure)
      : db_(db), clock_(clock), erasure_(erasure) {}
  Result<Contact> Create(WorkspaceId ws, const ContactInput& input) override;
  Result<UpsertResult> Upsert(WorkspaceId ws, const ContactInput& input) override;
  Result<Contact> Get(WorkspaceId ws, ContactId id) override;
  Result<std::vector<Contact>> GetMany(WorkspaceId ws, std::span<const ContactId> ids) override;
  Result<Contact> GetByEmail(WorkspaceId ws, std::string_view email) override;
  Result<Contact> GetByExternalId(WorkspaceId ws, std::string_view external_id) override;
  Result<Contact> Update(WorkspaceId ws, ContactId id, const ContactInput& patch) override;
  Result<Contact> Update(WorkspaceId ws, ContactId id, const ContactInput& patch,
                         const json::object& origin) override;
  Result<ErasedContact> Erase(WorkspaceId ws, ContactId id) override;
  Result<Page<Contact>> List(WorkspaceId ws, const ContactQuery& q) override;
  // The statements of a List page ($1 workspace, $2 the cursor's id, $3 limit + 1, [$4 the email
  // key]) and of a ForEach chunk ($1 workspace, $2 the last id read): keyset reads on the index
  // contacts_live (migration v11). Public for the contract's query-plan checks.
  static std::string ListSql(const ContactQuery& q);
  static const std::string& ChunkSql();
  Status Import(WorkspaceId ws, const std::vector<ContactInput>& inputs,
                const std::function<void(size_t, const Result<UpsertResult>&)>& on_result) override;
  Status ForEach(WorkspaceId ws, const std::function<bool(const Contact&)>& fn) override;
  Result<int64_t> Count(WorkspaceId ws) override;
  Result<std::vector<std::vector<Contact>>> ListDuplicates(WorkspaceId ws) override;  // sql_contact_merge.cpp
  Result<Contact> Merge(WorkspaceId ws, ContactId into, ContactId from) override;     // sql_contact_merge.cpp

  // How many inputs Import upserts per transaction.
  static constexpr size_t kImportBatch = 5000;
  // Import writes a chunk's new contacts set-based where it can (sql_contact_import.cpp); off,
  // every row takes the row path (the reference the differential test compares with). Set it
  // before any Import; not synchronized.
  void SetSetBasedImport(bool on) { set_based_import_ = on; }

 private:
  Database& db_;
  const Clock& clock_;
  const ErasureKey& erasure_;
  bool set_based_import_ = true;
};

// Contact operations inside a caller's transaction (shared by the contact and event facets).
Result<std::optional<Contact>> FindContactBy(Session& s, WorkspaceId ws, std::string_view column,
                                             std::string_view value);
Result<Contact> FindContact(Session& s, WorkspaceId ws, ContactId id);
// `input` must have been validated (ValidateContactInput). Each adds the events of the change it
// makes to `changes` (the caller inserts them, last in its transaction: InsertChangeEvents).
// Creating refuses an erased address (erasure_list.h) unless input.reconsent. `no_tombstones`
// says the caller has found, in this same write transaction and under the writer's lock (SQLite),
// that the workspace's erasure list is empty: the per-address check (a keyed hash and a lookup)
// is then skipped, as it could find nothing (SqlContactStore::Import, per batch).
Result<UpsertResult> UpsertContactIn(Session& s, WorkspaceId ws, const ContactInput& input, Timestamp now,
                                     std::vector<ChangeEvent>& changes, const ErasureKey& erasure,
                                     const ChangeNames& names = {}, bool no_tombstones = false);
Result<Contact> InsertContactIn(Session& s, WorkspaceId ws, const ContactInput& input, Timestamp now,
                                std::vector<ChangeEvent>& changes, const ErasureKey& erasure,
                                const ChangeNames& names = {}, bool no_tombstones = false);
// Applies a validated patch to `contact` and writes it. With `erasure`, a patch that moves the
// contact to an erased address is refused (unless patch.reconsent).
Status UpdateContactIn(Session& s, Contact& contact, const ContactInput& patch, Timestamp now,
                       std::vector<ChangeEvent>& changes, const ChangeNames& names = {},
                       const json::object* origin = nullptr, const ErasureKey* erasure = nullptr);
// Appends one event row (properties as JSON object text); returns its id.
Result<EventId> InsertEventIn(Session& s, WorkspaceId ws, ContactId contact, std::string_view name,
                              std::string_view properties_json, Timestamp occurred_at, Timestamp received_at);

// PostgreSQL: takes `n` feed positions for events this transaction appends; returns the last
// (the range is (last - n, last]). The counter row stays locked until the transaction ends, so
// positions follow commit order (core/store.h, FeedStore). Take it late: it serializes every
// transaction that appends events from here to its commit.
Result<int64_t> ReservePositions(Session& s, int64_t n);
// Commits a feed consumer's position inside the caller's write transaction (for engines whose
// state lives in tables of their own); the checks of FeedStore::Commit.
Status CommitPositionIn(Session& s, std::string_view consumer, int64_t position, Timestamp now);

// The topic named `key`; kNotFound otherwise.
Result<Topic> FindTopicIn(Session& s, WorkspaceId ws, std::string_view key);
// Sets c's subscription to the topic, appends its consent record (core/consent.h: granted or
// withdrawn, or confirmed when `request_id` names the double opt-in request it confirms) and its
// "topic.subscribed"/"topic.unsubscribed" event, all in the caller's transaction.
Status SetSubscriptionIn(Session& s, WorkspaceId ws, const Contact& c, std::string_view topic_key,
                         SubscriptionStatus status, const Consent& consent, Timestamp now, int64_t request_id,
                         Subscription* out);
// Appends one consent ledger record in the caller's transaction; returns its id.
Result<int64_t> InsertConsentIn(Session& s, const ConsentRecord& record);

class SqlEventStore : public EventStore {
 public:
  SqlEventStore(Database& db, const Clock& clock, const ErasureKey& erasure)
      : db_(db), clock_(clock), erasure_(erasure) {}
  Result<std::vector<AppendResult>> Append(WorkspaceId ws, const std::vector<NewEvent>& events,
                                           Timestamp received_at) final;
  Result<std::vector<AppendResult>> AppendAndCommit(WorkspaceId ws, const std::vector<NewEvent>& events,
                                                    Timestamp received_at, std::string_view consumer,
                                                    int64_t position) final;
  Result<Page<Event>> ListForContact(WorkspaceId ws, ContactId contact, const EventQuery& q) override;
  Result<int64_t> Count(WorkspaceId ws) override;

 protected:
  // A consumer position to commit in the append's transaction (AppendAndCommit).
  struct PositionCommit {
    std::string_view consumer;
    int64_t position = 0;
  };
  // Both appends: the row-by-row one here; the backends override it with set-based ones. `commit`
  // (may be null) is committed in the same transaction; `events` is not empty when it is set.
  virtual Result<std::vector<AppendResult>> AppendWith(WorkspaceId ws, const std::vector<NewEvent>& events,
                                                       Timestamp received_at, const PositionCommit* commit);
  // The checks Append makes before touching the database (name, contact reference, sizes of
  // what the caller's ValidateNewEvent would have refused). Emails are expected normalized.
  static Status PrecheckEvent(const NewEvent& event);
  Database& db_;
  const Clock& clock_;
  const ErasureKey& erasure_;  // an event never creates a contact for an erased address
};

class SqlTopicStore final : public TopicStore {
 public:
  SqlTopicStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<Topic> Create(WorkspaceId ws, const Topic& topic) override;
  Result<std::vector<Topic>> List(WorkspaceId ws) override;
  Result<Topic> GetByKey(WorkspaceId ws, std::string_view key) override;
  Result<Subscription> SetSubscription(WorkspaceId ws, ContactId contact, std::string_view topic_key,
                                       SubscriptionStatus status, const Consent& consent) override;
  Status DeleteSubscription(WorkspaceId ws, ContactId contact, std::string_view topic_key) override;
  Result<std::vector<Subscription>> ListSubscriptions(WorkspaceId ws, ContactId contact) override;
  Result<std::vector<std::pair<ContactId, SubscriptionStatus>>> SubscriptionStatuses(
      WorkspaceId ws, std::string_view topic_key, std::span<const ContactId> contacts) override;

 private:
  Database& db_;
  const Clock& clock_;
};

class SqlFeedStore final : public FeedStore {
 public:
  SqlFeedStore(Database& db, const Clock& clock, FeedNotifier& notifier)
      : db_(db), clock_(clock), notifier_(notifier) {}
  Result<std::vector<Event>> Read(int64_t after, int limit) override;
  Result<int64_t> Head() override;
  Result<int64_t> Position(std::string_view consumer) override;
  Status Commit(std::string_view consumer, int64_t position,
                const std::vector<ConsumerStateWrite>& state) override;
  Result<std::optional<std::string>> State(std::string_view consumer, std::string_view key) override;
  FeedNotifier& notifier() override { return notifier_; }

  static constexpr int kMaxRead = 10000;

 private:
  Database& db_;
  const Clock& clock_;
  FeedNotifier& notifier_;
};

class SqlKeyStore final : public KeyStore {
 public:
  explicit SqlKeyStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<ApiKey> Create(const ApiKey& key) override;
  Result<ApiKey> FindByHash(std::string_view hash) override;
  Result<std::vector<ApiKey>> List(WorkspaceId ws) override;
  Status Revoke(WorkspaceId ws, KeyId id, Timestamp at) override;
  Status TouchLastUsed(KeyId id, Timestamp at) override;

 private:
  Database& db_;
  const Clock& clock_;
};

class SqlAuditStore final : public AuditStore {
 public:
  explicit SqlAuditStore(Database& db) : db_(db) {}
  Status Record(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> List(WorkspaceId ws, int limit) override;

 private:
  Database& db_;
};

class SqlOutboxStore final : public OutboxStore {
 public:
  SqlOutboxStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  void UseMailRule(const MailRule& rule) override { rule_.store(&rule); }
  Result<EnqueueResult> Enqueue(const OutboxMessage& message) override;
  Result<std::vector<Result<EnqueueResult>>> EnqueueBatch(std::span<const OutboxMessage> batch) override;
  Result<std::vector<OutboxMessage>> Claim(MessageClass lane, int max, std::string_view owner, Timestamp now,
                                           Micros lease) override;
  Status Complete(MessageId id, std::string_view owner, const DeliveryAttempt& attempt,
                  Timestamp next_attempt_at) override;
  Result<std::vector<Status>> CompleteBatch(std::span<const OutboxCompletion> batch,
                                            std::string_view owner) override;
  Status Renew(const std::vector<MessageId>& ids, std::string_view owner, Timestamp lease_until) override;
  Result<int64_t> ReleaseNode(std::string_view node_id, std::string_view current_owner,
                              Timestamp now) override;
  Status Cancel(WorkspaceId ws, MessageId id) override;
  Result<OutboxMessage> Get(WorkspaceId ws, MessageId id) override;
  Result<std::optional<OutboxMessage>> FindByIdempotencyKey(WorkspaceId ws, std::string_view key) override;
  Result<std::vector<DeliveryAttempt>> Attempts(WorkspaceId ws, MessageId id) override;
  Result<Page<OutboxMessage>> ListForContact(WorkspaceId ws, ContactId contact,
                                             const OutboxQuery& q) override;
  Result<int64_t> CountByState(MessageState state) override;

 private:
  Database& db_;
  const Clock& clock_;
  std::atomic<const MailRule*> rule_{&DefaultMailRule()};
};

class SqlTemplateStore final : public TemplateStore {
 public:
  SqlTemplateStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<MessageTemplate> Create(const MessageTemplate& tpl) override;
  Result<MessageTemplate> Get(WorkspaceId ws, TemplateId id) override;
  Result<MessageTemplate> GetByName(WorkspaceId ws, std::string_view name) override;
  Result<std::vector<MessageTemplate>> List(WorkspaceId ws) override;
  Result<MessageTemplate> Update(const MessageTemplate& tpl) override;
  Status Delete(WorkspaceId ws, TemplateId id) override;

 private:
  Database& db_;
  const Clock& clock_;
};

class SqlFeedbackStore final : public FeedbackStore {
 public:
  SqlFeedbackStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<FeedbackOutcome> Record(const FeedbackInput& input, const BouncePolicy& policy) override;
  Result<std::vector<DeliverabilityCounts>> Deliverability(WorkspaceId ws, int64_t from_day,
                                                           int64_t to_day) override;
  Result<std::vector<FeedbackRecord>> ListForContact(WorkspaceId ws, ContactId contact) override;

 private:
  Database& db_;
  const Clock& clock_;
};

class SqlConsentStore final : public ConsentStore {
 public:
  SqlConsentStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<std::vector<ConsentRecord>> List(WorkspaceId ws, ContactId contact) override;
  Result<ContactPreferences> Preferences(WorkspaceId ws, ContactId contact) override;
  Result<std::vector<ContactPreferences>> PreferencesOf(WorkspaceId ws,
                                                        std::span<const ContactId> contacts) override;
  Result<ContactPreferences> SetPreferences(WorkspaceId ws, ContactId contact,
                                            const ContactPreferences& prefs, const Consent& origin) override;
  Result<int64_t> RequestConfirmation(WorkspaceId ws, ContactId contact,
                                      const std::vector<std::string>& topics, const Consent& consent,
                                      Timestamp expires_at) override;
  Result<std::vector<Subscription>> Confirm(WorkspaceId ws, ContactId contact, int64_t request_id,
                                            const Consent& consent) override;

 private:
  Database& db_;
  const Clock& clock_;
};

// Makes a backend's event facet over the store's Database.
using EventStoreFactory =
    std::function<std::unique_ptr<SqlEventStore>(Database&, const Clock&, const ErasureKey&)>;

// The whole store over one Database. Owns the database and the facets. Every facet writes through
// a NotifyingDatabase, so the feed's notifier hears of every commit that appended events.
class SqlStore final : public Store {
 public:
  // `events` may be null (the generic row-by-row Append is used).
  SqlStore(std::unique_ptr<Database> db, std::vector<Migration> migrations, std::string backend,
           const Clock& clock, const EventStoreFactory& events = nullptr);
  ~SqlStore() override;

  Result<int> Migrate() override;
  Result<int> SchemaVersion() override;
  Status Ping() override;
  std::string_view Backend() const override { return backend_; }

  WorkspaceStore& workspaces() override { return workspaces_; }
  ContactStore& contacts() override { return contacts_; }
  EventStore& events() override { return *events_; }
  TopicStore& topics() override { return topics_; }
  KeyStore& keys() override { return keys_; }
  AuditStore& audit() override { return audit_; }
  OutboxStore& outbox() override { return outbox_; }
  TemplateStore& templates() override { return templates_; }
  FeedStore& feed() override { return feed_; }
  WorkQueueStore& work() override { return work_; }
  SegmentStore& segments() override { return segments_; }
  TrackingStore& tracking() override { return tracking_; }
  FeedbackStore& feedback() override { return feedback_; }
  ConsentStore& consents() override { return consents_; }
  AnalyticsStore& analytics() override { return analytics_; }
  JourneyStore& journeys() override { return journeys_; }
  GovernorStore& governor() override { return governor_; }
  CampaignStore& campaigns() override { return campaigns_; }

  void SetErasureKey(std::string key) override { erasure_.Set(std::move(key)); }

  SenderStore& senders() override { return senders_; }

  Database& database() { return *db_; }

 private:
  ErasureKey erasure_;
  FeedNotifier notifier_;
  std::unique_ptr<Database> db_;
  std::vector<Migration> migrations_;
  std::string backend_;
  SqlWorkspaceStore workspaces_;
  SqlContactStore contacts_;
  std::unique_ptr<SqlEventStore> events_;
  SqlTopicStore topics_;
  SqlKeyStore keys_;
  SqlAuditStore audit_;
  SqlOutboxStore outbox_;
  SqlTemplateStore templates_;
  SqlFeedStore feed_;
  SqlWorkQueueStore work_;
  SqlSegmentStore segments_;
  SqlTrackingStore tracking_;
  SqlFeedbackStore feedback_;
  SqlConsentStore consents_;
  SqlAnalyticsStore analytics_;
  SqlJourneyStore journeys_;
  SqlSenderStore senders_;
  SqlGovernorStore governor_;
  SqlCampaignStore campaigns_;
};

}  // namespace rapport::sql
