#include "automation/journey_engine.h"

#include <fmt/format.h>

#include <cmath>

#include "automation/step_context.h"
#include "core/json_parse.h"
#include "core/json_write.h"

namespace rapport::automation {

namespace {

std::string Text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "";
  return WriteJson(v);
}

int64_t BumpVisit(json::object& ctx, std::string_view step) {
  json::value& v = ctx["visits"];
  if (!v.is_object()) v.emplace_object();
  json::value& n = v.get_object()[step];
  int64_t next = (n.is_int64() ? n.get_int64() : 0) + 1;
  n = next;
  return next;
}

int64_t Visit(const json::object& ctx, std::string_view step) {
  const json::value* v = ctx.if_contains("visits");
  if (!v || !v->is_object()) return 1;
  const json::value* n = v->get_object().if_contains(step);
  return n && n->is_int64() ? n->get_int64() : 1;
}

// The context's text, written without first copying the object into a json::value.
std::string ContextText(const json::object& ctx) {
  std::string out;
  AppendJson(out, ctx);
  return out;
}

}  // namespace

json::object ParseContext(std::string_view text) {
  boost::system::error_code ec;
  json::value v = ParseJsonExact(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

std::string StepIdempotencyKey(const JourneyRun& run, std::string_view step, int64_t visit) {
  return fmt::format("journey:{}:{}:{}", run.id, step, visit);
}

const Trigger* EventTrigger(const JourneyDef& def, const Event& e) {
  for (const Trigger& t : def.triggers) {
    switch (t.type) {
      case TriggerType::kEvent:
        if (e.name == t.event && PropertiesMatch(t.where, e.properties)) return &t;
        break;
      case TriggerType::kSegmentEntered:
      case TriggerType::kSegmentExited: {
        std::string_view name = t.type == TriggerType::kSegmentEntered ? "segment_entered" : "segment_exited";
        const json::value* seg = e.properties.if_contains("segment");
        if (e.name == name && seg && seg->is_string() && seg->get_string() == t.segment) return &t;
        break;
      }
      default: break;
    }
  }
  return nullptr;
}

std::optional<std::string_view> ReentryRefusal(const JourneyDef& def, const JourneyRun& latest,
                                               Timestamp now) {
  if (!RunEnded(latest.state)) return "already in the journey";
  if (def.entry.reentry == Reentry::kNever) return "re-entry is never";
  if (def.entry.reentry == Reentry::kCooldown && latest.entered_at + def.entry.cooldown > now)
    return "within the re-entry cool-down";
  return std::nullopt;
}

Result<std::optional<std::string>> EntryFilterRefusal(const JourneyDef& def, WorkspaceId ws,
                                                      ContactId contact, JourneyEnv& env, bool again) {
  if (!def.entry.segment.empty()) {
    RAPPORT_ASSIGN_OR_RETURN(bool in, env.InSegment(ws, contact, def.entry.segment));
    if (!in)
      return std::optional<std::string>((again ? "left the entry segment " : "not in the entry segment ") +
                                        def.entry.segment);
  }
  if (!def.entry.expression.empty()) {
    RAPPORT_ASSIGN_OR_RETURN(bool match, env.Matches(ws, contact, def.entry.expression));
    if (!match)
      return std::optional<std::string>(again ? "no longer matches the entry expression"
                                              : "does not match the entry expression");
  }
  return std::optional<std::string>();
}

std::optional<std::string> RunKey(const JourneyDef& def, const json::object& properties) {
  if (def.entry.key.empty()) return std::string();
  const json::value* v = properties.if_contains(def.entry.key);
  if (!v || v->is_null()) return std::nullopt;
  std::string key = Text(*v);
  if (key.empty() || key.size() > 255) return std::nullopt;
  return key;
}

std::optional<int64_t> GoalReached(const JourneyDef& def, const JourneyRun& run, const Event& e) {
  if (!def.goal || e.name != def.goal->event) return std::nullopt;
  if (!PropertiesMatch(def.goal->where, e.properties)) return std::nullopt;
  if (!def.goal->match.empty()) {
    const json::value* v = e.properties.if_contains(def.goal->match);
    if (!v || Text(*v) != run.run_key) return std::nullopt;
  }
  int64_t cents = 0;
  if (!def.goal->revenue.empty()) {
    if (const json::value* r = e.properties.if_contains(def.goal->revenue)) {
      double x = r->is_double()   ? r->get_double()
                 : r->is_int64()  ? static_cast<double>(r->get_int64())
                 : r->is_string() ? std::strtod(std::string(r->get_string()).c_str(), nullptr)
                                  : 0.0;
      if (std::isfinite(x) && std::fabs(x) < 1e15) cents = std::llround(x * 100);
    }
  }
  return cents;
}

bool WaitMatched(const JourneyRun& run, const Event& e) {
  if (run.state != RunState::kWaiting) return false;
  json::object ctx = ParseContext(run.context);
  const json::value* w = ctx.if_contains("wait");
  if (!w || !w->is_object()) return false;
  const json::object& wait = w->get_object();
  const json::value* name = wait.if_contains("event");
  if (!name || !name->is_string() || name->get_string() != e.name) return false;
  if (const json::value* m = wait.if_contains("match"); m && m->is_string()) {
    const json::value* have = e.properties.if_contains(m->get_string());
    const json::value* want = wait.if_contains("value");
    if (!have || !want || want->is_null() || Text(*have) != Text(*want)) return false;
  }
  if (const json::value* where = wait.if_contains("where"); where && where->is_object())
    if (!PropertiesMatch(where->get_object(), e.properties)) return false;
  return true;
}

JourneyRun NewRun(const JourneyDef& def, const Journey& journey, ContactId contact, const std::string& key,
                  std::string_view entry_event, const json::object& entry_properties, Timestamp now) {
  JourneyRun run;
  run.workspace_id = journey.workspace_id;
  run.journey_id = journey.id;
  run.version = journey.version;
  run.contact_id = contact;
  run.run_key = key;
  run.state = RunState::kActive;
  run.step = def.start;
  json::object ctx{{"entry", json::object{{"event", entry_event}, {"properties", entry_properties}}}};
  BumpVisit(ctx, def.start);
  run.context = ContextText(ctx);
  run.entered_at = now;
  return run;
}

Result<AdvanceResult> Advance(const JourneyDef& def, JourneyRun& run, Timestamp now, JourneyEnv& env) {
  AdvanceResult out;
  json::object ctx = ParseContext(run.context);
  bool resumed = run.state == RunState::kWaiting;
  run.state = RunState::kActive;
  auto common = [&](json::object o) {
    o["journey_id"] = run.journey_id;
    o["version"] = run.version;
    return o;
  };
  for (int i = 0; i < kMaxStepsPerAdvance; ++i) {
    const StepDef* step = def.Find(run.step);
    if (!step) {
      run.state = RunState::kExited;
      run.reason = fmt::format("step '{}' is not in version {}", run.step, run.version);
      out.events.push_back({"journey.exited", common({{"step", run.step}, {"reason", run.reason}})});
      break;
    }
    StepContext sc{def, *step, run,     ctx,
                   now, env,   resumed, StepIdempotencyKey(run, step->id, Visit(ctx, step->id)),
                   {},  {},    {}};
    RAPPORT_ASSIGN_OR_RETURN(StepOutcome o, step->impl->Run(sc));
    out.path.push_back(step->id);
    json::object detail = std::move(sc.detail);
    detail["step"] = step->id;
    detail["kind"] = step->kind;
    if (resumed) detail["resumed"] = true;
    out.events.push_back({"journey.step", common(std::move(detail))});
    for (auto& [name, props] : sc.events) out.events.push_back({name, common(std::move(props))});
    for (auto& m : sc.messages) out.messages.push_back(std::move(m));
    resumed = false;
    if (o.kind == StepOutcome::Kind::kWait) {
      run.state = RunState::kWaiting;
      out.timer = o.until;
      break;
    }
    if (o.kind == StepOutcome::Kind::kExit) {
      run.state = RunState::kExited;
      run.reason = o.reason;
      out.events.push_back({"journey.exited", common({{"step", step->id}, {"reason", o.reason}})});
      break;
    }
    if (o.next.empty()) {
      run.state = RunState::kCompleted;
      run.reason = "completed";
      out.events.push_back({"journey.completed", common({{"step", step->id}})});
      break;
    }
    run.step = o.next;
    BumpVisit(ctx, o.next);
    out.entered.push_back(o.next);
  }
  if (run.state == RunState::kActive) out.timer = now;  // a long chain: go on at the next turn
  run.context = ContextText(ctx);
  return out;
}

}  // namespace rapport::automation
