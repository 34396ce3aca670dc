#include "store/sql/sql_governor_store.h"

#include "store/sql/codec.h"
#include "store/sql/sql_store.h"
#include "store/sql/statement_set.h"

namespace rapport::sql {

Status RecordGovernedIn(Session& s, const OutboxMessage& m, const MessageGovernance& g,
                        std::optional<Timestamp> until, Timestamp at) {
  json::object props;
  props["message_id"] = m.id;
  if (!m.template_name.empty()) props["template"] = m.template_name;
  props["class"] = MessageClassName(m.message_class);
  if (m.topic) props["topic"] = *m.topic;
  props["decision"] = GovernorVerdictName(g.verdict);
  props["reason"] = g.reason;
  props["source"] = g.source;
  props["priority"] = g.priority;
  props["on_cap"] = g.skip_on_cap ? "skip" : "defer";
  if (until) props["until"] = FormatTimestamp(*until);
  std::string text = SerializeObject(props);
  RAPPORT_TRY(InsertEventIn(s, m.workspace_id, m.contact_id, "message.governed", text, at, at));
  return {};
}

Result<std::optional<std::string>> SqlGovernorStore::Policy(WorkspaceId ws) {
  std::optional<std::string> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.reset();
    RAPPORT_TRY(s.Exec("SELECT policy FROM governor_policies WHERE workspace_id = $1", {ws},
                       [&](const Row& r) { out = std::string(r.Text(0)); }));
    return {};
  }));
  return out;
}

Status SqlGovernorStore::SetPolicy(WorkspaceId ws, std::string_view policy_json) {
  if (ws <= 0) return Error::Invalid("workspace_id", "a policy belongs to a workspace");
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec(
        "INSERT INTO governor_policies (workspace_id, policy, updated_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (workspace_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
        {ws, policy_json, ToMicros(clock_.Now())}));
    return {};
  });
}

Result<std::vector<GovernedMessage>> SqlGovernorStore::Recent(WorkspaceId ws,
                                                              std::span<const ContactId> contacts,
                                                              Timestamp since) {
  // One statement per power-of-two chunk of contacts, on outbox_governed (contact_id, governed_at).
  // `+workspace_id` keeps SQLite (no statistics) off the UNIQUE (workspace_id,
  // idempotency_key) index: with `workspace_id = ?` indexable it chose that index and read every
  // message of the workspace for each chunk, so a campaign's governed lookups grew with the outbox
  // (quadratic: 59% of rapport's CPU at 100,000 messages, bench/RESULTS.md). The unary plus is plain
  // SQL, a no-op in PostgreSQL.
  static const StatementSet select(
      "SELECT id, contact_id, state, governed_at, topic, gov_priority, gov_skip, gov_source FROM "
      "outbox_messages "
      "WHERE +workspace_id = $1 AND governed_at >= $2 AND lane = 'marketing' AND contact_id IN ",
      0, StatementSet::Shape::kInList, /*leading=*/2, " ORDER BY contact_id, governed_at, id");
  std::vector<GovernedMessage> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    std::vector<Param> params;
    params.reserve(kChunk + 2);
    return ForChunks(contacts.size(), [&](size_t begin, size_t count) -> Status {
      params.clear();
      params.emplace_back(ws);
      params.emplace_back(ToMicros(since));
      for (size_t i = begin; i < begin + count; ++i) params.emplace_back(contacts[i]);
      RAPPORT_TRY(s.Exec(select.For(count), params, [&](const Row& r) {
        GovernedMessage m;
        m.id = r.Int(0);
        m.contact_id = r.Int(1);
        m.state = ParseMessageState(r.Text(2)).value_or(MessageState::kSent);
        m.at = FromMicros(r.Int(3));
        if (!r.IsNull(4)) m.topic = std::string(r.Text(4));
        m.priority = static_cast<int>(r.Int(5));
        m.skip_on_cap = r.Int(6) != 0;
        m.source = std::string(r.Text(7));
        out.push_back(std::move(m));
      }));
      return {};
    });
  }));
  return out;
}

Status SqlGovernorStore::Yield(WorkspaceId ws, MessageId id, const MessageGovernance& g, Timestamp until) {
  if (g.verdict != GovernorVerdict::kDefer && g.verdict != GovernorVerdict::kSkip)
    return Error::Invalid("verdict", "a message yields by being deferred or skipped");
  return db_.Write([&](Session& s) -> Status {
    Timestamp now = clock_.Now();
    const bool skip = g.verdict == GovernorVerdict::kSkip;
    std::optional<OutboxMessage> m;
    RAPPORT_TRY(s.Exec(
        "UPDATE outbox_messages SET state = $3, next_attempt_at = $4, governed_at = $4, last_reply = $5, "
        "updated_at = $6 WHERE id = $1 AND workspace_id = $2 AND state = 'queued' AND lease_owner = '' "
        "RETURNING contact_id, template_name, lane, topic, next_attempt_at",
        {id, ws, std::string_view(skip ? "suppressed" : "queued"), ToMicros(skip ? now : until),
         std::string_view(g.reason), ToMicros(now)},
        [&](const Row& r) {
          OutboxMessage row;
          row.id = id;
          row.workspace_id = ws;
          row.contact_id = r.Int(0);
          row.template_name = std::string(r.Text(1));
          row.message_class = ParseMessageClass(r.Text(2)).value_or(MessageClass::kMarketing);
          if (!r.IsNull(3)) row.topic = std::string(r.Text(3));
          m = std::move(row);
        }));
    if (!m) {
      bool exists = false;
      RAPPORT_TRY(s.Exec("SELECT 1 FROM outbox_messages WHERE id = $1 AND workspace_id = $2", {id, ws},
                         [&](const Row&) { exists = true; }));
      if (!exists) return Error::NotFound("no message " + std::to_string(id));
      return Error::Conflict("message " + std::to_string(id) + " is no longer queued", "message_id");
    }
    RAPPORT_TRY(RecordGovernedIn(s, *m, g, skip ? std::nullopt : std::optional<Timestamp>(until), now));
    if (skip) {
      json::object props;
      props["message_id"] = m->id;
      if (!m->template_name.empty()) props["template"] = m->template_name;
      props["class"] = MessageClassName(m->message_class);
      if (m->topic) props["topic"] = *m->topic;
      props["reason"] = g.reason;
      std::string text = SerializeObject(props);
      RAPPORT_TRY(InsertEventIn(s, ws, m->contact_id, "message.suppressed", text, now, now));
    }
    return {};
  });
}

}  // namespace rapport::sql
