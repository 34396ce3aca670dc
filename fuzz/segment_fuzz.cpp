// Fuzzes the segment language: lexer, parser, checker, canonical text and evaluation.
// Input: an expression's bytes. Every input must end in a tree or a ParseError with a position
// inside the input: no crash, no hang, no sanitizer report. A tree's canonical text must parse
// again to the same canonical text, and evaluating it over a small index by scan and per
// contact must agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "segment/checker.h"
#include "segment/evaluator.h"
#include "segment/parser.h"
#include "segment/profile_index.h"

namespace {

using namespace rapport;
using namespace rapport::segment;

ProfileIndex& Index() {
  static ProfileIndex* index = [] {
    auto* idx = new ProfileIndex();
    const char* contacts[] = {
        R"({"email": "a@x.org", "status": "active", "timezone": "Europe/Paris",
            "attributes": {"city": "Paris", "age": 34, "vip": true, "tags": ["tea", "b"], "birthday": "1990-02-28",
                           "seen": "2026-06-01T10:00:00Z"}})",
        R"({"email": "b@y.org", "status": "bounced", "attributes": {"city": "Lyon", "age": "x", "birthday": "1988-02-29"}})",
        R"({"email": "c@z.org", "status": "active"})"};
    int64_t id = 1;
    for (const char* c : contacts) {
      Event e;
      e.workspace_id = 1;
      e.contact_id = id;
      e.name = "contact.created";
      e.position = id;
      e.occurred_at = FromMicros(1'750'000'000'000'000 + id);
      e.properties = json::parse(c).as_object();
      idx->Apply(e);
      Event o;
      o.workspace_id = 1;
      o.contact_id = id;
      o.name = "order_placed";
      o.position = 10 + id;
      o.occurred_at = FromMicros(1'760'000'000'000'000 - id * 86'400'000'000);
      o.properties = json::object{{"total", 40 * id}, {"currency", id == 2 ? "USD" : "EUR"}};
      idx->Apply(o);
      ++id;
    }
    return idx;
  }();
  return *index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  Schema schema = Index().SchemaFor(1);
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
  BindStreams(*e2, Index());
  Bitmap vip;
  vip.Add(0);
  EvalContext ctx{1'760'000'000'000'000, "UTC",
                  [&](const std::string& n) { return n == "vip" ? &vip : nullptr; }};
  Evaluator ev(Index(), ctx);
  Bitmap members = ev.Scan(*e2, Index().live());
  for (uint32_t row = 0; row < Index().rows(); ++row) {
    int64_t next = INT64_MAX;
    if (ev.Matches(*e2, row, &next) != members.Contains(row)) std::abort();
    if (next <= ctx.now) std::abort();
  }
  return 0;
}
