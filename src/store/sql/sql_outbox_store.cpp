#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/mail_rule.h"
#include "store/sql/codec.h"
#include "store/sql/lease_claim.h"
#include "store/sql/sql_governor_store.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {

// A message with its MIME, or with the MIME's length (listings).
const std::string kSelectWithMime =
    "SELECT " + std::string(kMessageColumnsM) +
    ", b.mime FROM outbox_messages m JOIN outbox_bodies b ON b.message_id = m.id ";
const std::string kSelectWithSize =
    "SELECT " + std::string(kMessageColumnsM) +
    ", LENGTH(b.mime) FROM outbox_messages m JOIN outbox_bodies b ON b.message_id = m.id ";

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

Status ValidateMessage(const OutboxMessage& m) {
  if (m.workspace_id <= 0) return Error::Invalid("workspace_id", "a message belongs to a workspace");
  if (m.contact_id <= 0) return Error::Invalid("contact_id", "a message is addressed to a contact");
  if (m.state != MessageState::kQueued && m.state != MessageState::kSuppressed)
    return Error::Invalid("state", "a message is queued or suppressed when it is enqueued");
  if (m.rcpt_to.empty() || HasCrLf(m.rcpt_to)) return Error::Invalid("rcpt_to", "rcpt_to is one address");
  if (HasCrLf(m.mail_from)) return Error::Invalid("mail_from", "mail_from may not hold CR or LF");
  if (HasCrLf(m.subject)) return Error::Invalid("subject", "the subject may not hold CR or LF");
  if (m.idempotency_key &&
      (m.idempotency_key->empty() || m.idempotency_key->size() > kMaxIdempotencyKeyLength))
    return Error::Invalid("idempotency_key", "idempotency_key is 1 to 255 characters");
  if (m.topic) RAPPORT_TRY(ValidateSlug(*m.topic, "topic", "a topic key"));
  if (m.tracking && m.tracking->key <= 0) return Error::Invalid("tracking", "a tracking key is positive");
  return {};
}

Result<std::optional<OutboxMessage>> FindByKey(Session& s, WorkspaceId ws, std::string_view key) {
  std::optional<OutboxMessage> m;
  static const std::string sql = kSelectWithMime + "WHERE m.workspace_id = $1 AND m.idempotency_key = $2";
  RAPPORT_TRY(s.Exec(sql, {ws, key}, [&](const Row& r) { m = ReadMessage(r, MessageExtra::kMime); }));
  return m;
}

Result<OutboxMessage> FindMessage(Session& s, std::optional<WorkspaceId> ws, MessageId id) {
  std::optional<OutboxMessage> m;
  static const std::string sql = kSelectWithMime + "WHERE m.id = $1";
  RAPPORT_TRY(s.Exec(sql, {id}, [&](const Row& r) { m = ReadMessage(r, MessageExtra::kMime); }));
  if (!m || (ws && m->workspace_id != *ws)) return Error::NotFound("no message " + std::to_string(id));
  return std::move(*m);
}

// A message's timeline event properties: `props` with the message id, template, class, topic
// and the campaign or journey that queued it (AddSourceProperties).
std::string TimelineProperties(const OutboxMessage& m, json::object props) {
  props["message_id"] = m.id;
  if (!m.template_name.empty()) props["template"] = m.template_name;
  props["class"] = MessageClassName(m.message_class);
  if (m.topic) props["topic"] = *m.topic;  // reports per topic (analytics)
  AddSourceProperties(m.source, props);    // reports per campaign and journey; segments
  return SerializeObject(props);
}

Status TimelineEvent(Session& s, const OutboxMessage& m, std::string_view name, json::object props,
                     Timestamp at) {
  std::string text = TimelineProperties(m, std::move(props));
  RAPPORT_TRY(InsertEventIn(s, m.workspace_id, m.contact_id, name, text, at, at));
  return {};
}

