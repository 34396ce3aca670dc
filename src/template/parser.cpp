#include "template/parser.h"

#include <string>

#include "template/filter_registry.h"
#include "template/lexer.h"
#include "template/markup_parser.h"

namespace rapport::liquid {

namespace {

using MK = MarkupToken::Kind;

bool IsBlankText(std::string_view s) {
  for (char c : s) {
    if (!(c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r')) return false;
  }
  return true;
}

void RemoveBlankStrings(Block& body) {
  Block kept;
  for (auto& n : body) {
    if (n->kind != NodeKind::kText) kept.push_back(std::move(n));
  }
  body = std::move(kept);
}

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens, const ParseOptions& options,
         const FilterRegistry* filters, uint32_t depth)
      : source_(source), tokens_(std::move(tokens)), options_(options), filters_(filters), depth_(depth) {}

  Result<Block> ParseDocument() {
    Block root;
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(root));
    if (end.tag != nullptr) return UnknownTag(*end.tag, "");
    return root;
  }

 private:
  struct BodyEnd {
    const Token* tag = nullptr;  // the tag that ended the body; null at the end of input
    bool blank = true;
  };

  MarkupParser Markup(std::string_view markup, const Token& t) {
    SourcePos pos = t.pos;
    if (!markup.empty() && t.span.data() != nullptr) {
      for (const char* c = t.span.data(); c < markup.data(); ++c) {
        if (*c == '\n') {
          ++pos.line;
          pos.col = 1;
        } else {
          ++pos.col;
        }
      }
    }
    return MarkupParser(markup, pos, filters_, options_.max_depth);
  }

  Error UnknownTag(const Token& t, std::string_view block) {
    if (block.empty()) return SyntaxErrorAt(t.pos, "Unknown tag '" + std::string(t.name) + "'");
    return SyntaxErrorAt(t.pos, "'" + std::string(t.name) + "' is not a valid delimiter for " +
                                    std::string(block) + " tags. use end" + std::string(block));
  }

  Error NeverClosed(const Token& t) {
    return SyntaxErrorAt(t.pos, "'" + std::string(t.name) + "' tag was never closed");
  }

  Result<BodyEnd> ParseBody(Block& out) {
    BodyEnd end;
    while (p_ < tokens_.size()) {
      const Token& t = tokens_[p_++];
      switch (t.kind) {
        case Token::Kind::kText: {
          if (t.text.empty()) break;
          if (!IsBlankText(t.text)) end.blank = false;
          auto n = std::make_unique<TextNode>();
          n->pos = t.pos;
          n->text = t.text;
          out.push_back(std::move(n));
          break;
        }
        case Token::Kind::kOutput: {
          end.blank = false;
          MarkupParser mp = Markup(t.text, t);
          RAPPORT_ASSIGN_OR_RETURN(Pipeline pl, mp.ParsePipeline());
          auto n = std::make_unique<OutputNode>();
          n->pos = t.pos;
          n->pipeline = std::move(pl);
          out.push_back(std::move(n));
          break;
        }
        case Token::Kind::kTag: {
          bool known = true;
          bool blank = false;
          RAPPORT_TRY(ParseTag(t, out, &known, &blank));
          if (!known) {
            end.tag = &t;
            return end;
          }
          end.blank = end.blank && blank;
          break;
        }
      }
    }
    return end;
  }

  Status Enter(const Token& t) {
    if (++depth_ > options_.max_depth) {
      return SyntaxErrorAt(t.pos,
                           "Nesting too deep (more than " + std::to_string(options_.max_depth) + " levels)");
    }
    return {};
  }

