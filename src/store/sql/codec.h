// Small codecs shared by the SQL facets: opaque cursors, JSON columns, SHA-256, attribute merge,
// and row <-> model mapping for the columns every facet selects. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/outbox.h"
#include "store/sql/database.h"

namespace rapport::sql {

// An opaque cursor naming the last id of a page. Decode of "" is 0 (the first page); anything
// that EncodeCursor did not make is kBadRequest with field "cursor".
std::string EncodeCursor(int64_t last_id);
Result<int64_t> DecodeCursor(std::string_view cursor);

// Checks a page size (1..1000): kInvalid with field "limit" otherwise.
Status CheckLimit(int limit);

// A JSON object stored as text. Text that is not an object yields an empty object.
json::object ParseObject(std::string_view text);
std::string SerializeObject(const json::object& object);

// Merges `patch` into `base` key by key; a null value removes the key.
void MergeAttributes(json::object& base, const json::object& patch);

// Lower-case hex SHA-256 of the bytes.
std::string Sha256Hex(std::string_view bytes);

// The column list every contact query selects, in the order ReadContact expects.
inline constexpr std::string_view kContactColumns =
    "id, workspace_id, email, external_id, status, attributes, timezone, locale, created_at, updated_at";
Contact ReadContact(const Row& row);

inline constexpr std::string_view kEventColumns =
    "id, workspace_id, contact_id, name, properties, occurred_at, received_at";
Event ReadEvent(const Row& row);

inline constexpr std::string_view kMessageColumns =
    "id, workspace_id, contact_id, lane, state, template_name, mail_from, rcpt_to, subject, "
    "idempotency_key, attempts, next_attempt_at, created_at, updated_at, last_reply, lease_owner, "
    "lease_until, topic, gov_source";
// The same columns qualified by the alias "m" (for joins with outbox_bodies b).
inline constexpr std::string_view kMessageColumnsM =
    "m.id, m.workspace_id, m.contact_id, m.lane, m.state, m.template_name, m.mail_from, m.rcpt_to, "
    "m.subject, "
    "m.idempotency_key, m.attempts, m.next_attempt_at, m.created_at, m.updated_at, m.last_reply, "
    "m.lease_owner, "
    "m.lease_until, m.topic, m.gov_source";
// Reads kMessageColumns and, as a 20th column, the MIME (outbox_bodies.mime) or its length.
// `gov_source` (migration v16) holds every message's OutboxMessage::source, governed or not.
enum class MessageExtra { kNone, kMime, kSize };
OutboxMessage ReadMessage(const Row& row, MessageExtra extra = MessageExtra::kNone);

inline std::string_view OptText(const Row& row, int col) {
  return row.IsNull(col) ? std::string_view() : row.Text(col);
}
inline Param OptParam(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return std::string_view(*s);
}

}  // namespace rapport::sql
