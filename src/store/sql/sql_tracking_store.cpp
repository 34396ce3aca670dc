// Tracked messages: the row a tracked message's enqueue writes (its key, its links by index, its
// HTML for the web view) and the lookups the public tracking endpoints make by key. The hit path
// (FindByKey) never reads the HTML: only the web view (ViewHtml) does.
#include <boost/json.hpp>

#include "core/json_parse.h"
#include "store/sql/codec.h"
#include "store/sql/sql_store.h"

namespace rapport::sql {

Status InsertTrackingIn(Session& s, const OutboxMessage& m, MessageId id) {
  json::array links;
  links.reserve(m.tracking->links.size());
  for (const std::string& l : m.tracking->links) links.emplace_back(l);
  std::string text = json::serialize(links);
  RAPPORT_TRY(
      s.Exec("INSERT INTO message_tracking (contact_id, message_id, workspace_id, message_key, links, html) "
             "VALUES ($1, $2, $3, $4, $5, $6)",
             {m.contact_id, id, m.workspace_id, m.tracking->key, std::string_view(text),
              std::string_view(m.tracking->html)}));
  return {};
}

Result<TrackedMessage> SqlTrackingStore::FindByKey(WorkspaceId ws, int64_t key) {
  std::optional<TrackedMessage> found;
  std::string links_text;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    found.reset();
    RAPPORT_TRY(
        s.Exec("SELECT t.message_id, t.workspace_id, m.contact_id, m.template_name, m.lane, m.state, "
               "m.updated_at, t.links, m.gov_source FROM message_tracking t JOIN outbox_messages m ON m.id = "
               "t.message_id WHERE t.message_key = $1 AND t.workspace_id = $2",
               {key, ws}, [&](const Row& r) {
                 TrackedMessage t;
                 t.message_id = r.Int(0);
                 t.workspace_id = r.Int(1);
                 t.contact_id = r.Int(2);
                 t.template_name = std::string(r.Text(3));
                 t.message_class = ParseMessageClass(r.Text(4)).value_or(MessageClass::kTransactional);
                 t.state = ParseMessageState(r.Text(5)).value_or(MessageState::kQueued);
                 t.updated_at = FromMicros(r.Int(6));
                 links_text = std::string(r.Text(7));
                 t.source = std::string(r.Text(8));
                 found = std::move(t);
               }));
    return {};
  }));
  if (!found) return Error::NotFound("no tracked message with this key");
  boost::system::error_code ec;
  json::value v = ParseJsonExact(links_text, ec);
  if (ec || !v.is_array()) return Error::Internal("message_tracking.links is not a JSON array");
  for (const json::value& l : v.as_array()) {
    if (!l.is_string()) return Error::Internal("message_tracking.links holds a non-string");
    found->links.emplace_back(l.as_string());
  }
  return std::move(*found);
}

Result<std::string> SqlTrackingStore::ViewHtml(WorkspaceId ws, int64_t key) {
  std::optional<std::string> html;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    html.reset();
    RAPPORT_TRY(s.Exec("SELECT html FROM message_tracking WHERE message_key = $1 AND workspace_id = $2",
                       {key, ws}, [&](const Row& r) { html = std::string(r.Text(0)); }));
    return {};
  }));
  if (!html) return Error::NotFound("no tracked message with this key");
  return std::move(*html);
}

}  // namespace rapport::sql
