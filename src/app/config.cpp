#include "app/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <variant>

#include "core/email_address.h"
#include "core/outbox.h"
#include "mail/header.h"

extern char** environ;

namespace rapport::app {

namespace {

// A value as it arrives: TOML keeps its type, the environment and flags give text.
using Raw = std::variant<std::string, int64_t, double, bool>;

// Where a value came from, for messages: "rapport.toml line 4", "RAPPORT_SERVER_LISTEN", "--listen".
struct Origin {
  std::string where;
};

Error Bad(std::string_view key, const Origin& origin, std::string_view why) {
  return Error::Invalid(std::string(key), fmt::format("{} ({}): {}", key, origin.where, why));
}

std::string Describe(const Raw& raw) {
  if (auto* s = std::get_if<std::string>(&raw)) return fmt::format("\"{}\"", *s);
  if (auto* i = std::get_if<int64_t>(&raw)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&raw)) return fmt::format("{}", *d);
  return std::get<bool>(raw) ? "true" : "false";
}

Result<std::string> AsString(std::string_view key, const Raw& raw, const Origin& o) {
  if (auto* s = std::get_if<std::string>(&raw)) return *s;
  return Bad(key, o, "expected a string, got " + Describe(raw));
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Result<int64_t> AsInt(std::string_view key, const Raw& raw, const Origin& o, int64_t lo, int64_t hi) {
  std::optional<int64_t> v;
  if (auto* i = std::get_if<int64_t>(&raw)) v = *i;
  if (auto* s = std::get_if<std::string>(&raw)) v = ParseInt(*s);
  if (!v) return Bad(key, o, "expected an integer, got " + Describe(raw));
  if (*v < lo || *v > hi) return Bad(key, o, fmt::format("must be between {} and {}, got {}", lo, hi, *v));
  return *v;
}

// true/false in TOML; "true"/"false"/"1"/"0" from the environment.
Result<bool> AsBool(std::string_view key, const Raw& raw, const Origin& o) {
  if (auto* b = std::get_if<bool>(&raw)) return *b;
  if (auto* s = std::get_if<std::string>(&raw)) {
    if (*s == "true" || *s == "1") return true;
    if (*s == "false" || *s == "0") return false;
  }
  return Bad(key, o, "expected true or false, got " + Describe(raw));
}

Result<double> AsNumber(std::string_view key, const Raw& raw, const Origin& o) {
  std::optional<double> v;
  if (auto* i = std::get_if<int64_t>(&raw)) v = static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&raw)) v = *d;
  if (auto* s = std::get_if<std::string>(&raw)) {
    double d = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), d);
    if (ec == std::errc() && p == s->data() + s->size() && !s->empty()) v = d;
  }
  if (!v || !std::isfinite(*v)) return Bad(key, o, "expected a number, got " + Describe(raw));
  return *v;
}

Result<double> AsPositiveNumber(std::string_view key, const Raw& raw, const Origin& o) {
  RAPPORT_ASSIGN_OR_RETURN(double v, AsNumber(key, raw, o));
  if (v <= 0) return Bad(key, o, "must be greater than 0");
  return v;
}

// A rate where 0 means unlimited.
Result<double> AsRate(std::string_view key, const Raw& raw, const Origin& o) {
  RAPPORT_ASSIGN_OR_RETURN(double v, AsNumber(key, raw, o));
  if (v < 0) return Bad(key, o, "must be 0 (unlimited) or more");
  return v;
}

// A mailbox ("Name <addr@example.com>" or "addr@example.com"); empty when `optional`.
Result<std::string> AsMailbox(std::string_view key, const Raw& raw, const Origin& o, bool optional) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(key, raw, o));
  if (s.empty() && optional) return s;
  auto m = mail::ParseMailbox(key, s);
  if (!m.ok()) return Bad(key, o, m.error().message);
  return s;
}