// Runs "<prefix> IN (<values>)" over `values` in chunks (a few statement texts, prepared once,
// whatever the batch size); on_row gets every row.
Status SelectIn(Session& s, const StatementSet& set, const std::vector<int64_t>& values,
                const RowFn& on_row) {
  std::vector<Param> params;
  params.reserve(kChunk);
  return ForChunks(values.size(), [&](size_t begin, size_t count) -> Status {
    params.assign(values.begin() + static_cast<std::ptrdiff_t>(begin),
                  values.begin() + static_cast<std::ptrdiff_t>(begin + count));
    RAPPORT_TRY(s.Exec(set.For(count), params, on_row));
    return {};
  });
}

// Fills the MIME of claimed messages.
Status LoadBodies(Session& s, std::vector<OutboxMessage>& messages) {
  static const StatementSet select("SELECT message_id, mime FROM outbox_bodies WHERE message_id IN ", 0,
                                   StatementSet::Shape::kInList, /*leading=*/0);
  std::vector<int64_t> ids;
  ids.reserve(messages.size());
  std::unordered_map<MessageId, OutboxMessage*> by_id;
  for (OutboxMessage& m : messages) {
    ids.push_back(m.id);
    by_id[m.id] = &m;
  }
  return SelectIn(s, select, ids, [&](const Row& r) {
    auto it = by_id.find(r.Int(0));
    if (it == by_id.end()) return;
    it->second->mime = r.Bytes(1);
    it->second->size = static_cast<int64_t>(it->second->mime.size());
  });
}

// The send-time suppression check of Claim(): drops from `claimed` (and marks suppressed) every
// message whose contact may no longer get its class of mail.
Status SuppressClaimed(Session& s, std::vector<OutboxMessage>& claimed, Timestamp now, const MailRule& rule) {
  static const StatementSet select("SELECT id, status FROM contacts WHERE id IN ", 0,
                                   StatementSet::Shape::kInList, /*leading=*/0);
  static const StatementSet select_subscriptions(
      "SELECT s.contact_id, t.key, s.status FROM subscriptions s JOIN topics t ON t.id = s.topic_id WHERE "
      "s.contact_id IN ",
      0, StatementSet::Shape::kInList, /*leading=*/0);
  static const StatementSet select_pauses(
      "SELECT contact_id, paused_until FROM contact_preferences WHERE paused_until IS NOT NULL AND "
      "contact_id IN ",
      0, StatementSet::Shape::kInList, /*leading=*/0);
  std::vector<int64_t> contacts, with_topic, marketing;
  std::unordered_set<ContactId> seen, seen_topic, seen_marketing;
  for (const OutboxMessage& m : claimed) {
    if (seen.insert(m.contact_id).second) contacts.push_back(m.contact_id);
    if (m.topic && seen_topic.insert(m.contact_id).second) with_topic.push_back(m.contact_id);
    if (m.message_class == MessageClass::kMarketing && seen_marketing.insert(m.contact_id).second)
      marketing.push_back(m.contact_id);
  }
  // Pauses from the preference center (core/consent.h), only for contacts of marketing mail.
  std::unordered_map<ContactId, Timestamp> paused;
  RAPPORT_TRY(
      SelectIn(s, select_pauses, marketing, [&](const Row& r) { paused[r.Int(0)] = FromMicros(r.Int(1)); }));
  std::unordered_map<ContactId, ContactStatus> status;
  RAPPORT_TRY(SelectIn(s, select, contacts, [&](const Row& r) {
    status[r.Int(0)] = ParseContactStatus(r.Text(1)).value_or(ContactStatus::kErased);
  }));
  // (contact, topic key) -> subscription, only for contacts of messages sent under a topic.
  std::map<std::pair<ContactId, std::string>, SubscriptionStatus, std::less<>> subscriptions;
  RAPPORT_TRY(SelectIn(s, select_subscriptions, with_topic, [&](const Row& r) {
    if (auto st = ParseSubscriptionStatus(r.Text(2))) subscriptions[{r.Int(0), std::string(r.Text(1))}] = *st;
  }));
  std::vector<OutboxMessage> kept;
  kept.reserve(claimed.size());
  for (OutboxMessage& m : claimed) {
    auto it = status.find(m.contact_id);
    std::optional<std::string> reason;
    if (it == status.end()) {
      reason = "the contact no longer exists";
    } else {
      MailCandidate candidate;
      candidate.status = it->second;
      candidate.message_class = m.message_class;
      candidate.now = now;
      if (auto p = paused.find(m.contact_id); p != paused.end()) candidate.paused_until = p->second;
      if (m.topic) {
        candidate.topic = *m.topic;
        auto sub = subscriptions.find(std::pair<ContactId, std::string>(m.contact_id, *m.topic));
        if (sub != subscriptions.end()) candidate.subscription = sub->second;
      }
      reason = rule.Refusal(candidate);
    }
    if (!reason) {
      kept.push_back(std::move(m));
      continue;
    }
    RAPPORT_TRY(
        s.Exec("UPDATE outbox_messages SET state = 'suppressed', last_reply = $2, lease_owner = '', "
               "lease_until = 0, updated_at = $3 WHERE id = $1",
               {m.id, std::string_view(*reason), ToMicros(now)}));
    RAPPORT_TRY(TimelineEvent(s, m, "message.suppressed", json::object{{"reason", *reason}}, now));
  }
  claimed = std::move(kept);
  return {};
}

}  // namespace