  Status ParseTag(const Token& t, Block& out, bool* known, bool* blank) {
    std::string_view name = t.name;
    if (name == "if" || name == "unless") return ParseIf(t, out, blank);
    if (name == "case") return ParseCase(t, out, blank);
    if (name == "for") return ParseFor(t, out, blank);
    if (name == "tablerow") return ParseTablerow(t, out);
    if (name == "capture") {
      *blank = true;
      return ParseCapture(t, out);
    }
    if (name == "comment") {
      *blank = true;
      return ParseComment(t);
    }
    if (name == "doc") return ParseDoc(t, blank);
    if (name == "ifchanged") return ParseIfchanged(t, out, blank);
    if (name == "raw") return ParseRaw(t, out, blank);
    if (name == "assign") {
      *blank = true;
      return ParseAssign(t, out);
    }
    if (name == "echo") return ParseEcho(t, out);
    if (name == "increment" || name == "decrement") return ParseCounter(t, out);
    if (name == "cycle") return ParseCycle(t, out);
    if (name == "break" || name == "continue") {
      std::unique_ptr<Node> n;
      if (name == "break")
        n = std::make_unique<BreakNode>();
      else
        n = std::make_unique<ContinueNode>();
      n->pos = t.pos;
      out.push_back(std::move(n));
      return {};
    }
    if (name == "#") {
      *blank = true;
      // Every line of an inline comment must start with '#'.
      std::string_view m = t.markup;
      size_t nl = m.find('\n');
      while (nl != std::string_view::npos) {
        size_t k = nl + 1;
        while (k < m.size() &&
               (m[k] == ' ' || m[k] == '\t' || m[k] == '\r' || m[k] == '\n' || m[k] == '\f' || m[k] == '\v'))
          ++k;
        if (k < m.size() && m[k] != '#') {
          return SyntaxErrorAt(t.pos, "Each line of comments must be prefixed by the '#' character");
        }
        nl = m.find('\n', nl + 1);
      }
      return {};
    }
    // Current Shopify Liquid also reads a `liquid` line inside a liquid tag: its markup (the rest
    // of the line) is parsed as tags of the enclosing body.
    if (name == "liquid") return ParseLiquid(t, out, blank);
    if (name == "render" || name == "include") return ParseInclude(t, out);
    *known = false;
    return {};
  }

  Status ParseIf(const Token& t, Block& out, bool* blank) {
    RAPPORT_TRY(Enter(t));
    auto node = std::make_unique<IfNode>();
    node->pos = t.pos;
    bool is_unless = t.name == "unless";
    std::string block_name(t.name);
    {
      MarkupParser mp = Markup(t.markup, t);
      RAPPORT_ASSIGN_OR_RETURN(auto cond, mp.ParseCondition());
      node->branches.push_back({std::move(cond), is_unless, {}});
    }
    bool all_blank = true;
    while (true) {
      RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(node->branches.back().body));
      all_blank = all_blank && end.blank;
      if (end.tag == nullptr) return NeverClosed(t);
      const Token& et = *end.tag;
      if (et.name == "end" + block_name) break;
      if (et.name == "elsif") {
        MarkupParser mp = Markup(et.markup, et);
        RAPPORT_ASSIGN_OR_RETURN(auto cond, mp.ParseCondition());
        node->branches.push_back({std::move(cond), false, {}});
      } else if (et.name == "else") {
        node->branches.push_back({nullptr, false, {}});
      } else {
        return UnknownTag(et, block_name);
      }
    }
    if (all_blank) {
      for (auto& b : node->branches) RemoveBlankStrings(b.body);
    }
    *blank = all_blank;
    out.push_back(std::move(node));
    --depth_;
    return {};
  }

  Status ParseWhenValues(const Token& t, std::vector<Expr>& values) {
    MarkupParser mp = Markup(t.markup, t);
    mp.set_method_literals(true);
    while (true) {
      RAPPORT_ASSIGN_OR_RETURN(Expr e, mp.ParseExpression());
      values.push_back(std::move(e));
      if (mp.ConsumeIf(MK::kComma) || mp.ConsumeId("or")) continue;
      break;
    }
    return mp.ExpectEnd();
  }

