// A journey document (docs/journeys.md) parsed and checked: its triggers, entry rules, goal and
// steps. ParseJourney refuses a bad document with kInvalid whose field is the JSON path of the
// fault ("steps[2].next", "trigger.event", "goal.revenue"): malformed JSON, an unknown step kind
// (looked up in the StepRegistry), a branch to a step that does not exist, a cycle none of whose
// steps holds a run a minute or more (StepKind::MinimumHold; the path is the edge that closes
// it), a template that does not exist (when a TemplateLookup is given), a segment expression that
// does not compile ("entry.expression", "steps[3].if.expression", with the parser's message; when
// an ExpressionCheck is given).
//
// Pure and thread-safe: a JourneyDef is an immutable value once parsed. The StepKind pointers
// it holds point into the registry, which must outlive it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "automation/step_registry.h"
#include "core/clock.h"
#include "core/error.h"

namespace rapport::automation {

namespace json = boost::json;

enum class TriggerType { kEvent, kSegmentEntered, kSegmentExited, kAnniversary, kInactivity, kApi };
std::string_view TriggerTypeName(TriggerType t);

struct Trigger {
  TriggerType type = TriggerType::kEvent;
  std::string event;                  // kEvent: the event name
  json::object where;                 // kEvent: a property filter (PropertiesMatch)
  std::string segment;                // kSegmentEntered / kSegmentExited: the saved segment's name
  std::string attribute;              // kAnniversary: a date attribute ("birthday"), or "created_at"
  int hour = 9, minute = 0;           // kAnniversary: local time of day in the contact's timezone
  int days = 0;                       // kInactivity: days without activity
  std::vector<std::string> activity;  // kInactivity: the events that count (human ones only)
};

enum class Reentry { kNever, kAlways, kCooldown };

struct EntryRules {
  std::string segment;     // a saved segment the contact must be in ("" anyone)
  std::string expression;  // a segment expression it must match ("" anyone); both hold when both given
  Reentry reentry = Reentry::kNever;
  Micros cooldown{0};
  std::string key;  // an entry event property: at most one live run per contact and value
};

struct Goal {
  std::string event;
  json::object where;
  std::string match;    // a property that must equal the run's key ("" none)
  std::string revenue;  // the property holding the revenue ("" none)
};

struct StepDef {
  std::string id;
  std::string kind;
  json::object config;  // the step's object as written
  std::string path;     // "steps[3]"
  const StepKind* impl = nullptr;
};

struct JourneyDef {
  std::vector<Trigger> triggers;
  EntryRules entry;
  std::optional<Goal> goal;
  std::string start;
  std::vector<StepDef> steps;
  std::map<std::string, size_t, std::less<>> index;  // step id -> position in steps

  const StepDef* Find(std::string_view id) const {
    auto it = index.find(id);
    return it == index.end() ? nullptr : &steps[it->second];
  }
};

// Whether a template of that name exists in the journey's workspace.
using TemplateLookup = std::function<bool(std::string_view)>;
// Whether a segment expression compiles in the journey's workspace: kInvalid with the parser's
// message (the journey's parser sets the field to the expression's JSON path).
using ExpressionCheck = std::function<Status(const std::string&)>;

Result<JourneyDef> ParseJourney(std::string_view text, const StepRegistry& registry,
                                const TemplateLookup& templates = nullptr,
                                const ExpressionCheck& expressions = nullptr);
Result<JourneyDef> ParseJourney(const json::value& doc, const StepRegistry& registry,
                                const TemplateLookup& templates = nullptr,
                                const ExpressionCheck& expressions = nullptr);

// "90s", "30m", "1h", "2d", "1w", sequences of them ("1h30m"), or a number of seconds. kInvalid
// naming `field` otherwise; at most ten years.
Result<Micros> ParseDuration(const json::value& v, std::string_view field);
// "HH:MM" (24 h).
Result<std::pair<int, int>> ParseTimeOfDay(const json::value& v, std::string_view field);

// The property filter of triggers, goals and branches: every key of `where` names a property;
// its value is either the value the property must equal, or an object of operators
// {"eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"}. An absent property matches only
// {"exists": false}.
bool PropertiesMatch(const json::object& where, const json::object& properties);
// Checks the operators of a filter (kInvalid naming field.key).
Status ValidateWhere(const json::value& where, std::string_view field);

}  // namespace rapport::automation