namespace {

// Queues one message inside the caller's transaction (see OutboxStore::Enqueue).
Result<EnqueueResult> EnqueueIn(Session& s, const OutboxMessage& m, Timestamp now) {
  Timestamp created = m.created_at == Timestamp{} ? now : m.created_at;
  if (m.idempotency_key) {
    RAPPORT_ASSIGN_OR_RETURN(auto existing, FindByKey(s, m.workspace_id, *m.idempotency_key));
    if (existing) return EnqueueResult{std::move(*existing), false};
  }
  // The contact's status alone (not the whole row with its attributes' JSON).
  std::optional<ContactStatus> status;
  RAPPORT_TRY(s.Exec(
      "SELECT status FROM contacts WHERE id = $1 AND workspace_id = $2", {m.contact_id, m.workspace_id},
      [&](const Row& r) { status = ParseContactStatus(r.Text(0)).value_or(ContactStatus::kErased); }));
  if (!status) return Error::NotFound("no contact " + std::to_string(m.contact_id));
  if (*status == ContactStatus::kErased) return Error::Conflict("the contact is erased", "contact_id");
  std::optional<OutboxMessage> row;
  static const std::string sql =
      "INSERT INTO outbox_messages (workspace_id, contact_id, lane, state, template_name, mail_from, "
      "rcpt_to, "
      "subject, idempotency_key, attempts, next_attempt_at, created_at, updated_at, last_reply, "
      "lease_owner, "
      "lease_until, topic, governed_at, gov_source, gov_priority, gov_skip) VALUES ($1, $2, $3, $4, $5, $6, "
      "$7, "
      "$8, $9, 0, $10, $11, $11, $13, '', 0, $12, $14, $15, $16, $17) "
      "RETURNING " +
      std::string(kMessageColumns);
  // Marketing mail is placed at its next attempt for the frequency governor (core/governance.h);
  // a governed message that was deferred or skipped says why in last_reply.
  const MessageGovernance* g = m.governance ? &*m.governance : nullptr;
  const bool marketing = m.message_class == MessageClass::kMarketing;
  // Allowed with a reason: it took the place of a lower-priority message (recorded too).
  const bool stopped = g && (g->verdict != GovernorVerdict::kAllow || !g->reason.empty());
  RAPPORT_TRY(s.Exec(
      sql,
      {m.workspace_id, m.contact_id, MessageClassName(m.message_class), MessageStateName(m.state),
       std::string_view(m.template_name), std::string_view(m.mail_from), std::string_view(m.rcpt_to),
       std::string_view(m.subject), OptParam(m.idempotency_key), ToMicros(m.next_attempt_at),
       ToMicros(created), OptParam(m.topic), std::string_view(stopped ? g->reason : std::string_view()),
       marketing ? Param(ToMicros(m.next_attempt_at)) : Param(nullptr),
       // Every message's source (the governed ones' is the governor's source too).
       std::string_view(!m.source.empty() ? std::string_view(m.source)
                        : g               ? std::string_view(g->source)
                                          : std::string_view()),
       int64_t{g ? g->priority : 0}, int64_t{g && g->skip_on_cap ? 1 : 0}},
      [&](const Row& r) { row = ReadMessage(r); }));
  if (!row) return Error::Internal("insert returned no row");
  RAPPORT_TRY(s.Exec("INSERT INTO outbox_bodies (contact_id, message_id, mime) VALUES ($1, $2, $3)",
                     {m.contact_id, row->id, Blob{m.mime}}));
  if (m.tracking) RAPPORT_TRY(InsertTrackingIn(s, m, row->id));
  row->mime = m.mime;
  row->size = static_cast<int64_t>(m.mime.size());
  row->governance = m.governance;
  json::object props;
  props["subject"] = m.subject;
  if (stopped) {
    std::optional<Timestamp> until;
    if (g->verdict == GovernorVerdict::kDefer) until = m.next_attempt_at;
    RAPPORT_TRY(RecordGovernedIn(s, *row, *g, until, created));
    if (m.state == MessageState::kSuppressed) props["reason"] = g->reason;
  }
  RAPPORT_TRY(TimelineEvent(s, *row,
                            m.state == MessageState::kSuppressed ? "message.suppressed" : "message.queued",
                            std::move(props), created));
  return EnqueueResult{std::move(*row), true};
}

// An error of one message that EnqueueIn finds before it writes anything, so the batch's
// transaction stays usable: an unknown or erased contact.
bool IsItemError(const Error& e) {
  return e.code == ErrorCode::kNotFound || (e.code == ErrorCode::kConflict && e.field == "contact_id");
}

}  // namespace

