#include <algorithm>

#include "core/email_address.h"
#include "core/journey.h"
#include "core/json_parse.h"
#include "store/sql/codec.h"
#include "store/sql/erasure_list.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {

const std::string kSelectContact = "SELECT " + std::string(kContactColumns) + " FROM contacts ";

Param OptStatusParam(ContactStatus s) { return ContactStatusName(s); }

Status RequireKey(const ContactInput& input) {
  if (!input.email && !input.external_id)
    return Error::Invalid("email", "a contact needs an email or an external_id");
  return {};
}

}  // namespace

Result<std::optional<Contact>> FindContactBy(Session& s, WorkspaceId ws, std::string_view column,
                                             std::string_view value) {
  std::optional<Contact> found;
  // An email is looked up by its identity key (any letter case finds the contact).
  std::string key;
  if (column == "email") {
    key = EmailIdentityKey(value);
    column = "email_key";
    value = key;
  }
  // `column` is one of our own column names, never input; the two an import probes per row are
  // built once.
  static const std::string by_key = kSelectContact + "WHERE workspace_id = $1 AND email_key = $2";
  static const std::string by_external_id = kSelectContact + "WHERE workspace_id = $1 AND external_id = $2";
  std::string other;
  if (column != "email_key" && column != "external_id")
    other = kSelectContact + "WHERE workspace_id = $1 AND " + std::string(column) + " = $2";
  const std::string& sql = column == "email_key" ? by_key : column == "external_id" ? by_external_id : other;
  RAPPORT_TRY(s.Exec(sql, {ws, value}, [&](const Row& r) { found = ReadContact(r); }));
  return found;
}

Result<Contact> FindContact(Session& s, WorkspaceId ws, ContactId id) {
  std::optional<Contact> found;
  static const std::string sql = kSelectContact + "WHERE id = $1 AND workspace_id = $2";
  RAPPORT_TRY(s.Exec(sql, {id, ws}, [&](const Row& r) { found = ReadContact(r); }));
  if (!found) return Error::NotFound("no contact " + std::to_string(id));
  return std::move(*found);
}

Result<Contact> InsertContactIn(Session& s, WorkspaceId ws, const ContactInput& input, Timestamp now,
                                std::vector<ChangeEvent>& changes, const ErasureKey& erasure,
                                const ChangeNames& names, bool no_tombstones) {
  RAPPORT_TRY(RequireKey(input));
  bool reconsented = false;
  if (input.email && !no_tombstones)
    RAPPORT_TRY(CheckErasedIn(s, ws, *input.email, erasure, input.reconsent, &reconsented));
  std::string attributes = "{}";
  if (input.attributes) {
    json::object a;
    MergeAttributes(a, *input.attributes);  // drops nulls
    attributes = SerializeObject(a);
  }
  std::optional<Contact> c;
  static const std::string sql =
      "INSERT INTO contacts (workspace_id, email, external_id, status, attributes, timezone, locale, "
      "created_at, updated_at, email_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING " +
      std::string(kContactColumns);
  std::optional<std::string> key;
  if (input.email) key = EmailIdentityKey(*input.email);
  RAPPORT_TRY(
      s.Exec(sql,
             {ws, OptParam(input.email), OptParam(input.external_id),
              OptStatusParam(input.status.value_or(ContactStatus::kActive)), std::string_view(attributes),
              std::string_view(input.timezone ? *input.timezone : std::string()),
              std::string_view(input.locale ? *input.locale : std::string()), ToMicros(now), OptParam(key)},
             [&](const Row& r) { c = ReadContact(r); }));
  if (!c) return Error::Internal("insert returned no row");
  // A contact re-created for an erased address says so on its timeline.
  const json::object fresh{{"reconsent", true}};
  ContactCreated(*c, names, reconsented ? &fresh : nullptr, changes);
  return std::move(*c);
}