// Durations: an integer number of seconds, or a string "90s", "15m", "2h", "3d".
Result<std::chrono::seconds> AsDuration(std::string_view key, const Raw& raw, const Origin& o) {
  auto bad = [&] {
    return Bad(key, o,
               "expected a duration such as 30, \"30s\", \"15m\", \"2h\" or \"3d\", got " + Describe(raw));
  };
  int64_t n = 0, unit = 1;
  if (auto* i = std::get_if<int64_t>(&raw)) {
    n = *i;
  } else if (auto* s = std::get_if<std::string>(&raw)) {
    std::string_view t = *s;
    if (!t.empty() && std::isalpha(static_cast<unsigned char>(t.back()))) {
      switch (t.back()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return bad();
      }
      t.remove_suffix(1);
    }
    auto v = ParseInt(t);
    if (!v) return bad();
    n = *v;
  } else {
    return bad();
  }
  if (n <= 0 || n > int64_t{10} * 365 * 86400 / unit)
    return Bad(key, o, "must be positive and at most 10 years");
  return std::chrono::seconds(n * unit);
}

// Sizes: an integer number of bytes, or a string with a binary unit "512KiB", "32MiB", "1GiB".
Result<size_t> AsSize(std::string_view key, const Raw& raw, const Origin& o) {
  auto bad = [&] {
    return Bad(key, o, "expected a size in bytes such as 1048576 or \"32MiB\", got " + Describe(raw));
  };
  int64_t n = 0, unit = 1;
  if (auto* i = std::get_if<int64_t>(&raw)) {
    n = *i;
  } else if (auto* s = std::get_if<std::string>(&raw)) {
    std::string_view t = *s;
    for (auto [suffix, mult] : {std::pair<std::string_view, int64_t>{"KiB", 1024},
                                {"MiB", 1024 * 1024},
                                {"GiB", int64_t{1024} * 1024 * 1024},
                                {"B", 1}}) {
      if (t.size() > suffix.size() && t.substr(t.size() - suffix.size()) == suffix) {
        unit = mult;
        t.remove_suffix(suffix.size());
        break;
      }
    }
    auto v = ParseInt(t);
    if (!v) return bad();
    n = *v;
  } else {
    return bad();
  }
  if (n <= 0 || n > (int64_t{4} << 30) / unit) return Bad(key, o, "must be between 1 byte and 4GiB");
  return static_cast<size_t>(n * unit);
}

// "name=weight, name=weight" (an empty text: none): event names with positive weights.
Result<std::map<std::string, double>> ParseWeights(std::string_view key, std::string_view text,
                                                   const Origin& o) {
  std::map<std::string, double> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    std::string_view item =
        text.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    at = comma == std::string_view::npos ? text.size() : comma + 1;
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    item = trim(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view name = trim(item.substr(0, eq));
    if (eq == std::string_view::npos || name.empty())
      return Bad(key, o, fmt::format("'{}' is not name=weight (e.g. page_viewed=0.5)", item));
    std::string weight(trim(item.substr(eq + 1)));
    char* end = nullptr;
    double w = std::strtod(weight.c_str(), &end);
    if (weight.empty() || end != weight.c_str() + weight.size() || !std::isfinite(w) || w <= 0 || w > 1000)
      return Bad(key, o, fmt::format("the weight of '{}' must be a number above 0 and at most 1000", name));
    if (!out.emplace(std::string(name), w).second)
      return Bad(key, o, fmt::format("'{}' is named twice", name));
  }
  return out;
}

Result<std::string> AsOneOf(std::string_view key, const Raw& raw, const Origin& o,
                            std::initializer_list<std::string_view> allowed) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(key, raw, o));
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return Bad(key, o, fmt::format("must be one of {}, got \"{}\"", list, s));
}

Result<std::string> AsNonEmpty(std::string_view key, const Raw& raw, const Origin& o) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(key, raw, o));
  if (s.empty()) return Bad(key, o, "may not be empty");
  return s;
}

// Empty (kept in <data_dir>/node-id) or a node id (core/outbox.h).
Result<std::string> AsNodeId(std::string_view key, const Raw& raw, const Origin& o) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(key, raw, o));
  if (!s.empty()) {
    if (auto problem = NodeIdProblem(s)) return Bad(key, o, *problem);
  }
  return s;
}

