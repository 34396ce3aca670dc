#include "store/sql/codec.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {
constexpr std::string_view kTopicColumns =
    "id, workspace_id, key, name, description, created_at, tracking, double_opt_in";
Topic ReadTopic(const Row& r) {
  return Topic{r.Int(0),
               r.Int(1),
               std::string(r.Text(2)),
               std::string(r.Text(3)),
               std::string(r.Text(4)),
               FromMicros(r.Int(5)),
               r.Int(6) != 0,
               r.Int(7) != 0};
}

}  // namespace

Result<Topic> FindTopicIn(Session& s, WorkspaceId ws, std::string_view key) {
  std::optional<Topic> t;
  static const std::string sql =
      "SELECT " + std::string(kTopicColumns) + " FROM topics WHERE workspace_id = $1 AND key = $2";
  RAPPORT_TRY(s.Exec(sql, {ws, key}, [&](const Row& r) { t = ReadTopic(r); }));
  if (!t) return Error::NotFound("no topic '" + std::string(key) + "'");
  return std::move(*t);
}

namespace {
Result<Topic> FindTopic(Session& s, WorkspaceId ws, std::string_view key) { return FindTopicIn(s, ws, key); }

constexpr std::string_view kSubscriptionSelect =
    "SELECT s.contact_id, s.topic_id, t.key, s.status, s.consent_source, s.consent_at, s.consent_ip, "
    "s.consent_user_agent, s.consent_text_version, s.updated_at FROM subscriptions s "
    "JOIN topics t ON t.id = s.topic_id ";
Subscription ReadSubscription(const Row& r) {
  Subscription s;
  s.contact_id = r.Int(0);
  s.topic_id = r.Int(1);
  s.topic_key = std::string(r.Text(2));
  s.status = ParseSubscriptionStatus(r.Text(3)).value_or(SubscriptionStatus::kUnsubscribed);
  s.consent.source = std::string(r.Text(4));
  s.consent.at = FromMicros(r.Int(5));
  s.consent.ip = std::string(r.Text(6));
  s.consent.user_agent = std::string(r.Text(7));
  s.consent.text_version = std::string(r.Text(8));
  s.updated_at = FromMicros(r.Int(9));
  return s;
}
}  // namespace

Result<Topic> SqlTopicStore::Create(WorkspaceId ws, const Topic& topic) {
  RAPPORT_TRY(ValidateTopicKey(topic.key));
  if (topic.name.empty() || topic.name.size() > 200)
    return Error::Invalid("name", "a topic name is 1 to 200 characters");
  Topic out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    if (FindTopic(s, ws, topic.key).ok()) return Error::Conflict("a topic with this key exists", "key");
    RAPPORT_TRY(s.Exec(
        "INSERT INTO topics (workspace_id, key, name, description, created_at, tracking, double_opt_in) "
        "VALUES "
        "($1, $2, $3, $4, $5, $6, $7) "
        "RETURNING " +
            std::string(kTopicColumns),
        {ws, std::string_view(topic.key), std::string_view(topic.name), std::string_view(topic.description),
         ToMicros(now), int64_t{topic.tracking ? 1 : 0}, int64_t{topic.double_opt_in ? 1 : 0}},
        [&](const Row& r) { out = ReadTopic(r); }));
    return {};
  }));
  return out;
}

Result<std::vector<Topic>> SqlTopicStore::List(WorkspaceId ws) {
  std::vector<Topic> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kTopicColumns) + " FROM topics WHERE workspace_id = $1 ORDER BY id",
               {ws}, [&](const Row& r) { out.push_back(ReadTopic(r)); }));
    return {};
  }));
  return out;
}

Result<Topic> SqlTopicStore::GetByKey(WorkspaceId ws, std::string_view key) {
  Topic out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindTopic(s, ws, key));
    return {};
  }));
  return out;
}

