#include "store/sqlite/sqlite_event_store.h"

#include <array>
#include <bit>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/email_address.h"
#include "store/sql/codec.h"
#include "store/sql/erasure_list.h"
#include "store/sql/statement_set.h"

namespace rapport::sqlite {

namespace {

using sql::Param;
using sql::Row;
using sql::Session;

using sql::ForChunks;
using sql::kChunk;
using sql::StatementSet;

const StatementSet& InsertEvents() {
  static const StatementSet set(
      "INSERT INTO events (id, workspace_id, contact_id, name, properties, occurred_at, received_at) VALUES ",
      7, StatementSet::Shape::kValues);
  return set;
}
const StatementSet& InsertKeys() {
  static const StatementSet set("INSERT INTO event_keys (workspace_id, key, event_id, contact_id) VALUES ", 4,
                                StatementSet::Shape::kValues);
  return set;
}
const StatementSet& SelectKeys() {
  static const StatementSet set(
      "SELECT key, event_id, contact_id FROM event_keys WHERE workspace_id = $1 AND key IN ", 0,
      StatementSet::Shape::kInList);
  return set;
}
const StatementSet& SelectIds() {
  // By primary key: `+workspace_id` keeps SQLite (no statistics) from reading every contact of the
  // workspace through contacts_email_key, which it chose for 64 ids (2 s per chunk at 1,000,000
  // contacts: a new segment's segment_entered events came out at ~70/s).
  static const StatementSet set("SELECT id, status FROM contacts WHERE +workspace_id = $1 AND id IN ", 0,
                                StatementSet::Shape::kInList);
  return set;
}
const StatementSet& SelectEmails() {
  static const StatementSet set(
      "SELECT id, email_key FROM contacts WHERE workspace_id = $1 AND email_key IN ", 0,
      StatementSet::Shape::kInList);
  return set;
}
const StatementSet& SelectExternalIds() {
  static const StatementSet set(
      "SELECT id, external_id FROM contacts WHERE workspace_id = $1 AND external_id IN ", 0,
      StatementSet::Shape::kInList);
  return set;
}

// Runs `set`'s IN-list query for every value (in chunks); on_row gets each row.
template <typename T>
Status LookupIn(Session& s, const StatementSet& set, WorkspaceId ws, const std::vector<T>& values,
                std::vector<Param>& params, const sql::RowFn& on_row) {
  return ForChunks(values.size(), [&](size_t begin, size_t count) -> Status {
    params.clear();
    params.emplace_back(ws);
    for (size_t i = begin; i < begin + count; ++i) params.emplace_back(values[i]);
    RAPPORT_TRY(s.Exec(set.For(count), params, on_row));
    return {};
  });
}

struct KeyHit {
  EventId event_id;
  ContactId contact_id;
};

}  // namespace

Result<std::vector<AppendResult>> SqliteEventStore::AppendWith(WorkspaceId ws,
                                                               const std::vector<NewEvent>& events,
                                                               Timestamp received_at,
                                                               const PositionCommit* commit) {
  const size_t n = events.size();
  std::vector<AppendResult> out;
  if (n == 0) return out;

  // Outside the write lock: the checks and the properties' JSON text.
  std::vector<std::optional<Error>> refused(n);
  std::vector<std::string> props(n);
  for (size_t i = 0; i < n; ++i) {
    if (Status st = PrecheckEvent(events[i]); !st.ok()) {
      refused[i] = st.error();
      continue;
    }
    props[i] = sql::SerializeObject(events[i].properties);
    if (props[i].size() > kMaxEventPropertiesBytes)
      refused[i] = Error::Invalid("properties", "event properties are at most 64 KiB of JSON");
  }

  // Emails by their identity key (any letter case names the same contact).
  std::vector<std::string> email_keys(n);
  for (size_t i = 0; i < n; ++i)
    if (!refused[i] && !events[i].contact.id && events[i].contact.email)
      email_keys[i] = EmailIdentityKey(*events[i].contact.email);

  // What the batch names, each once (views into `events` and `email_keys`, which outlive the call).
  std::unordered_set<std::string_view> key_set, email_set, ext_set;
  std::unordered_set<int64_t> id_set;
  for (size_t i = 0; i < n; ++i) {
    if (refused[i]) continue;
    const NewEvent& e = events[i];
    if (e.idempotency_key) key_set.insert(*e.idempotency_key);
    if (e.contact.id)
      id_set.insert(*e.contact.id);
    else if (e.contact.email)
      email_set.insert(email_keys[i]);
    else
      ext_set.insert(*e.contact.external_id);
  }
  const std::vector<std::string_view> keys(key_set.begin(), key_set.end());
  const std::vector<std::string_view> emails(email_set.begin(), email_set.end());
  const std::vector<std::string_view> exts(ext_set.begin(), ext_set.end());
  const std::vector<int64_t> ids(id_set.begin(), id_set.end());

  std::vector<Param> params;
  params.reserve(7 * kChunk);
  // The rows to insert, in order: each event, after the change events it caused.
  struct Slot {
    EventId id;
    ContactId contact;
    std::string_view name, props;
    int64_t occurred;
  };
  std::vector<Slot> written;
  written.reserve(n);
  std::deque<sql::ChangeEvent> change_rows;  // stable: `written` holds views into them
  std::vector<sql::ChangeEvent> changes;
  std::vector<size_t> keyed;  // events with an idempotency key that are stored
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.assign(n, AppendResult{});
    written.clear();
    change_rows.clear();
    keyed.clear();
    // Keys stored before, then also those this batch writes (a later duplicate names the first).
    std::unordered_map<std::string_view, KeyHit> key_hits;
    RAPPORT_TRY(LookupIn(s, SelectKeys(), ws, keys, params, [&](const Row& r) {
      if (auto it = key_set.find(r.Text(0)); it != key_set.end())
        key_hits.emplace(*it, KeyHit{r.Int(1), r.Int(2)});
    }));
    std::unordered_map<int64_t, bool> live_by_id;
    RAPPORT_TRY(LookupIn(s, SelectIds(), ws, ids, params,
                         [&](const Row& r) { live_by_id.emplace(r.Int(0), r.Text(1) != "erased"); }));
    // Contacts by email / external_id, then also those this batch creates.
    std::unordered_map<std::string_view, ContactId> by_email, by_ext;
    RAPPORT_TRY(LookupIn(s, SelectEmails(), ws, emails, params, [&](const Row& r) {
      if (auto it = email_set.find(r.Text(1)); it != email_set.end()) by_email.emplace(*it, r.Int(0));
    }));
    RAPPORT_TRY(LookupIn(s, SelectExternalIds(), ws, exts, params, [&](const Row& r) {
      if (auto it = ext_set.find(r.Text(1)); it != ext_set.end()) by_ext.emplace(*it, r.Int(0));
    }));
    int64_t last_id = 0;
    // The highest id ever given (AUTOINCREMENT keeps it in sqlite_sequence, so the ids of erased
    // events never come back), at least the highest present.
    RAPPORT_TRY(
        s.Exec("SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), "
               "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))",
               {}, [&](const Row& r) { last_id = r.Int(0); }));
    if (last_id > std::numeric_limits<int64_t>::max() - static_cast<int64_t>(n))
      return Error::Internal("event ids are exhausted");

    for (size_t i = 0; i < n; ++i) {
      const NewEvent& e = events[i];
      AppendResult& r = out[i];
      auto fail = [&](Error err) {
        r.outcome = AppendOutcome::kFailed;
        r.error = std::move(err);
      };
      if (refused[i]) {
        fail(*refused[i]);
        continue;
      }
      if (e.idempotency_key) {
        if (auto it = key_hits.find(*e.idempotency_key); it != key_hits.end()) {
          r.outcome = AppendOutcome::kDuplicate;
          r.event_id = it->second.event_id;
          r.contact_id = it->second.contact_id;
          continue;
        }
      }
      const ContactRef& ref = e.contact;
      changes.clear();
      if (ref.id) {
        auto it = live_by_id.find(*ref.id);
        if (it == live_by_id.end() || !it->second) {
          fail(Error::NotFound("no contact " + std::to_string(*ref.id)));
          continue;
        }
        r.contact_id = *ref.id;
      } else {
        bool by_mail = ref.email.has_value();
        std::string_view name =
            by_mail ? std::string_view(email_keys[i]) : std::string_view(*ref.external_id);
        auto& known = by_mail ? by_email : by_ext;
        if (auto it = known.find(name); it != known.end()) {
          r.contact_id = it->second;
        } else if (!ref.create_contact) {
          fail(Error::NotFound(by_mail ? "no contact with this email" : "no contact with this external_id"));
          continue;
        } else {
          // An event never re-creates an erased person (no reconsent through events).
          if (by_mail) {
            RAPPORT_ASSIGN_OR_RETURN(bool erased, sql::IsErasedIn(s, ws, *ref.email, erasure_));
            if (erased) {
              fail(sql::ErasedAddressError());
              continue;
            }
          }
          ContactId id = 0;
          RAPPORT_TRY(s.Exec(
              "INSERT INTO contacts (workspace_id, email, external_id, status, attributes, timezone, "
              "locale, created_at, updated_at, email_key) VALUES ($1, $2, $3, 'active', '{}', '', '', $4, "
              "$4, $5) RETURNING id",
              {ws, by_mail ? Param(std::string_view(*ref.email)) : Param(nullptr),
               by_mail ? Param(nullptr) : Param(name), ToMicros(received_at),
               by_mail ? Param(name) : Param(nullptr)},
              [&](const Row& row) { id = row.Int(0); }));
          known.emplace(name, id);
          live_by_id[id] = true;  // a later event of the batch may name it by id
          r.contact_id = id;
          Contact c;
          c.id = id;
          c.workspace_id = ws;
          if (by_mail) c.email = *ref.email;
          if (!by_mail) c.external_id = std::string(name);
          c.created_at = c.updated_at = received_at;
          sql::ContactCreated(c, {}, nullptr, changes);
        }
      }
      if (e.contact_attributes && !e.contact_attributes->empty()) {
        RAPPORT_ASSIGN_OR_RETURN(Contact c, sql::FindContact(s, ws, r.contact_id));
        ContactInput patch;
        patch.attributes = *e.contact_attributes;
        RAPPORT_TRY(sql::UpdateContactIn(s, c, patch, received_at, changes));
      }
      const int64_t received = ToMicros(received_at);
      for (sql::ChangeEvent& change : changes) {
        change_rows.push_back(std::move(change));
        const sql::ChangeEvent& row = change_rows.back();
        written.push_back(Slot{++last_id, row.contact_id, row.name, row.properties, received});
      }
      r.event_id = ++last_id;
      written.push_back(Slot{r.event_id, r.contact_id, e.name, props[i],
                             e.occurred_at ? ToMicros(*e.occurred_at) : received});
      if (e.idempotency_key) keyed.push_back(i);
      if (e.idempotency_key) key_hits.emplace(*e.idempotency_key, KeyHit{r.event_id, r.contact_id});
    }

    const int64_t received = ToMicros(received_at);
    RAPPORT_TRY(ForChunks(written.size(), [&](size_t begin, size_t count) -> Status {
      params.clear();
      for (size_t k = begin; k < begin + count; ++k) {
        const Slot& w = written[k];
        params.insert(params.end(), {w.id, ws, w.contact, w.name, w.props, w.occurred, received});
      }
      RAPPORT_TRY(s.Exec(InsertEvents().For(count), params, nullptr));
      return {};
    }));
    RAPPORT_TRY(ForChunks(keyed.size(), [&](size_t begin, size_t count) -> Status {
      params.clear();
      for (size_t k = begin; k < begin + count; ++k) {
        size_t i = keyed[k];
        params.insert(params.end(),
                      {ws, std::string_view(*events[i].idempotency_key), out[i].event_id, out[i].contact_id});
      }
      RAPPORT_TRY(s.Exec(InsertKeys().For(count), params, nullptr));
      return {};
    }));
    if (commit) RAPPORT_TRY(sql::CommitPositionIn(s, commit->consumer, commit->position, received_at));
    return {};
  }));
  return out;
}

}  // namespace rapport::sqlite
