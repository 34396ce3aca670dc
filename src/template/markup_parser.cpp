#include "template/markup_parser.h"

#include <charconv>
#include <cstdlib>
#include <string>

#include "template/filter_registry.h"
#include "template/lexer.h"

namespace rapport::liquid {

namespace {

using K = MarkupToken::Kind;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsWord(char c) { return IsIdStart(c) || IsDigit(c); }

const char* KindName(K k) {
  switch (k) {
    case K::kEnd: return "end_of_string";
    case K::kId: return "id";
    case K::kString: return "string";
    case K::kNumber: return "number";
    case K::kComparison: return "comparison";
    case K::kDotDot: return "dotdot";
    case K::kPipe: return "pipe";
    case K::kDot: return "dot";
    case K::kColon: return "colon";
    case K::kComma: return "comma";
    case K::kOpenSquare: return "open_square";
    case K::kCloseSquare: return "close_square";
    case K::kOpenRound: return "open_round";
    case K::kCloseRound: return "close_round";
    case K::kQuestion: return "question";
    case K::kDash: return "dash";
  }
  return "?";
}

Value NumberLiteral(std::string_view s) {
  if (s.find('.') == std::string_view::npos) {
    int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc()) return Value::Int(v);
    return Value::Double(std::strtod(std::string(s).c_str(), nullptr));
  }
  return Value::Double(std::strtod(std::string(s).c_str(), nullptr));
}

bool NamedLiteral(std::string_view s, Value* out) {
  if (s == "nil" || s == "null") {
    *out = Value();
    return true;
  }
  if (s == "true") {
    *out = Value::Bool(true);
    return true;
  }
  if (s == "false") {
    *out = Value::Bool(false);
    return true;
  }
  if (s == "empty") {
    *out = Value::Empty();
    return true;
  }
  if (s == "blank") {
    *out = Value::Blank();
    return true;
  }
  return false;
}

}  // namespace

MarkupParser::MarkupParser(std::string_view markup, SourcePos pos, const FilterRegistry* filters,
                           uint32_t max_depth)
    : markup_(markup), pos_(pos), filters_(filters), max_depth_(max_depth) {
  size_t i = 0;
  const size_t n = markup.size();
  while (true) {
    while (i < n && IsSpace(markup[i])) ++i;
    if (i >= n) break;
    char c = markup[i];
    size_t start = i;
    K kind;
    if (c == '=' && i + 1 < n && markup[i + 1] == '=') {
      kind = K::kComparison;
      i += 2;
    } else if (c == '!' && i + 1 < n && markup[i + 1] == '=') {
      kind = K::kComparison;
      i += 2;
    } else if (c == '<' && i + 1 < n && markup[i + 1] == '>') {
      kind = K::kComparison;
      i += 2;
    } else if (c == '<' || c == '>') {
      kind = K::kComparison;
      i += (i + 1 < n && markup[i + 1] == '=') ? 2 : 1;
    } else if (markup.substr(i, 8) == "contains" && i + 8 < n && IsSpace(markup[i + 8])) {
      kind = K::kComparison;
      i += 8;
    } else if (c == '\'' || c == '"') {
      size_t close = markup.find(c, i + 1);
      if (close == std::string_view::npos) {
        status_ = SyntaxErrorAt(PosOf(markup.data() + i), std::string("Unexpected character ") + c +
                                                              " in \"" + std::string(markup) + "\"");
        break;
      }
      kind = K::kString;
      i = close + 1;
    } else if (IsDigit(c) || (c == '-' && i + 1 < n && IsDigit(markup[i + 1]))) {
      kind = K::kNumber;
      i += (c == '-') ? 1 : 0;
      while (i < n && IsDigit(markup[i])) ++i;
      if (i + 1 < n && markup[i] == '.' && IsDigit(markup[i + 1])) {
        ++i;
        while (i < n && IsDigit(markup[i])) ++i;
      }
    } else if (IsIdStart(c)) {
      kind = K::kId;
      while (i < n && (IsWord(markup[i]) || markup[i] == '-')) ++i;
      if (i < n && markup[i] == '?') ++i;
    } else if (c == '.' && i + 1 < n && markup[i + 1] == '.') {
      kind = K::kDotDot;
      i += 2;
    } else {
      switch (c) {
        case '|': kind = K::kPipe; break;
        case '.': kind = K::kDot; break;
        case ':': kind = K::kColon; break;
        case ',': kind = K::kComma; break;
        case '[': kind = K::kOpenSquare; break;
        case ']': kind = K::kCloseSquare; break;
        case '(': kind = K::kOpenRound; break;
        case ')': kind = K::kCloseRound; break;
        case '?': kind = K::kQuestion; break;
        case '-': kind = K::kDash; break;
        default:
          status_ = SyntaxErrorAt(PosOf(markup.data() + i), std::string("Unexpected character ") + c +
                                                                " in \"" + std::string(markup) + "\"");
          i = n;
          continue;
      }
      ++i;
    }
    tokens_.push_back({kind, markup.substr(start, i - start)});
  }
  tokens_.push_back({K::kEnd, markup.substr(n)});
  if (!status_.ok()) {
    tokens_.clear();
    tokens_.push_back({K::kEnd, markup.substr(n)});
  }
}

