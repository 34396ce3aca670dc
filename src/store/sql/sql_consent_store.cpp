// The consent ledger and preferences (core/consent.h; tables consent_ledger and
// contact_preferences, migration v12).
#include <fmt/format.h>

#include <algorithm>

#include "store/sql/change_events.h"
#include "store/sql/codec.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {

constexpr std::string_view kLedgerColumns =
    "id, workspace_id, contact_id, topic_key, action, source, at, ip, user_agent, text_version, request_id, "
    "expires_at";

ConsentRecord ReadRecord(const Row& r) {
  ConsentRecord c;
  c.id = r.Int(0);
  c.workspace_id = r.Int(1);
  c.contact_id = r.Int(2);
  c.topic_key = std::string(r.Text(3));
  c.action = ParseConsentAction(r.Text(4)).value_or(ConsentAction::kWithdrawn);
  c.consent.source = std::string(r.Text(5));
  c.consent.at = FromMicros(r.Int(6));
  c.consent.ip = std::string(r.Text(7));
  c.consent.user_agent = std::string(r.Text(8));
  c.consent.text_version = std::string(r.Text(9));
  c.request_id = r.Int(10);
  if (!r.IsNull(11)) c.expires_at = FromMicros(r.Int(11));
  return c;
}

Result<std::vector<ConsentRecord>> ListIn(Session& s, WorkspaceId ws, ContactId contact) {
  std::vector<ConsentRecord> out;
  static const std::string sql =
      "SELECT " + std::string(kLedgerColumns) +
      " FROM consent_ledger WHERE contact_id = $1 AND workspace_id = $2 ORDER BY id";
  RAPPORT_TRY(s.Exec(sql, {contact, ws}, [&](const Row& r) { out.push_back(ReadRecord(r)); }));
  return out;
}

// The ledger rows of one confirmation request (its "requested" rows and, once confirmed, its
// "confirmed" ones): what Confirm needs, not the contact's whole ledger, which anyone who can
// switch topics on a preference page can grow without bound.
Result<std::vector<ConsentRecord>> RequestRowsIn(Session& s, WorkspaceId ws, ContactId contact,
                                                 int64_t request_id) {
  std::vector<ConsentRecord> out;
  static const std::string sql = "SELECT " + std::string(kLedgerColumns) +
                                 " FROM consent_ledger WHERE contact_id = $1 AND workspace_id = $2 AND "
                                 "request_id = $3 ORDER BY id";
  RAPPORT_TRY(s.Exec(sql, {contact, ws, request_id}, [&](const Row& r) { out.push_back(ReadRecord(r)); }));
  return out;
}

Result<ContactPreferences> PreferencesIn(Session& s, WorkspaceId ws, ContactId contact) {
  ContactPreferences p;
  p.contact_id = contact;
  RAPPORT_TRY(
      s.Exec("SELECT frequency, paused_until, updated_at FROM contact_preferences WHERE contact_id = $1 AND "
             "workspace_id = $2",
             {contact, ws}, [&](const Row& r) {
               p.frequency = ParseMailFrequency(r.Text(0)).value_or(MailFrequency::kEverything);
               if (!r.IsNull(1)) p.paused_until = FromMicros(r.Int(1));
               p.updated_at = FromMicros(r.Int(2));
             }));
  return p;
}

json::object ConsentJson(const Consent& c) {
  return json::object{{"source", c.source},
                      {"at", FormatTimestamp(c.at)},
                      {"ip", c.ip},
                      {"user_agent", c.user_agent},
                      {"text_version", c.text_version}};
}

}  // namespace

