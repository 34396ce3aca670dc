// SqlContactStore::Import: contacts upserted in transactions of kImportBatch rows.
//
// Every row may go through UpsertContactIn (the row path: look up by external_id and email, then
// insert or update, the erasure list consulted). On SQLite, in a workspace without tombstones, a
// chunk's new contacts are written set-based instead (the set path, issue 14 item 8): the chunk's
// email keys and external_ids are looked up with a few IN-list queries; a row that names neither a
// stored contact nor one an earlier row of the chunk named is new, gets the next id after the
// highest ever given (sqlite_sequence: the writer holds SQLite's only write lock, so it is the id
// AUTOINCREMENT would assign) and is written with multi-row INSERTs; any other row is flushed
// after the new rows before it and goes through the row path, which then sees them. The results,
// ids, contact rows and change events equal the row path's, row for row
// (sql_contact_import_test.cpp checks it on random imports).
#include "store/sql/sql_contact_import.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/email_address.h"
#include "store/sql/codec.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {

std::atomic<int64_t> set_path_rows{0};

const StatementSet& InsertContacts() {
  static const StatementSet set(
      "INSERT INTO contacts (id, workspace_id, email, external_id, status, attributes, timezone, locale, "
      "created_at, updated_at, email_key) VALUES ",
      11, StatementSet::Shape::kValues);
  return set;
}
const StatementSet& SelectEmailKeys() {
  static const StatementSet set("SELECT email_key FROM contacts WHERE workspace_id = $1 AND email_key IN ", 0,
                                StatementSet::Shape::kInList);
  return set;
}
const StatementSet& SelectExternalIds() {
  static const StatementSet set(
      "SELECT external_id FROM contacts WHERE workspace_id = $1 AND external_id IN ", 0,
      StatementSet::Shape::kInList);
  return set;
}

// The values of `column` among `values` that are stored (in `found`).
Status FindStored(Session& s, const StatementSet& set, WorkspaceId ws,
                  const std::vector<std::string_view>& values, std::unordered_set<std::string>& found) {
  std::vector<Param> params;
  params.reserve(kChunk + 1);
  return ForChunks(values.size(), [&](size_t begin, size_t count) -> Status {
    params.clear();
    params.emplace_back(ws);
    for (size_t i = begin; i < begin + count; ++i) params.emplace_back(values[i]);
    RAPPORT_TRY(s.Exec(set.For(count), params, [&](const Row& r) { found.emplace(r.Text(0)); }));
    return {};
  });
}

// A new contact of the set path: its row's values.
struct NewRow {
  Contact contact;
  std::string attributes;  // the JSON text stored
  std::string email_key;
};

// Writes `rows` (ids assigned) with multi-row INSERTs and clears them.
Status FlushNew(Session& s, WorkspaceId ws, std::vector<NewRow>& rows) {
  std::vector<Param> params;
  params.reserve(11 * kChunk);
  RAPPORT_TRY(ForChunks(rows.size(), [&](size_t begin, size_t count) -> Status {
    params.clear();
    for (size_t k = begin; k < begin + count; ++k) {
      const NewRow& r = rows[k];
      const Contact& c = r.contact;
      const int64_t at = ToMicros(c.created_at);
      params.insert(params.end(),
                    {c.id, ws, c.email.empty() ? Param(nullptr) : Param(std::string_view(c.email)),
                     c.external_id ? Param(std::string_view(*c.external_id)) : Param(nullptr),
                     ContactStatusName(c.status), std::string_view(r.attributes),
                     std::string_view(c.timezone), std::string_view(c.locale), at, at,
                     r.email_key.empty() ? Param(nullptr) : Param(std::string_view(r.email_key))});
    }
    RAPPORT_TRY(s.Exec(InsertContacts().For(count), params, nullptr));
    return {};
  }));
  rows.clear();
  return {};
}

}  // namespace

int64_t ContactsImportedBySetPath() { return set_path_rows.load(std::memory_order_relaxed); }

