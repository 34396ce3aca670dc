#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <unordered_map>

#include "core/email_address.h"
#include "store/sql/codec.h"
#include "store/sql/erasure_list.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {

bool HasControl(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

// Resolves (and may create) the contact an event names, caching within one batch.
class ContactResolver {
 public:
  ContactResolver(Session& s, WorkspaceId ws, Timestamp now, const ErasureKey& erasure)
      : s_(s), ws_(ws), now_(now), erasure_(erasure) {}

  // `created` is set to the contact this call created, if it did.
  Result<ContactId> Resolve(const ContactRef& ref, std::optional<Contact>& created) {
    created.reset();
    if (ref.id) {
      bool live = false, found = false;
      RAPPORT_TRY(s_.Exec("SELECT status FROM contacts WHERE id = $1 AND workspace_id = $2", {*ref.id, ws_},
                          [&](const Row& r) {
                            found = true;
                            live = r.Text(0) != "erased";
                          }));
      if (!found || !live) return Error::NotFound("no contact " + std::to_string(*ref.id));
      return *ref.id;
    }
    bool by_email = ref.email.has_value();
    // Emails by their identity key: any letter case names the same contact.
    const std::string key = by_email ? EmailIdentityKey(*ref.email) : *ref.external_id;
    auto& cache = by_email ? by_email_ : by_ext_;
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    ContactId id = 0;
    RAPPORT_TRY(s_.Exec(by_email ? "SELECT id FROM contacts WHERE workspace_id = $1 AND email_key = $2"
                                 : "SELECT id FROM contacts WHERE workspace_id = $1 AND external_id = $2",
                        {ws_, std::string_view(key)}, [&](const Row& r) { id = r.Int(0); }));
    if (id == 0) {
      if (!ref.create_contact)
        return Error::NotFound(by_email ? "no contact with this email" : "no contact with this external_id");
      // An event never re-creates an erased person (no reconsent through events).
      if (by_email) RAPPORT_TRY(CheckErasedIn(s_, ws_, *ref.email, erasure_, /*reconsent=*/false));
      Param email = by_email ? Param(std::string_view(*ref.email)) : Param(nullptr);
      Param email_key = by_email ? Param(std::string_view(key)) : Param(nullptr);
      Param ext = by_email ? Param(nullptr) : Param(std::string_view(key));
      RAPPORT_TRY(s_.Exec(
          "INSERT INTO contacts (workspace_id, email, external_id, status, attributes, timezone, "
          "locale, created_at, updated_at, email_key) VALUES ($1, $2, $3, 'active', '{}', '', '', $4, $4, "
          "$5) RETURNING id",
          {ws_, email, ext, ToMicros(now_), email_key}, [&](const Row& r) { id = r.Int(0); }));
      Contact c;
      c.id = id;
      c.workspace_id = ws_;
      if (by_email) c.email = *ref.email;
      if (!by_email) c.external_id = key;
      c.created_at = c.updated_at = now_;
      created = std::move(c);
    }
    cache.emplace(key, id);
    return id;
  }

 private:
  Session& s_;
  WorkspaceId ws_;
  Timestamp now_;
  const ErasureKey& erasure_;
  std::unordered_map<std::string, ContactId> by_email_, by_ext_;
};

// A contact's timeline: one statement text per (since bound or not) x (name count 0, 1, 2, 4, 8,
// 16), built once; statements are cached per connection by their text (store/sql/database.h), so
// a text per name count would do too, but a few suffice: a list is padded to the next power of two
// by repeating its last name, which selects nothing more. $1 contact, $2 workspace, $3 the id
// cursor, $4 the limit, then the since bound if any, then the names.
constexpr size_t kNameBuckets = 6;  // 0, 1, 2, 4, 8, 16 names
static_assert(size_t{1} << (kNameBuckets - 2) == kMaxEventQueryNames);

size_t TimelineText(bool since, size_t names) {
  const size_t bucket = names == 0 ? 0 : 1 + static_cast<size_t>(std::countr_zero(names));
  return (since ? kNameBuckets : 0) + bucket;
}

std::array<std::string, 2 * kNameBuckets> TimelineTexts() {
  std::array<std::string, 2 * kNameBuckets> texts;
  for (bool since : {false, true}) {
    for (size_t k = 0; k < kNameBuckets; ++k) {
      const size_t names = k == 0 ? 0 : size_t{1} << (k - 1);
      std::string sql = "SELECT " + std::string(kEventColumns) +
                        " FROM events WHERE contact_id = $1 AND workspace_id = $2 AND id < $3";
      int next = 5;
      if (since) sql += " AND occurred_at >= $" + std::to_string(next++);
      if (names > 0) {
        sql += " AND name IN (";
        AppendPlaceholders(sql, next, static_cast<int>(names));
        sql += ')';
      }
      sql += " ORDER BY id DESC LIMIT $4";
      texts[TimelineText(since, names)] = std::move(sql);
    }
  }
  return texts;
}

Status CheckNames(const std::vector<std::string>& names) {
  if (names.size() > kMaxEventQueryNames)
    return Error::Invalid("names", "at most " + std::to_string(kMaxEventQueryNames) + " event names");
  for (const std::string& n : names)
    if (n.empty() || n.size() > kMaxEventNameLength)
      return Error::Invalid("names", "an event name is 1 to 128 characters");
  return {};
}

}  // namespace