Result<int64_t> InsertConsentIn(Session& s, const ConsentRecord& r) {
  int64_t id = 0;
  Param expires = r.expires_at ? Param(ToMicros(*r.expires_at)) : Param(nullptr);
  RAPPORT_TRY(s.Exec(
      "INSERT INTO consent_ledger (contact_id, workspace_id, topic_key, action, source, at, ip, user_agent, "
      "text_version, request_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING "
      "id",
      {r.contact_id, r.workspace_id, std::string_view(r.topic_key), ConsentActionName(r.action),
       std::string_view(r.consent.source.substr(0, 255)), ToMicros(r.consent.at),
       std::string_view(r.consent.ip), std::string_view(r.consent.user_agent),
       std::string_view(r.consent.text_version), r.request_id, expires},
      [&](const Row& row) { id = row.Int(0); }));
  return id;
}

Result<std::vector<ConsentRecord>> SqlConsentStore::List(WorkspaceId ws, ContactId contact) {
  std::vector<ConsentRecord> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(FindContact(s, ws, contact));
    RAPPORT_ASSIGN_OR_RETURN(out, ListIn(s, ws, contact));
    return {};
  }));
  return out;
}

Result<ContactPreferences> SqlConsentStore::Preferences(WorkspaceId ws, ContactId contact) {
  ContactPreferences out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, PreferencesIn(s, ws, contact));
    return {};
  }));
  return out;
}

Result<std::vector<ContactPreferences>> SqlConsentStore::PreferencesOf(WorkspaceId ws,
                                                                       std::span<const ContactId> contacts) {
  // By primary key (contact_id IN (...)); the workspace is checked here.
  static const StatementSet select(
      "SELECT contact_id, workspace_id, frequency, paused_until, updated_at FROM contact_preferences WHERE "
      "contact_id IN ",
      0, StatementSet::Shape::kInList, /*leading=*/0);
  std::vector<ContactPreferences> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    return SelectInChunks(s, select, {}, contacts, [&](const Row& r) {
      if (r.Int(1) != ws) return;
      ContactPreferences p;
      p.contact_id = r.Int(0);
      p.frequency = ParseMailFrequency(r.Text(2)).value_or(MailFrequency::kEverything);
      if (!r.IsNull(3)) p.paused_until = FromMicros(r.Int(3));
      p.updated_at = FromMicros(r.Int(4));
      out.push_back(p);
    });
  }));
  return out;
}

Result<ContactPreferences> SqlConsentStore::SetPreferences(WorkspaceId ws, ContactId contact,
                                                           const ContactPreferences& prefs,
                                                           const Consent& origin) {
  ContactPreferences out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, ws, contact));
    if (c.status == ContactStatus::kErased) return Error::Conflict("the contact is erased", "status");
    RAPPORT_ASSIGN_OR_RETURN(ContactPreferences before, PreferencesIn(s, ws, contact));
    out = prefs;
    out.contact_id = contact;
    out.updated_at = now;
    if (before.frequency == out.frequency && before.paused_until == out.paused_until) {
      out.updated_at = before.updated_at;
      return {};
    }
    Param paused = out.paused_until ? Param(ToMicros(*out.paused_until)) : Param(nullptr);
    RAPPORT_TRY(
        s.Exec("INSERT INTO contact_preferences (contact_id, workspace_id, frequency, paused_until, "
               "updated_at) VALUES "
               "($1, $2, $3, $4, $5) ON CONFLICT (contact_id) DO UPDATE SET frequency = excluded.frequency, "
               "paused_until = excluded.paused_until, updated_at = excluded.updated_at",
               {contact, ws, MailFrequencyName(out.frequency), paused, ToMicros(now)}));
    json::object props{{"frequency", MailFrequencyName(out.frequency)},
                       {"paused_until", out.paused_until ? json::value(FormatTimestamp(*out.paused_until))
                                                         : json::value(nullptr)},
                       {"origin", ConsentJson(origin)}};
    return InsertChangeEvents(
        s, {ChangeEvent{ws, contact, "contact.preferences_changed", SerializeObject(props)}}, now);
  }));
  return out;
}

