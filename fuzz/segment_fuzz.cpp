// Fuzzes the segment language: lexer, parser, checker, canonical text and evaluation.
// Input: an expression's bytes. Every input must end in a tree or a ParseError with a position
// inside the input: no crash, no hang, no sanitizer report. A tree's canonical text must parse
// again to the same canonical text, and evaluating it over a small index by scan and per
// contact must agree.
//
// The index is built once: five contacts (two with a timezone far from UTC, birthdays on 29
// February and in the next days) and their events, so that behavior and engagement predicates
// walk real event streams: order_placed with total and currency, page_viewed with a path,
// email_opened and email_clicked with machine false and true, message.sent with template,
// campaign and journey; some in the last hours, some months ago, one in the future. A stream an
// expression needs that is new (a filter, a summed property) is filled from that log, as the
// segment service does; the index is rebuilt after a few thousand such streams, to bound memory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "segment/checker.h"
#include "segment/evaluator.h"
#include "segment/parser.h"
#include "segment/profile_index.h"

namespace {

using namespace rapport;
using namespace rapport::segment;

constexpr int64_t kNow = 1'760'000'000'000'000;  // 2025-10-09T08:53:20Z
constexpr int64_t kHour = 3'600'000'000;
// Streams made for the inputs' expressions before the index is built again.
constexpr size_t kMaxStreams = 4096;

class Fixture {
 public:
  Fixture() {
    const char* contacts[] = {
        R"({"email": "a@x.org", "status": "active", "timezone": "Europe/Paris",
            "attributes": {"city": "Paris", "age": 34, "vip": true, "tags": ["tea", "b"], "birthday": "1990-02-28",
                           "seen": "2026-06-01T10:00:00Z"}})",
        R"({"email": "b@y.org", "status": "bounced", "attributes": {"city": "Lyon", "age": "x", "birthday": "1988-02-29"}})",
        R"({"email": "c@z.org", "status": "active"})",
        R"({"email": "d@x.org", "status": "active", "timezone": "Pacific/Auckland",
            "attributes": {"city": "Oslo", "age": 51, "birthday": "1975-10-10", "renewal": "2025-10-12"}})",
        R"({"email": "e@y.org", "status": "unsubscribed", "timezone": "America/Los_Angeles",
            "attributes": {"plan": "pro", "birthday": "2000-10-09", "renewal": "2025-10-01"}})"};
    int64_t id = 1;
    for (const char* c : contacts) {
      Add(id, "contact.created", 24 * 400 - id, json::parse(c).as_object());  // in id order, long ago
      ++id;
    }
    // Orders: recent, within a month, months ago, one an hour ahead; one without a total.
    const struct {
      int64_t contact, hours_ago, total;
      const char* currency;
    } orders[] = {{1, 3, 80, "EUR"},      {1, 24 * 5, 40, "EUR"},   {1, 24 * 45, 120, "USD"},
                  {2, 24 * 2, 15, "USD"}, {2, 24 * 100, 60, "EUR"}, {3, 24 * 29, 200, "EUR"},
                  {4, 20, 35, "EUR"},     {4, -1, 90, "EUR"},       {5, 24 * 8, 0, "USD"}};
    for (const auto& o : orders) {
      json::object p{{"currency", o.currency}};
      if (o.total) p["total"] = o.total;
      Add(o.contact, "order_placed", o.hours_ago, std::move(p));
    }
    for (int64_t h : {1, 30, 24 * 7, 24 * 60}) Add(1, "page_viewed", h, json::object{{"path", "/pricing"}});
    Add(3, "page_viewed", 24 * 31, json::object{{"path", "/"}});
    Add(5, "page_viewed", 2, json::object{{"path", "/blog"}});
    // Messages and their opens and clicks: human (machine false), machine, and without the flag.
    for (int64_t c : {1, 2, 4, 5}) {
      Add(c, "message.sent", 24 * 3 + c,
          json::object{{"template", c % 2 ? "welcome" : "digest"}, {"campaign_id", 12}, {"journey_id", 3}});
      Add(c, "message.sent", 24 * 40,
          json::object{{"template", "digest"}, {"campaign_id", 13}, {"journey_id", 4}});
    }
    Add(1, "email_opened", 24 * 3,
        json::object{{"template", "welcome"}, {"campaign_id", 12}, {"machine", false}});
    Add(2, "email_opened", 24 * 3 - 1,
        json::object{{"template", "digest"}, {"campaign_id", 12}, {"machine", true}});
    Add(4, "email_opened", 24 * 39,
        json::object{{"template", "digest"}, {"campaign_id", 13}, {"machine", false}});
    Add(5, "email_opened", 24 * 2, json::object{{"template", "welcome"}, {"campaign_id", 12}});
    Add(1, "email_clicked", 24 * 3 - 2,
        json::object{{"template", "welcome"}, {"campaign_id", 12}, {"journey_id", 3}, {"machine", false}});
    Add(4, "email_clicked", 24 * 39,
        json::object{{"template", "digest"}, {"campaign_id", 13}, {"machine", true}});
    Rebuild();
  }

  ProfileIndex& index() { return *index_; }

  // Registers the streams `e` needs and fills the new ones from the log.
  void Bind(Expr& e) {
    if (made_ > kMaxStreams) Rebuild();
    std::vector<int> fresh = BindStreams(e, *index_);
    for (int s : fresh)
      for (const Event& ev : log_) index_->ApplyToStream(s, ev);
    made_ += fresh.size();
  }

 private:
  void Add(int64_t contact, const char* name, int64_t hours_ago, json::object properties) {
    Event e;
    e.workspace_id = 1;
    e.contact_id = contact;
    e.name = name;
    e.position = static_cast<int64_t>(log_.size()) + 1;
    e.occurred_at = FromMicros(kNow - hours_ago * kHour);
    e.properties = std::move(properties);
    log_.push_back(std::move(e));
  }

  void Rebuild() {
    index_ = std::make_unique<ProfileIndex>();
    for (const Event& e : log_) index_->Apply(e);
    made_ = 0;
  }

  std::vector<Event> log_;
  std::unique_ptr<ProfileIndex> index_;
  size_t made_ = 0;
};

Fixture& Fix() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  Fixture& fix = Fix();
  Schema schema = fix.index().SchemaFor(1);
  schema.topics = {"news"};
  schema.segments = {"vip"};
  auto r = Compile(src, schema);
  if (auto* err = std::get_if<ParseError>(&r)) {
    if (err->pos.offset > src.size() || err->pos.line < 1 || err->pos.column < 1) std::abort();
    return 0;
  }
  ExprPtr e = std::get<ExprPtr>(std::move(r));
  std::string canonical = Format(*e);
  auto again = Compile(canonical, schema);
  if (!std::holds_alternative<ExprPtr>(again)) std::abort();
  ExprPtr e2 = std::get<ExprPtr>(std::move(again));
  if (Format(*e2) != canonical) std::abort();
  fix.Bind(*e2);
  const ProfileIndex& index = fix.index();
  Bitmap vip;
  vip.Add(0);
  vip.Add(3);
  EvalContext ctx{kNow, "UTC", [&](const std::string& n) { return n == "vip" ? &vip : nullptr; }};
  Evaluator ev(index, ctx);
  Bitmap members = ev.Scan(*e2, index.live());
  for (uint32_t row = 0; row < index.rows(); ++row) {
    int64_t next = INT64_MAX;
    if (ev.Matches(*e2, row, &next) != members.Contains(row)) std::abort();
    if (next <= ctx.now) std::abort();
  }
  return 0;
}