using Setter = Status (*)(Config&, std::string_view key, const Raw&, const Origin&);

struct KeySpec {
  std::string_view section;  // empty: top level
  std::string_view name;
  Setter set;
};

#define RAPPORT_CFG_SET(target, expr)                                          \
  [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status { \
    RAPPORT_ASSIGN_OR_RETURN(auto v, expr);                                    \
    c.target = std::move(v);                                                   \
    return {};                                                                 \
  }

// [inbound] listen: empty (no listener) or HOST:PORT.
Status SetInboundListen(Config& c, std::string_view k, const Raw& r, const Origin& o) {
  RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(k, r, o));
  if (!s.empty()) {
    auto hp = ParseHostPort(s, k);
    if (!hp.ok()) return Bad(k, o, hp.error().message);
  }
  c.inbound.listen = s;
  return {};
}

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec> keys =
      {
          {"", "data_dir", RAPPORT_CFG_SET(data_dir, AsNonEmpty(k, r, o))},
          {"server", "listen",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(k, r, o));
             auto hp = ParseHostPort(s, k);
             if (!hp.ok()) return Bad(k, o, hp.error().message);
             c.server.listen = s;
             return {};
           }},
          {"server", "threads", RAPPORT_CFG_SET(server.threads, AsInt(k, r, o, 1, 256))},
          {"server", "body_limit", RAPPORT_CFG_SET(server.body_limit, AsSize(k, r, o))},
          {"server", "max_connections", RAPPORT_CFG_SET(server.max_connections, AsInt(k, r, o, 1, 1000000))},
          {"server", "header_timeout", RAPPORT_CFG_SET(server.header_timeout, AsDuration(k, r, o))},
          {"server", "read_timeout", RAPPORT_CFG_SET(server.read_timeout, AsDuration(k, r, o))},
          {"log", "access", RAPPORT_CFG_SET(log.access, AsBool(k, r, o))},
          {"server", "trust_forwarded_for", RAPPORT_CFG_SET(server.trust_forwarded_for, AsBool(k, r, o))},
          {"server", "fast_lane", RAPPORT_CFG_SET(server.fast_lane, AsBool(k, r, o))},
          {"server", "auth_failures_per_minute",
           RAPPORT_CFG_SET(server.auth_failures_per_minute, AsInt(k, r, o, 1, 1000000))},
          {"server", "public_requests_per_second",
           RAPPORT_CFG_SET(server.public_requests_per_second, AsInt(k, r, o, 1, 1000000))},
          {"server", "write_timeout", RAPPORT_CFG_SET(server.write_timeout, AsDuration(k, r, o))},
          {"server", "link_secret_file", RAPPORT_CFG_SET(server.link_secret_file, AsString(k, r, o))},
          {"server", "public_url",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(k, r, o));
             if (!s.empty() && s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0)
               return Bad(k, o, "must start with http:// or https://");
             while (!s.empty() && s.back() == '/') s.pop_back();
             c.server.public_url = s;
             return {};
           }},
          {"store", "url", RAPPORT_CFG_SET(store.url, AsString(k, r, o))},
          {"store", "sqlite_cache_mb", RAPPORT_CFG_SET(store.sqlite_cache_mb, AsInt(k, r, o, 1, 65536))},
          {"store", "sqlite_mmap_mb",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(c.store.sqlite_mmap_mb, AsInt(k, r, o, 0, 1048576));
             return {};
           }},
          {"tracking", "ipv4_prefix", RAPPORT_CFG_SET(tracking.ipv4_prefix, AsInt(k, r, o, 0, 32))},
          {"tracking", "ipv6_prefix", RAPPORT_CFG_SET(tracking.ipv6_prefix, AsInt(k, r, o, 0, 128))},
          {"tracking", "key_retention_days",
           RAPPORT_CFG_SET(tracking.key_retention_days, AsInt(k, r, o, 1, 36500))},
          {"tracking", "key_ring_file", RAPPORT_CFG_SET(tracking.key_ring_file, AsString(k, r, o))},
          {"tracking", "ranges_file", RAPPORT_CFG_SET(tracking.ranges_file, AsString(k, r, o))},
          {"tracking", "apple_ranges_url", RAPPORT_CFG_SET(tracking.apple_ranges_url, AsString(k, r, o))},
          {"tracking", "hit_log", RAPPORT_CFG_SET(tracking.hit_log, AsBool(k, r, o))},
          {"tracking", "hit_log_dir", RAPPORT_CFG_SET(tracking.hit_log_dir, AsString(k, r, o))},
          {"tracking", "hit_log_fsync_ms",
           RAPPORT_CFG_SET(tracking.hit_log_fsync_ms, AsInt(k, r, o, 0, 60000))},
          {"tracking", "hit_load_gather_ms",
           RAPPORT_CFG_SET(tracking.hit_load_gather_ms, AsInt(k, r, o, 0, 1000))},
          {"consent", "confirm_ttl_seconds",
           RAPPORT_CFG_SET(consent.confirm_ttl_seconds, AsInt(k, r, o, 1, 366 * 86400))},
          {"consent", "confirmation_template",
           RAPPORT_CFG_SET(consent.confirmation_template, AsString(k, r, o))},
          {"consent", "subscribes_per_minute",
           RAPPORT_CFG_SET(consent.subscribes_per_minute, AsInt(k, r, o, 1, 1000000))},
          {"analytics", "goal_event", RAPPORT_CFG_SET(analytics.goal_event, AsString(k, r, o))},
          {"analytics", "revenue_property", RAPPORT_CFG_SET(analytics.revenue_property, AsString(k, r, o))},
          {"analytics", "click_window", RAPPORT_CFG_SET(analytics.click_window, AsDuration(k, r, o))},
          {"analytics", "open_window", RAPPORT_CFG_SET(analytics.open_window, AsDuration(k, r, o))},
          {"analytics", "late_event_grace", RAPPORT_CFG_SET(analytics.late_event_grace, AsDuration(k, r, o))},
          {"analytics", "engagement_half_life_days",
           RAPPORT_CFG_SET(analytics.engagement_half_life_days, AsInt(k, r, o, 1, 3650))},
          {"analytics", "engagement_publish_step",
           RAPPORT_CFG_SET(analytics.engagement_publish_step, AsInt(k, r, o, 1, 100))},
          {"analytics", "engagement_events",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(std::string text, AsString(k, r, o));
             RAPPORT_ASSIGN_OR_RETURN(c.analytics.engagement_events, ParseWeights(k, text, o));
             return {};
           }},
          {"analytics", "message_horizon_days",
           RAPPORT_CFG_SET(analytics.message_horizon_days, AsInt(k, r, o, 1, 3650))},
          {"log", "level",
           RAPPORT_CFG_SET(log.level,
                           AsOneOf(k, r, o, {"trace", "debug", "info", "warn", "error", "critical", "off"}))},
          {"log", "format", RAPPORT_CFG_SET(log.format, AsOneOf(k, r, o, {"text", "json"}))},
          {"delivery", "transport",
           RAPPORT_CFG_SET(delivery.transport, AsOneOf(k, r, o, {"maildir", "smtp"}))},
          {"delivery", "smtp_url",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(k, r, o));
             if (!s.empty() && s.rfind("smtp://", 0) != 0 && s.rfind("smtps://", 0) != 0)
               return Bad(k, o, "must start with smtp:// or smtps://");
             c.delivery.smtp_url = s;
             return {};
           }},
          {"delivery", "tls",
           RAPPORT_CFG_SET(delivery.tls, AsOneOf(k, r, o, {"none", "opportunistic", "required"}))},
          {"delivery", "outbox_dir", RAPPORT_CFG_SET(delivery.outbox_dir, AsString(k, r, o))},
          {"delivery", "rate", RAPPORT_CFG_SET(delivery.rate, AsPositiveNumber(k, r, o))},
          {"delivery", "max_age", RAPPORT_CFG_SET(delivery.max_age, AsDuration(k, r, o))},
          {"delivery", "domain_concurrency",
           RAPPORT_CFG_SET(delivery.domain_concurrency, AsInt(k, r, o, 1, 10000))},
          {"delivery", "domain_rate", RAPPORT_CFG_SET(delivery.domain_rate, AsRate(k, r, o))},
          {"delivery", "backoff_cooldown", RAPPORT_CFG_SET(delivery.backoff_cooldown, AsDuration(k, r, o))},
          {"delivery", "recovery_interval", RAPPORT_CFG_SET(delivery.recovery_interval, AsDuration(k, r, o))},
          {"delivery", "recovery_step", RAPPORT_CFG_SET(delivery.recovery_step, AsPositiveNumber(k, r, o))},
          {"delivery", "burst_threshold",
           RAPPORT_CFG_SET(delivery.burst_threshold, AsInt(k, r, o, 1, 100000))},
          {"delivery", "batch_size", RAPPORT_CFG_SET(delivery.batch_size, AsInt(k, r, o, 1, 1000))},
          {"delivery", "lease", RAPPORT_CFG_SET(delivery.lease, AsDuration(k, r, o))},
          {"delivery", "node_id", RAPPORT_CFG_SET(delivery.node_id, AsNodeId(k, r, o))},
          {"sender", "from", RAPPORT_CFG_SET(sender.from, AsMailbox(k, r, o, false))},
          {"sender", "reply_to", RAPPORT_CFG_SET(sender.reply_to, AsMailbox(k, r, o, true))},
          {"sender", "bounce_address",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(k, r, o));
             if (!s.empty()) {
               auto a = ParseEmailAddress(s, k);
               if (!a.ok()) return Bad(k, o, a.error().message);
             }
             c.sender.bounce_address = s;
             return {};
           }},
          {"sender", "list_id", RAPPORT_CFG_SET(sender.list_id, AsString(k, r, o))},
          {"inbound", "maildir", RAPPORT_CFG_SET(inbound.maildir, AsString(k, r, o))},
          {"inbound", "poll", RAPPORT_CFG_SET(inbound.poll, AsDuration(k, r, o))},
          {"inbound", "listen", SetInboundListen},
          {"inbound", "hostname", RAPPORT_CFG_SET(inbound.hostname, AsNonEmpty(k, r, o))},
          {"inbound", "tls_cert_file", RAPPORT_CFG_SET(inbound.tls_cert_file, AsString(k, r, o))},
          {"inbound", "tls_key_file", RAPPORT_CFG_SET(inbound.tls_key_file, AsString(k, r, o))},
          {"inbound", "verp", RAPPORT_CFG_SET(inbound.verp, AsBool(k, r, o))},
          {"inbound", "soft_bounce_threshold",
           RAPPORT_CFG_SET(inbound.soft_bounce_threshold, AsInt(k, r, o, 1, 100))},
          {"inbound", "soft_bounce_window",
           RAPPORT_CFG_SET(inbound.soft_bounce_window, AsInt(k, r, o, 1, 100))},
          {"sender", "unsubscribe_mailto",
           [](Config& c, std::string_view k, const Raw& r, const Origin& o) -> Status {
             RAPPORT_ASSIGN_OR_RETURN(std::string s, AsString(k, r, o));
             if (!s.empty() && s.rfind("mailto:", 0) != 0) return Bad(k, o, "must start with mailto:");
             c.sender.unsubscribe_mailto = s;
             return {};
           }},
      };
  return keys;
}

