// The rapport configuration: defaults, a TOML file, RAPPORT_* environment variables and flags.
//
// Precedence, highest first: command-line flag > environment variable > config file > default.
// Every key `[section] key` of the file can be set by the environment variable
// RAPPORT_<SECTION>_<KEY> (upper case): RAPPORT_SERVER_LISTEN, RAPPORT_STORE_URL. The top-level
// key `data_dir` is RAPPORT_DATA_DIR, and the Nth [[dkim]] entry's keys are RAPPORT_DKIM_<N>_<KEY>
// (0-based; N equal to the number of entries appends one); likewise RAPPORT_PROVIDER_<N>_<KEY>
// for [[provider]]. docs/configuration.md lists every key.
//
// Loading fails (kInvalid, `field` = the dotted key) on an unknown key, a value of the wrong type
// or out of range, a malformed file; the message names the key, where it came from and why.
// Pure values; LoadConfig reads the file it is given and nothing else. Thread-safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rapport::app {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; [v6addr]:PORT for IPv6
  int threads = 2;
  size_t body_limit = 32 * 1024 * 1024;  // bytes
  int max_connections = 1024;            // open at once; more are closed as they arrive
  bool fast_lane = true;                 // tracking hits answered by the server's own loop
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  // The client's address is X-Forwarded-For's first hop (only behind a proxy that sets it).
  bool trust_forwarded_for = false;
  int auth_failures_per_minute = 20;    // per client address; then 429 with Retry-After
  int public_requests_per_second = 20;  // per client address on the public link pages (burst 5x)
  std::string public_url;               // empty: derived from listen
  std::string link_secret_file;         // the HMAC key of signed links; empty: <data_dir>/link-secret
};

struct StoreConfig {
  std::string url;  // empty: SQLite at <data_dir>/rapport.db (see Config::StoreUrl)
  // SQLite memory per connection, in MiB (store/open.h StoreOptions). No memory map by default:
  // SQLite unmaps a reader's map whenever another connection committed, which costs more than
  // pread under writes (docs/configuration.md, "SQLite memory"; bench/RESULTS.md "tracking").
  int64_t sqlite_cache_mb = 64;
  int64_t sqlite_mmap_mb = 0;
};

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text or json
  bool access = true;           // one line per HTTP request (method, route, status, time, id)
};

struct DeliveryConfig {
  std::string transport = "maildir";            // maildir or smtp
  std::string smtp_url;                         // smtp://[user:pass@]host[:port] or smtps://...
  std::string tls = "opportunistic";            // none, opportunistic, required
  std::string outbox_dir;                       // empty: <data_dir>/outbox
  double rate = 100;                            // messages per second, > 0
  std::chrono::seconds max_age{3 * 24 * 3600};  // how long a message may be retried
  int domain_concurrency = 20;                  // messages in flight per mailbox provider
  double domain_rate = 0;                       // messages per second per provider; 0 = unlimited
  std::chrono::seconds backoff_cooldown{10};    // at most one rate halving per provider per this
  std::chrono::seconds recovery_interval{60};   // after this without pushback the rate grows
  double recovery_step = 1;                     // by this many messages per second
  int burst_threshold = 5;                      // this many 4xx within a minute halve the rate
  int batch_size = 100;                         // messages claimed per round and lane
  std::chrono::seconds lease{300};              // a claimed message is reclaimable after this
  std::string node_id;  // this node's id in lease owners; empty: kept in <data_dir>/node-id
};

// Who the mail is from (POST /api/v1/messages). Mailboxes are "Name <addr>" or "addr".
struct SenderConfig {
  std::string from = "rapport <rapport@localhost.localdomain>";
  std::string reply_to;            // empty: none
  std::string bounce_address;      // envelope MAIL FROM; empty: the From address
  std::string list_id;             // List-Id of marketing mail; empty: none
  std::string unsubscribe_mailto;  // "mailto:..." added to List-Unsubscribe; empty: https only
};

struct DkimConfig {
  std::string domain;
  std::string selector;
  std::string key_file;
  std::string algorithm = "rsa-sha256";  // or ed25519-sha256
};

// Limits for one mailbox provider, overriding [delivery] domain_concurrency / domain_rate.
// `domain` is any of its domains ("gmail.com" or "googlemail.com" name the same provider).
struct ProviderConfig {
  std::string domain;
  std::optional<int> concurrency;
  std::optional<double> rate;  // messages per second; 0 = unlimited
};

// Open and click tracking (docs/tracking.md).
struct TrackingConfig {
  int ipv4_prefix = 24;          // stored client addresses keep this many bits (IPv4)
  int ipv6_prefix = 48;          // and this many (IPv6)
  int key_retention_days = 400;  // a rotated-out link key keeps verifying this long
  std::string key_ring_file;     // empty: <data_dir>/link-keys
  std::string ranges_file;       // empty: <data_dir>/machine-ranges.txt (the shipped copy on first start)
  std::string apple_ranges_url = "https://mask-api.icloud.com/egress-ip-ranges.csv";
  // Opens and clicks are first written to the hit log, then loaded into events (docs/tracking.md).
  bool hit_log = true;         // false: each answered hit is committed to the store first
  std::string hit_log_dir;     // empty: <data_dir>/hits
  int hit_log_fsync_ms = 50;   // how often written hits are fsynced (0: never; kill -9 is still safe)
  int hit_load_gather_ms = 5;  // the loader's wait after a hit wakes it, so a turn loads many
};

