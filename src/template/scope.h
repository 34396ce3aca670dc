// Scope: the variables one render (or one isolated {% render %}) sees, searched innermost first:
// loop variables and include attributes (locals), assign and capture (globals), increment and
// decrement counters, then the data the template was rendered with.
//
// Thread-safety: one per render, not shared. Names are views into the template sources, which
// outlive the render.
#pragma once

#include <string_view>
#include <vector>

#include "template/value.h"

namespace rapport::liquid {

struct Var {
  std::string_view name;
  Value value;
};

struct Scope {
  // The variable `name`: true and *out set when it exists, else false and *out nil.
  bool Find(std::string_view name, Value* out) const;
  // As above; `hint` speeds up the lookup in the data (value.h).
  bool Find(std::string_view name, Value* out, LookupHint& hint) const;
  // assign / capture: replaces the global `name` or adds it.
  void SetGlobal(std::string_view name, const Value& v);

  std::vector<Var> locals;  // innermost last
  std::vector<Var> globals;
  std::vector<Var> counters;
  Value data;
};

}  // namespace rapport::liquid
