// Parses the markup inside {{ }} and {% %}: expressions (literals, variable lookups, ranges),
// filter pipelines and conditions, with the grammar of ruby-liquid's strict error mode.
//
// Thread-safety: one parser per markup string. Failure: syntax errors carry the position of
// the offending token.
#pragma once

#include <string_view>
#include <vector>

#include "core/error.h"
#include "template/ast.h"

namespace rapport::liquid {

class FilterRegistry;

struct MarkupToken {
  enum class Kind : uint8_t {
    kEnd,
    kId,
    kString,
    kNumber,
    kComparison,
    kDotDot,
    kPipe,
    kDot,
    kColon,
    kComma,
    kOpenSquare,
    kCloseSquare,
    kOpenRound,
    kCloseRound,
    kQuestion,
    kDash
  };
  Kind kind = Kind::kEnd;
  std::string_view text;
};

class MarkupParser {
 public:
  // `markup` must point into the template source; `pos` is the position of markup's first byte.
  MarkupParser(std::string_view markup, SourcePos pos, const FilterRegistry* filters, uint32_t max_depth);

  // Lexing failures are reported by the first call that needs a token.
  Status status() const { return status_; }

  Result<Expr> ParseExpression();
  Result<Pipeline> ParsePipeline();                     // expression (| filter (: args)?)*
  Result<std::unique_ptr<Condition>> ParseCondition();  // a == b and c or d ...
  // Parses `name: expr` pairs separated by commas (optionally leading comma) until the end.
  Status ParseAttributes(std::vector<std::pair<std::string_view, Expr>>& out);

  const MarkupToken& Peek(size_t ahead = 0) const;
  bool Look(MarkupToken::Kind kind, size_t ahead = 0) const { return Peek(ahead).kind == kind; }
  bool ConsumeIf(MarkupToken::Kind kind);
  bool ConsumeId(std::string_view id);
  Result<std::string_view> Consume(MarkupToken::Kind kind);
  Status ExpectEnd();
  // In conditions (if/elsif/unless operands, when values) `empty` and `blank` are method
  // literals compared with .empty?; elsewhere ruby-liquid parses them as "".
  void set_method_literals(bool on) { method_literals_ = on; }
  SourcePos PosOf(const char* p) const;
  SourcePos PeekPos() const { return PosOf(Peek().text.data()); }
  Error ErrorHere(std::string message) const;

 private:
  Result<Expr> ParseExpressionAt(uint32_t depth);
  Status ParseLookups(Expr& expr, uint32_t depth);
  Result<std::unique_ptr<Condition>> ParseComparison();

  std::string_view markup_;
  SourcePos pos_;
  const FilterRegistry* filters_;
  uint32_t max_depth_;
  std::vector<MarkupToken> tokens_;
  size_t p_ = 0;
  int bracket_depth_ = 0;
  bool method_literals_ = false;
  Status status_;
};

// Expression.parse for a literal or variable written in regex-parsed tags (cycle, when).
Expr LiteralOrVariable(std::string_view text);

}  // namespace rapport::liquid
