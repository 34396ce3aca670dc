// The correctness oracle: generated contacts and events, a few hundred generated expressions,
// each evaluated by rapport (scan of the profile index) and as equivalent SQL over the same data
// in SQLite and in a real PostgreSQL 15; the member sets must be identical.
//
// The SQL is written from docs/segments.md's semantics, independently of the evaluator: every
// predicate is COALESCE(<sql>, false) (a missing value makes a comparison false, `not` is plain
// negation), behavior is a correlated count/sum/max over the events at or before now, and
// engagement a count of `email_opened` / `email_clicked` with `machine` false, or of
// `message.sent`. The contacts have no timezone, so their days are UTC days (`exactly N days
// ago`: the day of created_at is its microseconds divided by a day's).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <fmt/format.h>

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
constexpr int64_t kNow = 1'781'524'800'000'000;  // 2026-06-15T12:00:00Z
const char* kCities[] = {"Paris", "Lyon", "paris", "Berlin", "Oslo"};
const char* kPlans[] = {"free", "pro", "team"};
const char* kTags[] = {"tea", "Coffee", "books"};
const char* kTemplates[] = {"welcome", "digest"};
constexpr int64_t kToday = kNow / kDay;  // 2026-06-15, in days since the epoch (UTC)

// YYYY-MM-DD of a day since the epoch.
std::string DateText(int64_t day) { return FormatTimestamp(FromMicros(day * kDay)).substr(0, 10); }

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
      "INTEGER, "
      "plan TEXT, signup TEXT, renewal TEXT, created_at BIGINT);\n"
      "CREATE TABLE tags (contact_id BIGINT, tag TEXT);\n"
      "CREATE TABLE topics (contact_id BIGINT, topic TEXT);\n"
      "CREATE TABLE events (contact_id BIGINT, name TEXT, at BIGINT, total DOUBLE PRECISION, currency "
      "TEXT, machine INTEGER, template TEXT, campaign_id BIGINT);\n"
      // The correlated counts look up a contact's events by name, as a careful DBA would index.
      "CREATE INDEX events_by_contact ON events (contact_id, name, at);\n";
  for (int id = 1; id <= contacts; ++id) {
    json::object attrs;
    std::string city = "NULL", age = "NULL", vip = "NULL", plan = "NULL", signup = "NULL", renewal = "NULL";
    if (pick(5)) {
      std::string c = kCities[pick(5)];
      attrs["city"] = c;
      city = Q(c);
    }
    if (pick(4)) {
      int a = 15 + pick(60);
      attrs["age"] = a;
      age = std::to_string(a);
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
    json::object c{{"id", id},
                   {"status", status},
                   {"attributes", attrs},
                   {"created_at", FormatTimestamp(FromMicros(created))}};
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
    sql += fmt::format("INSERT INTO contacts VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {});\n", id, Q(status),
                       city, age, vip, plan, signup, renewal, created);
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
      sql += fmt::format("INSERT INTO events VALUES ({}, {}, {}, {}, {}, NULL, NULL, NULL);\n", id, Q(name),
                         at, total, currency);
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
      sql += fmt::format("INSERT INTO events VALUES ({}, {}, {}, NULL, NULL, {}, {}, {});\n", id, Q(name), at,
                         machine, Q(tmpl), campaign);
    }
  }
  json::object all{{"now", FormatTimestamp(FromMicros(kNow))}, {"contacts", cs}, {"events", es}};
  return {json::serialize(all), sql};
}

// One generated predicate: its text in the language and its SQL over contacts c.
struct Gen {
  std::string text, sql;
};

