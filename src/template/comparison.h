// The operators of Liquid conditions (==, !=, <>, <, >, <=, >=, contains) applied to two
// values, as ruby-liquid's Condition does, including the method literals `empty` and `blank`.
//
// Thread-safety: pure functions. Failure: ordering a number against a string (or the reverse) is
// an error value ("comparison of Integer with String failed"), like Ruby's ArgumentError.
#pragma once

#include "core/error.h"
#include "template/ast.h"
#include "template/value.h"

namespace rapport::liquid {

// The result of `l op r`: a Bool, or nil where ruby-liquid's result is nil (ordering values
// that cannot be ordered). kTruthy returns l.
Result<Value> CompareValues(Condition::Op op, const Value& l, const Value& r);

// `a == b` as a condition sees it (so `x == empty` asks whether x is empty).
bool ConditionEquals(const Value& a, const Value& b);

}  // namespace rapport::liquid
