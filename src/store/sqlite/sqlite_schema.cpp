#include "store/sqlite/sqlite_schema.h"

namespace rapport::sqlite {

namespace {

// Every contact-scoped table leads with contact_id in its key or first index, as the
// PostgreSQL schema does (for distribution by contact id later).
constexpr const char* kV1 = R"sql(
CREATE TABLE workspaces (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  default_timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at INTEGER NOT NULL
);

CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  email TEXT,
  email_hash TEXT,
  external_id TEXT,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained', 'erased')),
  attributes TEXT NOT NULL DEFAULT '{}',
  timezone TEXT NOT NULL DEFAULT '',
  locale TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (status = 'erased' OR email IS NOT NULL OR external_id IS NOT NULL),
  UNIQUE (workspace_id, email),
  UNIQUE (workspace_id, external_id)
);
CREATE INDEX contacts_email_hash ON contacts (workspace_id, email_hash) WHERE email_hash IS NOT NULL;

-- events.contact_id is checked by the store as each event is appended (no foreign key: it would
-- cost a lookup per event on the ingest path), as in PostgreSQL.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  properties TEXT NOT NULL DEFAULT '{}',
  occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX events_contact ON events (contact_id, id);

CREATE TABLE event_keys (
  workspace_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key)
) WITHOUT ROWID;
CREATE INDEX event_keys_contact ON event_keys (contact_id);

CREATE TABLE topics (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (workspace_id, key)
);

CREATE TABLE subscriptions (
  contact_id INTEGER NOT NULL REFERENCES contacts (id),
  topic_id INTEGER NOT NULL REFERENCES topics (id),
  workspace_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
  consent_source TEXT NOT NULL DEFAULT '',
  consent_at INTEGER NOT NULL,
  consent_ip TEXT NOT NULL DEFAULT '',
  consent_user_agent TEXT NOT NULL DEFAULT '',
  consent_text_version TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (contact_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_topic ON subscriptions (topic_id, status);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  name TEXT NOT NULL DEFAULT '',
  prefix TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL UNIQUE,
  scopes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL DEFAULT '',
  entity_id TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}',
  at INTEGER NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);

CREATE TABLE outbox_messages (
  id INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL REFERENCES contacts (id),
  workspace_id INTEGER NOT NULL,
  lane TEXT NOT NULL CHECK (lane IN ('transactional', 'marketing')),
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'deferred', 'bounced', 'failed',
                                        'suppressed', 'cancelled')),
  template_name TEXT NOT NULL DEFAULT '',
  mail_from TEXT NOT NULL DEFAULT '',
  rcpt_to TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  mime BLOB NOT NULL,
  idempotency_key TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_reply TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  UNIQUE (workspace_id, idempotency_key)
);
CREATE INDEX outbox_contact ON outbox_messages (contact_id, id);
CREATE INDEX outbox_due ON outbox_messages (state, lane, next_attempt_at);
CREATE INDEX outbox_leases ON outbox_messages (lane, lease_until) WHERE state = 'sending';

CREATE TABLE delivery_attempts (
  contact_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL REFERENCES outbox_messages (id),
  attempt INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'bounced', 'failed')),
  smtp_code INTEGER NOT NULL DEFAULT 0,
  enhanced_code TEXT NOT NULL DEFAULT '',
  reply TEXT NOT NULL DEFAULT '',
  remote TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (contact_id, message_id, attempt)
) WITHOUT ROWID;
CREATE INDEX delivery_attempts_message ON delivery_attempts (message_id, attempt);
)sql";

// v2: stored message templates (subject, preheader, HTML, text, snippets as a JSON object).
constexpr const char* kV2 = R"sql(
CREATE TABLE templates (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  subject TEXT NOT NULL,
  preheader TEXT NOT NULL DEFAULT '',
  html TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '',
  snippets TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
)sql";