// Arrays of tables ([[dkim]], [[provider]]): each entry's keys, and their setters.
template <typename Entry>
struct EntryKeySpec {
  std::string_view name;
  Status (*set)(Entry&, std::string_view key, const Raw&, const Origin&);
};

#define RAPPORT_ENTRY_SET(Entry, target, expr)                                \
  [](Entry& d, std::string_view k, const Raw& r, const Origin& o) -> Status { \
    RAPPORT_ASSIGN_OR_RETURN(auto v, expr);                                   \
    d.target = std::move(v);                                                  \
    return {};                                                                \
  }

const std::vector<EntryKeySpec<DkimConfig>>& DkimKeys() {
  static const std::vector<EntryKeySpec<DkimConfig>> keys = {
      {"domain", RAPPORT_ENTRY_SET(DkimConfig, domain, AsNonEmpty(k, r, o))},
      {"selector", RAPPORT_ENTRY_SET(DkimConfig, selector, AsNonEmpty(k, r, o))},
      {"key_file", RAPPORT_ENTRY_SET(DkimConfig, key_file, AsNonEmpty(k, r, o))},
      {"algorithm",
       RAPPORT_ENTRY_SET(DkimConfig, algorithm, AsOneOf(k, r, o, {"rsa-sha256", "ed25519-sha256"}))},
  };
  return keys;
}

