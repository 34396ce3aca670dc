// The segment language's checker: resolves the names of a parsed expression against what is
// known (contact fields, attributes and their types, event names, topics, saved segments) and
// checks that every comparison fits its field's type.
//
// Unknown names: a topic or a segment that does not exist is an error; an attribute or an event
// name the index has not seen yet is accepted (data may arrive later) unless it is close to a
// known one, which is then an error with a "did you mean" hint (a typo is far likelier).
// Thread-safety: plain functions.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "segment/ast.h"
#include "segment/lexer.h"

namespace rapport::segment {

struct Schema {
  std::map<std::string, ValueType, std::less<>> attributes;
  std::set<std::string, std::less<>> events;
  std::set<std::string, std::less<>> topics;
  std::set<std::string, std::less<>> segments;
};

// Resolves fields in place (Field::kind, Field::type). Returns the first error.
std::optional<ParseError> Check(Expr& e, const Schema& schema);

// Parse + Check.
ParseResult<ExprPtr> Compile(std::string_view source, const Schema& schema);

// The names of the saved segments an expression refers to (for the cycle check).
std::vector<std::string> SegmentRefs(const Expr& e);

// The closest of `candidates` to `name` when close enough to be a typo (edit distance at most
// 1 for short names, 2 from 5 characters, 3 from 9); nullopt otherwise.
std::optional<std::string> Closest(std::string_view name, const std::vector<std::string>& candidates);

// Contact statuses by name (active, unsubscribed, bounced, complained, erased).
const std::vector<std::string>& StatusNames();

}  // namespace rapport::segment
