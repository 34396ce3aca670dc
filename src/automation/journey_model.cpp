#include "automation/journey_model.h"
#include "core/json_parse.h"

#include <fmt/format.h>

#include <set>

namespace rapport::automation {

namespace {

constexpr int64_t kMaxDurationSeconds = 10LL * 366 * 24 * 3600;
constexpr size_t kMaxSteps = 500;
// A cycle of steps must hold a run at least this long on one of its steps (StepKind::MinimumHold).
constexpr Micros kMinCycleHold = std::chrono::minutes(1);

std::string Join(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  if (field.empty()) return std::string(path);
  return fmt::format("{}.{}", path, field);
}

Result<std::string> String(const json::object& o, std::string_view key, std::string_view path,
                           bool required) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) return Error::Invalid(Join(path, key), fmt::format("{} is required", key));
    return std::string();
  }
  if (!v->is_string() || v->get_string().empty())
    return Error::Invalid(Join(path, key), fmt::format("{} must be a non-empty string", key));
  return std::string(v->get_string());
}

Status OnlyKeys(const json::object& o, std::initializer_list<std::string_view> keys, std::string_view path) {
  for (const auto& [k, v] : o) {
    bool known = false;
    for (std::string_view x : keys) known = known || x == k;
    if (!known) return Error::Invalid(Join(path, k), fmt::format("unknown field '{}'", std::string_view(k)));
  }
  return {};
}

Result<Trigger> ParseTrigger(const json::value& v, std::string_view path) {
  if (!v.is_object()) return Error::Invalid(std::string(path), "a trigger is an object");
  const json::object& o = v.get_object();
  RAPPORT_ASSIGN_OR_RETURN(std::string type, String(o, "type", path, true));
  Trigger t;
  if (type == "event") {
    RAPPORT_TRY(OnlyKeys(o, {"type", "event", "where"}, path));
    t.type = TriggerType::kEvent;
    RAPPORT_ASSIGN_OR_RETURN(t.event, String(o, "event", path, true));
    if (const json::value* w = o.if_contains("where")) {
      RAPPORT_TRY(ValidateWhere(*w, Join(path, "where")));
      t.where = w->get_object();
    }
  } else if (type == "segment_entered" || type == "segment_exited") {
    RAPPORT_TRY(OnlyKeys(o, {"type", "segment"}, path));
    t.type = type == "segment_entered" ? TriggerType::kSegmentEntered : TriggerType::kSegmentExited;
    RAPPORT_ASSIGN_OR_RETURN(t.segment, String(o, "segment", path, true));
  } else if (type == "anniversary") {
    RAPPORT_TRY(OnlyKeys(o, {"type", "attribute", "at"}, path));
    t.type = TriggerType::kAnniversary;
    RAPPORT_ASSIGN_OR_RETURN(t.attribute, String(o, "attribute", path, true));
    if (const json::value* at = o.if_contains("at")) {
      RAPPORT_ASSIGN_OR_RETURN(auto hm, ParseTimeOfDay(*at, Join(path, "at")));
      t.hour = hm.first;
      t.minute = hm.second;
    }
  } else if (type == "inactivity") {
    RAPPORT_TRY(OnlyKeys(o, {"type", "days", "events"}, path));
    t.type = TriggerType::kInactivity;
    const json::value* d = o.if_contains("days");
    if (!d || !d->is_int64() || d->get_int64() < 1 || d->get_int64() > 3660)
      return Error::Invalid(Join(path, "days"), "days is a whole number of days, 1 to 3660");
    t.days = static_cast<int>(d->get_int64());
    t.activity = {"email_opened", "email_clicked"};
    if (const json::value* e = o.if_contains("events")) {
      if (!e->is_array() || e->get_array().empty())
        return Error::Invalid(Join(path, "events"), "events is a non-empty list of event names");
      t.activity.clear();
      for (size_t i = 0; i < e->get_array().size(); ++i) {
        const json::value& x = e->get_array()[i];
        if (!x.is_string() || x.get_string().empty())
          return Error::Invalid(fmt::format("{}.events[{}]", path, i), "an event name is a non-empty string");
        t.activity.emplace_back(x.get_string());
      }
    }
  } else if (type == "api") {
    RAPPORT_TRY(OnlyKeys(o, {"type"}, path));
    t.type = TriggerType::kApi;
  } else {
    return Error::Invalid(
        Join(path, "type"),
        fmt::format("unknown trigger type '{}'; known: event, segment_entered, segment_exited, "
                    "anniversary, inactivity, api",
                    type));
  }
  return t;
}