const std::vector<EntryKeySpec<ProviderConfig>>& ProviderKeys() {
  static const std::vector<EntryKeySpec<ProviderConfig>> keys = {
      {"domain", RAPPORT_ENTRY_SET(ProviderConfig, domain, AsNonEmpty(k, r, o))},
      {"concurrency", RAPPORT_ENTRY_SET(ProviderConfig, concurrency, AsInt(k, r, o, 1, 10000))},
      {"rate", RAPPORT_ENTRY_SET(ProviderConfig, rate, AsRate(k, r, o))},
  };
  return keys;
}

std::string Dotted(std::string_view section, std::string_view name) {
  return section.empty() ? std::string(name) : fmt::format("{}.{}", section, name);
}

std::string EnvName(std::string_view section, std::string_view name) {
  std::string out = "RAPPORT_";
  out += section.empty() ? std::string(name) : fmt::format("{}_{}", section, name);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

const KeySpec* FindKey(std::string_view section, std::string_view name) {
  for (const auto& k : Keys())
    if (k.section == section && k.name == name) return &k;
  return nullptr;
}

std::optional<Raw> RawFromToml(const toml::node& node) {
  if (auto v = node.value_exact<std::string>()) return Raw(*v);
  if (auto v = node.value_exact<int64_t>()) return Raw(*v);
  if (auto v = node.value_exact<double>()) return Raw(*v);
  if (auto v = node.value_exact<bool>()) return Raw(*v);
  return std::nullopt;
}

Origin TomlOrigin(std::string_view file, const toml::node& node) {
  return {fmt::format("{} line {}", file, node.source().begin.line)};
}

Status ApplyTomlValue(Config& config, std::string_view section, std::string_view name, const toml::node& node,
                      std::string_view file) {
  std::string dotted = Dotted(section, name);
  Origin origin = TomlOrigin(file, node);
  const KeySpec* spec = FindKey(section, name);
  if (!spec) return Error::Invalid(dotted, fmt::format("unknown key {} ({})", dotted, origin.where));
  auto raw = RawFromToml(node);
  if (!raw) return Bad(dotted, origin, "expected a string, number or boolean");
  return spec->set(config, dotted, *raw, origin);
}

template <typename Entry>
Status ApplyArrayToml(std::vector<Entry>& out, std::string_view section,
                      const std::vector<EntryKeySpec<Entry>>& keys, const toml::node& node,
                      std::string_view file) {
  const toml::array* array = node.as_array();
  if (!array)
    return Bad(section, TomlOrigin(file, node), fmt::format("must be an array of tables: [[{}]]", section));
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table* table = (*array)[i].as_table();
    if (!table) return Bad(section, TomlOrigin(file, (*array)[i]), "each entry must be a table");
    Entry entry;
    for (const auto& [key, value] : *table) {
      std::string dotted = fmt::format("{}[{}].{}", section, i, key.str());
      Origin origin = TomlOrigin(file, value);
      auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& s) { return s.name == key.str(); });
      if (it == keys.end())
        return Error::Invalid(dotted, fmt::format("unknown key {} ({})", dotted, origin.where));
      auto raw = RawFromToml(value);
      if (!raw) return Bad(dotted, origin, "expected a string or a number");
      RAPPORT_TRY(it->set(entry, dotted, *raw, origin));
    }
    out.push_back(std::move(entry));
  }
  return {};
}