Status SqlEventStore::PrecheckEvent(const NewEvent& e) {
  if (e.name.empty() || e.name.size() > kMaxEventNameLength)
    return Error::Invalid("name", "an event name is 1 to 128 characters");
  if (HasControl(e.name)) return Error::Invalid("name", "an event name may not hold control characters");
  const ContactRef& c = e.contact;
  if (!c.id && !c.email && !c.external_id)
    return Error::Invalid("contact", "an event names its contact by contact_id, email or external_id");
  if (!c.id && c.email && c.email->empty()) return Error::Invalid("email", "the email is empty");
  if (!c.id && !c.email && (c.external_id->empty() || c.external_id->size() > kMaxExternalIdLength))
    return Error::Invalid("external_id", "external_id is 1 to 255 characters");
  if (e.idempotency_key &&
      (e.idempotency_key->empty() || e.idempotency_key->size() > kMaxIdempotencyKeyLength))
    return Error::Invalid("idempotency_key", "idempotency_key is 1 to 255 characters");
  if (e.contact_attributes) RAPPORT_TRY(ValidateAttributes(*e.contact_attributes));
  return {};
}

Result<std::vector<AppendResult>> SqlEventStore::Append(WorkspaceId ws, const std::vector<NewEvent>& events,
                                                        Timestamp received_at) {
  return AppendWith(ws, events, received_at, nullptr);
}

Result<std::vector<AppendResult>> SqlEventStore::AppendAndCommit(WorkspaceId ws,
                                                                 const std::vector<NewEvent>& events,
                                                                 Timestamp received_at,
                                                                 std::string_view consumer,
                                                                 int64_t position) {
  if (events.empty()) {
    RAPPORT_TRY(db_.Write([&](Session& s) { return CommitPositionIn(s, consumer, position, received_at); }));
    return std::vector<AppendResult>();
  }
  PositionCommit commit{consumer, position};
  return AppendWith(ws, events, received_at, &commit);
}