// v3: message bodies in a table of their own, so the outbox's frequent state updates (claim,
// lease renewal, completion) rewrite a small row and never the 5-50 KB MIME.
constexpr const char* kV3 = R"sql(
CREATE TABLE outbox_bodies (
  contact_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  mime BLOB NOT NULL,
  PRIMARY KEY (contact_id, message_id)
);
CREATE UNIQUE INDEX outbox_bodies_message ON outbox_bodies (message_id);
INSERT INTO outbox_bodies (contact_id, message_id, mime) SELECT contact_id, id, mime FROM outbox_messages;
ALTER TABLE outbox_messages DROP COLUMN mime;
)sql";

// v4: the due messages are indexed per state, queued and deferred only (as the leases already
// were: sending only), instead of every message by (state, lane, next_attempt_at): a sent,
// bounced or failed message leaves the indexes for good, so they stay the size of the queue, and
// completing a message deletes one index entry instead of moving two.
constexpr const char* kV4 = R"sql(
DROP INDEX outbox_due;
CREATE INDEX outbox_queued ON outbox_messages (lane, next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbox_deferred ON outbox_messages (lane, next_attempt_at) WHERE state = 'deferred';
)sql";

// v5: ids are never reused and the log is a feed.
// - Every table with public ids is rebuilt with AUTOINCREMENT (SQLite otherwise gives a new row
//   the highest id + 1, so deleting the newest row handed its id to the next one): the highest
//   id ever given is kept in sqlite_sequence. Runs with foreign keys off (the rebuild drops and
//   renames parents); the migration checks them before it commits.
// - The feed: an event's position is its id (one writer at a time; ids never reused), so no
//   column is added; consumers' positions and their own state in feed_consumers and
//   feed_consumer_state.
// - outbox_messages.topic: the topic a message is sent under (marketing consent).
constexpr const char* kV5 = R"sql(
CREATE TABLE workspaces_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  default_timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at INTEGER NOT NULL
);
INSERT INTO workspaces_v5 (id, name, default_timezone, created_at)
  SELECT id, name, default_timezone, created_at FROM workspaces;
DROP TABLE workspaces;
ALTER TABLE workspaces_v5 RENAME TO workspaces;

CREATE TABLE contacts_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  email TEXT,
  email_hash TEXT,
  external_id TEXT,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained', 'erased')),
  attributes TEXT NOT NULL DEFAULT '{}',
  timezone TEXT NOT NULL DEFAULT '',
  locale TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (status = 'erased' OR email IS NOT NULL OR external_id IS NOT NULL),
  UNIQUE (workspace_id, email),
  UNIQUE (workspace_id, external_id)
);
INSERT INTO contacts_v5 (id, workspace_id, email, email_hash, external_id, status, attributes, timezone,
                         locale, created_at, updated_at)
  SELECT id, workspace_id, email, email_hash, external_id, status, attributes, timezone, locale, created_at,
         updated_at FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_v5 RENAME TO contacts;
CREATE INDEX contacts_email_hash ON contacts (workspace_id, email_hash) WHERE email_hash IS NOT NULL;

CREATE TABLE events_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  properties TEXT NOT NULL DEFAULT '{}',
  occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
INSERT INTO events_v5 (id, contact_id, workspace_id, name, properties, occurred_at, received_at)
  SELECT id, contact_id, workspace_id, name, properties, occurred_at, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_v5 RENAME TO events;
CREATE INDEX events_contact ON events (contact_id, id);

CREATE TABLE topics_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (workspace_id, key)
);
INSERT INTO topics_v5 (id, workspace_id, key, name, description, created_at)
  SELECT id, workspace_id, key, name, description, created_at FROM topics;
DROP TABLE topics;
ALTER TABLE topics_v5 RENAME TO topics;

CREATE TABLE api_keys_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  name TEXT NOT NULL DEFAULT '',
  prefix TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL UNIQUE,
  scopes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