Result<EnqueueResult> SqlOutboxStore::Enqueue(const OutboxMessage& m) {
  RAPPORT_TRY(ValidateMessage(m));
  EnqueueResult out;
  Status st = db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, EnqueueIn(s, m, clock_.Now()));
    return {};
  });
  if (!st.ok() && st.error().code == ErrorCode::kConflict && m.idempotency_key) {
    // Another writer queued the same key between our check and our insert.
    std::optional<OutboxMessage> existing;
    RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
      RAPPORT_ASSIGN_OR_RETURN(existing, FindByKey(s, m.workspace_id, *m.idempotency_key));
      return {};
    }));
    if (existing) return EnqueueResult{std::move(*existing), false};
  }
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<Result<EnqueueResult>>> SqlOutboxStore::EnqueueBatch(
    std::span<const OutboxMessage> batch) {
  std::vector<Result<EnqueueResult>> out;
  Status st = db_.Write([&](Session& s) -> Status {
    out.clear();
    out.reserve(batch.size());
    Timestamp now = clock_.Now();
    for (const OutboxMessage& m : batch) {
      Status valid = ValidateMessage(m);
      if (!valid.ok()) {
        out.emplace_back(valid.error());
        continue;
      }
      // An unknown or erased contact is refused before anything is written for it (the
      // transaction stays usable); any other failure (a store error, a key taken by a
      // concurrent writer) fails the whole batch.
      auto r = EnqueueIn(s, m, now);
      if (!r.ok() && !IsItemError(r.error())) return r.error();
      out.push_back(std::move(r));
    }
    return {};
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<OutboxMessage>> SqlOutboxStore::Claim(MessageClass lane, int max, std::string_view owner,
                                                         Timestamp now, Micros lease) {
  if (max < 1 || max > 1000) return Error::Invalid("max", "claim 1 to 1000 messages at a time");
  if (owner.empty()) return Error::Invalid("owner", "a lease needs an owner");
  if (lease.count() <= 0) return Error::Invalid("lease", "a lease lasts a positive time");
  std::vector<OutboxMessage> out;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.clear();
    // Each kind of due message is read from its own index in order (store/sql/lease_claim.h).
    static const auto build = [](bool pg) {
      return LeaseClaimStatement(
          "outbox_messages", "state = 'sending', lease_owner = $1, lease_until = $2, updated_at = $3",
          "next_attempt_at",
          {{"state = 'queued' AND lane = $4 AND next_attempt_at <= $3", "next_attempt_at, id"},
           {"state = 'deferred' AND lane = $4 AND next_attempt_at <= $3", "next_attempt_at, id"},
           {"state = 'sending' AND lane = $4 AND lease_until <= $3", "lease_until, id"}},
          "$5", kMessageColumns, pg);
    };
    static const std::string sqlite_sql = build(false);
    static const std::string pg_sql = build(true);
    const std::string& sql = s.pg() ? pg_sql : sqlite_sql;
    RAPPORT_TRY(s.Exec(sql,
                       {owner, ToMicros(now + lease), ToMicros(now), MessageClassName(lane), int64_t{max}},
                       [&](const Row& r) { out.push_back(ReadMessage(r)); }));
    RAPPORT_TRY(SuppressClaimed(s, out, now, *rule_.load()));
    return LoadBodies(s, out);
  }));
  std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
    return std::pair(a.next_attempt_at, a.id) < std::pair(b.next_attempt_at, b.id);
  });
  return out;
}

