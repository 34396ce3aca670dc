#include "template/lexer.h"

#include <string>

namespace rapport::liquid {

namespace {

bool IsRubySpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view RStrip(std::string_view s) {
  while (!s.empty() && (IsRubySpace(s.back()) || s.back() == '\0')) s.remove_suffix(1);
  return s;
}
std::string_view LStrip(std::string_view s) {
  while (!s.empty() && (IsRubySpace(s.front()) || s.front() == '\0')) s.remove_prefix(1);
  return s;
}

// Incremental line/column tracking over a forward scan.
class PosTracker {
 public:
  explicit PosTracker(std::string_view src) : src_(src) {}
  SourcePos At(const char* p) {
    for (; cur_ < p; ++cur_) {
      if (*cur_ == '\n') {
        ++pos_.line;
        pos_.col = 1;
      } else {
        ++pos_.col;
      }
    }
    return pos_;
  }

 private:
  std::string_view src_;
  const char* cur_ = src_.data();
  SourcePos pos_;
};

}  // namespace

Error SyntaxErrorAt(SourcePos pos, std::string message) {
  return Error{ErrorCode::kBadRequest, "Liquid syntax error: " + std::move(message),
               std::to_string(pos.line) + ":" + std::to_string(pos.col)};
}

SourcePos PositionOf(std::string_view source, const char* p) {
  PosTracker t(source);
  return t.At(p);
}

Result<std::vector<Token>> Tokenize(std::string_view src) {
  std::vector<Token> tokens;
  PosTracker tracker(src);
  size_t i = 0;
  bool trim_next = false;
  const size_t n = src.size();
  while (i < n) {
    size_t open = src.find('{', i);
    while (open != std::string_view::npos && open + 1 < n && src[open + 1] != '{' && src[open + 1] != '%') {
      open = src.find('{', open + 1);
    }
    if (open != std::string_view::npos && open + 1 >= n) open = std::string_view::npos;
    size_t text_end = open == std::string_view::npos ? n : open;
    if (text_end > i) {
      Token t;
      t.kind = Token::Kind::kText;
      t.text = src.substr(i, text_end - i);
      t.span = t.text;
      if (trim_next) t.text = LStrip(t.text);
      t.pos = tracker.At(src.data() + i);
      tokens.push_back(t);
    }
    trim_next = false;
    if (open == std::string_view::npos) break;
    bool is_tag = src[open + 1] == '%';
    SourcePos pos = tracker.At(src.data() + open);
    bool trim_left = open + 2 < n && src[open + 2] == '-';
    if (trim_left && !tokens.empty() && tokens.back().kind == Token::Kind::kText &&
        tokens.back().text.data() + tokens.back().text.size() == src.data() + open) {
      tokens.back().text = RStrip(tokens.back().text);
    }
    Token t;
    t.pos = pos;
    if (is_tag) {
      size_t close = src.find("%}", open + 2);
      if (close == std::string_view::npos) {
        return SyntaxErrorAt(pos, "Tag '" + std::string(src.substr(open, 40)) +
                                      "' was not properly terminated with regexp: /\\%\\}/");
      }
      std::string_view inner = src.substr(open + 2, close - open - 2);
      if (!inner.empty() && inner.front() == '-') inner.remove_prefix(1);
      bool trim_right = false;
      if (!inner.empty() && inner.back() == '-') {
        inner.remove_suffix(1);
        trim_right = true;
      }
      std::string_view body = LStrip(inner);
      size_t k = 0;
      if (!body.empty() && body[0] == '#') {
        k = 1;
      } else {
        while (k < body.size() && IsWordChar(body[k])) ++k;
      }
      if (k == 0) {
        return SyntaxErrorAt(pos, "Tag '" + std::string(src.substr(open, close + 2 - open)) +
                                      "' was not properly terminated with regexp: /\\%\\}/");
      }
      t.kind = Token::Kind::kTag;
      t.name = body.substr(0, k);
      t.markup = LStrip(body.substr(k));
      t.text = src.substr(open, close + 2 - open);
      t.span = t.text;
      trim_next = trim_right;
      i = close + 2;
    } else {
      size_t close = src.find('}', open + 2);
      if (close == std::string_view::npos || close + 1 >= n || src[close + 1] != '}') {
        size_t end = close == std::string_view::npos ? n : close + 1;
        return SyntaxErrorAt(pos, "Variable '" + std::string(src.substr(open, end - open)) +
                                      "' was not properly terminated with regexp: /\\}\\}/");
      }
      std::string_view inner = src.substr(open + 2, close - open - 2);
      if (!inner.empty() && inner.front() == '-') inner.remove_prefix(1);
      bool trim_right = false;
      if (!inner.empty() && inner.back() == '-') {
        inner.remove_suffix(1);
        trim_right = true;
      }
      t.kind = Token::Kind::kOutput;
      t.text = inner;
      t.span = src.substr(open, close + 2 - open);
      trim_next = trim_right;
      i = close + 2;
    }
    tokens.push_back(t);
  }
  return tokens;
}

}  // namespace rapport::liquid