Result<int64_t> SqlConsentStore::RequestConfirmation(WorkspaceId ws, ContactId contact,
                                                     const std::vector<std::string>& topics,
                                                     const Consent& consent, Timestamp expires_at) {
  if (topics.empty()) return Error::Invalid("topics", "name at least one topic to confirm");
  int64_t request_id = 0;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, ws, contact));
    if (c.status == ContactStatus::kErased) return Error::Conflict("the contact is erased", "status");
    request_id = 0;
    json::array keys;
    for (const std::string& key : topics) {
      RAPPORT_TRY(FindTopicIn(s, ws, key));
      ConsentRecord r;
      r.workspace_id = ws;
      r.contact_id = contact;
      r.topic_key = key;
      r.action = ConsentAction::kRequested;
      r.consent = consent;
      if (r.consent.at == Timestamp{}) r.consent.at = now;
      r.request_id = request_id;
      r.expires_at = expires_at;
      RAPPORT_ASSIGN_OR_RETURN(int64_t id, InsertConsentIn(s, r));
      if (request_id == 0) {
        // The first record's id names the request; it names itself.
        request_id = id;
        RAPPORT_TRY(s.Exec("UPDATE consent_ledger SET request_id = $1 WHERE id = $1", {id}));
      }
      keys.push_back(json::value(key));
    }
    json::object props{{"topics", std::move(keys)},
                       {"request_id", request_id},
                       {"expires_at", FormatTimestamp(expires_at)},
                       {"consent", ConsentJson(consent)}};
    return InsertChangeEvents(s, {ChangeEvent{ws, contact, "consent.requested", SerializeObject(props)}},
                              now);
  }));
  return request_id;
}

Result<std::vector<Subscription>> SqlConsentStore::Confirm(WorkspaceId ws, ContactId contact,
                                                           int64_t request_id, const Consent& consent) {
  std::vector<Subscription> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.clear();
    RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, ws, contact));
    if (c.status == ContactStatus::kErased) return Error::Conflict("the contact is erased", "status");
    RAPPORT_ASSIGN_OR_RETURN(std::vector<ConsentRecord> ledger, RequestRowsIn(s, ws, contact, request_id));
    ConfirmationState state = ConfirmationStateOf(ledger, request_id, now);
    if (state == ConfirmationState::kUnknown) return Error::NotFound("no such confirmation request");
    if (state == ConfirmationState::kExpired)
      return Error{ErrorCode::kPermissionDenied, "this confirmation link has expired", "token"};
    std::vector<std::string> topics;
    for (const ConsentRecord& r : ledger)
      if (r.request_id == request_id && r.action == ConsentAction::kRequested) topics.push_back(r.topic_key);
    Consent how = consent;
    if (how.at == Timestamp{}) how.at = now;
    if (how.source.empty()) how.source = "double_opt_in";
    for (const std::string& key : topics) {
      if (state == ConfirmationState::kConfirmed) break;
      Subscription sub;
      RAPPORT_TRY(
          SetSubscriptionIn(s, ws, c, key, SubscriptionStatus::kSubscribed, how, now, request_id, &sub));
      out.push_back(std::move(sub));
    }
    if (state == ConfirmationState::kConfirmed) {
      static const std::string sql =
          "SELECT s.contact_id, s.topic_id, t.key, s.status FROM subscriptions s JOIN "
          "topics t ON t.id = s.topic_id WHERE s.contact_id = $1 AND s.workspace_id = $2";
      RAPPORT_TRY(s.Exec(sql, {contact, ws}, [&](const Row& r) {
        std::string key(r.Text(2));
        if (std::find(topics.begin(), topics.end(), key) == topics.end()) return;
        Subscription sub;
        sub.contact_id = r.Int(0);
        sub.topic_id = r.Int(1);
        sub.topic_key = key;
        sub.status = ParseSubscriptionStatus(r.Text(3)).value_or(SubscriptionStatus::kUnsubscribed);
        out.push_back(std::move(sub));
      }));
    }
    return {};
  }));
  return out;
}

}  // namespace rapport::sql