namespace {

Status ValidateOutcome(const DeliveryAttempt& attempt) {
  const MessageState outcome = attempt.outcome;
  if (outcome != MessageState::kSent && outcome != MessageState::kDeferred &&
      outcome != MessageState::kBounced && outcome != MessageState::kFailed)
    return Error::Invalid("outcome", "an attempt ends sent, deferred, bounced or failed");
  // Bounced means the recipient's address does not exist, and suppresses the contact: any other
  // permanent failure (a block, a rejected message) is kFailed and leaves the contact mailable.
  if (outcome == MessageState::kBounced && attempt.failure != DeliveryFailure::kRecipientAddress)
    return Error::Invalid("failure", "only a failure about the recipient's address bounces (else: failed)");
  return {};
}

// What a completion needs of a message: ten columns, not its MIME (which may be 50 KB) nor the
// whole row (ReadMessage's 17 columns measured 1.5-2 us more per message on the send path).
const StatementSet& SelectForCompletion() {
  static const StatementSet set(
      "SELECT id, workspace_id, contact_id, lane, state, template_name, attempts, next_attempt_at, "
      "lease_owner, gov_source FROM outbox_messages WHERE id IN ",
      0, StatementSet::Shape::kInList, /*leading=*/0);
  return set;
}
// The outcome of each message: VALUES rows (id, state, attempts, next_attempt_at, last_reply,
// updated_at), typed by CAST so PostgreSQL knows the parameters' types.
const StatementSet& UpdateMessages() {
  static constexpr std::string_view kTypes[] = {"BIGINT", "TEXT", "INTEGER", "BIGINT", "TEXT", "BIGINT"};
  static const StatementSet set(
      "UPDATE outbox_messages SET state = v.column2, attempts = v.column3, next_attempt_at = v.column4, "
      "last_reply = v.column5, lease_owner = '', lease_until = 0, updated_at = v.column6 FROM (VALUES ",
      6, StatementSet::Shape::kValues, 0, ") AS v WHERE outbox_messages.id = v.column1", kTypes);
  return set;
}
const StatementSet& InsertAttempts() {
  static const StatementSet set(
      "INSERT INTO delivery_attempts (contact_id, message_id, attempt, workspace_id, at, outcome, smtp_code, "
      "enhanced_code, reply, remote) VALUES ",
      10, StatementSet::Shape::kValues);
  return set;
}
const StatementSet& InsertEvents() {
  static const StatementSet set(
      "INSERT INTO events (workspace_id, contact_id, name, properties, occurred_at, received_at) VALUES ", 6,
      StatementSet::Shape::kValues);
  return set;
}

// One attempt being recorded: its message (as read in this transaction) and what is written.
struct Recorded {
  const OutboxCompletion* completion;
  const OutboxMessage* message;
  int attempt;
  Timestamp at;
  Timestamp next_attempt_at;
  std::string event_name;
  std::string event_props;
};

// Records `batch` inside the caller's transaction, set-wise: one IN-list read of the messages,
// then per chunk of up to kChunk messages one UPDATE ... FROM (VALUES ...) and multi-row INSERTs
// of the attempts and timeline events. An item whose lease is not `owner`'s (or whose message
// is gone) gets kConflict (kNotFound) and writes nothing; any other error aborts the
// transaction.
Result<std::vector<Status>> CompleteIn(Session& s, std::span<const OutboxCompletion> batch,
                                       std::string_view owner, Timestamp now) {
  std::vector<Status> out(batch.size());
  std::unordered_map<MessageId, OutboxMessage> found;
  found.reserve(batch.size());
  std::vector<Param> params;
  params.reserve(10 * kChunk);
  RAPPORT_TRY(ForChunks(batch.size(), [&](size_t begin, size_t count) -> Status {
    params.clear();
    for (size_t i = begin; i < begin + count; ++i) params.emplace_back(batch[i].id);
    RAPPORT_TRY(s.Exec(SelectForCompletion().For(count), params, [&](const Row& r) {
      OutboxMessage m;
      m.id = r.Int(0);
      m.workspace_id = r.Int(1);
      m.contact_id = r.Int(2);
      m.message_class = ParseMessageClass(r.Text(3)).value_or(MessageClass::kTransactional);
      m.state = ParseMessageState(r.Text(4)).value_or(MessageState::kQueued);
      m.template_name = std::string(r.Text(5));
      m.attempts = static_cast<int>(r.Int(6));
      m.next_attempt_at = FromMicros(r.Int(7));
      m.lease_owner = std::string(r.Text(8));
      m.source = std::string(r.Text(9));
      found.emplace(m.id, std::move(m));
    }));
    return {};
  }));

  std::vector<Recorded> recorded;
  recorded.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const OutboxCompletion& c = batch[i];
    const DeliveryAttempt& attempt = c.attempt;
    const MessageState outcome = attempt.outcome;
    auto it = found.find(c.id);
    if (it == found.end()) {
      out[i] = Error::NotFound("no message " + std::to_string(c.id));
      continue;
    }
    OutboxMessage& m = it->second;
    if (m.state != MessageState::kSending || m.lease_owner != owner) {
      out[i] = Error::Conflict("the message's lease is not held by " + std::string(owner), "lease_owner");
      continue;
    }
    const int n = m.attempts + 1;
    const Timestamp at = attempt.at == Timestamp{} ? now : attempt.at;
    const Timestamp next = outcome == MessageState::kDeferred ? c.next_attempt_at : m.next_attempt_at;
    if (outcome == MessageState::kBounced && attempt.failure == DeliveryFailure::kRecipientAddress) {
      RAPPORT_TRY(s.Exec(
          "UPDATE contacts SET status = 'bounced', updated_at = $3 WHERE id = $1 AND workspace_id = $2 "
          "AND status NOT IN ('erased', 'complained')",
          {m.contact_id, m.workspace_id, ToMicros(at)}));
    }
    // As recorded: the same id again in this batch is a conflict, as it would be one by one.
    m.state = outcome;
    m.lease_owner.clear();
    json::object props;
    props["attempt"] = n;
    props["smtp_code"] = attempt.smtp_code;
    if (!attempt.enhanced_code.empty()) props["enhanced_code"] = attempt.enhanced_code;
    props["reply"] = attempt.reply;
    if (!attempt.remote.empty()) props["remote"] = attempt.remote;
    if (attempt.failure != DeliveryFailure::kNone) props["failure"] = DeliveryFailureName(attempt.failure);
    if (!attempt.smtp_step.empty()) props["smtp_step"] = attempt.smtp_step;
    if (outcome == MessageState::kDeferred) props["next_attempt_at"] = FormatTimestamp(next);
    recorded.push_back(Recorded{&c, &m, n, at, next, "message." + std::string(MessageStateName(outcome)),
                                TimelineProperties(m, std::move(props))});
  }