Result<EntryRules> ParseEntry(const json::value& v) {
  EntryRules e;
  if (!v.is_object()) return Error::Invalid("entry", "entry is an object");
  const json::object& o = v.get_object();
  RAPPORT_TRY(OnlyKeys(o, {"segment", "expression", "reentry", "cooldown", "key"}, "entry"));
  RAPPORT_ASSIGN_OR_RETURN(e.segment, String(o, "segment", "entry", false));
  RAPPORT_ASSIGN_OR_RETURN(e.expression, String(o, "expression", "entry", false));
  RAPPORT_ASSIGN_OR_RETURN(e.key, String(o, "key", "entry", false));
  RAPPORT_ASSIGN_OR_RETURN(std::string reentry, String(o, "reentry", "entry", false));
  if (reentry.empty() || reentry == "never") {
    e.reentry = Reentry::kNever;
  } else if (reentry == "always") {
    e.reentry = Reentry::kAlways;
  } else if (reentry == "cooldown") {
    e.reentry = Reentry::kCooldown;
    const json::value* c = o.if_contains("cooldown");
    if (!c) return Error::Invalid("entry.cooldown", "reentry \"cooldown\" needs a cooldown duration");
    RAPPORT_ASSIGN_OR_RETURN(e.cooldown, ParseDuration(*c, "entry.cooldown"));
  } else {
    return Error::Invalid("entry.reentry", "reentry is \"never\", \"always\" or \"cooldown\"");
  }
  if (e.reentry != Reentry::kCooldown && o.contains("cooldown"))
    return Error::Invalid("entry.cooldown", "a cooldown goes with reentry \"cooldown\"");
  return e;
}

Result<Goal> ParseGoal(const json::value& v) {
  if (!v.is_object()) return Error::Invalid("goal", "goal is an object");
  const json::object& o = v.get_object();
  RAPPORT_TRY(OnlyKeys(o, {"event", "where", "match", "revenue"}, "goal"));
  Goal g;
  RAPPORT_ASSIGN_OR_RETURN(g.event, String(o, "event", "goal", true));
  RAPPORT_ASSIGN_OR_RETURN(g.match, String(o, "match", "goal", false));
  RAPPORT_ASSIGN_OR_RETURN(g.revenue, String(o, "revenue", "goal", false));
  if (const json::value* w = o.if_contains("where")) {
    RAPPORT_TRY(ValidateWhere(*w, "goal.where"));
    g.where = w->get_object();
  }
  return g;
}

bool IsStepId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

