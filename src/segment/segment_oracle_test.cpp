// The correctness oracle: generated contacts and events, a few hundred generated expressions,
// each evaluated by rapport (scan of the profile index) and as equivalent SQL over the same data
// in SQLite and in a real PostgreSQL 15; the member sets must be identical.
//
// The SQL is written from docs/segments.md's semantics, independently of the evaluator: every
// predicate is COALESCE(<sql>, false) (a missing value makes a comparison false, `not` is plain
// negation), behavior is a correlated count/sum/max over the events at or before now, and
// engagement a count of `email_opened` / `email_clicked` with `machine` false, or of
// `message.sent`. A few saved segments come first; `in segment s` inlines s's SQL as a subquery.
//
// Local days: a share of the contacts have a timezone far from UTC (the others the workspace's
// default, Europe/Berlin here), and now is half an hour before a UTC midnight, so that today is
// 16 June for some and 15 June for others. `exactly N days ago / from now`, birthdays and the
// day ranges of date attributes are on the contact's local calendar; behavior windows, times
// and `after D` for a timestamp stay absolute or UTC, as documented. PostgreSQL converts with
// AT TIME ZONE; SQLite has no time zones, so each contact row carries its zone's UTC offset at
// now and at its creation, and each event row the offset at its time (facts of the data,
// computed here with the date library) and its SQL uses those.
//
// random_bucket is checked against the test's own implementation of the documented recipe
// (FNV-1a of the salt, splitmix64 with the contact id) from the reference constants: a SQLite
// function written in C++ below and a PostgreSQL function in plpgsql (numeric arithmetic modulo
// 2^64, xor on the two 32-bit halves), never a call into rapport.
#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <regex>
#include <set>

#include "../../tests/pg/pg_fixture.h"
#include "segment/checker.h"
#include "segment/evaluator.h"
#include "segment/segment_test_data.h"

namespace rapport::segment {
namespace {

constexpr int64_t kDay = 86'400'000'000;
// 2026-06-15T23:30:00Z: already 16 June in Auckland (+12), Kolkata (+5:30) and Berlin (+2), still
// 15 June in Los Angeles (-7) and in UTC.
constexpr int64_t kNow = 1'781'566'200'000'000;
constexpr int64_t kNowSeconds = kNow / 1'000'000;
constexpr int64_t kToday = kNow / kDay;  // 2026-06-15, in days since the epoch (UTC)
// The workspace's timezone: the contacts without one of their own live in it.
constexpr const char* kDefaultZone = "Europe/Berlin";
// A contact's timezone ("": none), with summer time north and south and without.
const char* kZones[] = {"", "", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "UTC"};
const char* kCities[] = {"Paris", "Lyon", "paris", "Berlin", "Oslo"};
const char* kPlans[] = {"free", "pro", "team"};
const char* kTags[] = {"tea", "Coffee", "books"};
const char* kTemplates[] = {"welcome", "digest"};
// Salts for random_bucket("..."): "" is the plain random_bucket; one with a byte above 0x7f.
const char* kSalts[] = {"", "holdout", "spring-test", "caf\xc3\xa9"};

// YYYY-MM-DD of a day since the epoch.
std::string DateText(int64_t day) { return FormatTimestamp(FromMicros(day * kDay)).substr(0, 10); }

// The UTC offset, in seconds, of a contact's zone (the default when it has none) at a moment.
int64_t OffsetAt(const std::string& zone, int64_t micros) {
  const date::time_zone* z = date::locate_zone(zone.empty() ? kDefaultZone : zone);
  return z->get_info(date::sys_seconds{std::chrono::seconds{micros / 1'000'000}}).offset.count();
}

// The bucket's recipe (docs/segments.md, src/segment's RandomBucket): FNV-1a (64 bits) of the
// salt's bytes, xored with the contact id plus splitmix64's increment, through splitmix64's
// output function; the bucket is that modulo 100. Written here from the reference definitions:
// FNV-1a's offset basis and prime (http://www.isthe.com/chongo/tech/comp/fnv/), splitmix64's
// constants (Steele, Lea and Flood 2014; Vigna's splitmix64.c).
uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 0x00000100000001b3ULL;
  }
  return h;
}

uint64_t SplitMix64Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int OracleBucket(int64_t id, std::string_view salt) {
  return static_cast<int>(SplitMix64Mix(Fnv1a64(salt) ^ (static_cast<uint64_t>(id) + 0x9e3779b97f4a7c15ULL)) %
                          100);
}

// oracle_bucket(id, salt BLOB) for SQLite.
void SqliteBucket(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const char* bytes = static_cast<const char*>(sqlite3_value_blob(argv[1]));
  int n = sqlite3_value_bytes(argv[1]);
  sqlite3_result_int(ctx,
                     OracleBucket(sqlite3_value_int64(argv[0]),
                                  std::string_view(bytes ? bytes : "", bytes ? static_cast<size_t>(n) : 0)));
}