  RAPPORT_TRY(ForChunks(recorded.size(), [&](size_t begin, size_t count) -> Status {
    params.clear();
    for (size_t i = begin; i < begin + count; ++i) {
      const Recorded& r = recorded[i];
      const DeliveryAttempt& a = r.completion->attempt;
      params.insert(params.end(), {r.message->id, MessageStateName(a.outcome), int64_t{r.attempt},
                                   ToMicros(r.next_attempt_at), std::string_view(a.reply), ToMicros(r.at)});
    }
    RAPPORT_TRY(s.Exec(UpdateMessages().For(count), params, nullptr));
    params.clear();
    for (size_t i = begin; i < begin + count; ++i) {
      const Recorded& r = recorded[i];
      const DeliveryAttempt& a = r.completion->attempt;
      params.insert(params.end(), {r.message->contact_id, r.message->id, int64_t{r.attempt},
                                   r.message->workspace_id, ToMicros(r.at), MessageStateName(a.outcome),
                                   int64_t{a.smtp_code}, std::string_view(a.enhanced_code),
                                   std::string_view(a.reply), std::string_view(a.remote)});
    }
    RAPPORT_TRY(s.Exec(InsertAttempts().For(count), params, nullptr));
    params.clear();
    for (size_t i = begin; i < begin + count; ++i) {
      const Recorded& r = recorded[i];
      params.insert(params.end(),
                    {r.message->workspace_id, r.message->contact_id, std::string_view(r.event_name),
                     std::string_view(r.event_props), ToMicros(r.at), ToMicros(r.at)});
    }
    RAPPORT_TRY(s.Exec(InsertEvents().For(count), params, nullptr));
    return {};
  }));
  return out;
}

}  // namespace