Status SqlContactStore::Import(WorkspaceId ws, const std::vector<ContactInput>& inputs,
                               const std::function<void(size_t, const Result<UpsertResult>&)>& on_result) {
  std::vector<ContactInput> valid(std::min(inputs.size(), kImportBatch));
  std::vector<std::optional<Error>> invalid;
  std::vector<std::optional<Result<UpsertResult>>> results;
  std::vector<std::string> email_keys;
  for (size_t start = 0; start < inputs.size(); start += kImportBatch) {
    size_t n = std::min(kImportBatch, inputs.size() - start);
    invalid.assign(n, std::nullopt);
    email_keys.assign(n, std::string());
    for (size_t i = 0; i < n; ++i) {
      valid[i] = inputs[start + i];
      Status st = ValidateContactInput(valid[i]);
      if (!st.ok()) invalid[i] = st.error();
      if (!st.ok()) continue;
      if (!valid[i].email && !valid[i].external_id)
        invalid[i] = Error::Invalid("email", "a contact needs an email or an external_id");
      else if (valid[i].email)
        email_keys[i] = EmailIdentityKey(*valid[i].email);
    }
    Timestamp now = clock_.Now();
    int64_t set_rows = 0;  // of this transaction (counted once it commits)
    RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
      results.assign(n, std::nullopt);
      std::vector<ChangeEvent> changes;
      // SQLite has one writer: a workspace without tombstones now has none until this batch
      // commits, so no row of it needs the per-address erasure check (a keyed hash and a lookup
      // per row, 15% of an import). PostgreSQL's writers run side by side: checked per row there.
      bool no_tombstones = false;
      if (!s.pg()) {
        no_tombstones = true;
        RAPPORT_TRY(
            s.Exec("SELECT 1 FROM contacts WHERE workspace_id = $1 AND email_hash IS NOT NULL LIMIT 1", {ws},
                   [&](const Row&) { no_tombstones = false; }));
      }
      const bool set_path = no_tombstones && set_based_import_;

      // The set path's view of the chunk: keys and external_ids stored or named by an earlier row.
      std::unordered_set<std::string> taken_keys, taken_exts;
      int64_t last_id = 0;
      if (set_path) {
        std::vector<std::string_view> keys, exts;
        for (size_t i = 0; i < n; ++i) {
          if (invalid[i]) continue;
          if (valid[i].email) keys.push_back(email_keys[i]);
          if (valid[i].external_id) exts.push_back(*valid[i].external_id);
        }
        RAPPORT_TRY(FindStored(s, SelectEmailKeys(), ws, keys, taken_keys));
        RAPPORT_TRY(FindStored(s, SelectExternalIds(), ws, exts, taken_exts));
        // The highest id ever given (AUTOINCREMENT keeps it in sqlite_sequence), at least the
        // highest present.
        RAPPORT_TRY(
            s.Exec("SELECT MAX(COALESCE((SELECT MAX(id) FROM contacts), 0), "
                   "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'contacts'), 0))",
                   {}, [&](const Row& r) { last_id = r.Int(0); }));
      }
      std::vector<NewRow> pending;
      set_rows = 0;
      const Timestamp stored_now = FromMicros(ToMicros(now));

      for (size_t i = 0; i < n; ++i) {
        if (invalid[i]) continue;
        const ContactInput& in = valid[i];
        if (set_path && (!in.email || !taken_keys.contains(email_keys[i])) &&
            (!in.external_id || !taken_exts.contains(*in.external_id))) {
          if (last_id == std::numeric_limits<int64_t>::max())
            return Error::Internal("contact ids are exhausted");
          NewRow row;
          Contact& c = row.contact;
          c.id = ++last_id;
          c.workspace_id = ws;
          if (in.email) c.email = *in.email;
          c.external_id = in.external_id;
          c.status = in.status.value_or(ContactStatus::kActive);
          if (in.attributes) {
            json::object a;
            MergeAttributes(a, *in.attributes);  // drops nulls
            row.attributes = SerializeObject(a);
            c.attributes = ParseObject(row.attributes);  // as the row path reads it back
          } else {
            row.attributes = "{}";
          }
          if (in.timezone) c.timezone = *in.timezone;
          if (in.locale) c.locale = *in.locale;
          c.created_at = c.updated_at = stored_now;
          row.email_key = email_keys[i];
          if (in.email) taken_keys.insert(email_keys[i]);
          if (in.external_id) taken_exts.insert(*in.external_id);
          ContactCreated(c, kImportChangeNames, nullptr, changes);
          results[i] = UpsertResult{c, true};
          pending.push_back(std::move(row));
          ++set_rows;
          continue;
        }
        // The row path, after the new contacts before it.
        RAPPORT_TRY(FlushNew(s, ws, pending));
        // PostgreSQL aborts a transaction at its first error: each row gets a savepoint there.
        if (s.pg()) RAPPORT_TRY(s.Exec("SAVEPOINT import_row", {}));
        size_t recorded = changes.size();
        Result<UpsertResult> r =
            UpsertContactIn(s, ws, in, now, changes, erasure_, kImportChangeNames, no_tombstones);
        if (!r.ok()) changes.resize(recorded);  // a refused row changed nothing
        if (!r.ok() && r.error().code == ErrorCode::kUnavailable) return r.error();
        if (s.pg()) {
          RAPPORT_TRY(
              s.Exec(r.ok() ? "RELEASE SAVEPOINT import_row" : "ROLLBACK TO SAVEPOINT import_row", {}));
        }
        if (set_path && r.ok()) {
          // What the row path wrote is taken from now on (an update may have given a contact a new
          // address or external_id); an id it assigned is the highest.
          const Contact& c = r.value().contact;
          if (!c.email.empty()) taken_keys.insert(EmailIdentityKey(c.email));
          if (c.external_id) taken_exts.insert(*c.external_id);
          last_id = std::max(last_id, c.id);
        }
        results[i] = std::move(r);
      }
      RAPPORT_TRY(FlushNew(s, ws, pending));
      return InsertChangeEvents(s, changes, now);
    }));
    set_path_rows.fetch_add(set_rows, std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i) {
      if (invalid[i])
        on_result(start + i, Result<UpsertResult>(*invalid[i]));
      else
        on_result(start + i, *results[i]);
    }
  }
  return {};
}

}  // namespace rapport::sql