INSERT INTO api_keys_v5 (id, workspace_id, name, prefix, hash, scopes, created_at, last_used_at, revoked_at)
  SELECT id, workspace_id, name, prefix, hash, scopes, created_at, last_used_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v5 RENAME TO api_keys;
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE audit_log_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL DEFAULT '',
  entity_id TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}',
  at INTEGER NOT NULL
);
INSERT INTO audit_log_v5 (id, workspace_id, actor, action, entity, entity_id, details, at)
  SELECT id, workspace_id, actor, action, entity, entity_id, details, at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_v5 RENAME TO audit_log;
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);

CREATE TABLE outbox_messages_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id INTEGER NOT NULL REFERENCES contacts (id),
  workspace_id INTEGER NOT NULL,
  lane TEXT NOT NULL CHECK (lane IN ('transactional', 'marketing')),
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'deferred', 'bounced', 'failed',
                                        'suppressed', 'cancelled')),
  template_name TEXT NOT NULL DEFAULT '',
  mail_from TEXT NOT NULL DEFAULT '',
  rcpt_to TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_reply TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  topic TEXT,
  UNIQUE (workspace_id, idempotency_key)
);
INSERT INTO outbox_messages_v5 (id, contact_id, workspace_id, lane, state, template_name, mail_from, rcpt_to,
                                subject, idempotency_key, attempts, next_attempt_at, created_at, updated_at,
                                last_reply, lease_owner, lease_until)
  SELECT id, contact_id, workspace_id, lane, state, template_name, mail_from, rcpt_to, subject,
         idempotency_key, attempts, next_attempt_at, created_at, updated_at, last_reply, lease_owner,
         lease_until FROM outbox_messages;
DROP TABLE outbox_messages;
ALTER TABLE outbox_messages_v5 RENAME TO outbox_messages;
CREATE INDEX outbox_contact ON outbox_messages (contact_id, id);
CREATE INDEX outbox_leases ON outbox_messages (lane, lease_until) WHERE state = 'sending';
CREATE INDEX outbox_queued ON outbox_messages (lane, next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbox_deferred ON outbox_messages (lane, next_attempt_at) WHERE state = 'deferred';

CREATE TABLE templates_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  subject TEXT NOT NULL,
  preheader TEXT NOT NULL DEFAULT '',
  html TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '',
  snippets TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
INSERT INTO templates_v5 (id, workspace_id, name, subject, preheader, html, text, snippets, created_at,
                          updated_at)
  SELECT id, workspace_id, name, subject, preheader, html, text, snippets, created_at, updated_at
  FROM templates;
DROP TABLE templates;
ALTER TABLE templates_v5 RENAME TO templates;

CREATE TABLE feed_consumers (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE feed_consumer_state (
  consumer TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (consumer, key)
) WITHOUT ROWID;
)sql";

// v6: one contact per email address whatever the letter case (core/email_address.h,
// EmailIdentityKey). contacts.email_key is the address with ASCII letters lower-cased (SQLite's
// lower() lowers ASCII only, as EmailIdentityKey does); lookups by email use it, and it is unique
// per workspace. Existing case variants are not merged here: the oldest keeps the key, the others
// keep theirs NULL until `rapport contacts duplicates` lists them and a merge resolves them.
constexpr const char* kV6 = R"sql(
ALTER TABLE contacts ADD COLUMN email_key TEXT;
CREATE INDEX contacts_email_lower_v6 ON contacts (workspace_id, lower(email));
UPDATE contacts SET email_key = lower(email)
  WHERE email IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM contacts o WHERE o.workspace_id = contacts.workspace_id AND lower(o.email) = lower(contacts.email)
      AND o.email IS NOT NULL AND o.id < contacts.id);
DROP INDEX contacts_email_lower_v6;
CREATE UNIQUE INDEX contacts_email_key ON contacts (workspace_id, email_key);
)sql";