  Status ParseCase(const Token& t, Block& out, bool* blank) {
    RAPPORT_TRY(Enter(t));
    auto node = std::make_unique<CaseNode>();
    node->pos = t.pos;
    {
      MarkupParser mp = Markup(t.markup, t);
      RAPPORT_ASSIGN_OR_RETURN(node->subject, mp.ParseExpression());
      RAPPORT_TRY(mp.ExpectEnd());
    }
    // Anything before the first `when` is parsed and dropped.
    Block preamble;
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(preamble));
    bool all_blank = end.blank;
    while (true) {
      if (end.tag == nullptr) return NeverClosed(t);
      const Token& et = *end.tag;
      if (et.name == "endcase") break;
      CaseNode::Branch branch;
      if (et.name == "when") {
        RAPPORT_TRY(ParseWhenValues(et, branch.values));
      } else if (et.name == "else") {
        branch.is_else = true;
      } else {
        return UnknownTag(et, "case");
      }
      node->branches.push_back(std::move(branch));
      RAPPORT_ASSIGN_OR_RETURN(end, ParseBody(node->branches.back().body));
      all_blank = all_blank && end.blank;
    }
    if (all_blank) {
      for (auto& b : node->branches) RemoveBlankStrings(b.body);
    }
    *blank = all_blank;
    out.push_back(std::move(node));
    --depth_;
    return {};
  }

  Status ParseLoopAttributes(MarkupParser& mp, std::unique_ptr<Expr>* limit, std::unique_ptr<Expr>* offset,
                             std::unique_ptr<Expr>* cols, bool* offset_continue) {
    // Attributes may be separated by commas (current Shopify Liquid's strict parser; ruby-liquid
    // 5.4 accepted them in tablerow only).
    while (mp.Look(MK::kComma) || mp.Look(MK::kId)) {
      mp.ConsumeIf(MK::kComma);
      std::string_view key = mp.Peek().text;
      if (!mp.Look(MK::kId)) return mp.ErrorHere("Invalid attribute in \"" + std::string(key) + "\"");
      if (key == "limit" || key == "offset" || (cols != nullptr && key == "cols")) {
        mp.ConsumeIf(MK::kId);
        RAPPORT_TRY(mp.Consume(MK::kColon));
        if (key == "offset" && offset_continue != nullptr && mp.Look(MK::kId) &&
            mp.Peek().text == "continue" &&
            (mp.Look(MK::kEnd, 1) || mp.Look(MK::kComma, 1) || mp.Look(MK::kId, 1))) {
          mp.ConsumeIf(MK::kId);
          *offset_continue = true;
          offset->reset();
          continue;
        }
        RAPPORT_ASSIGN_OR_RETURN(Expr e, mp.ParseExpression());
        auto ptr = std::make_unique<Expr>(std::move(e));
        if (key == "limit")
          *limit = std::move(ptr);
        else if (key == "offset") {
          *offset = std::move(ptr);
          if (offset_continue) *offset_continue = false;
        } else
          *cols = std::move(ptr);
      } else {
        return mp.ErrorHere("Invalid attribute '" + std::string(key) + "' in loop");
      }
    }
    return mp.ExpectEnd();
  }

  Status ParseFor(const Token& t, Block& out, bool* blank) {
    RAPPORT_TRY(Enter(t));
    auto node = std::make_unique<ForNode>();
    node->pos = t.pos;
    MarkupParser mp = Markup(t.markup, t);
    RAPPORT_ASSIGN_OR_RETURN(node->var, mp.Consume(MK::kId));
    if (!mp.ConsumeId("in")) return mp.ErrorHere("For loops require an 'in' clause");
    const char* coll_begin = mp.Peek().text.data();
    RAPPORT_ASSIGN_OR_RETURN(node->collection, mp.ParseExpression());
    const char* coll_end = mp.Peek().text.data();
    node->name =
        std::string(node->var) + "-" + std::string(std::string_view(coll_begin, coll_end - coll_begin));
    while (!node->name.empty() && node->name.back() == ' ') node->name.pop_back();
    node->reversed = mp.ConsumeId("reversed");
    RAPPORT_TRY(ParseLoopAttributes(mp, &node->limit, &node->offset, nullptr, &node->offset_continue));
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(node->body));
    bool all_blank = end.blank;
    if (end.tag == nullptr) return NeverClosed(t);
    if (end.tag->name == "else") {
      RAPPORT_ASSIGN_OR_RETURN(end, ParseBody(node->else_body));
      all_blank = all_blank && end.blank;
      if (end.tag == nullptr) return NeverClosed(t);
    }
    if (end.tag->name != "endfor") return UnknownTag(*end.tag, "for");
    if (all_blank) {
      RemoveBlankStrings(node->body);
      RemoveBlankStrings(node->else_body);
    }
    *blank = all_blank;
    out.push_back(std::move(node));
    --depth_;
    return {};
  }

  Status ParseTablerow(const Token& t, Block& out) {
    RAPPORT_TRY(Enter(t));
    auto node = std::make_unique<TablerowNode>();
    node->pos = t.pos;
    MarkupParser mp = Markup(t.markup, t);
    RAPPORT_ASSIGN_OR_RETURN(node->var, mp.Consume(MK::kId));
    if (!mp.ConsumeId("in")) return mp.ErrorHere("Syntax Error in 'table_row loop'");
    RAPPORT_ASSIGN_OR_RETURN(node->collection, mp.ParseExpression());
    RAPPORT_TRY(ParseLoopAttributes(mp, &node->limit, &node->offset, &node->cols, nullptr));
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(node->body));
    if (end.tag == nullptr) return NeverClosed(t);
    if (end.tag->name != "endtablerow") return UnknownTag(*end.tag, "tablerow");
    out.push_back(std::move(node));
    --depth_;
    return {};
  }

  static bool IsSignatureChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '[' || c == ']' || c == '(' || c == ')';
  }

  Status ParseCapture(const Token& t, Block& out) {
    RAPPORT_TRY(Enter(t));
    auto node = std::make_unique<CaptureNode>();
    node->pos = t.pos;
    std::string_view m = t.markup;
    size_t k = 0;
    if (!m.empty() && (m[0] == '"' || m[0] == '\'')) {
      size_t close = m.find(m[0], 1);
      if (close == std::string_view::npos) {
        return SyntaxErrorAt(t.pos, "Syntax Error in 'capture' - Valid syntax: capture [var]");
      }
      node->name = m.substr(1, close - 1);
    } else {
      while (k < m.size() && IsSignatureChar(m[k])) ++k;
      if (k == 0) {
        return SyntaxErrorAt(t.pos, "Syntax Error in 'capture' - Valid syntax: capture [var]");
      }
      node->name = m.substr(0, k);
    }
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(node->body));
    if (end.tag == nullptr) return NeverClosed(t);
    if (end.tag->name != "endcapture") return UnknownTag(*end.tag, "capture");
    out.push_back(std::move(node));
    --depth_;
    return {};
  }

  // Comment bodies are parsed (nested blocks must be well formed) but unknown tags directly
  // inside are ignored, and nothing is kept.
  Status ParseComment(const Token& t) {
    RAPPORT_TRY(Enter(t));
    while (true) {
      Block ignored;
      RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(ignored));
      if (end.tag == nullptr) return NeverClosed(t);
      if (end.tag->name == "endcomment") break;
    }
    --depth_;
    return {};
  }

  // {% doc %}: documentation, kept out of the output. As in current Shopify Liquid
  // (lib/liquid/tags/doc.rb) the body is raw text up to {% enddoc %} (tags inside are not parsed),
  // the tag takes no arguments, a nested {% doc %} is an error, and a doc with a body is not
  // blank (whitespace around it in an if/for body is kept). Inside a liquid tag there is no
  // {% enddoc %} token to end it, so it is never closed there, as in Shopify's.
  Status ParseDoc(const Token& t, bool* blank) {
    if (!IsBlankText(t.markup)) {
      return SyntaxErrorAt(t.pos, "Syntax Error in 'doc' - Valid syntax: {% doc %}{% enddoc %}");
    }
    if (in_liquid_tag_) return NeverClosed(t);
    const char* body_begin = t.span.data() + t.span.size();
    while (p_ < tokens_.size()) {
      const Token& x = tokens_[p_++];
      if (x.kind != Token::Kind::kTag) continue;
      if (x.name == "doc")
        return SyntaxErrorAt(x.pos, "Syntax Error in 'doc' - Nested doc tags are not allowed");
      if (x.name == "enddoc") {
        *blank = x.span.data() == body_begin;
        return {};
      }
    }
    return NeverClosed(t);
  }

  Status ParseIfchanged(const Token& t, Block& out, bool* blank) {
    RAPPORT_TRY(Enter(t));
    auto node = std::make_unique<IfchangedNode>();
    node->pos = t.pos;
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, ParseBody(node->body));
    if (end.tag == nullptr) return NeverClosed(t);
    if (end.tag->name != "endifchanged") return UnknownTag(*end.tag, "ifchanged");
    *blank = end.blank;
    out.push_back(std::move(node));
    --depth_;
    return {};
  }

  Status ParseRaw(const Token& t, Block& out, bool* blank) {
    if (!IsBlankText(t.markup)) {
      return SyntaxErrorAt(t.pos, "Syntax Error in 'raw' - Valid syntax: raw");
    }
    if (in_liquid_tag_) {
      return SyntaxErrorAt(t.pos, "'raw' is not supported inside the liquid tag");
    }
    const char* body_begin = t.span.data() + t.span.size();
    while (p_ < tokens_.size()) {
      const Token& x = tokens_[p_++];
      if (x.kind == Token::Kind::kTag && x.name == "endraw") {
        std::string_view body(body_begin, x.span.data() - body_begin);
        *blank = body.empty();
        if (!body.empty()) {
          auto n = std::make_unique<TextNode>();
          n->pos = t.pos;
          n->text = body;
          out.push_back(std::move(n));
        }
        return {};
      }
    }
    return NeverClosed(t);
  }

  Status ParseAssign(const Token& t, Block& out) {
    auto node = std::make_unique<AssignNode>();
    node->pos = t.pos;
    std::string_view m = t.markup;
    size_t k = 0;
    while (k < m.size() && IsSignatureChar(m[k])) ++k;
    size_t eq = k;
    while (eq < m.size() && (m[eq] == ' ' || m[eq] == '\t' || m[eq] == '\n' || m[eq] == '\r')) ++eq;
    if (k == 0 || eq >= m.size() || m[eq] != '=') {
      return SyntaxErrorAt(t.pos, "Syntax Error in 'assign' - Valid syntax: assign [var] = [source]");
    }
    node->name = m.substr(0, k);
    MarkupParser mp = Markup(m.substr(eq + 1), t);
    RAPPORT_ASSIGN_OR_RETURN(node->value, mp.ParsePipeline());
    out.push_back(std::move(node));
    return {};
  }

  Status ParseEcho(const Token& t, Block& out) {
    auto node = std::make_unique<OutputNode>();
    node->pos = t.pos;
    MarkupParser mp = Markup(t.markup, t);
    RAPPORT_ASSIGN_OR_RETURN(node->pipeline, mp.ParsePipeline());
    out.push_back(std::move(node));
    return {};
  }

  Status ParseCounter(const Token& t, Block& out) {
    auto node = std::make_unique<CounterNode>();
    node->pos = t.pos;
    node->increment = t.name == "increment";
    std::string_view m = t.markup;
    while (!m.empty() && (m.back() == ' ' || m.back() == '\t' || m.back() == '\n' || m.back() == '\r'))
      m.remove_suffix(1);
    node->name = m;
    out.push_back(std::move(node));
    return {};
  }

  Status ParseCycle(const Token& t, Block& out) {
    auto node = std::make_unique<CycleNode>();
    node->pos = t.pos;
    MarkupParser mp = Markup(t.markup, t);
    if ((mp.Look(MK::kString) || mp.Look(MK::kId) || mp.Look(MK::kNumber)) && mp.Look(MK::kColon, 1)) {
      RAPPORT_ASSIGN_OR_RETURN(Expr g, mp.ParseExpression());
      node->group = std::make_unique<Expr>(std::move(g));
      RAPPORT_TRY(mp.Consume(MK::kColon));
    }
    bool all_literal = true;
    std::string key;
    while (true) {
      const char* b = mp.Peek().text.data();
      RAPPORT_ASSIGN_OR_RETURN(Expr e, mp.ParseExpression());
      const char* en = mp.Peek().text.data();
      if (e.kind != Expr::Kind::kLiteral) all_literal = false;
      key.append(b, en - b);
      key += '\x1f';
      node->values.push_back(std::move(e));
      if (!mp.ConsumeIf(MK::kComma)) break;
    }
    RAPPORT_TRY(mp.ExpectEnd());
    if (!all_literal) key = "#node" + std::to_string(reinterpret_cast<uintptr_t>(node.get()));
    node->key = std::move(key);
    out.push_back(std::move(node));
    return {};
  }

  Status ParseInclude(const Token& t, Block& out) {
    auto node = std::make_unique<IncludeNode>();
    node->pos = t.pos;
    node->isolated = t.name == "render";
    MarkupParser mp = Markup(t.markup, t);
    if (node->isolated && !mp.Look(MK::kString)) {
      return mp.ErrorHere("Syntax Error in 'render' - Template name must be a quoted string");
    }
    RAPPORT_ASSIGN_OR_RETURN(node->name, mp.ParseExpression());
    if (mp.ConsumeId("with") || (mp.Look(MK::kId) && mp.Peek().text == "for")) {
      if (mp.ConsumeId("for")) node->is_for = true;
      RAPPORT_ASSIGN_OR_RETURN(Expr w, mp.ParseExpression());
      node->with = std::make_unique<Expr>(std::move(w));
    }
    if (mp.ConsumeId("as")) {
      RAPPORT_ASSIGN_OR_RETURN(node->alias, mp.Consume(MK::kId));
    }
    RAPPORT_TRY(mp.ParseAttributes(node->attributes));
    out.push_back(std::move(node));
    return {};
  }

  Status ParseLiquid(const Token& t, Block& out, bool* blank) {
    RAPPORT_TRY(Enter(t));
    std::vector<Token> lines;
    std::string_view m = t.markup;
    SourcePos pos = t.pos;
    // Position of the markup's first byte.
    for (const char* c = t.span.data(); c < m.data(); ++c) {
      if (*c == '\n') {
        ++pos.line;
        pos.col = 1;
      } else {
        ++pos.col;
      }
    }
    size_t i = 0;
    while (i <= m.size()) {
      size_t nl = m.find('\n', i);
      if (nl == std::string_view::npos) nl = m.size();
      std::string_view line = m.substr(i, nl - i);
      size_t k = 0;
      while (k < line.size() &&
             (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\f' || line[k] == '\v'))
        ++k;
      SourcePos lp{pos.line, static_cast<uint32_t>(i == 0 ? pos.col + k : k + 1)};
      if (k < line.size()) {
        size_t s = k;
        if (line[k] == '#') {
          ++k;
        } else {
          while (k < line.size() && (std::isalnum(static_cast<unsigned char>(line[k])) || line[k] == '_'))
            ++k;
        }
        if (k == s) {
          return SyntaxErrorAt(lp, "Unknown tag '" + std::string(line.substr(s)) + "'");
        }
        Token tok;
        tok.kind = Token::Kind::kTag;
        tok.name = line.substr(s, k - s);
        while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
        tok.markup = line.substr(k);
        while (!tok.markup.empty() &&
               (tok.markup.back() == ' ' || tok.markup.back() == '\t' || tok.markup.back() == '\r'))
          tok.markup.remove_suffix(1);
        tok.span = line;
        tok.pos = lp;
        lines.push_back(tok);
      }
      ++pos.line;
      i = nl + 1;
    }
    Parser sub(source_, std::move(lines), options_, filters_, depth_);
    sub.in_liquid_tag_ = true;
    Block body;
    RAPPORT_ASSIGN_OR_RETURN(BodyEnd end, sub.ParseBody(body));
    if (end.tag != nullptr) return UnknownTag(*end.tag, "");
    *blank = end.blank;
    for (auto& n : body) out.push_back(std::move(n));
    // Keep the sub-parser's tokens alive: nodes only point into the source, so nothing to do.
    --depth_;
    return {};
  }

  std::string_view source_;
  std::vector<Token> tokens_;
  size_t p_ = 0;
  const ParseOptions& options_;
  const FilterRegistry* filters_;
  uint32_t depth_;
  bool in_liquid_tag_ = false;
};

}  // namespace

Result<Block> ParseBlocks(std::string_view source, const ParseOptions& options) {
  if (source.size() > options.max_source_bytes) {
    return Error{ErrorCode::kLimitExceeded,
                 "template is larger than " + std::to_string(options.max_source_bytes) + " bytes",
                 {}};
  }
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source));
  const FilterRegistry* filters = options.filters != nullptr ? options.filters : &FilterRegistry::Builtin();
  Parser parser(source, std::move(tokens), options, filters, 0);
  return parser.ParseDocument();
}

}  // namespace rapport::liquid