// A cycle in which no step holds a run a minute or more would run (and send) again at once, or
// all but at once, on every pass: refuse it. A wait of at least a minute breaks a cycle; a wait
// of "0s" or "30s", or a wait_best_time (which may answer "now"), does not.
Status CheckCycles(const JourneyDef& def) {
  enum Color { kWhite, kGrey, kBlack };
  std::vector<Color> color(def.steps.size(), kWhite);
  std::vector<std::vector<std::pair<size_t, std::string>>> edges(def.steps.size());
  for (size_t i = 0; i < def.steps.size(); ++i) {
    const StepDef& s = def.steps[i];
    // Edges out of a long enough wait take time: they cannot close a busy loop.
    if (s.impl->MinimumHold(s.config) >= kMinCycleHold) continue;
    for (const StepTarget& t : s.impl->Targets(s.config))
      edges[i].push_back({def.index.at(t.step), Join(s.path, t.field)});
  }
  std::string fault;
  std::function<bool(size_t)> visit = [&](size_t i) -> bool {
    color[i] = kGrey;
    for (const auto& [j, field] : edges[i]) {
      if (color[j] == kGrey) {
        fault = field;
        return true;
      }
      if (color[j] == kWhite && visit(j)) return true;
    }
    color[i] = kBlack;
    return false;
  };
  for (size_t i = 0; i < def.steps.size(); ++i)
    if (color[i] == kWhite && visit(i))
      return Error::Invalid(fault,
                            "this step closes a cycle with no wait of a minute or more in it (a wait of 1m+, "
                            "a wait_until, or a wait_for_event whose timeout is 1m+): it would loop at once");
  return {};
}

int64_t SecondsOf(char unit) {
  switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
  }
}

std::optional<double> Number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  if (v.is_string()) {
    std::string s(v.get_string());
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
  }
  return std::nullopt;
}

bool Equal(const json::value& a, const json::value& b) {
  if (a == b) return true;
  auto x = Number(a), y = Number(b);
  if (x && y && !(a.is_string() && b.is_string())) return *x == *y;
  return false;
}

bool OperatorMatch(std::string_view op, const json::value& want, const json::value* have) {
  if (op == "exists") return want.is_bool() && want.get_bool() == (have != nullptr && !have->is_null());
  if (!have) return false;
  if (op == "eq") return Equal(*have, want);
  if (op == "ne") return !Equal(*have, want);
  if (op == "in") {
    for (const json::value& x : want.get_array())
      if (Equal(*have, x)) return true;
    return false;
  }
  auto h = Number(*have), w = Number(want);
  if (!h || !w) return false;
  if (op == "gt") return *h > *w;
  if (op == "gte") return *h >= *w;
  if (op == "lt") return *h < *w;
  if (op == "lte") return *h <= *w;
  return false;
}

}  // namespace

std::string_view TriggerTypeName(TriggerType t) {
  switch (t) {
    case TriggerType::kEvent: return "event";
    case TriggerType::kSegmentEntered: return "segment_entered";
    case TriggerType::kSegmentExited: return "segment_exited";
    case TriggerType::kAnniversary: return "anniversary";
    case TriggerType::kInactivity: return "inactivity";
    case TriggerType::kApi: return "api";
  }
  return "event";
}

Result<Micros> ParseDuration(const json::value& v, std::string_view field) {
  int64_t seconds = 0;
  if (v.is_int64()) {
    seconds = v.get_int64();
  } else if (v.is_string()) {
    std::string_view s = v.get_string();
    if (s.empty()) return Error::Invalid(std::string(field), "a duration such as \"90s\", \"1h\", \"2d\"");
    int64_t n = 0;
    bool digits = false;
    for (char c : s) {
      if (c >= '0' && c <= '9') {
        n = n * 10 + (c - '0');
        digits = true;
        if (n > kMaxDurationSeconds)
          return Error::Invalid(std::string(field), "a duration is at most ten years");
      } else if (int64_t unit = SecondsOf(c); unit > 0 && digits) {
        seconds += n * unit;
        n = 0;
        digits = false;
      } else {
        return Error::Invalid(
            std::string(field),
            fmt::format("'{}' is not a duration such as \"90s\", \"30m\", \"1h\", \"2d\", \"1w\"", s));
      }
      if (seconds > kMaxDurationSeconds)
        return Error::Invalid(std::string(field), "a duration is at most ten years");
    }
    if (digits) return Error::Invalid(std::string(field), "a duration's number needs a unit (s, m, h, d, w)");
  } else {
    return Error::Invalid(std::string(field), "a duration is a string such as \"1h\" or a number of seconds");
  }
  if (seconds < 0 || seconds > kMaxDurationSeconds)
    return Error::Invalid(std::string(field), "a duration is 0 to ten years");
  return Micros(seconds * 1000000);
}