// v7: the leased work queue (core/work_queue.h): journey timers, campaign batches. Claimable items
// are indexed by why they are claimable, as the outbox's are, so a claim reads each index in order.
constexpr const char* kV7 = R"sql(
CREATE TABLE work_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  queue TEXT NOT NULL,
  key TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '',
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (queue, key)
);
CREATE INDEX work_items_due ON work_items (queue, due_at, id) WHERE lease_owner = '';
CREATE INDEX work_items_leases ON work_items (queue, lease_until, id) WHERE lease_owner <> '';
CREATE INDEX work_items_owner ON work_items (lease_owner) WHERE lease_owner <> '';
)sql";

// v8: saved segments (core/saved_segment.h): a named expression of the segment language per
// workspace; members live in the profile index, and changes of membership in the event log.
constexpr const char* kV8 = R"sql(
CREATE TABLE segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  expression TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
)sql";

// v9: tracked messages (tracking/, docs/tracking.md): a message's tracking key (named by its signed
// open, click and web-view tokens), the original targets of its rewritten links by index and its
// HTML for the web view; and the per-template and per-topic switch that turns tracking off.
constexpr const char* kV9 = R"sql(
CREATE TABLE message_tracking (
  contact_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  message_key INTEGER NOT NULL,
  links TEXT NOT NULL,
  html TEXT NOT NULL,
  PRIMARY KEY (contact_id, message_id)
);
CREATE UNIQUE INDEX message_tracking_key ON message_tracking (message_key);
CREATE UNIQUE INDEX message_tracking_message ON message_tracking (message_id);
ALTER TABLE templates ADD COLUMN tracking INTEGER NOT NULL DEFAULT 1;
ALTER TABLE topics ADD COLUMN tracking INTEGER NOT NULL DEFAULT 1;
)sql";

// v10: feedback about delivered messages (core/feedback.h): one row per message and kind (a
// report read twice records nothing), by recipient domain and UTC day for deliverability health;
// delivery attempts by workspace and time for the same report's delivered counts.
constexpr const char* kV10 = R"sql(
CREATE TABLE message_feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'block', 'complaint')),
  failure TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  diagnostic TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  reporter TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  domain TEXT NOT NULL DEFAULT '',
  day INTEGER NOT NULL,
  at INTEGER NOT NULL,
  UNIQUE (message_id, kind)
);
CREATE INDEX message_feedback_contact ON message_feedback (contact_id, message_id);
CREATE INDEX message_feedback_day ON message_feedback (workspace_id, day);
CREATE INDEX delivery_attempts_at ON delivery_attempts (workspace_id, at);
)sql";

// v11: the live contacts of a workspace in id order, for the contact list (first page and every
// cursor), the export and the count: a page seeks to (workspace_id, cursor) and reads `limit`
// entries, where without it SQLite chose a unique (workspace_id, email...) index and sorted every
// contact of the workspace in a temporary B-tree for each page (218-337 ms at 1M contacts).
// Partial (status <> 'erased'), as the list's WHERE is: erased and merged rows are never listed.
constexpr const char* kV11 = R"sql(
CREATE INDEX contacts_live ON contacts (workspace_id, id) WHERE status <> 'erased';
)sql";

// v12: the consent ledger (core/consent.h): one row per consent given, asked for, confirmed or
// withdrawn, never updated, keyed by contact first; a contact's preferences (frequency, pause);
// topics that need a double opt-in.
constexpr const char* kV12 = R"sql(
CREATE TABLE consent_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  topic_key TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL CHECK (action IN ('granted', 'withdrawn', 'requested', 'confirmed')),
  source TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  text_version TEXT NOT NULL DEFAULT '',
  request_id INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER
);
CREATE INDEX consent_ledger_contact ON consent_ledger (contact_id, id);
CREATE TABLE contact_preferences (
  contact_id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  frequency TEXT NOT NULL DEFAULT 'everything' CHECK (frequency IN ('everything', 'weekly')),
  paused_until INTEGER,
  updated_at INTEGER NOT NULL
);
ALTER TABLE topics ADD COLUMN double_opt_in INTEGER NOT NULL DEFAULT 0;
)sql";

