// The segment language's tokens. Keywords are identifiers the parser recognizes by their lower
// case (so `AND` and `and` are one keyword); the lexer only cuts the source and keeps positions.
// Thread-safety: plain functions. Failure: an unterminated string or a stray character is a
// ParseError at its position.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "segment/ast.h"

namespace rapport::segment {

struct Token {
  enum class Kind { kIdent, kString, kNumber, kDate, kLParen, kRParen, kComma, kOp, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // identifier, the string's value (unescaped), number or date as written, op
  Position pos;
};

// A syntax or type error with where it is and what to do about it.
struct ParseError {
  ParseError() = default;
  ParseError(Position p, std::string m, std::string h = {})
      : pos(p), message(std::move(m)), hint(std::move(h)) {}
  Position pos;
  std::string message;
  std::string hint;              // empty, or e.g. "did you mean 'city'?"
  std::string ToString() const;  // "line 1, column 5: unknown attribute 'cty' (did you mean 'city'?)"
};

template <typename T>
using ParseResult = std::variant<T, ParseError>;

// Cuts `source` into tokens ending with kEnd. At most 64 KiB of source.
std::variant<std::vector<Token>, ParseError> Tokenize(std::string_view source);

inline constexpr size_t kMaxSourceBytes = 64 * 1024;

}  // namespace rapport::segment