Status UpdateContactIn(Session& s, Contact& c, const ContactInput& patch, Timestamp now,
                       std::vector<ChangeEvent>& changes, const ChangeNames& names,
                       const json::object* origin, const ErasureKey* erasure) {
  if (c.status == ContactStatus::kErased) return Error::Conflict("the contact is erased", "status");
  // Moving a contact onto an erased address would mail that person again.
  if (erasure && patch.email && EmailIdentityKey(*patch.email) != EmailIdentityKey(c.email))
    RAPPORT_TRY(CheckErasedIn(s, c.workspace_id, *patch.email, *erasure, patch.reconsent));
  const Contact before = c;
  if (patch.email) c.email = *patch.email;
  if (patch.external_id) c.external_id = patch.external_id;
  if (patch.status) c.status = *patch.status;
  if (patch.attributes) MergeAttributes(c.attributes, *patch.attributes);
  if (patch.timezone) c.timezone = *patch.timezone;
  if (patch.locale) c.locale = *patch.locale;
  if (c.email.empty() && !c.external_id)
    return Error::Invalid("email", "a contact needs an email or an external_id");
  c.updated_at = now;
  std::string attributes = SerializeObject(c.attributes);
  // The key changes only with the email: a contact left without one by migration v6 (a case
  // variant of an older contact) keeps it NULL until it is merged.
  static const std::string sql =
      "UPDATE contacts SET email = $3, external_id = $4, status = $5, attributes = $6, timezone = $7, locale "
      "= $8, updated_at = $9, email_key = CASE WHEN $10 = 1 THEN $11 ELSE email_key END "
      "WHERE id = $1 AND workspace_id = $2";
  // The same email, external id and status (an attribute, zone or locale change: the analytics
  // consumer's scores, most API updates): no indexed column is set, so the store does not rewrite
  // the contact's entries in the email-key, external-id and live indexes (in SQLite, a column set
  // to its own value still moves its index entries: a third of such an update's cost).
  static const std::string narrow =
      "UPDATE contacts SET attributes = $3, timezone = $4, locale = $5, updated_at = $6 "
      "WHERE id = $1 AND workspace_id = $2";
  const bool email_changed = c.email != before.email;
  if (!email_changed && c.external_id == before.external_id && c.status == before.status) {
    RAPPORT_TRY(s.Exec(narrow, {c.id, c.workspace_id, std::string_view(attributes),
                                std::string_view(c.timezone), std::string_view(c.locale), ToMicros(now)}));
  } else {
    Param email = c.email.empty() ? Param(nullptr) : Param(std::string_view(c.email));
    std::string key = c.email.empty() ? std::string() : EmailIdentityKey(c.email);
    Param key_param = c.email.empty() ? Param(nullptr) : Param(std::string_view(key));
    RAPPORT_TRY(
        s.Exec(sql, {c.id, c.workspace_id, email, OptParam(c.external_id), ContactStatusName(c.status),
                     std::string_view(attributes), std::string_view(c.timezone), std::string_view(c.locale),
                     ToMicros(now), int64_t{email_changed}, key_param}));
  }
  ContactChanged(before, c, names, origin, changes);
  if (auto action = ActionForStatusChange(before.status, c.status)) {
    // Unsubscribed from all marketing (a link, a complaint, the API): a withdrawal in the ledger.
    ConsentRecord record;
    record.workspace_id = c.workspace_id;
    record.contact_id = c.id;
    record.action = *action;
    record.consent.at = now;
    record.consent.source = c.status == ContactStatus::kComplained ? "complaint" : "api";
    if (origin) {
      auto text = [&](std::string_view key) -> std::string {
        auto it = origin->find(key);
        return it != origin->end() && it->value().is_string() ? std::string(it->value().get_string())
                                                              : std::string();
      };
      if (std::string via = text("via"); !via.empty()) {
        record.consent.source = via;
        if (std::string method = text("method"); !method.empty()) record.consent.source += ":" + method;
        if (std::string kind = text("kind"); !kind.empty()) record.consent.source += ":" + kind;
      }
      record.consent.ip = text("ip");
      record.consent.user_agent = text("user_agent");
      record.consent.text_version = text("text_version");
    }
    RAPPORT_TRY(InsertConsentIn(s, record));
  }
  return {};
}