Status SqlOutboxStore::Complete(MessageId id, std::string_view owner, const DeliveryAttempt& attempt,
                                Timestamp next_attempt_at) {
  OutboxCompletion c{id, attempt, next_attempt_at};
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Status> out, CompleteBatch(std::span(&c, 1), owner));
  return std::move(out.front());
}

Result<std::vector<Status>> SqlOutboxStore::CompleteBatch(std::span<const OutboxCompletion> batch,
                                                          std::string_view owner) {
  for (const OutboxCompletion& c : batch) RAPPORT_TRY(ValidateOutcome(c.attempt));
  std::vector<Status> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, CompleteIn(s, batch, owner, now));
    return {};
  }));
  return out;
}

Status SqlOutboxStore::Renew(const std::vector<MessageId>& ids, std::string_view owner,
                             Timestamp lease_until) {
  int64_t missed = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    missed = 0;
    for (MessageId id : ids) {
      RAPPORT_ASSIGN_OR_RETURN(int64_t n,
                               s.Exec("UPDATE outbox_messages SET lease_until = $3 WHERE id = $1 AND "
                                      "lease_owner = $2 AND state = 'sending'",
                                      {id, owner, ToMicros(lease_until)}));
      if (n == 0) ++missed;
    }
    return {};
  }));
  if (missed > 0)
    return Error::Conflict(std::to_string(missed) + " of the leases are not held by " + std::string(owner),
                           "lease_owner");
  return {};
}

Result<int64_t> SqlOutboxStore::ReleaseNode(std::string_view node_id, std::string_view current_owner,
                                            Timestamp now) {
  if (auto problem = NodeIdProblem(node_id)) return Error::Invalid("node_id", std::string(*problem));
  // Which owners are the node's is decided here (LeaseOwnerOfNode), not in SQL; the leases in
  // force are few (what the workers have claimed), read from the outbox_leases index. Each update
  // names the owner it read, so a lease another node took over meanwhile (it expired) stays.
  static const StatementSet update(
      "UPDATE outbox_messages SET state = $1, lease_owner = '', lease_until = 0, updated_at = $2 "
      "WHERE state = 'sending' AND lease_owner = $3 AND id IN ",
      0, StatementSet::Shape::kInList, /*leading=*/3);
  int64_t released = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    released = 0;
    // (owner, state to go back to) -> ids
    std::map<std::pair<std::string, MessageState>, std::vector<int64_t>> groups;
    RAPPORT_TRY(
        s.Exec("SELECT id, attempts, lease_owner FROM outbox_messages WHERE state = 'sending'", {},
               [&](const Row& r) {
                 std::string_view owner = r.Text(2);
                 if (owner == current_owner || !LeaseOwnerOfNode(owner, node_id)) return;
                 groups[{std::string(owner), ReleasedState(static_cast<int>(r.Int(1)))}].push_back(r.Int(0));
               }));
    std::vector<Param> params;
    for (const auto& [key, ids] : groups) {
      RAPPORT_TRY(ForChunks(ids.size(), [&](size_t begin, size_t count) -> Status {
        params.assign({MessageStateName(key.second), ToMicros(now), std::string_view(key.first)});
        params.insert(params.end(), ids.begin() + static_cast<std::ptrdiff_t>(begin),
                      ids.begin() + static_cast<std::ptrdiff_t>(begin + count));
        RAPPORT_ASSIGN_OR_RETURN(int64_t n, s.Exec(update.For(count), params, nullptr));
        released += n;
        return {};
      }));
    }
    return {};
  }));
  return released;
}

