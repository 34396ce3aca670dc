#include "store/postgres/pg_event_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/email_address.h"
#include "store/sql/codec.h"
#include "store/sql/erasure_list.h"

namespace rapport::postgres {

namespace {

using sql::Row;
using sql::Session;

// Appends `s` as a JSON string literal.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

// A PostgreSQL array literal of text values: {"a","b\"c"}.
template <typename Range>
std::string TextArray(const Range& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : std::string_view(v)) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

template <typename Range>
std::string IntArray(const Range& values) {
  std::string out = "{";
  for (int64_t v : values) {
    if (out.size() > 1) out.push_back(',');
    out += std::to_string(v);
  }
  out.push_back('}');
  return out;
}

constexpr std::string_view kSelectKeys =
    "SELECT k.key, k.event_id, k.contact_id FROM unnest($2::text[]) AS u(v) "
    "JOIN event_keys k ON k.workspace_id = $1 AND k.key = u.v";

struct Resolved {
  std::unordered_map<int64_t, bool> by_id;                      // id -> live
  std::unordered_map<std::string, ContactId> by_email, by_ext;  // by_email: by identity key
};

Status LookupContacts(Session& s, WorkspaceId ws, const std::unordered_set<int64_t>& ids,
                      const std::unordered_set<std::string>& emails,
                      const std::unordered_set<std::string>& exts, Resolved& out) {
  if (ids.empty() && emails.empty() && exts.empty()) return {};
  std::string id_arr = IntArray(ids), email_arr = TextArray(emails), ext_arr = TextArray(exts);
  // Joins with unnest() (index lookups per value) rather than "= ANY(array)", which a generic
  // plan runs as a scan comparing every row with the whole array.
  RAPPORT_TRY(
      s.Exec("SELECT c.id, c.email_key, c.external_id, c.status FROM unnest($2::bigint[]) AS u(v) "
             "JOIN contacts c ON c.id = u.v AND c.workspace_id = $1 "
             "UNION ALL SELECT c.id, c.email_key, c.external_id, c.status FROM unnest($3::text[]) AS u(v) "
             "JOIN contacts c ON c.workspace_id = $1 AND c.email_key = u.v "
             "UNION ALL SELECT c.id, c.email_key, c.external_id, c.status FROM unnest($4::text[]) AS u(v) "
             "JOIN contacts c ON c.workspace_id = $1 AND c.external_id = u.v",
             {ws, std::string_view(id_arr), std::string_view(email_arr), std::string_view(ext_arr)},
             [&](const Row& r) {
               ContactId id = r.Int(0);
               out.by_id[id] = r.Text(3) != "erased";
               if (!r.IsNull(1)) out.by_email[std::string(r.Text(1))] = id;
               if (!r.IsNull(2)) out.by_ext[std::string(r.Text(2))] = id;
             }));
  return {};
}

}  // namespace

Result<std::vector<AppendResult>> PgEventStore::AppendWith(WorkspaceId ws,
                                                           const std::vector<NewEvent>& events,
                                                           Timestamp received_at,
                                                           const PositionCommit* commit) {
  const size_t n = events.size();
  std::vector<std::optional<Error>> invalid(n);
  std::vector<std::string> props(n);
  for (size_t i = 0; i < n; ++i) {
    if (Status st = PrecheckEvent(events[i]); !st.ok()) {
      invalid[i] = st.error();
      continue;
    }
    props[i] = sql::SerializeObject(events[i].properties);
    if (props[i].size() > kMaxEventPropertiesBytes)
      invalid[i] = Error::Invalid("properties", "event properties are at most 64 KiB of JSON");
  }

  // Emails by their identity key (any letter case names the same contact).
  std::vector<std::string> email_keys(n);
  for (size_t i = 0; i < n; ++i)
    if (!invalid[i] && !events[i].contact.id && events[i].contact.email)
      email_keys[i] = EmailIdentityKey(*events[i].contact.email);

  std::vector<AppendResult> out;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.assign(n, AppendResult{});
    std::vector<bool> pending(n, false);  // still to be stored
    for (size_t i = 0; i < n; ++i) {
      if (invalid[i]) {
        out[i].outcome = AppendOutcome::kFailed;
        out[i].error = *invalid[i];
      } else {
        pending[i] = true;
      }
    }

    // 1. Keys the workspace has seen already.
    std::unordered_set<std::string> keys;
    for (size_t i = 0; i < n; ++i)
      if (pending[i] && events[i].idempotency_key) keys.insert(*events[i].idempotency_key);
    std::unordered_map<std::string, std::pair<EventId, ContactId>> seen;
    if (!keys.empty()) {
      std::string arr = TextArray(keys);
      RAPPORT_TRY(s.Exec(kSelectKeys, {ws, std::string_view(arr)}, [&](const Row& r) {
        seen[std::string(r.Text(0))] = {r.Int(1), r.Int(2)};
      }));
    }
    auto mark_seen = [&](size_t i) {
      if (!pending[i] || !events[i].idempotency_key) return;
      auto it = seen.find(*events[i].idempotency_key);
      if (it == seen.end()) return;
      out[i].outcome = AppendOutcome::kDuplicate;
      out[i].event_id = it->second.first;
      out[i].contact_id = it->second.second;
      pending[i] = false;
    };
    for (size_t i = 0; i < n; ++i) mark_seen(i);

    // 2. Resolve contacts; create the unknown ones that may be created.
    std::unordered_set<int64_t> ids;
    std::unordered_set<std::string> emails, exts;
    for (size_t i = 0; i < n; ++i) {
      if (!pending[i]) continue;
      const ContactRef& c = events[i].contact;
      if (c.id)
        ids.insert(*c.id);
      else if (c.email)
        emails.insert(email_keys[i]);
      else
        exts.insert(*c.external_id);
    }
    Resolved known;
    RAPPORT_TRY(LookupContacts(s, ws, ids, emails, exts, known));
    // An event never re-creates an erased person (no reconsent through events): the addresses
    // this batch would create, looked up in the erasure list (keyed hash, or a legacy bare one).
    std::unordered_set<std::string> erased;  // email keys
    {
      const std::string key = erasure_.Get();
      std::unordered_map<std::string, std::string> hash_to_key;
      for (size_t i = 0; i < n; ++i) {
        const ContactRef& c = events[i].contact;
        if (!pending[i] || c.id || !c.create_contact || !c.email || known.by_email.count(email_keys[i]))
          continue;
        hash_to_key.emplace(sql::ErasureHash(key, *c.email), email_keys[i]);
        hash_to_key.emplace(sql::Sha256Hex(*c.email), email_keys[i]);
      }
      if (!hash_to_key.empty()) {
        std::vector<std::string> hashes;
        for (const auto& [h, k] : hash_to_key) hashes.push_back(h);
        std::string arr = TextArray(hashes);
        RAPPORT_TRY(
            s.Exec("SELECT email_hash FROM contacts WHERE workspace_id = $1 AND email_hash = ANY($2::text[])",
                   {ws, std::string_view(arr)}, [&](const Row& r) {
                     if (auto it = hash_to_key.find(std::string(r.Text(0))); it != hash_to_key.end())
                       erased.insert(it->second);
                   }));
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const ContactRef& c = events[i].contact;
      if (!pending[i] || c.id || !c.email || !erased.count(email_keys[i])) continue;
      out[i].outcome = AppendOutcome::kFailed;
      out[i].error = sql::ErasedAddressError();
      pending[i] = false;
    }
    std::unordered_map<ContactId, Contact> created;  // by this transaction, not yet recorded
    std::string create_json = "[";
    std::unordered_set<std::string> create_emails, create_exts;
    for (size_t i = 0; i < n; ++i) {
      if (!pending[i]) continue;
      const ContactRef& c = events[i].contact;
      if (c.id || !c.create_contact) continue;
      if (c.email && !known.by_email.count(email_keys[i]) && create_emails.insert(email_keys[i]).second) {
        if (create_json.size() > 1) create_json.push_back(',');
        create_json += "{\"e\":";
        AppendJsonString(create_json, *c.email);
        create_json += ",\"k\":";
        AppendJsonString(create_json, email_keys[i]);
        create_json += ",\"x\":null}";
      } else if (!c.email && !known.by_ext.count(*c.external_id) &&
                 create_exts.insert(*c.external_id).second) {
        if (create_json.size() > 1) create_json.push_back(',');
        create_json += "{\"e\":null,\"k\":null,\"x\":";
        AppendJsonString(create_json, *c.external_id);
        create_json += "}";
      }
    }
    create_json.push_back(']');
    if (!create_emails.empty() || !create_exts.empty()) {
      RAPPORT_TRY(s.Exec(
          "INSERT INTO contacts (workspace_id, email, external_id, status, attributes, timezone, "
          "locale, created_at, updated_at, email_key) SELECT $1, r.e, r.x, 'active', '{}', '', '', $2, $2, "
          "r.k FROM jsonb_to_recordset($3::jsonb) AS r(e text, k text, x text) ON CONFLICT DO NOTHING "
          "RETURNING id, email, external_id, email_key",
          {ws, ToMicros(received_at), std::string_view(create_json)}, [&](const Row& r) {
            Contact c;
            c.id = r.Int(0);
            c.workspace_id = ws;
            if (!r.IsNull(1)) c.email = std::string(r.Text(1));
            if (!r.IsNull(2)) c.external_id = std::string(r.Text(2));
            c.created_at = c.updated_at = received_at;
            created.emplace(c.id, std::move(c));
            known.by_id[r.Int(0)] = true;
            if (!r.IsNull(3)) create_emails.erase(std::string(r.Text(3)));
            if (!r.IsNull(3)) known.by_email[std::string(r.Text(3))] = r.Int(0);
            if (!r.IsNull(2)) create_exts.erase(std::string(r.Text(2)));
            if (!r.IsNull(2)) known.by_ext[std::string(r.Text(2))] = r.Int(0);
          }));
      // Whatever another writer created in the meantime.
      RAPPORT_TRY(LookupContacts(s, ws, {}, create_emails, create_exts, known));
    }
    for (size_t i = 0; i < n; ++i) {
      if (!pending[i]) continue;
      const ContactRef& c = events[i].contact;
      std::optional<ContactId> id;
      if (c.id) {
        auto it = known.by_id.find(*c.id);
        if (it != known.by_id.end() && it->second) id = *c.id;
      } else if (c.email) {
        if (auto it = known.by_email.find(email_keys[i]); it != known.by_email.end()) id = it->second;
      } else if (auto it = known.by_ext.find(*c.external_id); it != known.by_ext.end()) {
        id = it->second;
      }
      if (id) {
        out[i].contact_id = *id;
        continue;
      }
      out[i].outcome = AppendOutcome::kFailed;
      out[i].error = Error::NotFound(c.id      ? "no contact " + std::to_string(*c.id)
                                     : c.email ? "no contact with this email"
                                               : "no contact with this external_id");
      // A later event with the same key may still be stored, as in the row-by-row Append.
      pending[i] = false;
    }

    // 3. Within the batch, the first stored event of a key wins; later ones are duplicates of it.
    std::unordered_map<std::string_view, size_t> first_of_key;
    std::vector<std::optional<size_t>> dup_of(n);
    size_t to_store = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!pending[i]) continue;
      if (events[i].idempotency_key) {
        auto [it, inserted] = first_of_key.emplace(*events[i].idempotency_key, i);
        if (!inserted) {
          dup_of[i] = it->second;
          pending[i] = false;
          continue;
        }
      }
      ++to_store;
    }