Result<UpsertResult> UpsertContactIn(Session& s, WorkspaceId ws, const ContactInput& input, Timestamp now,
                                     std::vector<ChangeEvent>& changes, const ErasureKey& erasure,
                                     const ChangeNames& names, bool no_tombstones) {
  RAPPORT_TRY(RequireKey(input));
  std::optional<Contact> by_ext, by_email;
  if (input.external_id) {
    RAPPORT_ASSIGN_OR_RETURN(by_ext, FindContactBy(s, ws, "external_id", *input.external_id));
  }
  if (input.email) {
    RAPPORT_ASSIGN_OR_RETURN(by_email, FindContactBy(s, ws, "email", *input.email));
  }
  if (by_ext && by_email && by_ext->id != by_email->id)
    return Error::Conflict("the email and the external_id belong to two different contacts", "email");
  std::optional<Contact>& target = by_ext ? by_ext : by_email;
  if (!target) {
    RAPPORT_ASSIGN_OR_RETURN(Contact c,
                             InsertContactIn(s, ws, input, now, changes, erasure, names, no_tombstones));
    return UpsertResult{std::move(c), true};
  }
  if (target->external_id && input.external_id && *target->external_id != *input.external_id)
    return Error::Conflict("the contact with this email has another external_id", "external_id");
  // The address is kept as first given: a letter-case variant names the contact, it does not
  // rewrite its address.
  if (input.email && !target->email.empty() &&
      EmailIdentityKey(*input.email) == EmailIdentityKey(target->email) && *input.email != target->email) {
    ContactInput same_address = input;
    same_address.email.reset();
    RAPPORT_TRY(UpdateContactIn(s, *target, same_address, now, changes, names));
  } else {
    RAPPORT_TRY(
        UpdateContactIn(s, *target, input, now, changes, names, nullptr, no_tombstones ? nullptr : &erasure));
  }
  return UpsertResult{std::move(*target), false};
}

Result<EventId> InsertEventIn(Session& s, WorkspaceId ws, ContactId contact, std::string_view name,
                              std::string_view props, Timestamp occurred_at, Timestamp received_at) {
  EventId id = 0;
  RAPPORT_TRY(
      s.Exec("INSERT INTO events (workspace_id, contact_id, name, properties, occurred_at, received_at) "
             "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
             {ws, contact, name, props, ToMicros(occurred_at), ToMicros(received_at)},
             [&](const Row& r) { id = r.Int(0); }));
  return id;
}

// ---- the facet --------------------------------------------------------------------------------

Result<Contact> SqlContactStore::Create(WorkspaceId ws, const ContactInput& raw) {
  ContactInput input = raw;
  RAPPORT_TRY(ValidateContactInput(input));
  RAPPORT_TRY(RequireKey(input));
  Contact out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    if (input.email) {
      RAPPORT_ASSIGN_OR_RETURN(auto existing, FindContactBy(s, ws, "email", *input.email));
      if (existing) return Error::Conflict("a contact with this email exists", "email");
    }
    if (input.external_id) {
      RAPPORT_ASSIGN_OR_RETURN(auto existing, FindContactBy(s, ws, "external_id", *input.external_id));
      if (existing) return Error::Conflict("a contact with this external_id exists", "external_id");
    }
    std::vector<ChangeEvent> changes;
    RAPPORT_ASSIGN_OR_RETURN(out, InsertContactIn(s, ws, input, now, changes, erasure_));
    return InsertChangeEvents(s, changes, now);
  }));
  return out;
}

