// Splits Liquid source into text, output ({{ }}) and tag ({% %}) tokens, applying whitespace
// control ({{- -}} {%- -%}) to the neighbouring text, as ruby-liquid's tokenizer does.
//
// Thread-safety: pure function. Failure: an unterminated {{ or {% is a syntax error at its
// position.
#pragma once

#include <string_view>
#include <vector>

#include "core/error.h"
#include "template/ast.h"

namespace rapport::liquid {

struct Token {
  enum class Kind : uint8_t { kText, kOutput, kTag };
  Kind kind = Kind::kText;
  std::string_view text;    // text: the (trimmed) text; output: the markup between the braces
  std::string_view name;    // tag: the tag name ("if", "#")
  std::string_view markup;  // tag: what follows the name
  std::string_view span;    // the whole token in the source, before whitespace trimming
  SourcePos pos;
};

// A syntax error with its position, as returned by the lexer and the parser.
Error SyntaxErrorAt(SourcePos pos, std::string message);

Result<std::vector<Token>> Tokenize(std::string_view source);

// Position (1-based line and column) of `p` inside `source`.
SourcePos PositionOf(std::string_view source, const char* p);

}  // namespace rapport::liquid