Result<std::pair<int, int>> ParseTimeOfDay(const json::value& v, std::string_view field) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (s.size() == 5 && s[2] == ':' && std::isdigit(static_cast<unsigned char>(s[0])) &&
        std::isdigit(static_cast<unsigned char>(s[1])) && std::isdigit(static_cast<unsigned char>(s[3])) &&
        std::isdigit(static_cast<unsigned char>(s[4]))) {
      int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
      if (h < 24 && m < 60) return std::pair{h, m};
    }
  }
  return Error::Invalid(std::string(field), "a time of day is \"HH:MM\" (24 hours)");
}

Status ValidateWhere(const json::value& where, std::string_view field) {
  if (!where.is_object()) return Error::Invalid(std::string(field), "a filter is an object of properties");
  for (const auto& [k, v] : where.get_object()) {
    if (!v.is_object()) continue;  // a plain value: equality
    for (const auto& [op, arg] : v.get_object()) {
      std::string path = fmt::format("{}.{}.{}", field, std::string_view(k), std::string_view(op));
      if (op == "exists") {
        if (!arg.is_bool()) return Error::Invalid(path, "exists takes true or false");
      } else if (op == "in") {
        if (!arg.is_array()) return Error::Invalid(path, "in takes a list of values");
      } else if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
        if (!Number(arg)) return Error::Invalid(path, "a comparison takes a number");
      } else if (op != "eq" && op != "ne") {
        return Error::Invalid(
            path, fmt::format("unknown operator '{}'; known: eq, ne, gt, gte, lt, lte, in, exists",
                              std::string_view(op)));
      }
    }
  }
  return {};
}

bool PropertiesMatch(const json::object& where, const json::object& properties) {
  for (const auto& [k, want] : where) {
    const json::value* have = properties.if_contains(k);
    if (want.is_object()) {
      for (const auto& [op, arg] : want.get_object())
        if (!OperatorMatch(op, arg, have)) return false;
    } else if (!have || !Equal(*have, want)) {
      return false;
    }
  }
  return true;
}

Result<JourneyDef> ParseJourney(std::string_view text, const StepRegistry& registry,
                                const TemplateLookup& templates, const ExpressionCheck& expressions) {
  boost::system::error_code ec;
  json::value doc = ParseJsonExact(text, ec);
  if (ec) return Error::Invalid("", fmt::format("the journey is not valid JSON: {}", ec.message()));
  return ParseJourney(doc, registry, templates, expressions);
}

namespace {

// The check's refusal of an expression, at its JSON path; other failures (the store) as they are.
Status CheckExpressionAt(const ExpressionCheck& expressions, const std::string& text, std::string path) {
  Status st = expressions(text);
  if (st.ok()) return {};
  Error e = st.error();
  if (e.code == ErrorCode::kInvalid) e.field = std::move(path);
  return e;
}

}  // namespace

