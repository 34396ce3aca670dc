// Evaluator: the value of an expression in the current scope: literals, ranges, variable lookups
// (`a.b[c].size`, forloop and tablerowloop), filter pipelines ({{ }}, echo, assign) and the
// conditions of if/unless/elsif (comparisons joined by and/or, evaluated right to left like
// ruby-liquid).
//
// Thread-safety: one per render, like its RenderState. Failure: an error (undefined variable or
// filter in strict mode, a filter's error, a failed comparison, a limit) is recorded in the
// RenderState and the call returns false.
#pragma once

#include <string_view>

#include "template/ast.h"
#include "template/render_state.h"
#include "template/value.h"

namespace rapport::liquid {

class Evaluator {
 public:
  explicit Evaluator(RenderState& st) : st_(st) {}

  bool Eval(const Expr& e, Value* out);
  // The pipeline's value; *escaped_or_raw tells whether a filter made it HTML already (escape,
  // escape_once, h, raw), so automatic escaping leaves it alone.
  bool EvalPipeline(const Pipeline& p, Value* out, bool* escaped_or_raw);
  bool EvalCondition(const Condition& c, bool* result);
  // Utils.to_integer: an Integer, or Integer(to_s) ("12" and "0x1f" but not "1.5" or "abc").
  bool ToInteger(const Value& v, int64_t* out);

 private:
  bool Lookup(const Value& obj, std::string_view key, PropertyId prop, bool command, LookupHint* hint,
              Value* out, bool* found);
  bool LookupIndex(const Value& obj, const Value& key, Value* out);

  RenderState& st_;
};

}  // namespace rapport::liquid