    // 4. The change events each stored event causes (its contact's creation, its attribute
    // merge), recorded just before it; attribute merges in order, on the contacts read and
    // locked once, then written once each.
    std::vector<std::vector<sql::ChangeEvent>> before(n);
    std::unordered_map<ContactId, Contact> merged;  // contacts with attribute patches, as merged
    {
      std::unordered_set<int64_t> patched;
      for (size_t i = 0; i < n; ++i)
        if (pending[i] && events[i].contact_attributes && !events[i].contact_attributes->empty())
          patched.insert(out[i].contact_id);
      if (!patched.empty()) {
        std::string arr = IntArray(patched);
        RAPPORT_TRY(
            s.Exec("SELECT " + std::string(sql::kContactColumns) +
                       " FROM contacts WHERE workspace_id = $1 AND id IN (SELECT unnest($2::bigint[])) "
                       "ORDER BY id FOR UPDATE",
                   {ws, std::string_view(arr)}, [&](const Row& r) {
                     Contact c = sql::ReadContact(r);
                     merged.emplace(c.id, std::move(c));
                   }));
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (!pending[i]) continue;
      if (auto it = created.find(out[i].contact_id); it != created.end()) {
        sql::ContactCreated(it->second, {}, nullptr, before[i]);
        created.erase(it);
      }
      if (!events[i].contact_attributes || events[i].contact_attributes->empty()) continue;
      auto it = merged.find(out[i].contact_id);
      if (it == merged.end()) continue;
      Contact after = it->second;
      sql::MergeAttributes(after.attributes, *events[i].contact_attributes);
      sql::ContactChanged(it->second, after, {}, nullptr, before[i]);
      it->second = std::move(after);
    }
    if (!merged.empty()) {
      std::string rows = "[";
      for (const auto& [id, c] : merged) {
        if (rows.size() > 1) rows.push_back(',');
        rows += "{\"i\":" + std::to_string(id) + ",\"a\":" + sql::SerializeObject(c.attributes) + "}";
      }
      rows.push_back(']');
      RAPPORT_TRY(
          s.Exec("UPDATE contacts SET attributes = r.a, updated_at = $2 FROM jsonb_to_recordset($3::jsonb) "
                 "AS r(i bigint, a jsonb) WHERE contacts.id = r.i AND contacts.workspace_id = $1",
                 {ws, ToMicros(received_at), std::string_view(rows)}));
    }
    // Contacts created for events that were then not stored (duplicates) are recorded last.
    std::vector<sql::ChangeEvent> after_all;
    for (const auto& [id, c] : created) sql::ContactCreated(c, {}, nullptr, after_all);
    size_t change_count = after_all.size();
    for (const auto& b : before) change_count += b.size();

    // 5. Event ids, then the keys (a key another writer took meanwhile makes a duplicate).
    const std::vector<bool> had_ids = pending;  // the events given ids below
    std::vector<EventId> new_ids;
    const size_t id_count = to_store + change_count;
    size_t next_id = 0;  // the next of new_ids to hand out
    if (id_count > 0) {
      new_ids.reserve(id_count);
      RAPPORT_TRY(
          s.Exec("SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, $1::int)",
                 {static_cast<int64_t>(id_count)}, [&](const Row& r) { new_ids.push_back(r.Int(0)); }));
      if (new_ids.size() != id_count) return Error::Internal("the event sequence returned too few ids");
      for (size_t i = 0; i < n; ++i) {
        if (!pending[i]) continue;
        next_id += before[i].size();
        out[i].event_id = new_ids[next_id++];
      }
    }
    std::string keys_json = "[";
    for (size_t i = 0; i < n; ++i) {
      if (!pending[i] || !events[i].idempotency_key) continue;
      if (keys_json.size() > 1) keys_json.push_back(',');
      keys_json += "{\"k\":";
      AppendJsonString(keys_json, *events[i].idempotency_key);
      keys_json +=
          ",\"e\":" + std::to_string(out[i].event_id) + ",\"c\":" + std::to_string(out[i].contact_id) + "}";
    }
    keys_json.push_back(']');
    if (keys_json.size() > 2) {
      std::unordered_set<std::string> claimed;
      RAPPORT_TRY(
          s.Exec("INSERT INTO event_keys (workspace_id, key, event_id, contact_id) SELECT $1, r.k, r.e, r.c "
                 "FROM jsonb_to_recordset($2::jsonb) AS r(k text, e bigint, c bigint) "
                 "ON CONFLICT DO NOTHING RETURNING key",
                 {ws, std::string_view(keys_json)}, [&](const Row& r) { claimed.emplace(r.Text(0)); }));
      std::unordered_set<std::string> lost;
      for (size_t i = 0; i < n; ++i)
        if (pending[i] && events[i].idempotency_key && !claimed.count(*events[i].idempotency_key))
          lost.insert(*events[i].idempotency_key);
      if (!lost.empty()) {
        std::string arr = TextArray(lost);
        RAPPORT_TRY(s.Exec(kSelectKeys, {ws, std::string_view(arr)}, [&](const Row& r) {
          seen[std::string(r.Text(0))] = {r.Int(1), r.Int(2)};
        }));
        for (size_t i = 0; i < n; ++i)
          if (pending[i] && events[i].idempotency_key && lost.count(*events[i].idempotency_key)) mark_seen(i);
      }
    }

    // 6. The events (each after the change events it caused), with their feed positions, taken
    // last: the counter row stays locked from here to the commit.
    std::string rows = "[";
    size_t row_count = 0;
    int64_t position = 0;
    auto add_row = [&](EventId id, ContactId contact, std::string_view name, std::string_view properties,
                       Timestamp occurred) {
      if (rows.size() > 1) rows.push_back(',');
      rows += "{\"i\":" + std::to_string(id) + ",\"c\":" + std::to_string(contact) + ",\"n\":";
      AppendJsonString(rows, name);
      rows += ",\"p\":";
      rows += properties;
      rows += ",\"o\":" + std::to_string(ToMicros(occurred)) + ",\"q\":" + std::to_string(++position) + "}";
      ++row_count;
    };
    // Rows in order: for each event that had ids in step 5, the change events it caused, then
    // itself unless it lost its key to another writer there (its id stays unused); then the
    // contacts created for events that were not stored.
    struct Pending {
      EventId id;
      ContactId contact;
      std::string_view name, properties;
      Timestamp occurred;
    };
    std::vector<Pending> ordered;
    ordered.reserve(id_count);
    next_id = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!had_ids[i]) continue;
      for (const sql::ChangeEvent& c : before[i])
        ordered.push_back({new_ids[next_id++], c.contact_id, c.name, c.properties, received_at});
      EventId id = new_ids[next_id++];
      if (!pending[i]) continue;
      const NewEvent& e = events[i];
      ordered.push_back({id, out[i].contact_id, e.name, props[i], e.occurred_at.value_or(received_at)});
    }
    for (const sql::ChangeEvent& c : after_all)
      ordered.push_back({new_ids[next_id++], c.contact_id, c.name, c.properties, received_at});
    if (!ordered.empty()) {
      RAPPORT_ASSIGN_OR_RETURN(int64_t last, sql::ReservePositions(s, static_cast<int64_t>(ordered.size())));
      position = last - static_cast<int64_t>(ordered.size());
    }
    for (const Pending& p : ordered) add_row(p.id, p.contact, p.name, p.properties, p.occurred);
    rows.push_back(']');
    if (row_count > 0) {
      RAPPORT_TRY(s.Exec(
          "INSERT INTO events (id, workspace_id, contact_id, name, properties, occurred_at, received_at, "
          "position) SELECT r.i, $1, r.c, r.n, r.p, r.o, $2, r.q FROM jsonb_to_recordset($3::jsonb) "
          "AS r(i bigint, c bigint, n text, p jsonb, o bigint, q bigint)",
          {ws, ToMicros(received_at), std::string_view(rows)}));
    }

    // 7. In-batch duplicates point at the event their key stored (or found).
    for (size_t i = 0; i < n; ++i) {
      if (!dup_of[i]) continue;
      const AppendResult& first = out[*dup_of[i]];
      out[i].outcome = AppendOutcome::kDuplicate;
      out[i].event_id = first.event_id;
      out[i].contact_id = first.contact_id;
    }
    if (commit) RAPPORT_TRY(sql::CommitPositionIn(s, commit->consumer, commit->position, received_at));
    return {};
  }));
  return out;
}

}  // namespace rapport::postgres