// RAPPORT_<SECTION>_<N>_<KEY>, in index order so that N == size appends an entry.
template <typename Entry>
Status ApplyArrayEnvironment(std::vector<Entry>& out, std::string_view section,
                             const std::vector<EntryKeySpec<Entry>>& keys, const Environment& env) {
  std::string prefix = EnvName(section, "");
  std::map<size_t, std::vector<std::pair<std::string, std::string>>> entries;
  for (auto it = env.lower_bound(prefix); it != env.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    std::string_view rest = std::string_view(it->first).substr(prefix.size());
    size_t underscore = rest.find('_');
    auto index = underscore == std::string_view::npos ? std::nullopt : ParseInt(rest.substr(0, underscore));
    if (!index || *index < 0 || *index > 63)
      return Error::Invalid(std::string(section),
                            fmt::format("{}: expected {}<N>_<KEY> with N a small index", it->first, prefix));
    entries[static_cast<size_t>(*index)].emplace_back(it->first, std::string(rest.substr(underscore + 1)));
  }
  for (auto& [index, names] : entries) {
    if (index > out.size())
      return Error::Invalid(std::string(section),
                            fmt::format("{}: {} entry {} does not exist and is not the next one ({})",
                                        names.front().first, section, index, out.size()));
    if (index == out.size()) out.emplace_back();
    for (const auto& [env_name, key] : names) {
      std::string lower = key;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string dotted = fmt::format("{}[{}].{}", section, index, lower);
      auto spec = std::find_if(keys.begin(), keys.end(), [&](const auto& s) { return s.name == lower; });
      if (spec == keys.end())
        return Error::Invalid(dotted, fmt::format("unknown key {} ({})", dotted, env_name));
      RAPPORT_TRY(spec->set(out[index], dotted, Raw(env.find(env_name)->second), Origin{env_name}));
    }
  }
  return {};
}

}  // namespace