Result<JourneyDef> ParseJourney(const json::value& doc, const StepRegistry& registry,
                                const TemplateLookup& templates, const ExpressionCheck& expressions) {
  if (!doc.is_object()) return Error::Invalid("", "a journey is a JSON object");
  const json::object& o = doc.get_object();
  RAPPORT_TRY(
      OnlyKeys(o, {"name", "description", "trigger", "triggers", "entry", "goal", "start", "steps"}, ""));
  JourneyDef def;
  if (const json::value* t = o.if_contains("trigger")) {
    if (o.contains("triggers")) return Error::Invalid("triggers", "give trigger or triggers, not both");
    RAPPORT_ASSIGN_OR_RETURN(Trigger x, ParseTrigger(*t, "trigger"));
    def.triggers.push_back(std::move(x));
  } else if (const json::value* ts = o.if_contains("triggers")) {
    if (!ts->is_array() || ts->get_array().empty())
      return Error::Invalid("triggers", "triggers is a non-empty list");
    for (size_t i = 0; i < ts->get_array().size(); ++i) {
      RAPPORT_ASSIGN_OR_RETURN(Trigger x, ParseTrigger(ts->get_array()[i], fmt::format("triggers[{}]", i)));
      def.triggers.push_back(std::move(x));
    }
  } else {
    return Error::Invalid("trigger", "a journey needs a trigger");
  }
  if (const json::value* e = o.if_contains("entry")) {
    RAPPORT_ASSIGN_OR_RETURN(def.entry, ParseEntry(*e));
    if (expressions && !def.entry.expression.empty())
      RAPPORT_TRY(CheckExpressionAt(expressions, def.entry.expression, "entry.expression"));
  }
  if (const json::value* g = o.if_contains("goal")) {
    RAPPORT_ASSIGN_OR_RETURN(Goal goal, ParseGoal(*g));
    def.goal = std::move(goal);
  }
  const json::value* steps = o.if_contains("steps");
  if (!steps || !steps->is_array() || steps->get_array().empty())
    return Error::Invalid("steps", "a journey needs a non-empty list of steps");
  if (steps->get_array().size() > kMaxSteps)
    return Error::Invalid("steps", fmt::format("a journey has at most {} steps", kMaxSteps));
  for (size_t i = 0; i < steps->get_array().size(); ++i) {
    std::string path = fmt::format("steps[{}]", i);
    const json::value& v = steps->get_array()[i];
    if (!v.is_object()) return Error::Invalid(path, "a step is an object");
    StepDef s;
    s.path = path;
    s.config = v.get_object();
    RAPPORT_ASSIGN_OR_RETURN(s.id, String(s.config, "id", path, true));
    if (!IsStepId(s.id)) return Error::Invalid(path + ".id", "a step id is 1 to 64 of A-Z a-z 0-9 _ -");
    RAPPORT_ASSIGN_OR_RETURN(s.kind, String(s.config, "kind", path, true));
    s.impl = registry.Find(s.kind);
    if (!s.impl) RAPPORT_TRY(registry.Validate(s.kind, s.config, path + ".kind"));
    Status st = s.impl->Validate(s.config);
    if (!st.ok()) {
      Error e = st.error();
      e.field = Join(path, e.field);
      return e;
    }
    if (templates) {
      for (const std::string& t : s.impl->Templates(s.config))
        if (!templates(t))
          return Error::Invalid(path + ".template", fmt::format("there is no template named '{}'", t));
    }
    if (expressions) {
      for (const StepExpression& x : s.impl->Expressions(s.config))
        RAPPORT_TRY(CheckExpressionAt(expressions, x.expression, Join(path, x.field)));
    }
    if (def.index.count(s.id))
      return Error::Invalid(path + ".id", fmt::format("step id '{}' is used twice", s.id));
    def.index.emplace(s.id, def.steps.size());
    def.steps.push_back(std::move(s));
  }
  for (const StepDef& s : def.steps)
    for (const StepTarget& t : s.impl->Targets(s.config))
      if (!def.index.count(t.step))
        return Error::Invalid(Join(s.path, t.field), fmt::format("there is no step '{}' to go to", t.step));
  RAPPORT_ASSIGN_OR_RETURN(def.start, String(o, "start", "", false));
  if (def.start.empty()) def.start = def.steps.front().id;
  if (!def.index.count(def.start))
    return Error::Invalid("start", fmt::format("there is no step '{}'", def.start));
  if (def.goal && !def.goal->match.empty() && def.entry.key.empty())
    return Error::Invalid("goal.match", "goal.match compares with the run's key: set entry.key");
  RAPPORT_TRY(CheckCycles(def));
  return def;
}

}  // namespace rapport::automation