Status SqlOutboxStore::Cancel(WorkspaceId ws, MessageId id) {
  Timestamp now = clock_.Now();
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(OutboxMessage m, FindMessage(s, ws, id));
    if (m.state != MessageState::kQueued && m.state != MessageState::kDeferred)
      return Error::Conflict("only a queued or deferred message can be cancelled", "state");
    RAPPORT_TRY(s.Exec("UPDATE outbox_messages SET state = 'cancelled', updated_at = $2 WHERE id = $1",
                       {id, ToMicros(now)}));
    return TimelineEvent(s, m, "message.cancelled", {}, now);
  });
}

Result<OutboxMessage> SqlOutboxStore::Get(WorkspaceId ws, MessageId id) {
  OutboxMessage out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindMessage(s, ws, id));
    return {};
  }));
  return out;
}

Result<std::optional<OutboxMessage>> SqlOutboxStore::FindByIdempotencyKey(WorkspaceId ws,
                                                                          std::string_view key) {
  std::optional<OutboxMessage> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindByKey(s, ws, key));
    return {};
  }));
  return out;
}

Result<std::vector<DeliveryAttempt>> SqlOutboxStore::Attempts(WorkspaceId ws, MessageId id) {
  std::vector<DeliveryAttempt> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    bool found = false;
    RAPPORT_TRY(s.Exec("SELECT 1 FROM outbox_messages WHERE id = $1 AND workspace_id = $2", {id, ws},
                       [&](const Row&) { found = true; }));
    if (!found) return Error::NotFound("no message " + std::to_string(id));
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT message_id, attempt, at, outcome, smtp_code, enhanced_code, reply, remote "
               "FROM delivery_attempts WHERE message_id = $1 AND workspace_id = $2 ORDER BY attempt",
               {id, ws}, [&](const Row& r) {
                 DeliveryAttempt a;
                 a.message_id = r.Int(0);
                 a.attempt = static_cast<int>(r.Int(1));
                 a.at = FromMicros(r.Int(2));
                 a.outcome = ParseMessageState(r.Text(3)).value_or(MessageState::kFailed);
                 a.smtp_code = static_cast<int>(r.Int(4));
                 a.enhanced_code = std::string(r.Text(5));
                 a.reply = std::string(r.Text(6));
                 a.remote = std::string(r.Text(7));
                 out.push_back(std::move(a));
               }));
    return {};
  }));
  return out;
}

Result<Page<OutboxMessage>> SqlOutboxStore::ListForContact(WorkspaceId ws, ContactId contact,
                                                           const OutboxQuery& q) {
  RAPPORT_TRY(CheckLimit(q.limit));
  RAPPORT_ASSIGN_OR_RETURN(int64_t before, DecodeCursor(q.cursor));
  if (before == 0) before = std::numeric_limits<int64_t>::max();
  static const std::string sql =
      kSelectWithSize +
      "WHERE m.contact_id = $1 AND m.workspace_id = $2 AND m.id < $3 ORDER BY m.id DESC LIMIT $4";
  Page<OutboxMessage> page;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    page.items.clear();
    RAPPORT_TRY(s.Exec(sql, {contact, ws, before, int64_t{q.limit} + 1},
                       [&](const Row& r) { page.items.push_back(ReadMessage(r, MessageExtra::kSize)); }));
    return {};
  }));
  if (page.items.size() > static_cast<size_t>(q.limit)) {
    page.items.pop_back();
    page.next_cursor = EncodeCursor(page.items.back().id);
  }
  return page;
}

Result<int64_t> SqlOutboxStore::CountByState(MessageState state) {
  int64_t n = 0;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT COUNT(*) FROM outbox_messages WHERE state = $1", {MessageStateName(state)},
                       [&](const Row& r) { n = r.Int(0); }));
    return {};
  }));
  return n;
}

}  // namespace rapport::sql