std::string Config::StoreUrl() const {
  if (!store.url.empty()) return store.url;
  return data_dir + "/rapport.db";
}

std::string Config::NodeIdFile() const { return data_dir + "/node-id"; }

std::string Config::LinkSecretFile() const {
  if (!server.link_secret_file.empty()) return server.link_secret_file;
  return data_dir + "/link-secret";
}

std::string Config::KeyRingFile() const {
  if (!tracking.key_ring_file.empty()) return tracking.key_ring_file;
  return data_dir + "/link-keys";
}

std::string Config::RangesFile() const {
  if (!tracking.ranges_file.empty()) return tracking.ranges_file;
  return data_dir + "/machine-ranges.txt";
}

std::string Config::HitLogDir() const {
  if (!tracking.hit_log_dir.empty()) return tracking.hit_log_dir;
  return data_dir + "/hits";
}

std::string Config::OutboxDir() const {
  if (!delivery.outbox_dir.empty()) return delivery.outbox_dir;
  return data_dir + "/outbox";
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry = *e;
    if (entry.rfind("RAPPORT_", 0) != 0) continue;
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

Result<HostPort> ParseHostPort(std::string_view text, std::string_view field) {
  auto bad = [&] {
    return Error::Invalid(
        std::string(field),
        fmt::format("expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080, got \"{}\"", text));
  };
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return bad();
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad();
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return bad();  // IPv6 needs brackets
    port = text.substr(colon + 1);
  }
  if (hp.host.empty()) return bad();
  auto p = ParseInt(port);
  if (!p || *p < 0 || *p > 65535) return bad();
  hp.port = static_cast<uint16_t>(*p);
  return hp;
}

