// ContactStore::ListDuplicates and Merge: resolving contacts whose emails differ only in letter
// case (core/store.h).
#include <map>

#include "core/email_address.h"
#include "store/sql/codec.h"
#include "store/sql/sql_store.h"

namespace rapport::sql {

namespace {

// The ASCII lower-casing of EmailIdentityKey in each dialect (PostgreSQL's lower() would follow
// the database's locale).
std::string_view LowerEmail(Session& s) {
  return s.pg() ? "translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
                : "lower(email)";
}

}  // namespace

Result<std::vector<std::vector<Contact>>> SqlContactStore::ListDuplicates(WorkspaceId ws) {
  std::vector<std::vector<Contact>> groups;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    groups.clear();
    const std::string lower(LowerEmail(s));
    // Only a contact the migration left without a key has a case variant (writes since check the
    // key); its group is every live contact with its lower-cased address.
    const std::string sql =
        "SELECT " + std::string(kContactColumns) +
        " FROM contacts WHERE workspace_id = $1 AND email IS NOT NULL AND status <> 'erased' "
        "AND " +
        lower + " IN (SELECT " + lower +
        " FROM contacts WHERE workspace_id = $1 AND email IS NOT NULL AND status <> 'erased' "
        "AND email_key IS NULL) ORDER BY " +
        lower + ", id";
    std::string last;
    RAPPORT_TRY(s.Exec(sql, {ws}, [&](const Row& r) {
      Contact c = ReadContact(r);
      std::string key = EmailIdentityKey(c.email);
      if (groups.empty() || key != last) groups.emplace_back();
      last = key;
      groups.back().push_back(std::move(c));
    }));
    return {};
  }));
  std::erase_if(groups, [](const std::vector<Contact>& g) { return g.size() < 2; });
  return groups;
}

Result<Contact> SqlContactStore::Merge(WorkspaceId ws, ContactId into_id, ContactId from_id) {
  if (into_id == from_id) return Error::Invalid("contact", "a contact cannot be merged into itself");
  Contact out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(Contact into, FindContact(s, ws, into_id));
    RAPPORT_ASSIGN_OR_RETURN(Contact from, FindContact(s, ws, from_id));
    if (into.status == ContactStatus::kErased || from.status == ContactStatus::kErased)
      return Error::Conflict("an erased contact cannot be merged", "contact");
    auto moved = [&](std::string_view sql) -> Result<int64_t> { return s.Exec(sql, {into_id, from_id, ws}); };
    // Subscriptions: of two to one topic, the more recently updated wins.
    RAPPORT_TRY(
        moved("DELETE FROM subscriptions WHERE contact_id = $1 AND workspace_id = $3 AND topic_id IN (SELECT "
              "f.topic_id "
              "FROM subscriptions f WHERE f.contact_id = $2 AND f.updated_at > subscriptions.updated_at)"));
    RAPPORT_TRY(
        moved("DELETE FROM subscriptions WHERE contact_id = $2 AND workspace_id = $3 AND topic_id IN (SELECT "
              "i.topic_id "
              "FROM subscriptions i WHERE i.contact_id = $1)"));
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t subscriptions,
        moved("UPDATE subscriptions SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    // The consent ledger moves whole (it is history); into keeps its own preferences if it has any.
    RAPPORT_TRY(
        moved("UPDATE consent_ledger SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_TRY(
        moved("DELETE FROM contact_preferences WHERE contact_id = $2 AND workspace_id = $3 AND EXISTS "
              "(SELECT 1 FROM "
              "contact_preferences i WHERE i.contact_id = $1)"));
    RAPPORT_TRY(
        moved("UPDATE contact_preferences SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t events,
        moved("UPDATE events SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_TRY(moved("UPDATE event_keys SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t messages,
        moved("UPDATE outbox_messages SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_TRY(
        moved("UPDATE outbox_bodies SET contact_id = $1 WHERE contact_id = $2 AND message_id IN "
              "(SELECT id FROM outbox_messages WHERE contact_id = $1 AND workspace_id = $3)"));
    RAPPORT_TRY(
        moved("UPDATE message_tracking SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_TRY(
        moved("UPDATE delivery_attempts SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));
    RAPPORT_TRY(
        moved("UPDATE message_feedback SET contact_id = $1 WHERE contact_id = $2 AND workspace_id = $3"));

    // `from` keeps its row (its id stays taken) without identifiers; then `into` takes what it lacks.
    RAPPORT_TRY(
        s.Exec("UPDATE contacts SET email = NULL, email_key = NULL, external_id = NULL, email_hash = NULL, "
               "status = 'erased', attributes = '{}', timezone = '', locale = '', updated_at = $3 "
               "WHERE id = $1 AND workspace_id = $2",
               {from_id, ws, ToMicros(now)}));
    ContactInput patch;
    json::object added;
    for (const auto& [key, value] : from.attributes)
      if (!into.attributes.contains(key)) added[key] = value;
    if (!added.empty()) patch.attributes = std::move(added);
    if (!into.external_id && from.external_id) patch.external_id = from.external_id;
    if (into.timezone.empty() && !from.timezone.empty()) patch.timezone = from.timezone;
    if (into.locale.empty() && !from.locale.empty()) patch.locale = from.locale;
    std::vector<ChangeEvent> changes;
    json::object origin{{"via", "merge"}, {"merged_contact_id", from_id}};
    RAPPORT_TRY(UpdateContactIn(s, into, patch, now, changes, {}, &origin));
    // A case variant left without a key by migration v6 takes it once the other is gone.
    if (!into.email.empty()) {
      std::string key = EmailIdentityKey(into.email);
      RAPPORT_TRY(s.Exec(
          "UPDATE contacts SET email_key = $3 WHERE id = $1 AND workspace_id = $2 AND email_key IS NULL "
          "AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.workspace_id = $2 AND o.email_key = $3)",
          {into_id, ws, std::string_view(key)}));
    }
    json::object props{
        {"merged_contact_id", from_id},
        {"moved",
         json::object{{"events", events}, {"subscriptions", subscriptions}, {"messages", messages}}}};
    if (!from.email.empty()) props["merged_email"] = from.email;
    changes.insert(changes.begin(), ChangeEvent{ws, into_id, "contact.merged", SerializeObject(props)});
    RAPPORT_TRY(InsertChangeEvents(s, changes, now));
    out = std::move(into);
    return {};
  }));
  return out;
}

}  // namespace rapport::sql