Result<UpsertResult> SqlContactStore::Upsert(WorkspaceId ws, const ContactInput& raw) {
  ContactInput input = raw;
  RAPPORT_TRY(ValidateContactInput(input));
  UpsertResult out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    std::vector<ChangeEvent> changes;
    RAPPORT_ASSIGN_OR_RETURN(out, UpsertContactIn(s, ws, input, now, changes, erasure_));
    return InsertChangeEvents(s, changes, now);
  }));
  return out;
}

Result<std::vector<Contact>> SqlContactStore::GetMany(WorkspaceId ws, std::span<const ContactId> ids) {
  // By primary key only (`id IN (...)`), the workspace checked here: with `workspace_id = ?` in the
  // statement SQLite (no statistics) may prefer an index on the workspace and read all of it.
  static const StatementSet select(kSelectContact + "WHERE id IN ", 0, StatementSet::Shape::kInList,
                                   /*leading=*/0);
  std::vector<Contact> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    out.reserve(ids.size());
    return SelectInChunks(s, select, {}, ids, [&](const Row& r) {
      Contact c = ReadContact(r);
      if (c.workspace_id == ws) out.push_back(std::move(c));
    });
  }));
  return out;
}

Result<Contact> SqlContactStore::Get(WorkspaceId ws, ContactId id) {
  Contact out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindContact(s, ws, id));
    return {};
  }));
  return out;
}

Result<Contact> SqlContactStore::GetByEmail(WorkspaceId ws, std::string_view email) {
  std::optional<Contact> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindContactBy(s, ws, "email", email));
    return {};
  }));
  if (!out) return Error::NotFound("no contact with this email");
  return std::move(*out);
}

Result<Contact> SqlContactStore::GetByExternalId(WorkspaceId ws, std::string_view external_id) {
  std::optional<Contact> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindContactBy(s, ws, "external_id", external_id));
    return {};
  }));
  if (!out) return Error::NotFound("no contact with this external_id");
  return std::move(*out);
}

Result<Contact> SqlContactStore::Update(WorkspaceId ws, ContactId id, const ContactInput& patch) {
  return Update(ws, id, patch, json::object{});
}

Result<Contact> SqlContactStore::Update(WorkspaceId ws, ContactId id, const ContactInput& raw,
                                        const json::object& origin) {
  ContactInput patch = raw;
  RAPPORT_TRY(ValidateContactInput(patch));
  Contact out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindContact(s, ws, id));
    if (patch.email && *patch.email != out.email) {
      RAPPORT_ASSIGN_OR_RETURN(auto other, FindContactBy(s, ws, "email", *patch.email));
      if (other && other->id != out.id) return Error::Conflict("a contact with this email exists", "email");
    }
    if (patch.external_id && patch.external_id != out.external_id) {
      RAPPORT_ASSIGN_OR_RETURN(auto other, FindContactBy(s, ws, "external_id", *patch.external_id));
      if (other) return Error::Conflict("a contact with this external_id exists", "external_id");
    }
    std::vector<ChangeEvent> changes;
    RAPPORT_TRY(UpdateContactIn(s, out, patch, now, changes, {}, &origin, &erasure_));
    return InsertChangeEvents(s, changes, now);
  }));
  return out;
}