// v13: the analytics consumer's state (core/analytics_store.h): daily values per workspace,
// dimension, key, day and metric (the value as text: the shortest form that reads back exactly),
// and entity states (a message's report flags, a contact's engagement, purchases and lifecycle).
constexpr const char* kV13 = R"sql(
CREATE TABLE analytics_daily (
  workspace_id INTEGER NOT NULL,
  dimension TEXT NOT NULL,
  key TEXT NOT NULL,
  day INTEGER NOT NULL,
  metric TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (workspace_id, dimension, key, day, metric)
) WITHOUT ROWID;
CREATE TABLE analytics_entities (
  workspace_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  id INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (workspace_id, kind, id)
) WITHOUT ROWID;
)sql";

// v14: journeys (core/journey.h, docs/journeys.md): journeys and their versions (the documents),
// runs (a contact's position in one version, keyed by contact first) and the per-step entry
// counters of the stats; a run's timer is a work item of queue "journey.timer" (v7).
constexpr const char* kV14 = R"sql(
CREATE TABLE journeys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
CREATE TABLE journey_versions (
  journey_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (journey_id, version)
);
CREATE TABLE journey_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  journey_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  run_key TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('active', 'waiting', 'completed', 'exited', 'converted')),
  step TEXT NOT NULL DEFAULT '',
  seq INTEGER NOT NULL DEFAULT 0,
  context TEXT NOT NULL DEFAULT '{}',
  revenue_cents INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  entered_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX journey_runs_contact ON journey_runs (workspace_id, contact_id, id);
CREATE INDEX journey_runs_live ON journey_runs (workspace_id, contact_id) WHERE state IN ('active', 'waiting');
CREATE INDEX journey_runs_latest ON journey_runs (journey_id, contact_id, run_key, id);
CREATE INDEX journey_runs_stats ON journey_runs (journey_id, version, step, state);
CREATE TABLE journey_step_counts (
  journey_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  step TEXT NOT NULL,
  workspace_id INTEGER NOT NULL,
  entered INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (journey_id, version, step)
);
)sql";

// v15: sender identities (core/sender.h, docs/senders.md): a workspace's From addresses with
// their Reply-To and postal address. email_key is the address's identity key (EmailIdentityKey),
// unique per workspace; at most one default per workspace (a partial unique index).
constexpr const char* kV15 = R"sql(
CREATE TABLE senders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL,
  email_key TEXT NOT NULL,
  reply_to_email TEXT NOT NULL DEFAULT '',
  reply_to_name TEXT NOT NULL DEFAULT '',
  postal_address TEXT NOT NULL DEFAULT '',
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, email_key)
);
CREATE UNIQUE INDEX senders_default ON senders (workspace_id) WHERE is_default = 1;
)sql";

// v16: the frequency governor (campaign/governor.h, docs/governor.md): the moment each marketing
// message is placed at (what the caps count; created_at for older messages) and its source,
// priority and on_cap, indexed per contact; and each workspace's policy document.
constexpr const char* kV16 = R"sql(
ALTER TABLE outbox_messages ADD COLUMN governed_at INTEGER;
ALTER TABLE outbox_messages ADD COLUMN gov_source TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox_messages ADD COLUMN gov_priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_messages ADD COLUMN gov_skip INTEGER NOT NULL DEFAULT 0;
UPDATE outbox_messages SET governed_at = created_at WHERE lane = 'marketing';
CREATE INDEX outbox_governed ON outbox_messages (contact_id, governed_at) WHERE governed_at IS NOT NULL;
CREATE TABLE governor_policies (
  workspace_id INTEGER PRIMARY KEY,
  policy TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql";

// v17: campaigns (core/campaign.h, docs/campaigns.md): campaigns (the settings document), their
// occurrences (one per schedule occurrence, unique per campaign and sequence number) and each
// occurrence's frozen recipients (arm, due time, what became of them); a campaign's work item is
// of queue "campaign.tick" (v7).
constexpr const char* kV17 = R"sql(
CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'done')),
  definition TEXT NOT NULL,
  archive INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