Status SetSubscriptionIn(Session& s, WorkspaceId ws, const Contact& c, std::string_view topic_key,
                         SubscriptionStatus status, const Consent& consent, Timestamp now, int64_t request_id,
                         Subscription* out) {
  if (c.status == ContactStatus::kErased) return Error::Conflict("the contact is erased", "status");
  RAPPORT_ASSIGN_OR_RETURN(Topic t, FindTopic(s, ws, topic_key));
  Timestamp consent_at = consent.at == Timestamp{} ? now : consent.at;
  RAPPORT_TRY(s.Exec(
      "INSERT INTO subscriptions (contact_id, topic_id, workspace_id, status, consent_source, consent_at, "
      "consent_ip, consent_user_agent, consent_text_version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
      "$7, $8, "
      "$9, $10) ON CONFLICT (contact_id, topic_id) DO UPDATE SET status = excluded.status, consent_source "
      "= "
      "excluded.consent_source, consent_at = excluded.consent_at, consent_ip = excluded.consent_ip, "
      "consent_user_agent = excluded.consent_user_agent, consent_text_version = "
      "excluded.consent_text_version, "
      "updated_at = excluded.updated_at",
      {c.id, t.id, ws, SubscriptionStatusName(status), std::string_view(consent.source), ToMicros(consent_at),
       std::string_view(consent.ip), std::string_view(consent.user_agent),
       std::string_view(consent.text_version), ToMicros(now)}));
  Subscription sub{c.id, t.id, t.key, status, consent, now};
  sub.consent.at = consent_at;
  // The ledger keeps every change, where the row above keeps only the last one.
  ConsentRecord record;
  record.workspace_id = ws;
  record.contact_id = c.id;
  record.topic_key = t.key;
  record.action = ActionForSubscription(status, request_id != 0);
  record.consent = sub.consent;
  record.request_id = request_id;
  RAPPORT_TRY(InsertConsentIn(s, record));
  std::string_view name =
      status == SubscriptionStatus::kSubscribed ? "topic.subscribed" : "topic.unsubscribed";
  RAPPORT_TRY(InsertChangeEvents(s, {SubscriptionChanged(ws, c.id, name, t.key, &sub.consent)}, now));
  if (out) *out = std::move(sub);
  return {};
}

Result<Subscription> SqlTopicStore::SetSubscription(WorkspaceId ws, ContactId contact,
                                                    std::string_view topic_key, SubscriptionStatus status,
                                                    const Consent& consent) {
  Subscription out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, ws, contact));
    return SetSubscriptionIn(s, ws, c, topic_key, status, consent, now, 0, &out);
  }));
  return out;
}

Status SqlTopicStore::DeleteSubscription(WorkspaceId ws, ContactId contact, std::string_view topic_key) {
  Timestamp now = clock_.Now();
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(Topic t, FindTopic(s, ws, topic_key));
    RAPPORT_ASSIGN_OR_RETURN(int64_t n,
                             s.Exec("DELETE FROM subscriptions WHERE contact_id = $1 AND topic_id = $2 "
                                    "AND workspace_id = $3",
                                    {contact, t.id, ws}));
    if (n == 0) return Error::NotFound("no subscription to '" + std::string(topic_key) + "'");
    return InsertChangeEvents(
        s, {SubscriptionChanged(ws, contact, "topic.subscription_removed", t.key, nullptr)}, now);
  });
}

Result<std::vector<Subscription>> SqlTopicStore::ListSubscriptions(WorkspaceId ws, ContactId contact) {
  std::vector<Subscription> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(FindContact(s, ws, contact));
    out.clear();
    RAPPORT_TRY(s.Exec(
        std::string(kSubscriptionSelect) + "WHERE s.contact_id = $1 AND s.workspace_id = $2 ORDER BY t.key",
        {contact, ws}, [&](const Row& r) { out.push_back(ReadSubscription(r)); }));
    return {};
  }));
  return out;
}

Result<std::vector<std::pair<ContactId, SubscriptionStatus>>> SqlTopicStore::SubscriptionStatuses(
    WorkspaceId ws, std::string_view topic_key, std::span<const ContactId> contacts) {
  // The topic first (one row), then its subscriptions by primary key (contact_id, topic_id).
  static const StatementSet select(
      "SELECT contact_id, status FROM subscriptions WHERE +topic_id = $1 AND contact_id IN ", 0,
      StatementSet::Shape::kInList, /*leading=*/1);
  std::vector<std::pair<ContactId, SubscriptionStatus>> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    std::optional<int64_t> topic_id;
    RAPPORT_TRY(s.Exec("SELECT id FROM topics WHERE workspace_id = $1 AND key = $2", {ws, topic_key},
                       [&](const Row& r) { topic_id = r.Int(0); }));
    if (!topic_id) return {};
    const Param leading[] = {*topic_id};
    return SelectInChunks(s, select, leading, contacts, [&](const Row& r) {
      if (auto st = ParseSubscriptionStatus(r.Text(1))) out.emplace_back(r.Int(0), *st);
    });
  }));
  return out;
}

}  // namespace rapport::sql