Result<ErasedContact> SqlContactStore::Erase(WorkspaceId ws, ContactId id) {
  Timestamp now = clock_.Now();
  ErasedContact erased;
  RAPPORT_TRY(db_.WriteAndPurge([&](Session& s) -> Status {
    erased.message_ids.clear();
    RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, ws, id));
    if (c.status == ContactStatus::kErased) {
      // Already erased: the message ids its tombstone recorded, so that a caller whose erasure
      // of the delivered copies failed can try again.
      std::string props;
      RAPPORT_TRY(
          s.Exec("SELECT properties FROM events WHERE contact_id = $1 AND workspace_id = $2 AND "
                 "name = 'contact.erased' ORDER BY id LIMIT 1",
                 {id, ws}, [&](const Row& r) { props = std::string(r.Text(0)); }));
      boost::system::error_code ec;
      json::value v = ParseJsonExact(props, ec);
      if (!ec && v.is_object()) {
        if (const json::value* ids = v.as_object().if_contains("message_ids"); ids && ids->is_array()) {
          for (const json::value& m : ids->as_array())
            if (m.is_int64()) erased.message_ids.push_back(m.as_int64());
        }
      }
      return {};
    }
    RAPPORT_TRY(
        s.Exec("SELECT id FROM outbox_messages WHERE contact_id = $1 AND workspace_id = $2 ORDER BY id",
               {id, ws}, [&](const Row& r) { erased.message_ids.push_back(r.Int(0)); }));
    Param hash = nullptr;
    std::string digest;
    if (!c.email.empty()) {
      digest = ErasureHash(erasure_.Get(), c.email);
      hash = std::string_view(digest);
    }
    // The journey timers that name the contact go first (the runs find them): a run's, keyed
    // "run:<run id>", and the entry timers, keyed "<kind>:<journey id>:<contact id>"
    // (automation/journey_service.cpp, TimerKey). An entry timer of another kind left behind holds
    // only ids, and its handler drops it once the contact is erased.
    const std::string contact_suffix = ":" + std::to_string(id);
    RAPPORT_TRY(s.Exec(
        "DELETE FROM work_items WHERE queue = $3 AND workspace_id = $2 AND key IN "
        "(SELECT 'run:' || CAST(id AS TEXT) FROM journey_runs WHERE workspace_id = $2 AND contact_id = $1)",
        {id, ws, kJourneyTimerQueue}));
    RAPPORT_TRY(
        s.Exec("DELETE FROM work_items WHERE queue = $2 AND workspace_id = $1 AND key IN "
               "(SELECT 'anniv:' || CAST(id AS TEXT) || $3 FROM journeys WHERE workspace_id = $1 UNION ALL "
               "SELECT 'inactive:' || CAST(id AS TEXT) || $3 FROM journeys WHERE workspace_id = $1)",
               {ws, kJourneyTimerQueue, std::string_view(contact_suffix)}));
    for (std::string_view sql : {
             std::string_view("DELETE FROM event_keys WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM events WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM subscriptions WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM consent_ledger WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM contact_preferences WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM delivery_attempts WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM message_tracking WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM message_feedback WHERE contact_id = $1 AND workspace_id = $2"),
             std::string_view("DELETE FROM outbox_bodies WHERE contact_id = $1 AND message_id IN "
                              "(SELECT id FROM outbox_messages WHERE contact_id = $1 AND workspace_id = $2)"),
             std::string_view("DELETE FROM outbox_messages WHERE contact_id = $1 AND workspace_id = $2"),
             // A run's context holds its entry event's properties.
             std::string_view("DELETE FROM journey_runs WHERE workspace_id = $2 AND contact_id = $1"),
             // Through the occurrences, so each is one lookup of the (occurrence_id, contact_id) key.
             std::string_view(
                 "DELETE FROM campaign_recipients WHERE contact_id = $1 AND workspace_id = $2 AND "
                 "occurrence_id IN (SELECT id FROM campaign_occurrences WHERE workspace_id = $2)"),
             // The analytics fold's state of the contact (analytics/report_book.cpp "contact",
             // analytics/send_time.h kSendTimeKind); the fold drops its copy at the contact.erased event.
             std::string_view(
                 "DELETE FROM analytics_entities WHERE workspace_id = $2 AND kind IN ('contact', "
                 "'send_time') AND id = $1"),
         }) {
      RAPPORT_TRY(s.Exec(sql, {id, ws}));
    }
    // The audit trail keeps who did what to the contact, and when, but not the details a write
    // recorded (a consent's source, changed values): those can be personal data.
    const std::string entity_id = std::to_string(id);
    RAPPORT_TRY(
        s.Exec("UPDATE audit_log SET details = '{}' WHERE workspace_id = $1 AND entity = 'contact' AND "
               "entity_id = $2 AND details <> '{}'",
               {ws, std::string_view(entity_id)}));
    RAPPORT_TRY(
        s.Exec("UPDATE contacts SET email = NULL, email_key = NULL, external_id = NULL, email_hash = $3, "
               "status = 'erased', "
               "attributes = '{}', timezone = '', locale = '', updated_at = $4 "
               "WHERE id = $1 AND workspace_id = $2",
               {id, ws, hash, ToMicros(now)}));
    // The tombstone: that the contact was erased, and nothing about who it was; the ids of its
    // messages (counters, not personal data) name the delivered copies to erase.
    json::object tombstone;
    if (!erased.message_ids.empty()) {
      json::array ids;
      for (MessageId m : erased.message_ids) ids.push_back(m);
      tombstone["message_ids"] = std::move(ids);
    }
    RAPPORT_TRY(InsertEventIn(s, ws, id, "contact.erased", json::serialize(tombstone), now, now));
    return {};
  }));
  return erased;
}

