#include "store/sql/change_events.h"

#include "store/sql/codec.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

namespace {

json::value OptString(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return json::value(*s);
}
json::value TextOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

json::object Change(json::value old_value, json::value new_value) {
  return json::object{{"old", std::move(old_value)}, {"new", std::move(new_value)}};
}

void AddOrigin(json::object& props, const json::object* origin) {
  if (origin && !origin->empty()) props["origin"] = *origin;
}

}  // namespace

void ContactCreated(const Contact& c, const ChangeNames& names, const json::object* origin,
                    std::vector<ChangeEvent>& out) {
  json::object props;
  if (names.created != "contact.created") props["created"] = true;
  if (!c.email.empty()) props["email"] = c.email;
  if (c.external_id) props["external_id"] = *c.external_id;
  props["status"] = ContactStatusName(c.status);
  if (!c.attributes.empty()) props["attributes"] = c.attributes;
  if (!c.timezone.empty()) props["timezone"] = c.timezone;
  if (!c.locale.empty()) props["locale"] = c.locale;
  AddOrigin(props, origin);
  out.push_back({c.workspace_id, c.id, std::string(names.created), SerializeObject(props)});
}

void ContactChanged(const Contact& before, const Contact& after, const ChangeNames& names,
                    const json::object* origin, std::vector<ChangeEvent>& out) {
  json::object changes;
  if (before.email != after.email)
    changes["email"] = Change(TextOrNull(before.email), TextOrNull(after.email));
  if (before.external_id != after.external_id)
    changes["external_id"] = Change(OptString(before.external_id), OptString(after.external_id));
  if (before.timezone != after.timezone)
    changes["timezone"] = Change(TextOrNull(before.timezone), TextOrNull(after.timezone));
  if (before.locale != after.locale)
    changes["locale"] = Change(TextOrNull(before.locale), TextOrNull(after.locale));
  json::object attributes;
  for (const auto& [key, value] : after.attributes) {
    const json::value* old_value = before.attributes.if_contains(key);
    if (!old_value || *old_value != value)
      attributes[key] = Change(old_value ? *old_value : json::value(nullptr), value);
  }
  for (const auto& [key, value] : before.attributes)
    if (!after.attributes.contains(key)) attributes[key] = Change(value, nullptr);
  if (!attributes.empty()) changes["attributes"] = std::move(attributes);
  if (!changes.empty()) {
    json::object props;
    if (names.updated != "contact.updated") props["created"] = false;
    props["changes"] = std::move(changes);
    AddOrigin(props, origin);
    out.push_back({after.workspace_id, after.id, std::string(names.updated), SerializeObject(props)});
  }
  if (before.status != after.status) {
    json::object props{{"old", ContactStatusName(before.status)}, {"new", ContactStatusName(after.status)}};
    AddOrigin(props, origin);
    out.push_back({after.workspace_id, after.id, "contact.status_changed", SerializeObject(props)});
  }
}

ChangeEvent SubscriptionChanged(WorkspaceId ws, ContactId contact, std::string_view name,
                                std::string_view topic_key, const Consent* consent) {
  json::object props{{"topic", topic_key}};
  if (consent) {
    props["consent"] = json::object{{"source", consent->source},
                                    {"at", FormatTimestamp(consent->at)},
                                    {"ip", consent->ip},
                                    {"user_agent", consent->user_agent},
                                    {"text_version", consent->text_version}};
  }
  return {ws, contact, std::string(name), SerializeObject(props)};
}

Status InsertChangeEvents(Session& s, const std::vector<ChangeEvent>& events, Timestamp at) {
  if (events.empty()) return {};
  // SQLite: the id is the position. PostgreSQL: a range of positions taken at once (not one
  // counter update per row, the column default's way).
  static const StatementSet sqlite_set(
      "INSERT INTO events (workspace_id, contact_id, name, properties, occurred_at, received_at) VALUES ", 6,
      StatementSet::Shape::kValues);
  static const StatementSet pg_set(
      "INSERT INTO events (workspace_id, contact_id, name, properties, occurred_at, received_at, position) "
      "VALUES ",
      7, StatementSet::Shape::kValues);
  int64_t position = 0;
  if (s.pg()) {
    RAPPORT_ASSIGN_OR_RETURN(int64_t last, ReservePositions(s, static_cast<int64_t>(events.size())));
    position = last - static_cast<int64_t>(events.size());
  }
  const int64_t micros = ToMicros(at);
  std::vector<Param> params;
  return ForChunks(events.size(), [&](size_t begin, size_t count) -> Status {
    params.clear();
    for (size_t i = begin; i < begin + count; ++i) {
      const ChangeEvent& e = events[i];
      params.insert(params.end(), {e.workspace_id, e.contact_id, std::string_view(e.name),
                                   std::string_view(e.properties), micros, micros});
      if (s.pg()) params.emplace_back(++position);
    }
    RAPPORT_TRY(s.Exec((s.pg() ? pg_set : sqlite_set).For(count), params, nullptr));
    return {};
  });
}

}  // namespace rapport::sql