SourcePos MarkupParser::PosOf(const char* p) const {
  SourcePos pos = pos_;
  for (const char* c = markup_.data(); c < p && c < markup_.data() + markup_.size(); ++c) {
    if (*c == '\n') {
      ++pos.line;
      pos.col = 1;
    } else {
      ++pos.col;
    }
  }
  return pos;
}

Error MarkupParser::ErrorHere(std::string message) const {
  if (!status_.ok()) return status_.error();
  return SyntaxErrorAt(PeekPos(), std::move(message));
}

const MarkupToken& MarkupParser::Peek(size_t ahead) const {
  size_t i = p_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

bool MarkupParser::ConsumeIf(K kind) {
  if (Peek().kind != kind) return false;
  ++p_;
  return true;
}

bool MarkupParser::ConsumeId(std::string_view id) {
  if (Peek().kind != K::kId || Peek().text != id) return false;
  ++p_;
  return true;
}

Result<std::string_view> MarkupParser::Consume(K kind) {
  if (Peek().kind != kind) {
    return ErrorHere(std::string("Expected ") + KindName(kind) + " but found " + KindName(Peek().kind) +
                     " in \"" + std::string(markup_) + "\"");
  }
  return tokens_[p_++].text;
}

Status MarkupParser::ExpectEnd() {
  RAPPORT_TRY(Consume(K::kEnd));
  return {};
}

Result<Expr> MarkupParser::ParseExpression() { return ParseExpressionAt(0); }

Result<Expr> MarkupParser::ParseExpressionAt(uint32_t depth) {
  if (!status_.ok()) return status_.error();
  if (depth > max_depth_) return ErrorHere("Nesting too deep in \"" + std::string(markup_) + "\"");
  const MarkupToken& t = Peek();
  Expr e;
  e.pos = PosOf(t.text.data());
  switch (t.kind) {
    case K::kId: {
      ++p_;
      bool has_lookups = Look(K::kDot) || Look(K::kOpenSquare);
      Value lit;
      if (!has_lookups && NamedLiteral(t.text, &lit)) {
        e.kind = Expr::Kind::kLiteral;
        if ((lit.kind() == Value::Kind::kEmpty || lit.kind() == Value::Kind::kBlank) && !method_literals_) {
          lit = Value::String("");
        }
        e.literal = lit;
        return e;
      }
      e.kind = Expr::Kind::kVariable;
      e.root = t.text;
      RAPPORT_TRY(ParseLookups(e, depth));
      return e;
    }
    case K::kOpenSquare: {
      ++p_;
      RAPPORT_ASSIGN_OR_RETURN(Expr inner, ParseExpressionAt(depth + 1));
      RAPPORT_TRY(Consume(K::kCloseSquare));
      e.kind = Expr::Kind::kVariable;
      e.root_expr = std::make_unique<Expr>(std::move(inner));
      RAPPORT_TRY(ParseLookups(e, depth));
      return e;
    }
    case K::kString:
      ++p_;
      e.kind = Expr::Kind::kLiteral;
      e.literal = Value::String(t.text.substr(1, t.text.size() - 2));
      return e;
    case K::kNumber:
      ++p_;
      e.kind = Expr::Kind::kLiteral;
      e.literal = NumberLiteral(t.text);
      return e;
    case K::kOpenRound: {
      ++p_;
      RAPPORT_ASSIGN_OR_RETURN(Expr lo, ParseExpressionAt(depth + 1));
      RAPPORT_TRY(Consume(K::kDotDot));
      RAPPORT_ASSIGN_OR_RETURN(Expr hi, ParseExpressionAt(depth + 1));
      RAPPORT_TRY(Consume(K::kCloseRound));
      e.kind = Expr::Kind::kRange;
      e.lo = std::make_unique<Expr>(std::move(lo));
      e.hi = std::make_unique<Expr>(std::move(hi));
      return e;
    }
    default:
      if (t.kind == K::kEnd) {
        return ErrorHere("Expected an expression but found the end of \"" + std::string(markup_) + "\"");
      }
      return ErrorHere(std::string(t.text) + " is not a valid expression in \"" + std::string(markup_) +
                       "\"");
  }
}

Status MarkupParser::ParseLookups(Expr& e, uint32_t depth) {
  while (true) {
    if (ConsumeIf(K::kOpenSquare)) {
      ++bracket_depth_;
      auto inner_r = ParseExpressionAt(depth + 1);
      --bracket_depth_;
      RAPPORT_ASSIGN_OR_RETURN(Expr inner, std::move(inner_r));
      RAPPORT_TRY(Consume(K::kCloseSquare));
      // ruby-liquid 5.4 quirk: inside an outer [...], an integer index is kept as a string
      // ("h[keys[1]]" looks up keys["1"]).
      if (bracket_depth_ > 0 && inner.kind == Expr::Kind::kLiteral && inner.literal.is_int()) {
        const MarkupToken& prev = tokens_[p_ - 2];
        inner.literal = Value::String(prev.text);
      }
      PathItem item;
      item.index = std::make_unique<Expr>(std::move(inner));
      e.path.push_back(std::move(item));
    } else if (ConsumeIf(K::kDot)) {
      RAPPORT_ASSIGN_OR_RETURN(std::string_view name, Consume(K::kId));
      PathItem item;
      item.name = name;
      item.property = PropertyIdOf(name);
      item.is_command = item.property == PropertyId::kSize || item.property == PropertyId::kFirst ||
                        item.property == PropertyId::kLast;
      e.path.push_back(std::move(item));
    } else {
      return {};
    }
  }
}

Result<Pipeline> MarkupParser::ParsePipeline() {
  if (!status_.ok()) return status_.error();
  Pipeline pl;
  if (Look(K::kEnd)) {
    pl.empty = true;
    return pl;
  }
  RAPPORT_ASSIGN_OR_RETURN(pl.expr, ParseExpression());
  while (ConsumeIf(K::kPipe)) {
    FilterCall f;
    f.pos = PeekPos();
    RAPPORT_ASSIGN_OR_RETURN(f.name, Consume(K::kId));
    f.entry = filters_ ? filters_->Find(f.name) : nullptr;
    f.marks_html = f.name == "raw" || f.name == "escape" || f.name == "escape_once" || f.name == "h";
    if (ConsumeIf(K::kColon)) {
      do {
        if (Look(K::kId) && Look(K::kColon, 1)) {
          std::string_view key = Peek().text;
          p_ += 2;
          RAPPORT_ASSIGN_OR_RETURN(Expr v, ParseExpression());
          f.kwargs.emplace_back(key, std::move(v));
        } else {
          RAPPORT_ASSIGN_OR_RETURN(Expr v, ParseExpression());
          f.args.push_back(std::move(v));
        }
      } while (ConsumeIf(K::kComma));
    }
    pl.filters.push_back(std::move(f));
  }
  RAPPORT_TRY(ExpectEnd());
  return pl;
}

Result<std::unique_ptr<Condition>> MarkupParser::ParseComparison() {
  auto c = std::make_unique<Condition>();
  c->pos = PeekPos();
  RAPPORT_ASSIGN_OR_RETURN(c->left, ParseExpression());
  if (Look(K::kComparison)) {
    std::string_view op = Peek().text;
    ++p_;
    using Op = Condition::Op;
    if (op == "==")
      c->op = Op::kEq;
    else if (op == "!=" || op == "<>")
      c->op = Op::kNe;
    else if (op == "<")
      c->op = Op::kLt;
    else if (op == ">")
      c->op = Op::kGt;
    else if (op == "<=")
      c->op = Op::kLe;
    else if (op == ">=")
      c->op = Op::kGe;
    else
      c->op = Op::kContains;
    RAPPORT_ASSIGN_OR_RETURN(c->right, ParseExpression());
  }
  return c;
}

Result<std::unique_ptr<Condition>> MarkupParser::ParseCondition() {
  if (!status_.ok()) return status_.error();
  method_literals_ = true;
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Condition> first, ParseComparison());
  Condition* cur = first.get();
  while (true) {
    Condition::Rel rel;
    if (ConsumeId("and"))
      rel = Condition::Rel::kAnd;
    else if (ConsumeId("or"))
      rel = Condition::Rel::kOr;
    else
      break;
    RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Condition> next, ParseComparison());
    cur->rel = rel;
    cur->child = std::move(next);
    cur = cur->child.get();
  }
  RAPPORT_TRY(ExpectEnd());
  return first;
}