std::string SqlContactStore::ListSql(const ContactQuery& q) {
  std::string sql = kSelectContact + "WHERE workspace_id = $1 AND id > $2";
  if (!q.include_erased) sql += " AND status <> 'erased'";
  if (q.email) sql += " AND email_key = $4";
  sql += " ORDER BY id LIMIT $3";
  return sql;
}

const std::string& SqlContactStore::ChunkSql() {
  static const std::string sql =
      kSelectContact + "WHERE workspace_id = $1 AND id > $2 AND status <> 'erased' ORDER BY id LIMIT 1000";
  return sql;
}

Result<Page<Contact>> SqlContactStore::List(WorkspaceId ws, const ContactQuery& q) {
  RAPPORT_TRY(CheckLimit(q.limit));
  RAPPORT_ASSIGN_OR_RETURN(int64_t after, DecodeCursor(q.cursor));
  const std::string sql = ListSql(q);
  const std::string email_key = q.email ? EmailIdentityKey(*q.email) : std::string();
  Page<Contact> page;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    page.items.clear();
    auto on_row = [&](const Row& r) { page.items.push_back(ReadContact(r)); };
    int64_t fetch = q.limit + 1;
    if (q.email)
      RAPPORT_TRY(s.Exec(sql, {ws, after, fetch, std::string_view(email_key)}, on_row));
    else
      RAPPORT_TRY(s.Exec(sql, {ws, after, fetch}, on_row));
    return {};
  }));
  if (page.items.size() > static_cast<size_t>(q.limit)) {
    page.items.pop_back();
    page.next_cursor = EncodeCursor(page.items.back().id);
  }
  return page;
}

// SqlContactStore::Import: sql_contact_import.cpp.

Status SqlContactStore::ForEach(WorkspaceId ws, const std::function<bool(const Contact&)>& fn) {
  const std::string& sql = ChunkSql();
  int64_t after = 0;
  std::vector<Contact> chunk;
  while (true) {
    RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
      chunk.clear();
      RAPPORT_TRY(s.Exec(sql, {ws, after}, [&](const Row& r) { chunk.push_back(ReadContact(r)); }));
      return {};
    }));
    for (const Contact& c : chunk)
      if (!fn(c)) return {};
    if (chunk.size() < 1000) return {};
    after = chunk.back().id;
  }
}

Result<int64_t> SqlContactStore::Count(WorkspaceId ws) {
  int64_t n = 0;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1 AND status <> 'erased'", {ws},
                       [&](const Row& r) { n = r.Int(0); }));
    return {};
  }));
  return n;
}

}  // namespace rapport::sql