// Sign-up and double opt-in (docs/consent.md).
struct ConsentConfig {
  int confirm_ttl_seconds = 7 * 86400;  // how long a double opt-in confirmation link works (7 days)
  std::string confirmation_template = "confirm-subscription";
  int subscribes_per_minute = 6;  // POST /api/v1/subscribe per client address
};

// Bounces and complaints coming back (docs/feedback.md).
struct InboundConfig {
  std::string maildir;                 // a maildir an MTA delivers DSN/ARF reports into; empty: none
  std::chrono::seconds poll{5};        // how often the maildir's new/ is scanned
  std::string listen;                  // HOST:PORT of the inbound SMTP listener; empty: none
  std::string hostname = "localhost";  // the listener's name in its greeting
  std::string tls_cert_file;           // PEM certificate chain; with tls_key_file, STARTTLS
  std::string tls_key_file;
  bool verp = true;               // envelope senders bounces+<signed message id>@domain
  int soft_bounce_threshold = 3;  // soft bounces among ...
  int soft_bounce_window = 5;     // ... the contact's last this many messages bounce them
};

// Reports, conversions and attribution, engagement (docs/analytics.md).
struct AnalyticsConfig {
  std::string goal_event = "order_placed";       // the conversion event
  std::string revenue_property = "total";        // its revenue
  std::chrono::seconds click_window{5 * 86400};  // a conversion this long after a human click
  std::chrono::seconds open_window{86400};       // or this long after a human open
  int engagement_half_life_days = 30;
  int engagement_publish_step = 10;  // the attribute engagement_score is republished by this many points
  int message_horizon_days = 60;     // a message's report state is kept this long (docs/analytics.md)
  // Lifecycle thresholds and score decays fire this long after their time, so an order posted a
  // few minutes after it was placed is folded first (docs/analytics.md).
  std::chrono::seconds late_event_grace{600};
  // The chosen events that count toward the engagement score beside human opens and clicks, with
  // their weights ("page_viewed=0.5, review_posted=2"); the goal event counts 5 unless named here.
  std::map<std::string, double> engagement_events;
};

struct Config {
  std::string data_dir = "var";
  ServerConfig server;
  StoreConfig store;
  LogConfig log;
  DeliveryConfig delivery;
  SenderConfig sender;
  std::vector<DkimConfig> dkim;
  std::vector<ProviderConfig> providers;  // [[provider]]
  TrackingConfig tracking;
  InboundConfig inbound;
  ConsentConfig consent;
  AnalyticsConfig analytics;

  // The store URL or path to open: store.url, or <data_dir>/rapport.db.
  std::string StoreUrl() const;
  // Where the node id is kept when delivery.node_id is not set: <data_dir>/node-id.
  std::string NodeIdFile() const;
  // The link secret's file: server.link_secret_file, or <data_dir>/link-secret.
  std::string LinkSecretFile() const;
  // The link-signing key ring: tracking.key_ring_file, or <data_dir>/link-keys.
  std::string KeyRingFile() const;
  // The machine ranges: tracking.ranges_file, or <data_dir>/machine-ranges.txt.
  std::string RangesFile() const;
  std::string HitLogDir() const;
  // The maildir of outgoing messages: delivery.outbox_dir, or <data_dir>/outbox.
  std::string OutboxDir() const;
};

// Values given on the command line (unset: not given).
struct ConfigFlags {
  std::optional<std::string> data_dir;      // --data
  std::optional<std::string> listen;        // --listen
  std::optional<std::string> database_url;  // --database
};

// The environment as name -> value (only names starting with RAPPORT_ are read).
using Environment = std::map<std::string, std::string, std::less<>>;
// The process environment, RAPPORT_* entries only.
Environment ProcessEnvironment();

// Applies TOML text to `config`; `origin` names the source in messages (a file name).
Status ApplyConfigToml(Config& config, std::string_view text, std::string_view origin);
// Applies the RAPPORT_* variables of `env` that name a key.
Status ApplyConfigEnvironment(Config& config, const Environment& env);
Status ApplyConfigFlags(Config& config, const ConfigFlags& flags);
// Cross-key checks after everything was applied (smtp transport needs smtp_url, dkim entries
// are complete).
Status ValidateConfig(const Config& config);

// Defaults, then the file at `path` (if not empty; a missing file is an error), then `env`,
// then `flags`, then ValidateConfig.
Result<Config> LoadConfig(const std::string& path, const Environment& env, const ConfigFlags& flags);

// "HOST:PORT" / "[::1]:PORT" -> host and port; kInvalid (field `field`) otherwise.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text, std::string_view field = "server.listen");

}  // namespace rapport::app