// The same in PostgreSQL, which has no unsigned 64-bit integers: numeric arithmetic modulo 2^64,
// xor on the two 32-bit halves as bigints, shifts as divisions.
constexpr const char* kPgBucket = R"(
CREATE OR REPLACE FUNCTION oracle_xor(a numeric, b numeric) RETURNS numeric AS $$
  SELECT (div(a, 4294967296)::bigint # div(b, 4294967296)::bigint)::numeric * 4294967296
         + (mod(a, 4294967296)::bigint # mod(b, 4294967296)::bigint)::numeric
$$ LANGUAGE sql IMMUTABLE STRICT;
CREATE OR REPLACE FUNCTION oracle_bucket(contact bigint, salt bytea) RETURNS integer AS $$
DECLARE
  two64 CONSTANT numeric := 18446744073709551616;
  h numeric := 14695981039346656037;  -- FNV-1a's offset basis
  z numeric;
BEGIN
  FOR i IN 0 .. length(salt) - 1 LOOP
    h := mod(oracle_xor(h, get_byte(salt, i)) * 1099511628211, two64);
  END LOOP;
  z := oracle_xor(h, mod(contact + 11400714819323198485, two64));
  z := mod(oracle_xor(z, div(z, 1073741824)) * 13787848793156543929, two64);
  z := mod(oracle_xor(z, div(z, 134217728)) * 10723151780598845931, two64);
  z := oracle_xor(z, div(z, 2147483648));
  RETURN mod(z, 100)::integer;
END
$$ LANGUAGE plpgsql IMMUTABLE STRICT;
)";

std::string Hex(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

struct Data {
  std::string json;  // for LoadTestData
  std::string sql;   // CREATE + INSERT, portable between SQLite and PostgreSQL
};

std::string Q(const std::string& s) { return "'" + s + "'"; }

Data Generate(std::mt19937_64& rng, int contacts) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  json::array cs, es;
  std::string sql =
      "CREATE TABLE contacts (id BIGINT PRIMARY KEY, status TEXT, city TEXT, age DOUBLE PRECISION, vip "
      "INTEGER, plan TEXT, signup TEXT, renewal TEXT, birthday TEXT, created_at BIGINT, timezone TEXT, "
      // The zone's UTC offset in seconds at now and at created_at (for SQLite's local days).
      "now_offset BIGINT, created_offset BIGINT);\n"
      "CREATE TABLE tags (contact_id BIGINT, tag TEXT);\n"
      "CREATE TABLE topics (contact_id BIGINT, topic TEXT);\n"
      "CREATE TABLE events (contact_id BIGINT, name TEXT, at BIGINT, total DOUBLE PRECISION, currency "
      "TEXT, machine INTEGER, template TEXT, campaign_id BIGINT, utc_offset BIGINT);\n"
      // The correlated counts look up a contact's events by name, as a careful DBA would index.
      "CREATE INDEX events_by_contact ON events (contact_id, name, at);\n";
  const bool fractions = pick(2) == 0;
  for (int id = 1; id <= contacts; ++id) {
    json::object attrs;
    std::string city = "NULL", age = "NULL", vip = "NULL", plan = "NULL", signup = "NULL", renewal = "NULL",
                birthday = "NULL";
    if (pick(5)) {
      std::string c = kCities[pick(5)];
      attrs["city"] = c;
      city = Q(c);
    }
    if (pick(4)) {
      // Whole ages (the index keeps them as one-byte codes), or some halves among them in about
      // half of the data sets (the column then holds doubles).
      double a = 15 + pick(60);
      if (fractions && pick(4) == 0) a += 0.5;
      attrs["age"] = a;
      age = fmt::format("{}", a);
    }
    if (pick(3)) {
      bool v = pick(2);
      attrs["vip"] = v;
      vip = v ? "1" : "0";
    }
    if (pick(2)) {
      std::string p = kPlans[pick(3)];
      attrs["plan"] = p;
      plan = Q(p);
    }
    if (pick(3)) {
      std::string d = fmt::format("2026-{:02}-{:02}", 1 + pick(12), 1 + pick(28));
      attrs["signup"] = d;
      signup = Q(d);
    }
    if (pick(2)) {
      // Within a month of today, so that `renewal exactly N days from now` finds a few.
      std::string d = DateText(kToday + pick(61) - 30);
      attrs["renewal"] = d;
      renewal = Q(d);
    }
    if (pick(3)) {
      // A third of them in the days around today (so that `birthday in next N days` finds some);
      // a sixth on 29 February of a leap year, 28 February or 1 March; the rest any day.
      int year = 1950 + pick(56);
      std::string d;
      int k = pick(6);
      if (k < 2) {
        d = fmt::format("{}-06-{:02}", year, 10 + pick(21));
      } else if (k == 2) {
        static const char* kLate[] = {"02-29", "02-28", "03-01"};
        int which = pick(3);
        if (which == 0) year = 1988 + 4 * pick(5);  // 1988 .. 2004, leap years
        d = fmt::format("{}-{}", year, kLate[which]);
      } else {
        d = fmt::format("{}-{:02}-{:02}", year, 1 + pick(12), 1 + pick(28));
      }
      attrs["birthday"] = d;
      birthday = Q(d);
    }
    if (pick(2)) {
      json::array t;
      for (const char* tag : kTags)
        if (pick(2)) {
          t.emplace_back(tag);
          sql += fmt::format("INSERT INTO tags VALUES ({}, {});\n", id, Q(tag));
        }
      attrs["tags"] = std::move(t);
    }
    std::string status = pick(6) ? "active" : (pick(2) ? "unsubscribed" : "bounced");
    int64_t created = kNow - static_cast<int64_t>(pick(200)) * kDay - pick(86400) * 1'000'000LL;
    std::string zone = kZones[pick(6)];
    json::object c{{"id", id},
                   {"status", status},
                   {"attributes", attrs},
                   {"created_at", FormatTimestamp(FromMicros(created))}};
    if (!zone.empty()) c["timezone"] = zone;
    json::array topics;
    if (pick(3)) {
      topics.emplace_back("news");
      sql += fmt::format("INSERT INTO topics VALUES ({}, 'news');\n", id);
    }
    if (pick(4) == 0) {
      topics.emplace_back("offers");
      sql += fmt::format("INSERT INTO topics VALUES ({}, 'offers');\n", id);
    }
    if (!topics.empty()) c["topics"] = std::move(topics);
    cs.push_back(std::move(c));
    sql += fmt::format("INSERT INTO contacts VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
                       id, Q(status), city, age, vip, plan, signup, renewal, birthday, created,
                       zone.empty() ? "NULL" : Q(zone), OffsetAt(zone, kNow), OffsetAt(zone, created));
    int n = pick(8);
    for (int k = 0; k < n; ++k) {
      // Mostly in the last 120 days; some a day in the future.
      int64_t at = kNow - static_cast<int64_t>(pick(120 * 24)) * 3'600'000'000LL + (pick(10) == 0 ? kDay : 0);
      std::string name = pick(3) ? "order_placed" : "page_viewed";
      json::object e{{"contact", id}, {"name", name}, {"at", FormatTimestamp(FromMicros(at))}};
      std::string total = "NULL", currency = "NULL";
      if (name == "order_placed") {
        json::object p;
        if (pick(6)) {
          int t = pick(200);
          p["total"] = t;
          total = std::to_string(t);
        }
        std::string cur = pick(2) ? "EUR" : "USD";
        p["currency"] = cur;
        currency = Q(cur);
        e["properties"] = std::move(p);
      }
      es.push_back(std::move(e));
      sql += fmt::format("INSERT INTO events VALUES ({}, {}, {}, {}, {}, NULL, NULL, NULL, {});\n", id,
                         Q(name), at, total, currency, OffsetAt(zone, at));
    }
    // Message events: the outbox's message.sent, tracking's opens and clicks (human, machine, or
    // without the property, as an open posted through the events API may be).
    int m = pick(4);
    for (int k = 0; k < m; ++k) {
      int64_t at = kNow - static_cast<int64_t>(pick(90 * 24)) * 3'600'000'000LL + (pick(15) == 0 ? kDay : 0);
      int kind = pick(3);
      std::string name = kind == 0 ? "message.sent" : kind == 1 ? "email_opened" : "email_clicked";
      std::string tmpl = kTemplates[pick(2)];
      int campaign = 12 + pick(2);
      json::object p{{"template", tmpl}, {"campaign_id", campaign}};
      std::string machine = "NULL";
      if (kind != 0) {
        int h = pick(5);
        if (h < 3) {
          p["machine"] = false;
          machine = "0";
        } else if (h == 3) {
          p["machine"] = true;
          machine = "1";
        }
      }
      json::object e{{"contact", id}, {"name", name}, {"at", FormatTimestamp(FromMicros(at))}};
      e["properties"] = std::move(p);
      es.push_back(std::move(e));
      sql += fmt::format("INSERT INTO events VALUES ({}, {}, {}, NULL, NULL, {}, {}, {}, {});\n", id, Q(name),
                         at, machine, Q(tmpl), campaign, OffsetAt(zone, at));
    }
  }
  json::object all{{"now", FormatTimestamp(FromMicros(kNow))}, {"contacts", cs}, {"events", es}};
  return {json::serialize(all), sql};
}

// One generated predicate: its text in the language and its SQL over contacts c, in SQLite's
// dialect and, where PostgreSQL's differs (local days, random buckets), in PostgreSQL's.
struct Gen {
  Gen(std::string t, std::string s, std::string p = {})
      : text(std::move(t)), sql(std::move(s)), pg(std::move(p)) {}
  std::string text, sql, pg;
  const std::string& For(bool postgres) const { return postgres && !pg.empty() ? pg : sql; }
};

// Today in the contact's timezone. SQLite: from the offset stored with the contact, as text
// (YYYY-MM-DD, `delta` days later) or as a day number; PostgreSQL: a date, from the zone.
std::string LiteToday(int64_t delta = 0) {
  return fmt::format("date({} + c.now_offset + ({}), 'unixepoch')", kNowSeconds, delta * 86'400);
}
std::string LiteTodayNumber() { return fmt::format("(({} + c.now_offset * 1000000) / {})", kNow, kDay); }
std::string PgZone() { return fmt::format("COALESCE(c.timezone, '{}')", kDefaultZone); }
std::string PgToday() {
  return fmt::format("(to_timestamp({}) AT TIME ZONE {})::date", kNowSeconds, PgZone());
}
// The local calendar day of a time in microseconds, as a date.
std::string PgDayOf(const std::string& micros) {
  return fmt::format("(to_timestamp(({}) / 1000000.0) AT TIME ZONE {})::date", micros, PgZone());
}

// `F in next N days`: the next time the month and day of F come round, on or after today (29
// February on 28 February in a year without one), is fewer than `span` days away. `today` is the
// contact's local today in the dialect's date type, `year_of_today` its year as an integer.
std::string NextAnniversaryWithin(const std::string& f, const std::string& today,
                                  const std::string& year_of_today, bool postgres, int64_t span) {
  std::string m = fmt::format("CAST(substr(c.{}, 6, 2) AS INTEGER)", f);
  std::string d = fmt::format("CAST(substr(c.{}, 9, 2) AS INTEGER)", f);
  auto on = [&](const std::string& y) {
    std::string leap = fmt::format("(({0}) % 4 = 0 AND (({0}) % 100 <> 0 OR ({0}) % 400 = 0))", y);
    std::string day =
        fmt::format("CASE WHEN {} = 2 AND {} = 29 AND NOT {} THEN 28 ELSE {} END", m, d, leap, d);
    return postgres ? fmt::format("make_date({}, {}, {})", y, m, day)
                    : fmt::format("printf('%04d-%02d-%02d', {}, {}, {})", y, m, day);
  };
  std::string this_year = on(year_of_today), next_year = on(year_of_today + " + 1");
  std::string next =
      fmt::format("CASE WHEN {} >= {} THEN {} ELSE {} END", this_year, today, this_year, next_year);
  std::string days_away = postgres ? fmt::format("({}) - {}", next, today)
                                   : fmt::format("julianday({}) - julianday({})", next, today);
  return fmt::format("c.{} IS NOT NULL AND {} < {}", f, days_away, span);
}

class ExprGen {
 public:
  explicit ExprGen(std::mt19937_64& rng) : rng_(rng) {}
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  Gen Leaf() {
    static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
    static const char* kSqlOps[] = {"=", "<>", "<", "<=", ">", ">="};
    int op = Pick(6);
    switch (Pick(27)) {
      case 0: {
        std::string v = kCities[Pick(5)];
        int o = Pick(2);
        return {fmt::format("city {} \"{}\"", kOps[o], v), fmt::format("c.city {} {}", kSqlOps[o], Q(v))};
      }
      case 1: {
        double v = 15 + Pick(60) + (Pick(4) == 0 ? 0.5 : 0.0);
        return {fmt::format("age {} {}", kOps[op], v), fmt::format("c.age {} {}", kSqlOps[op], v)};
      }
      case 2: {
        std::string a = kCities[Pick(5)], b = kCities[Pick(5)];
        bool neg = Pick(2);
        return {fmt::format("city {}in (\"{}\", \"{}\")", neg ? "not " : "", a, b),
                fmt::format("c.city {}IN ({}, {})", neg ? "NOT " : "", Q(a), Q(b))};
      }
      case 3: {
        static const char* kNeedles[] = {"par", "ON", "s", "is"};
        std::string n = kNeedles[Pick(4)];
        int k = Pick(3);
        const char* word[] = {"contains", "starts with", "ends with"};
        std::string like = k == 0   ? "%" + AsciiLower(n) + "%"
                           : k == 1 ? AsciiLower(n) + "%"
                                    : "%" + AsciiLower(n);
        return {fmt::format("city {} \"{}\"", word[k], n), fmt::format("lower(c.city) LIKE {}", Q(like))};
      }
      case 4: {
        bool exists = Pick(2);
        return {exists ? "plan exists" : "plan is null", exists ? "c.plan IS NOT NULL" : "c.plan IS NULL"};
      }
      case 5: {
        bool v = Pick(2);
        return {fmt::format("vip = {}", v ? "true" : "false"), fmt::format("c.vip = {}", v ? 1 : 0)};
      }
      case 6: {
        std::string t = AsciiLower(kTags[Pick(3)]);
        if (Pick(2)) t[0] = static_cast<char>(t[0] - 'a' + 'A');
        return {fmt::format("tags contains \"{}\"", t),
                fmt::format("EXISTS (SELECT 1 FROM tags t WHERE t.contact_id = c.id AND lower(t.tag) = {})",
                            Q(AsciiLower(t)))};
      }
      case 7: {
        std::string s = Pick(2) ? "active" : "unsubscribed";
        return {fmt::format("status = \"{}\"", s), fmt::format("c.status = {}", Q(s))};
      }
      case 8:
        return {"subscribed to news",
                "EXISTS (SELECT 1 FROM topics t WHERE t.contact_id = c.id AND t.topic = 'news')"};
      case 9: {
        int n = 1 + Pick(150);
        if (Pick(2))
          return {fmt::format("created_at within {} days", n),
                  fmt::format("(c.created_at >= {} AND c.created_at <= {})", kNow - n * kDay, kNow)};
        return {fmt::format("created_at more than {} days ago", n),
                fmt::format("c.created_at < {}", kNow - n * kDay)};
      }
      case 10: {
        std::string d = fmt::format("2026-{:02}-{:02}", 1 + Pick(12), 1 + Pick(28));
        bool before = Pick(2);
        return {fmt::format("signup {} {}", before ? "before" : "after", d),
                fmt::format("c.signup {} {}", before ? "<" : ">", Q(d))};
      }
      case 11:
      case 12: {
        // at least / at most / exactly / no / any, with an optional filter and window.
        std::string event = Pick(3) ? "order_placed" : "page_viewed";
        std::string where_text, where_sql, window_text, window_sql;
        if (event == "order_placed" && Pick(2)) {
          int t = Pick(150);
          int o = 2 + Pick(4);
          if (Pick(3)) {
            where_text = fmt::format(" where total {} {}", kOps[o], t);
            where_sql = fmt::format(" AND e.total {} {}", kSqlOps[o], t);
          } else {
            where_text = fmt::format(" where (total {} {} and currency = \"EUR\")", kOps[o], t);
            where_sql = fmt::format(" AND e.total {} {} AND e.currency = 'EUR'", kSqlOps[o], t);
          }
        }
        if (Pick(3)) {
          int n = 1 + Pick(100);
          window_text = fmt::format(" in the last {} days", n);
          window_sql = fmt::format(" AND e.at >= {}", kNow - n * kDay);
        }
        std::string count = fmt::format(
            "(SELECT count(*) FROM events e WHERE e.contact_id = c.id AND e.name = {} AND e.at <= {}{}{})",
            Q(event), kNow, where_sql, window_sql);
        int k = Pick(4);
        switch (Pick(5)) {
          case 0:
            return {fmt::format("at least {} {}{}{}", k, event, where_text, window_text),
                    count + " >= " + std::to_string(k)};
          case 1:
            return {fmt::format("at most {} {}{}{}", k, event, where_text, window_text),
                    count + " <= " + std::to_string(k)};
          case 2:
            return {fmt::format("exactly {} {}{}{}", k, event, where_text, window_text),
                    count + " = " + std::to_string(k)};
          case 3: return {fmt::format("no {}{}{}", event, where_text, window_text), count + " = 0"};
          default: return {fmt::format("any {}{}{}", event, where_text, window_text), count + " >= 1"};
        }
      }
      case 13: {
        int s = Pick(300);
        std::string window_text, window_sql;
        if (Pick(2)) {
          int n = 1 + Pick(100);
          window_text = fmt::format(" in the last {} days", n);
          window_sql = fmt::format(" AND e.at >= {}", kNow - n * kDay);
        }
        int o = 2 + Pick(4);
        return {
            fmt::format("sum(total) of order_placed{} {} {}", window_text, kOps[o], s),
            fmt::format("COALESCE((SELECT sum(e.total) FROM events e WHERE e.contact_id = c.id AND e.name = "
                        "'order_placed' AND e.at <= {}{}), 0) {} {}",
                        kNow, window_sql, kSqlOps[o], s)};
      }
      case 14: {
        int s = Pick(200);
        bool mx = Pick(2);
        int o = 2 + Pick(4);
        return {fmt::format("{}(total) of order_placed {} {}", mx ? "max" : "min", kOps[o], s),
                fmt::format(
                    "(SELECT {}(e.total) FROM events e WHERE e.contact_id = c.id AND e.name = 'order_placed' "
                    "AND e.at <= {}) {} {}",
                    mx ? "max" : "min", kNow, kSqlOps[o], s)};
      }
      case 15: {
        int n = 1 + Pick(90);
        std::string event = Pick(2) ? "order_placed" : "page_viewed";
        bool last = Pick(2);
        std::string t = fmt::format(
            "(SELECT {}(e.at) FROM events e WHERE e.contact_id = c.id AND e.name = {} AND e.at <= {})",
            last ? "max" : "min", Q(event), kNow);
        if (Pick(2))
          return {fmt::format("{} {} within {} days", last ? "last" : "first", event, n),
                  fmt::format("({} >= {} AND {} <= {})", t, kNow - n * kDay, t, kNow)};
        return {fmt::format("{} {} more than {} days ago", last ? "last" : "first", event, n),
                fmt::format("{} < {}", t, kNow - n * kDay)};
      }
      case 16: {
        // One calendar day, on the contact's local calendar: a date attribute, the day of a
        // timestamp, or of an event's first or last time.
        int which = Pick(4);
        bool ago = which >= 2 || Pick(2);  // every created_at is past; an event's time takes ago only
        bool weeks = Pick(5) == 0;
        int n = weeks ? Pick(5) : which == 0 ? Pick(31) : which == 3 ? Pick(20) : Pick(200);
        int64_t delta = (ago ? -1 : 1) * (weeks ? 7 * n : n);
        std::string when =
            fmt::format("exactly {} {} {}", n, weeks ? "weeks" : "days", ago ? "ago" : "from now");
        if (which == 3) {
          std::string event = Pick(2) ? "order_placed" : "page_viewed";
          bool last = Pick(2);
          std::string where = fmt::format(
              "FROM events e WHERE e.contact_id = c.id AND e.name = {} AND e.at <= {}", Q(event), kNow);
          return {fmt::format("{} {} {}", last ? "last" : "first", event, when),
                  fmt::format(
                      "(SELECT (e.at + e.utc_offset * 1000000) / {} {} ORDER BY e.at {} LIMIT 1) = {} + ({})",
                      kDay, where, last ? "DESC" : "ASC", LiteTodayNumber(), delta),
                  fmt::format("{} = {} + ({})",
                              PgDayOf(fmt::format("SELECT {}(e.at) {}", last ? "max" : "min", where)),
                              PgToday(), delta)};
        }
        if (which == 2)
          return {"created_at " + when,
                  fmt::format("(c.created_at + c.created_offset * 1000000) / {} = {} + ({})", kDay,
                              LiteTodayNumber(), delta),
                  fmt::format("{} = {} + ({})", PgDayOf("c.created_at"), PgToday(), delta)};
        const char* field = which == 0 ? "renewal" : "signup";
        return {fmt::format("{} {}", field, when), fmt::format("c.{} = {}", field, LiteToday(delta)),
                fmt::format("CAST(c.{} AS DATE) = {} + ({})", field, PgToday(), delta)};
      }
      case 17:
      case 18: return Engagement();
      case 19: {
        switch (Pick(4)) {
          case 0: return {"status != \"active\"", "c.status <> 'active'"};
          case 1:
            return {"status in (\"bounced\", \"unsubscribed\")", "c.status IN ('bounced', 'unsubscribed')"};
          case 2: return {"status not in (\"active\")", "c.status NOT IN ('active')"};
          default:
            return {"subscribed to offers",
                    "EXISTS (SELECT 1 FROM topics t WHERE t.contact_id = c.id AND t.topic = 'offers')"};
        }
      }
      case 20: {
        std::string salt = kSalts[Pick(4)];
        std::string field = salt.empty() ? "random_bucket" : fmt::format("random_bucket(\"{}\")", salt);
        std::string lite = fmt::format("oracle_bucket(c.id, X'{}')", Hex(salt));
        std::string pg = fmt::format("oracle_bucket(c.id, '\\x{}'::bytea)", Hex(salt));
        if (Pick(4) == 0) {
          int a = Pick(100), b = Pick(100), d = Pick(100);
          bool neg = Pick(2);
          std::string list = fmt::format("({}, {}, {})", a, b, d);
          return {fmt::format("{} {}in {}", field, neg ? "not " : "", list),
                  fmt::format("{} {}IN {}", lite, neg ? "NOT " : "", list),
                  fmt::format("{} {}IN {}", pg, neg ? "NOT " : "", list)};
        }
        int v = Pick(101);
        return {fmt::format("{} {} {}", field, kOps[op], v), fmt::format("{} {} {}", lite, kSqlOps[op], v),
                fmt::format("{} {} {}", pg, kSqlOps[op], v)};
      }
      case 21:
      case 22: {
        // Birthdays and anniversaries: mostly the next few days, some far enough to reach 28
        // February 2027 (29 February in a year without one), some past a whole year.
        const char* field = Pick(4) ? "birthday" : Pick(2) ? "signup" : "renewal";
        bool weeks = Pick(4) == 0;
        bool far = Pick(3) == 0;
        int n = weeks ? (far ? 30 + Pick(30) : Pick(3)) : (far ? 240 + Pick(160) : Pick(15));
        int64_t span = std::min<int64_t>(std::max<int64_t>(weeks ? 7 * n : n, 1), 366);
        std::string text = fmt::format("{} in next {} {}", field, n, weeks ? "weeks" : "days");
        return {text,
                NextAnniversaryWithin(field, LiteToday(),
                                      fmt::format("CAST(strftime('%Y', {}) AS INTEGER)", LiteToday()), false,
                                      span),
                NextAnniversaryWithin(field, PgToday(),
                                      fmt::format("CAST(extract(year FROM {}) AS INTEGER)", PgToday()), true,
                                      span)};
      }
      case 23: {
        if (saved_.empty()) return Leaf();
        const Saved& s = saved_[static_cast<size_t>(Pick(static_cast<int>(saved_.size())))];
        // The referenced segment's SQL inlined: its `c` is the subquery's own.
        return {"in segment " + s.name, fmt::format("c.id IN (SELECT c.id FROM contacts c WHERE {})", s.sql),
                fmt::format("c.id IN (SELECT c.id FROM contacts c WHERE {})", s.pg)};
      }
      case 24: {
        // Day ranges of a date attribute, counted in whole days from the contact's local today.
        const char* field = Pick(2) ? "renewal" : "signup";
        int n = Pick(40);
        switch (Pick(4)) {
          case 0:
          case 1: {
            bool less = Pick(2);
            return {
                fmt::format("{} {} {} days{}", field, less ? "less than" : "within", n, less ? " ago" : ""),
                fmt::format("c.{} BETWEEN {} AND {}", field, LiteToday(-n), LiteToday()),
                fmt::format("CAST(c.{} AS DATE) BETWEEN {} - {} AND {}", field, PgToday(), n, PgToday())};
          }
          case 2:
            return {fmt::format("{} within next {} days", field, n),
                    fmt::format("c.{} BETWEEN {} AND {}", field, LiteToday(), LiteToday(n)),
                    fmt::format("CAST(c.{} AS DATE) BETWEEN {} AND {} + {}", field, PgToday(), PgToday(), n)};
          default:
            return {fmt::format("{} more than {} days ago", field, n),
                    fmt::format("c.{} < {}", field, LiteToday(-n)),
                    fmt::format("CAST(c.{} AS DATE) < {} - {}", field, PgToday(), n)};
        }
      }
      case 25: {
        // A timestamp against a date: before its start, after its end, in UTC whatever the zone.
        int64_t day = kToday - Pick(200);
        if (Pick(2))
          return {fmt::format("created_at before {}", DateText(day)),
                  fmt::format("c.created_at < {}", day * kDay)};
        return {fmt::format("created_at after {}", DateText(day)),
                fmt::format("c.created_at >= {}", (day + 1) * kDay)};
      }
      default: {
        bool exists = Pick(2);
        return {exists ? "city exists" : "city is null", exists ? "c.city IS NOT NULL" : "c.city IS NULL"};
      }
    }
  }

  // opened / clicked / received, [never], [any message | template "x" | campaign N], [window].
  Gen Engagement() {
    int verb = Pick(3);
    const char* word = verb == 0 ? "opened" : verb == 1 ? "clicked" : "received";
    const char* event = verb == 0 ? "email_opened" : verb == 1 ? "email_clicked" : "message.sent";
    // Opens and clicks are engagement when tracking judged them human; sends count as they are.
    std::string text = word, sql_filter = verb < 2 ? " AND e.machine = 0" : "";
    bool never = Pick(4) == 0;
    if (never) text.insert(0, "never ");
    switch (Pick(4)) {
      case 0: text += " any message"; break;
      case 1: {
        std::string t = kTemplates[Pick(2)];
        text += fmt::format(" template \"{}\"", t);
        sql_filter += " AND e.template = " + Q(t);
        break;
      }
      case 2: {
        int campaign = 12 + Pick(2);
        text += fmt::format(" campaign {}", campaign);
        sql_filter += fmt::format(" AND e.campaign_id = {}", campaign);
        break;
      }
      default: break;  // any message
    }
    switch (Pick(3)) {
      case 0: {
        int n = 1 + Pick(90);
        text += fmt::format(" in the last {} days", n);
        sql_filter += fmt::format(" AND e.at >= {}", kNow - n * kDay);
        break;
      }
      case 1: {
        int n = 1 + Pick(90);
        text += fmt::format(" within {} days", n);
        sql_filter += fmt::format(" AND e.at >= {}", kNow - n * kDay);
        break;
      }
      default: break;  // ever
    }
    std::string count = fmt::format(
        "(SELECT count(*) FROM events e WHERE e.contact_id = c.id AND e.name = {} AND e.at <= {}{})",
        Q(event), kNow, sql_filter);
    return {text, count + (never ? " = 0" : " >= 1")};
  }

  // A whole expression; its SQL in both dialects (pg always set).
  Gen Expr(int depth) {
    if (depth <= 0 || Pick(3) == 0) {
      Gen g = Leaf();
      return {g.text, "COALESCE((" + g.sql + "), FALSE)", "COALESCE((" + g.For(true) + "), FALSE)"};
    }
    switch (Pick(3)) {
      case 0: {
        Gen a = Expr(depth - 1), b = Expr(depth - 1);
        return {"(" + a.text + " and " + b.text + ")", "(" + a.sql + " AND " + b.sql + ")",
                "(" + a.pg + " AND " + b.pg + ")"};
      }
      case 1: {
        Gen a = Expr(depth - 1), b = Expr(depth - 1);
        return {"(" + a.text + " or " + b.text + ")", "(" + a.sql + " OR " + b.sql + ")",
                "(" + a.pg + " OR " + b.pg + ")"};
      }
      default: {
        Gen a = Expr(depth - 1);
        return {"not " + a.text, "(NOT " + a.sql + ")", "(NOT " + a.pg + ")"};
      }
    }
  }

  // A saved segment (an expression from Expr) that the leaves generated after it may refer to.
  void Save(const std::string& name, const Gen& g) { saved_.push_back({name, g.sql, g.pg}); }

 private:
  struct Saved {
    std::string name, sql, pg;
  };
  std::mt19937_64& rng_;
  std::vector<Saved> saved_;
};

using Members = std::set<int64_t>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual void Exec(const std::string& sql) = 0;
  virtual Members Query(const std::string& where) = 0;
  virtual bool postgres() const = 0;  // which of Gen's dialects it speaks
};

class SqliteBackend : public Backend {
 public:
  SqliteBackend() {
    sqlite3_open(":memory:", &db_);
    sqlite3_create_function(db_, "oracle_bucket", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                            &SqliteBucket, nullptr, nullptr);
  }
  ~SqliteBackend() override { sqlite3_close(db_); }
  void Exec(const std::string& sql) override {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, ("BEGIN;" + sql + "COMMIT;").c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << err;
  }
  Members Query(const std::string& where) override {
    Members out;
    std::string sql = "SELECT c.id FROM contacts c WHERE " + where;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << "\n"
        << sql;
    while (st && sqlite3_step(st) == SQLITE_ROW) out.insert(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return out;
  }
  bool postgres() const override { return false; }

 private:
  sqlite3* db_ = nullptr;
};

class PgBackend : public Backend {
 public:
  explicit PgBackend(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~PgBackend() override { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  void Exec(const std::string& sql) override {
    PGresult* r = PQexec(conn_, ("BEGIN;" + sql + "COMMIT;").c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn_);
    PQclear(r);
  }
  Members Query(const std::string& where) override {
    Members out;
    // PostgreSQL's COALESCE needs booleans: integer columns compared are booleans already.
    PGresult* r = PQexec(conn_, ("SELECT c.id FROM contacts c WHERE " + where).c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn_) << "\n" << where;
    for (int i = 0; i < PQntuples(r); ++i) out.insert(std::stoll(PQgetvalue(r, i, 0)));
    PQclear(r);
    return out;
  }
  bool postgres() const override { return true; }

 private:
  PGconn* conn_;
};

constexpr int kContacts = 400;
constexpr int kSaved = 3;  // saved segments, named saved_0 ...

void RunOracle(Backend& sql, uint64_t seed, int expressions) {
  std::mt19937_64 rng(seed);
  Data data = Generate(rng, kContacts);
  sql.Exec(data.sql);
  ExprGen gen(rng);
  // The saved segments first, each selective over this data (so that `in segment` means
  // something), each free to refer to those before it; then the expressions.
  std::vector<Gen> exprs;
  std::vector<std::string> saved_names;
  for (int i = 0; i < kSaved; ++i) {
    Gen g = gen.Expr(2);
    for (int tries = 0; tries < 20; ++tries) {
      size_t n = sql.Query(g.For(sql.postgres())).size();
      if (n > 0 && n < static_cast<size_t>(kContacts)) break;
      g = gen.Expr(2);
    }
    saved_names.push_back(fmt::format("saved_{}", i));
    gen.Save(saved_names.back(), g);
    exprs.push_back(std::move(g));
  }
  for (int i = 0; i < expressions; ++i) exprs.push_back(gen.Expr(3));

  Schema schema;
  schema.attributes = {{"city", ValueType::kString},   {"age", ValueType::kNumber},
                       {"vip", ValueType::kBool},      {"plan", ValueType::kString},
                       {"signup", ValueType::kDate},   {"renewal", ValueType::kDate},
                       {"birthday", ValueType::kDate}, {"tags", ValueType::kList}};
  schema.events = {"order_placed", "page_viewed", "email_opened", "email_clicked", "message.sent"};
  schema.topics = {"news", "offers"};
  schema.segments.insert(saved_names.begin(), saved_names.end());
  testing::TestData d;
  std::vector<ExprPtr> compiled;
  for (const Gen& g : exprs) {
    auto r = Compile(g.text, schema);
    if (auto* e = std::get_if<ParseError>(&r)) {
      ADD_FAILURE() << g.text << ": " << e->ToString();
      return;
    }
    compiled.push_back(std::get<ExprPtr>(std::move(r)));
    BindStreams(*compiled.back(), d.index);
  }
  ASSERT_TRUE(testing::LoadTestData(data.json, d).ok());
  // The saved segments' members as rapport computed them, as the segment engine keeps them.
  std::map<std::string, Bitmap, std::less<>> saved;
  EvalContext ctx{kNow, kDefaultZone, [&saved](const std::string& name) -> const Bitmap* {
                    auto it = saved.find(name);
                    return it == saved.end() ? nullptr : &it->second;
                  }};
  Evaluator ev(d.index, ctx);
  int nonempty = 0, exact_days_nonempty = 0, anniversary_nonempty = 0, in_segment_nonempty = 0;
  const std::regex exact_days("exactly [0-9]+ (days|weeks) (ago|from now)");
  const std::regex anniversary("in next [0-9]+ (days|weeks)");
  for (size_t i = 0; i < exprs.size(); ++i) {
    const std::string& where = exprs[i].For(sql.postgres());
    Members want = sql.Query(where);
    if (std::regex_search(exprs[i].text, exact_days)) exact_days_nonempty += !want.empty();
    if (std::regex_search(exprs[i].text, anniversary)) anniversary_nonempty += !want.empty();
    if (exprs[i].text.find("in segment ") != std::string::npos) in_segment_nonempty += !want.empty();
    Members got;
    Bitmap members = ev.Scan(*compiled[i], d.index.live());
    members.ForEach([&](uint32_t r) { got.insert(d.index.IdOf(r)); });
    nonempty += !want.empty() && want.size() < static_cast<size_t>(kContacts);
    ASSERT_EQ(got, want) << "expression: " << exprs[i].text << "\nSQL: " << where;
    // The scan split over threads (forced on these few rows) finds the same members.
    ASSERT_TRUE(ParallelScan(d.index, ctx, *compiled[i], d.index.live(), 3, /*min_rows=*/0) == members)
        << "expression: " << exprs[i].text;
    if (i < static_cast<size_t>(kSaved)) saved.emplace(saved_names[i], std::move(members));
  }
  // The generator must produce selective expressions, not only all-or-nothing ones.
  EXPECT_GT(nonempty, expressions / 3);
  // ... and, among them, local-day, anniversary and segment predicates that find someone (not
  // only empty sets that agree).
  EXPECT_GT(exact_days_nonempty, 0);
  EXPECT_GT(anniversary_nonempty, 0);
  EXPECT_GT(in_segment_nonempty, 0);
}

// The bucket rapport computes is the documented recipe, for plain and salted buckets (the oracle
// below then checks the predicates over it).
TEST(SegmentOracle, RandomBucketIsTheDocumentedRecipe) {
  for (const char* salt : kSalts)
    for (int64_t id = 1; id <= 2000; ++id)
      ASSERT_EQ(RandomBucket(id, salt), OracleBucket(id, salt)) << "id " << id << ", salt \"" << salt << "\"";
  // The reference constants themselves: FNV-1a of "a" (from the FNV test vectors).
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
}

TEST(SegmentOracle, SameMembersAsSqlite) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    SqliteBackend db;
    RunOracle(db, seed, 150);
  }
}

TEST(SegmentOracle, SameMembersAsPostgres) {
  std::string error;
  auto pg = rapport::testing::PgServer::Start(&error);
  ASSERT_TRUE(pg) << error;
  ASSERT_TRUE(pg->CreateDatabase("oracle", &error)) << error;
  for (uint64_t seed : {4u, 5u}) {
    SCOPED_TRACE(seed);
    PgBackend db(pg->Url("oracle"));
    ASSERT_TRUE(db.ok());
    db.Exec("DROP TABLE IF EXISTS contacts, tags, topics, events;");
    db.Exec(kPgBucket);
    RunOracle(db, seed, 150);
  }
}

}  // namespace
}  // namespace rapport::segment
