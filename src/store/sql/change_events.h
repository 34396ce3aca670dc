// The timeline events a store write records about the change it makes (docs/events.md): built
// from the contact before and after, inserted in the same transaction as the change.
// Pure but for InsertChangeEvents; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "store/sql/database.h"

namespace rapport::sql {

// An event a write records, to be inserted with the change it describes.
struct ChangeEvent {
  WorkspaceId workspace_id = 0;
  ContactId contact_id = 0;
  std::string name;
  std::string properties;  // JSON object text
};

// The names a contact write records its creation and its update under.
struct ChangeNames {
  std::string_view created = "contact.created";
  std::string_view updated = "contact.updated";
};
// An import records "contact.imported" (with "created": true/false) for both.
inline constexpr ChangeNames kImportChangeNames{"contact.imported", "contact.imported"};

// Appends the event of `c`'s creation (its identifiers, status and non-empty fields).
void ContactCreated(const Contact& c, const ChangeNames& names, const json::object* origin,
                    std::vector<ChangeEvent>& out);
// Appends the events of `before` -> `after`: "<updated>" with the changed fields and attribute
// keys ({"changes": {"timezone": {"old": .., "new": ..}, "attributes": {"plan": {...}}}}) and
// "contact.status_changed" ({"old", "new"}) when the status changed. Nothing when nothing did.
void ContactChanged(const Contact& before, const Contact& after, const ChangeNames& names,
                    const json::object* origin, std::vector<ChangeEvent>& out);
// A topic subscription set or removed ("topic.subscribed", "topic.unsubscribed",
// "topic.subscription_removed") with the topic key and, when set, the consent.
ChangeEvent SubscriptionChanged(WorkspaceId ws, ContactId contact, std::string_view name,
                                std::string_view topic_key, const Consent* consent);

// Inserts the events in order, each occurring and received at `at` (one INSERT per event).
Status InsertChangeEvents(Session& s, const std::vector<ChangeEvent>& events, Timestamp at);

}  // namespace rapport::sql
