// The registry of journey step kinds: every kind ("send", "wait", "wait_for_event", "branch" ...)
// is one StepKind object registered by name, so the journey parser, the checker and the executor
// look kinds up here instead of switching on names in several files. The composition root builds
// one registry and registers the kinds explicitly (no static-initialisation registration, whose
// order and linking are not guaranteed).
//
// Thread-safety: registration happens before use, on one thread; after that the registry is
// read-only and Find/Names may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"

namespace rapport::automation {

struct StepContext;  // step_context.h: what a step sees when it runs
struct StepOutcome;

// Where a step may go next: the JSON field that names the target (relative to the step) and the
// target step's id.
struct StepTarget {
  std::string field;
  std::string step;
};

// A segment expression a step evaluates (docs/segments.md): the JSON field that holds it
// (relative to the step, "if.expression") and its text.
struct StepExpression {
  std::string field;
  std::string expression;
};

class StepKind {
 public:
  virtual ~StepKind() = default;
  // The name journey documents use: [a-z][a-z0-9_]{0,63}.
  virtual std::string_view name() const = 0;
  // Checks one step's configuration (the step's JSON object in a journey document) when the
  // journey is saved, so a journey that runs never meets a malformed step. kInvalid naming the
  // field ("wait.duration").
  virtual Status Validate(const boost::json::object& config) const = 0;
  // The steps it may go to (checked to exist; the graph is checked for cycles without a long
  // enough wait: MinimumHold).
  // By default the step's "next" when it is a string.
  virtual std::vector<StepTarget> Targets(const boost::json::object& config) const;
  // The least time a run that reaches this step spends before it can reach it again along a
  // cycle: a wait's duration; a wait for an event, its timeout (coming back sooner takes an event
  // of its own); a wait until a local time, a day less a DST hour. Zero (the default) for kinds
  // that do not hold a run, or may hold it for no time at all. The journey checker refuses a
  // cycle with no step held a minute or more (journey_model.h). `config` has passed Validate.
  virtual Micros MinimumHold(const boost::json::object& config) const { return Micros(0); }
  // The templates it sends (checked to exist when the journey is saved).
  virtual std::vector<std::string> Templates(const boost::json::object&) const { return {}; }
  // The segment expressions it evaluates (checked to compile when the journey is saved or
  // activated). `config` has passed Validate.
  virtual std::vector<StepExpression> Expressions(const boost::json::object&) const { return {}; }
  // Runs the step for one run (step_context.h). Errors are failures of the world (the store, the
  // send service); the run stays where it is and is tried again.
  virtual Result<StepOutcome> Run(StepContext& ctx) const = 0;
};

class StepRegistry {
 public:
  // kInvalid for a malformed name, kConflict when a kind of that name is registered already.
  Status Register(std::unique_ptr<const StepKind> kind);
  // The kind, or nullptr for an unknown name.
  const StepKind* Find(std::string_view name) const;
  // Every registered name, sorted (for errors that list what is known, and the docs).
  std::vector<std::string_view> Names() const;
  // Validate() of the named kind; kInvalid naming `field` for an unknown kind.
  Status Validate(std::string_view name, const boost::json::object& config, std::string_view field) const;

 private:
  std::map<std::string, std::unique_ptr<const StepKind>, std::less<>> kinds_;
};

}  // namespace rapport::automation
