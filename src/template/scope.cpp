#include "template/scope.h"

namespace rapport::liquid {

bool Scope::Find(std::string_view name, Value* out) const {
  LookupHint hint;
  return Find(name, out, hint);
}

bool Scope::Find(std::string_view name, Value* out, LookupHint& hint) const {
  for (size_t i = locals.size(); i-- > 0;) {
    if (SameKey(locals[i].name, name)) {
      *out = locals[i].value;
      return true;
    }
  }
  for (size_t i = globals.size(); i-- > 0;) {
    if (SameKey(globals[i].name, name)) {
      *out = globals[i].value;
      return true;
    }
  }
  for (const Var& c : counters) {
    if (SameKey(c.name, name)) {
      *out = c.value;
      return true;
    }
  }
  if (data.is_object()) {
    if (const Value* v = data.as_object().Find(name, hint)) {
      *out = *v;
      return true;
    }
  }
  *out = Value();
  return false;
}

void Scope::SetGlobal(std::string_view name, const Value& v) {
  for (Var& g : globals) {
    if (SameKey(g.name, name)) {
      g.value = v;
      return;
    }
  }
  globals.push_back({name, v});
}

}  // namespace rapport::liquid
