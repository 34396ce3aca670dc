// The segment language's parser: source text to a syntax tree (ast.h). Grammar: docs/segments.md.
//
// Names are not resolved here (the checker does that against what the index knows), so a parse
// succeeds for any well-formed expression. Errors carry the line and column of the token that
// did not fit and, where one helps, a hint. Nesting is limited to 64 levels.
// Thread-safety: plain functions.
#pragma once

#include <string_view>

#include "segment/ast.h"
#include "segment/lexer.h"

namespace rapport::segment {

inline constexpr int kMaxNesting = 64;

ParseResult<ExprPtr> Parse(std::string_view source);

}  // namespace rapport::segment