Status MarkupParser::ParseAttributes(std::vector<std::pair<std::string_view, Expr>>& out) {
  if (!status_.ok()) return status_.error();
  ConsumeIf(K::kComma);
  while (!Look(K::kEnd)) {
    RAPPORT_ASSIGN_OR_RETURN(std::string_view key, Consume(K::kId));
    RAPPORT_TRY(Consume(K::kColon));
    RAPPORT_ASSIGN_OR_RETURN(Expr v, ParseExpression());
    out.emplace_back(key, std::move(v));
    if (!ConsumeIf(K::kComma)) break;
  }
  return ExpectEnd();
}

PropertyId PropertyIdOf(std::string_view name) {
  static constexpr std::pair<std::string_view, PropertyId> kNames[] = {
      {"size", PropertyId::kSize},
      {"first", PropertyId::kFirst},
      {"last", PropertyId::kLast},
      {"index", PropertyId::kIndex},
      {"index0", PropertyId::kIndex0},
      {"rindex", PropertyId::kRindex},
      {"rindex0", PropertyId::kRindex0},
      {"length", PropertyId::kLength},
      {"name", PropertyId::kName},
      {"parentloop", PropertyId::kParentloop},
      {"col", PropertyId::kCol},
      {"col0", PropertyId::kCol0},
      {"col_first", PropertyId::kColFirst},
      {"col_last", PropertyId::kColLast},
      {"row", PropertyId::kRow}};
  for (const auto& [n, id] : kNames) {
    if (n == name) return id;
  }
  return PropertyId::kOther;
}

Expr LiteralOrVariable(std::string_view text) {
  MarkupParser p(text, SourcePos{}, nullptr, 64);
  auto r = p.ParseExpression();
  if (r.ok() && p.Look(K::kEnd)) return std::move(r).value();
  Expr e;  // ruby-liquid's lax fallback: an unparsable fragment evaluates to nil
  return e;
}

}  // namespace rapport::liquid