Status ApplyConfigToml(Config& config, std::string_view text, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Error::Invalid("", fmt::format("{} line {}: {}", origin, e.source().begin.line, e.description()));
  }
  for (const auto& [key, node] : root) {
    std::string_view name = key.str();
    if (name == "dkim") {
      RAPPORT_TRY(ApplyArrayToml(config.dkim, "dkim", DkimKeys(), node, origin));
      continue;
    }
    if (name == "provider") {
      RAPPORT_TRY(ApplyArrayToml(config.providers, "provider", ProviderKeys(), node, origin));
      continue;
    }
    if (const toml::table* table = node.as_table()) {
      bool known_section = std::any_of(Keys().begin(), Keys().end(), [&](const KeySpec& k) {
        return !k.section.empty() && k.section == name;
      });
      if (!known_section)
        return Error::Invalid(std::string(name),
                              fmt::format("unknown section [{}] ({})", name, TomlOrigin(origin, node).where));
      for (const auto& [sub, value] : *table)
        RAPPORT_TRY(ApplyTomlValue(config, name, sub.str(), value, origin));
      continue;
    }
    RAPPORT_TRY(ApplyTomlValue(config, "", name, node, origin));
  }
  return {};
}

Status ApplyConfigEnvironment(Config& config, const Environment& env) {
  for (const auto& spec : Keys()) {
    std::string name = EnvName(spec.section, spec.name);
    auto it = env.find(name);
    if (it == env.end()) continue;
    RAPPORT_TRY(spec.set(config, Dotted(spec.section, spec.name), Raw(it->second), Origin{name}));
  }
  RAPPORT_TRY(ApplyArrayEnvironment(config.dkim, "dkim", DkimKeys(), env));
  RAPPORT_TRY(ApplyArrayEnvironment(config.providers, "provider", ProviderKeys(), env));
  return {};
}

Status ApplyConfigFlags(Config& config, const ConfigFlags& flags) {
  if (flags.data_dir)
    RAPPORT_TRY(FindKey("", "data_dir")->set(config, "data_dir", Raw(*flags.data_dir), {"--data"}));
  if (flags.listen)
    RAPPORT_TRY(FindKey("server", "listen")->set(config, "server.listen", Raw(*flags.listen), {"--listen"}));
  if (flags.database_url)
    RAPPORT_TRY(FindKey("store", "url")->set(config, "store.url", Raw(*flags.database_url), {"--database"}));
  return {};
}

Status ValidateConfig(const Config& config) {
  if (config.inbound.tls_cert_file.empty() != config.inbound.tls_key_file.empty())
    return Error::Invalid("inbound.tls_key_file",
                          "inbound.tls_cert_file and inbound.tls_key_file go together");
  if (config.inbound.poll.count() < 1) return Error::Invalid("inbound.poll", "inbound.poll: at least 1 s");
  if (config.inbound.soft_bounce_threshold > config.inbound.soft_bounce_window)
    return Error::Invalid("inbound.soft_bounce_threshold",
                          "inbound.soft_bounce_threshold: at most inbound.soft_bounce_window");
  if (config.delivery.transport == "smtp" && config.delivery.smtp_url.empty())
    return Error::Invalid("delivery.smtp_url",
                          "delivery.smtp_url: required when delivery.transport is \"smtp\"");
  for (size_t i = 0; i < config.providers.size(); ++i) {
    if (config.providers[i].domain.empty()) {
      std::string dotted = fmt::format("provider[{}].domain", i);
      return Error::Invalid(dotted, dotted + ": required in every [[provider]] entry");
    }
  }
  for (size_t i = 0; i < config.dkim.size(); ++i) {
    const DkimConfig& d = config.dkim[i];
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"domain", &d.domain},
                               {"selector", &d.selector},
                               {"key_file", &d.key_file}}) {
      if (value->empty()) {
        std::string dotted = fmt::format("dkim[{}].{}", i, name);
        return Error::Invalid(dotted, dotted + ": required in every [[dkim]] entry");
      }
    }
  }
  return {};
}

Result<Config> LoadConfig(const std::string& path, const Environment& env, const ConfigFlags& flags) {
  Config config;
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error::Invalid("config", fmt::format("cannot read config file {}", path));
    std::stringstream text;
    text << in.rdbuf();
    RAPPORT_TRY(ApplyConfigToml(config, text.str(), path));
  }
  RAPPORT_TRY(ApplyConfigEnvironment(config, env));
  RAPPORT_TRY(ApplyConfigFlags(config, flags));
  RAPPORT_TRY(ValidateConfig(config));
  return config;
}

}  // namespace rapport::app