Result<std::vector<AppendResult>> SqlEventStore::AppendWith(WorkspaceId ws,
                                                            const std::vector<NewEvent>& events,
                                                            Timestamp received_at,
                                                            const PositionCommit* commit) {
  std::vector<AppendResult> out;
  std::string props;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.assign(events.size(), AppendResult{});
    ContactResolver resolver(s, ws, received_at, erasure_);
    std::vector<ChangeEvent> changes;
    std::optional<Contact> created;
    for (size_t i = 0; i < events.size(); ++i) {
      const NewEvent& e = events[i];
      AppendResult& r = out[i];
      auto fail = [&](Error err) {
        r.outcome = AppendOutcome::kFailed;
        r.error = std::move(err);
      };
      if (Status st = PrecheckEvent(e); !st.ok()) {
        fail(st.error());
        continue;
      }
      props = SerializeObject(e.properties);
      if (props.size() > kMaxEventPropertiesBytes) {
        fail(Error::Invalid("properties", "event properties are at most 64 KiB of JSON"));
        continue;
      }
      if (e.idempotency_key) {
        bool dup = false;
        RAPPORT_TRY(s.Exec("SELECT event_id, contact_id FROM event_keys WHERE workspace_id = $1 AND key = $2",
                           {ws, std::string_view(*e.idempotency_key)}, [&](const Row& row) {
                             dup = true;
                             r.event_id = row.Int(0);
                             r.contact_id = row.Int(1);
                           }));
        if (dup) {
          r.outcome = AppendOutcome::kDuplicate;
          continue;
        }
      }
      Result<ContactId> contact = resolver.Resolve(e.contact, created);
      if (!contact.ok()) {
        // Unknown and erased contacts fail this event only; anything else fails the batch.
        const bool erased = contact.error().message == ErasedAddressError().message;
        if (contact.error().code != ErrorCode::kNotFound && !erased) return contact.error();
        fail(contact.error());
        continue;
      }
      r.contact_id = *contact;
      changes.clear();
      if (created) ContactCreated(*created, {}, nullptr, changes);
      if (e.contact_attributes && !e.contact_attributes->empty()) {
        RAPPORT_ASSIGN_OR_RETURN(Contact c, FindContact(s, ws, r.contact_id));
        ContactInput patch;
        patch.attributes = *e.contact_attributes;
        RAPPORT_TRY(UpdateContactIn(s, c, patch, received_at, changes));
      }
      RAPPORT_TRY(InsertChangeEvents(s, changes, received_at));
      RAPPORT_ASSIGN_OR_RETURN(r.event_id, InsertEventIn(s, ws, r.contact_id, e.name, props,
                                                         e.occurred_at.value_or(received_at), received_at));
      if (e.idempotency_key) {
        RAPPORT_TRY(
            s.Exec("INSERT INTO event_keys (workspace_id, key, event_id, contact_id) VALUES ($1, $2, $3, $4)",
                   {ws, std::string_view(*e.idempotency_key), r.event_id, r.contact_id}));
      }
    }
    if (commit) RAPPORT_TRY(CommitPositionIn(s, commit->consumer, commit->position, received_at));
    return {};
  }));
  return out;
}

Result<Page<Event>> SqlEventStore::ListForContact(WorkspaceId ws, ContactId contact, const EventQuery& q) {
  RAPPORT_TRY(CheckLimit(q.limit));
  RAPPORT_TRY(CheckNames(q.names));
  RAPPORT_ASSIGN_OR_RETURN(int64_t before, DecodeCursor(q.cursor));
  if (before == 0) before = std::numeric_limits<int64_t>::max();
  static const std::array<std::string, 2 * kNameBuckets> texts = TimelineTexts();
  // The names padded (with the last one again) to the bucket's placeholder count.
  const size_t bucket = q.names.empty() ? 0 : std::bit_ceil(q.names.size());
  std::vector<Param> params = {contact, ws, before, int64_t{q.limit} + 1};
  if (q.since) params.emplace_back(ToMicros(*q.since));
  for (size_t i = 0; i < bucket; ++i)
    params.emplace_back(std::string_view(q.names[std::min(i, q.names.size() - 1)]));
  const std::string& sql = texts[TimelineText(q.since.has_value(), bucket)];
  Page<Event> page;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(FindContact(s, ws, contact));
    page.items.clear();
    RAPPORT_TRY(s.Exec(sql, params, [&](const Row& r) { page.items.push_back(ReadEvent(r)); }));
    if (page.items.empty()) return {};
    // The idempotency keys live beside the events (event_keys); one range read for the page.
    std::unordered_map<EventId, std::string> keys;
    RAPPORT_TRY(
        s.Exec("SELECT event_id, key FROM event_keys WHERE workspace_id = $1 AND contact_id = $2 "
               "AND event_id BETWEEN $3 AND $4",
               {ws, contact, page.items.back().id, page.items.front().id},
               [&](const Row& r) { keys.emplace(r.Int(0), std::string(r.Text(1))); }));
    for (Event& e : page.items) {
      if (auto it = keys.find(e.id); it != keys.end()) e.idempotency_key = std::move(it->second);
    }
    return {};
  }));
  if (page.items.size() > static_cast<size_t>(q.limit)) {
    page.items.pop_back();
    page.next_cursor = EncodeCursor(page.items.back().id);
  }
  return page;
}

Result<int64_t> SqlEventStore::Count(WorkspaceId ws) {
  int64_t n = 0;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT COUNT(*) FROM events WHERE workspace_id = $1", {ws},
                       [&](const Row& r) { n = r.Int(0); }));
    return {};
  }));
  return n;
}

}  // namespace rapport::sql