class ExprGen {
 public:
  explicit ExprGen(std::mt19937_64& rng) : rng_(rng) {}
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  Gen Leaf() {
    static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
    static const char* kSqlOps[] = {"=", "<>", "<", "<=", ">", ">="};
    int op = Pick(6);
    switch (Pick(21)) {
      case 0: {
        std::string v = kCities[Pick(5)];
        int o = Pick(2);
        return {fmt::format("city {} \"{}\"", kOps[o], v), fmt::format("c.city {} {}", kSqlOps[o], Q(v))};
      }
      case 1: {
        int v = 15 + Pick(60);
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
        // One calendar day: a date attribute, or the day of a timestamp (UTC: no timezones here).
        int which = Pick(3);
        bool ago = which == 2 || Pick(2);  // every created_at is past
        bool weeks = Pick(5) == 0;
        int n = weeks ? Pick(5) : which == 0 ? Pick(31) : Pick(200);
        int64_t day = kToday + (ago ? -1 : 1) * (weeks ? 7 * n : n);
        const char* field = which == 0 ? "renewal" : which == 1 ? "signup" : "created_at";
        std::string text =
            fmt::format("{} exactly {} {} {}", field, n, weeks ? "weeks" : "days", ago ? "ago" : "from now");
        if (which == 2) return {text, fmt::format("c.created_at / {} = {}", kDay, day)};
        return {text, fmt::format("c.{} = {}", field, Q(DateText(day)))};
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

  Gen Expr(int depth) {
    if (depth <= 0 || Pick(3) == 0) {
      Gen g = Leaf();
      return {g.text, "COALESCE((" + g.sql + "), FALSE)"};
    }
    switch (Pick(3)) {
      case 0: {
        Gen a = Expr(depth - 1), b = Expr(depth - 1);
        return {"(" + a.text + " and " + b.text + ")", "(" + a.sql + " AND " + b.sql + ")"};
      }
      case 1: {
        Gen a = Expr(depth - 1), b = Expr(depth - 1);
        return {"(" + a.text + " or " + b.text + ")", "(" + a.sql + " OR " + b.sql + ")"};
      }
      default: {
        Gen a = Expr(depth - 1);
        return {"not " + a.text, "(NOT " + a.sql + ")"};
      }
    }
  }

 private:
  std::mt19937_64& rng_;
};

using Members = std::set<int64_t>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual void Exec(const std::string& sql) = 0;
  virtual Members Query(const std::string& where) = 0;
};

class SqliteBackend : public Backend {
 public:
  SqliteBackend() { sqlite3_open(":memory:", &db_); }
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

 private:
  PGconn* conn_;
};

void RunOracle(Backend& sql, uint64_t seed, int expressions) {
  std::mt19937_64 rng(seed);
  Data data = Generate(rng, 400);
  sql.Exec(data.sql);
  ExprGen gen(rng);
  std::vector<Gen> exprs;
  for (int i = 0; i < expressions; ++i) exprs.push_back(gen.Expr(3));

  Schema schema;
  schema.attributes = {{"city", ValueType::kString}, {"age", ValueType::kNumber},
                       {"vip", ValueType::kBool},    {"plan", ValueType::kString},
                       {"signup", ValueType::kDate}, {"renewal", ValueType::kDate},
                       {"tags", ValueType::kList}};
  schema.events = {"order_placed", "page_viewed", "email_opened", "email_clicked", "message.sent"};
  schema.topics = {"news", "offers"};
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
  Evaluator ev(d.index, EvalContext{kNow, "UTC", nullptr});
  int nonempty = 0, exact_days_nonempty = 0;
  const std::regex exact_days("exactly [0-9]+ (days|weeks) (ago|from now)");
  for (size_t i = 0; i < exprs.size(); ++i) {
    Members want = sql.Query(exprs[i].sql);
    if (std::regex_search(exprs[i].text, exact_days)) exact_days_nonempty += !want.empty();
    Members got;
    ev.Scan(*compiled[i], d.index.live()).ForEach([&](uint32_t r) { got.insert(d.index.IdOf(r)); });
    nonempty += !want.empty() && want.size() < 400;
    ASSERT_EQ(got, want) << "expression: " << exprs[i].text << "\nSQL: " << exprs[i].sql;
    // The scan split over threads (forced on these few rows) finds the same members.
    ASSERT_TRUE(ParallelScan(d.index, EvalContext{kNow, "UTC", nullptr}, *compiled[i], d.index.live(), 3,
                             /*min_rows=*/0) == ev.Scan(*compiled[i], d.index.live()))
        << "expression: " << exprs[i].text;
  }
  // The generator must produce selective expressions, not only all-or-nothing ones.
  EXPECT_GT(nonempty, expressions / 3);
  // ... and `exactly N days` among them that find someone (not only empty sets that agree).
  EXPECT_GT(exact_days_nonempty, 0);
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
    RunOracle(db, seed, 150);
  }
}

}  // namespace
}  // namespace rapport::segment
