// The data model: workspaces, contacts, events, topics and subscriptions, API keys, audit.
//
// Plain value types; validation rules that need no I/O live in model.cpp. Attributes and event
// properties are JSON objects (Boost.JSON): JSON is the wire format and the store keeps them as
// JSON text. Thread-safety: plain values.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace rapport {

namespace json = boost::json;

using WorkspaceId = int64_t;
using ContactId = int64_t;
using EventId = int64_t;
using TopicId = int64_t;
using KeyId = int64_t;

// Limits on what a contact may carry (validated at the edge and in the store).
inline constexpr size_t kMaxExternalIdLength = 255;
inline constexpr size_t kMaxAttributeNameLength = 64;
inline constexpr size_t kMaxAttributes = 256;
inline constexpr size_t kMaxAttributeStringLength = 8192;
inline constexpr size_t kMaxListAttributeItems = 1000;
inline constexpr size_t kMaxEventNameLength = 128;
inline constexpr size_t kMaxEventPropertiesBytes = 64 * 1024;
inline constexpr size_t kMaxIdempotencyKeyLength = 255;

// A page of a listing; next_cursor is empty on the last page. Cursors are opaque strings.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

struct Workspace {
  WorkspaceId id = 0;
  std::string name;
  std::string default_timezone = "UTC";
  Timestamp created_at{};
};

enum class ContactStatus { kActive, kUnsubscribed, kBounced, kComplained, kErased };
std::string_view ContactStatusName(ContactStatus s);
std::optional<ContactStatus> ParseContactStatus(std::string_view s);

// The type of a custom attribute as rapport reads its JSON value: strings in the exact form
// YYYY-MM-DD are dates, RFC 3339 strings are timestamps, arrays are lists.
enum class AttributeType { kString, kNumber, kBool, kDate, kTimestamp, kList };
std::string_view AttributeTypeName(AttributeType t);
std::optional<AttributeType> AttributeTypeOf(const json::value& v);

struct Contact {
  ContactId id = 0;
  WorkspaceId workspace_id = 0;
  std::string email;                       // normalized (see email_address.h)
  std::optional<std::string> external_id;  // the customer's own id, unique per workspace
  ContactStatus status = ContactStatus::kActive;
  json::object attributes;  // name -> string | number | bool | date | timestamp | list
  std::string timezone;     // IANA name; empty: the workspace's default
  std::string locale;       // BCP 47 ("en", "fr-CA"); empty: unknown
  Timestamp created_at{};
  Timestamp updated_at{};
};

// What a create/upsert/patch says about a contact. Absent fields are left as they are;
// attributes are merged key by key, and a null value removes the key.
struct ContactInput {
  std::optional<std::string> email;  // already normalized by ValidateContactInput
  std::optional<std::string> external_id;
  std::optional<ContactStatus> status;
  std::optional<json::object> attributes;
  std::optional<std::string> timezone;
  std::optional<std::string> locale;
  // A new contact for an erased address (store/sql/erasure_list.h) is created only with this set:
  // the person gave fresh consent ("reconsent": true on POST /api/v1/contacts). Never implied.
  bool reconsent = false;
};

// Validates and normalizes in place (email normalization, lengths, timezone name, locale form,
// attribute names, types and sizes). Errors are kInvalid with the field's JSON path
// ("email", "attributes.birthday").
Status ValidateContactInput(ContactInput& input);
Status ValidateAttributes(const json::object& attributes);
// True when `tz` names a zone in the IANA database ("Europe/Paris", "UTC").
bool IsValidTimezone(std::string_view tz);

struct Event {
  EventId id = 0;
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  std::string name;
  json::object properties;
  Timestamp occurred_at{};
  Timestamp received_at{};
  std::optional<std::string> idempotency_key;
  int64_t position = 0;  // its place in the feed (set by FeedStore::Read only)
};

// How an incoming event names its contact: by id, by email, or by external id (first one set
// wins in that order). With create_contact, an unknown email or external id creates the contact.
struct ContactRef {
  std::optional<ContactId> id;
  std::optional<std::string> email;  // normalized
  std::optional<std::string> external_id;
  bool create_contact = true;
};

struct NewEvent {
  ContactRef contact;
  std::string name;
  json::object properties;
  std::optional<Timestamp> occurred_at;  // defaults to the time it was received
  std::optional<std::string> idempotency_key;
  // Attributes to merge into the contact as the event is recorded (e.g. an "identify" call).
  std::optional<json::object> contact_attributes;
};
Status ValidateNewEvent(NewEvent& event);  // normalizes the email, checks the name and sizes

enum class SubscriptionStatus { kSubscribed, kUnsubscribed };
std::string_view SubscriptionStatusName(SubscriptionStatus s);
std::optional<SubscriptionStatus> ParseSubscriptionStatus(std::string_view s);

struct Topic {
  TopicId id = 0;
  WorkspaceId workspace_id = 0;
  std::string key;  // stable slug: [a-z0-9][a-z0-9_-]{0,63}
  std::string name;
  std::string description;
  Timestamp created_at{};
  bool tracking = true;  // false: mail sent under this topic has no open pixel and no tracked links
  // Joining by the public sign-up form needs a confirmation by mail first (docs/consent.md).
  bool double_opt_in = false;
};
Status ValidateTopicKey(std::string_view key);
// A stable name: 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit. kInvalid naming
// `field`, the message starting with `what` ("a topic key").
Status ValidateSlug(std::string_view value, std::string_view field, std::string_view what);

// Where a consent came from: the proof a regulator asks for.
struct Consent {
  std::string source;  // "api", "import", "form:signup", "preference_center" ...
  Timestamp at{};
  std::string ip;
  std::string user_agent;
  std::string text_version;  // the version of the consent wording shown
};

struct Subscription {
  ContactId contact_id = 0;
  TopicId topic_id = 0;
  std::string topic_key;
  SubscriptionStatus status = SubscriptionStatus::kSubscribed;
  Consent consent;
  Timestamp updated_at{};
};

// API key scopes. admin implies every other scope.
enum Scope : uint32_t {
  kScopeRead = 1u << 0,
  kScopeWrite = 1u << 1,
  kScopeSend = 1u << 2,
  kScopeAdmin = 1u << 3,
};
using Scopes = uint32_t;
// "read,write" -> bits. Unknown names are kInvalid naming the field "scope".
Result<Scopes> ParseScopes(std::string_view list);
std::string FormatScopes(Scopes scopes);
inline bool HasScope(Scopes have, Scope need) { return (have & kScopeAdmin) || (have & need); }

struct ApiKey {
  KeyId id = 0;
  WorkspaceId workspace_id = 0;
  std::string name;
  std::string prefix;  // the first characters of the key, shown to identify it; not secret
  std::string hash;    // hex SHA-256 of the whole key; the key itself is never stored
  Scopes scopes = 0;
  Timestamp created_at{};
  std::optional<Timestamp> last_used_at;
  std::optional<Timestamp> revoked_at;
};

struct AuditEntry {
  int64_t id = 0;
  WorkspaceId workspace_id = 0;
  std::string actor;   // "key:12", "cli"
  std::string action;  // "contact.create", "key.revoke" ...
  std::string entity;  // "contact", "topic", "key"
  std::string entity_id;
  json::object details;
  Timestamp at{};
};

}  // namespace rapport