CREATE TABLE campaign_occurrences (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  campaign_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  scheduled_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('sending', 'deciding', 'done', 'cancelled')),
  send_variant INTEGER NOT NULL DEFAULT -1,
  decide_at INTEGER,
  decision TEXT NOT NULL DEFAULT '',
  recipients INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  UNIQUE (campaign_id, seq)
);
CREATE TABLE campaign_recipients (
  occurrence_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  arm TEXT NOT NULL CHECK (arm IN ('holdout', 'test', 'rest')),
  variant INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'skipped', 'held')),
  message_id INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (occurrence_id, contact_id)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients (occurrence_id, due_at, contact_id) WHERE status = 'pending';
)sql";

// v18: fewer index writes per contact (issue 14 item 8: import and ingest). UNIQUE (workspace_id,
// email) is dropped: contacts_email_key (v6) already keeps one contact per address in any letter
// case, every write sets the key with the address, and no query reads by the raw address (lookups
// go by email_key). UNIQUE (workspace_id, external_id) becomes a partial index over the rows that
// have one, so a contact without an external_id writes no entry there; `external_id = ?` and
// `external_id IN (...)` still use it (they imply IS NOT NULL). SQLite drops a table constraint only
// by rebuilding the table: the rows keep their ids, and the AUTOINCREMENT high-water mark is carried
// over so an id given before (even of a row gone since) never comes back.
constexpr const char* kV18 = R"sql(
CREATE TABLE contacts_v18 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  email TEXT,
  email_hash TEXT,
  external_id TEXT,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained', 'erased')),
  attributes TEXT NOT NULL DEFAULT '{}',
  timezone TEXT NOT NULL DEFAULT '',
  locale TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  email_key TEXT,
  CHECK (status = 'erased' OR email IS NOT NULL OR external_id IS NOT NULL)
);
INSERT INTO contacts_v18 (id, workspace_id, email, email_hash, external_id, status, attributes, timezone,
                          locale, created_at, updated_at, email_key)
  SELECT id, workspace_id, email, email_hash, external_id, status, attributes, timezone, locale, created_at,
         updated_at, email_key FROM contacts ORDER BY id;
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'contacts_v18', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'contacts_v18');
UPDATE sqlite_sequence SET seq = (
    SELECT MAX(seq) FROM sqlite_sequence WHERE name IN ('contacts', 'contacts_v18'))
  WHERE name = 'contacts_v18';
DROP TABLE contacts;
ALTER TABLE contacts_v18 RENAME TO contacts;
CREATE INDEX contacts_email_hash ON contacts (workspace_id, email_hash) WHERE email_hash IS NOT NULL;
CREATE UNIQUE INDEX contacts_email_key ON contacts (workspace_id, email_key);
CREATE UNIQUE INDEX contacts_external_id ON contacts (workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_live ON contacts (workspace_id, id) WHERE status <> 'erased';
)sql";

}  // namespace

std::vector<sql::Migration> SqliteMigrations() {
  return {{1, "initial schema", kV1},
          {2, "templates", kV2},
          {3, "outbox bodies", kV3},
          {4, "due messages indexed per state", kV4},
          {5, "ids never reused, the feed, message topics", kV5, /*foreign_keys_off=*/true},
          {6, "contact email keys", kV6},
          {7, "the leased work queue", kV7},
          {8, "saved segments", kV8},
          {9, "tracked messages", kV9},
          {10, "message feedback", kV10},
          {11, "live contacts indexed in id order", kV11},
          {12, "the consent ledger and preferences", kV12},
          {13, "analytics state", kV13},
          {14, "journeys", kV14},
          {15, "sender identities", kV15},
          {16, "the frequency governor", kV16},
          {17, "campaigns", kV17},
          {18, "fewer contact indexes", kV18, /*foreign_keys_off=*/true}};
}

}  // namespace rapport::sqlite
