#include "segment/lexer.h"

#include <fmt/format.h>

namespace rapport::segment {

std::string ParseError::ToString() const {
  std::string s = fmt::format("line {}, column {}: {}", pos.line, pos.column, message);
  if (!hint.empty()) s += fmt::format(" ({})", hint);
  return s;
}

namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '.' || c == '-' || c == ':'; }

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::variant<std::vector<Token>, ParseError> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpace();
      Token t;
      t.pos = pos_;
      if (i_ >= s_.size()) {
        t.kind = Token::Kind::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      char c = s_[i_];
      if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? Token::Kind::kLParen : c == ')' ? Token::Kind::kRParen : Token::Kind::kComma;
        t.text = std::string(1, c);
        Advance(1);
      } else if (c == '=' || c == '<' || c == '>' || c == '!') {
        t.kind = Token::Kind::kOp;
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '=') {
          t.text = std::string(s_.substr(i_, 2));
          Advance(2);
        } else if (c == '<' && i_ + 1 < s_.size() && s_[i_ + 1] == '>') {
          t.text = "!=";
          Advance(2);
        } else if (c == '!') {
          return ParseError{pos_, "'!' must be followed by '=' (use 'not' for negation)", ""};
        } else {
          t.text = std::string(1, c);
          Advance(1);
        }
        if (t.text == "==") t.text = "=";
      } else if (c == '"' || c == '\'') {
        auto r = String(c);
        if (auto* e = std::get_if<ParseError>(&r)) return *e;
        t.kind = Token::Kind::kString;
        t.text = std::get<std::string>(std::move(r));
      } else if (IsDigit(c) ||
                 ((c == '-' || c == '+') && i_ + 1 < s_.size() &&
                  (IsDigit(s_[i_ + 1]) || s_[i_ + 1] == '.')) ||
                 (c == '.' && i_ + 1 < s_.size() && IsDigit(s_[i_ + 1]))) {
        // A date YYYY-MM-DD, or a number.
        if (i_ + 10 <= s_.size() && IsDigit(s_[i_]) && IsDigit(s_[i_ + 1]) && IsDigit(s_[i_ + 2]) &&
            IsDigit(s_[i_ + 3]) && s_[i_ + 4] == '-' && IsDigit(s_[i_ + 5]) && IsDigit(s_[i_ + 6]) &&
            s_[i_ + 7] == '-' && IsDigit(s_[i_ + 8]) && IsDigit(s_[i_ + 9]) &&
            (i_ + 10 == s_.size() || !IsIdentChar(s_[i_ + 10]))) {
          t.kind = Token::Kind::kDate;
          t.text = std::string(s_.substr(i_, 10));
          Advance(10);
        } else {
          size_t start = i_;
          if (c == '-' || c == '+') Advance(1);
          while (i_ < s_.size() && IsDigit(s_[i_])) Advance(1);
          if (i_ < s_.size() && s_[i_] == '.') {
            Advance(1);
            while (i_ < s_.size() && IsDigit(s_[i_])) Advance(1);
          }
          if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            size_t save = i_;
            Position save_pos = pos_;
            Advance(1);
            if (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) Advance(1);
            if (i_ < s_.size() && IsDigit(s_[i_])) {
              while (i_ < s_.size() && IsDigit(s_[i_])) Advance(1);
            } else {
              i_ = save;
              pos_ = save_pos;
            }
          }
          if (i_ < s_.size() && IsIdentStart(s_[i_]))
            return ParseError{
                t.pos, fmt::format("a number runs into a name at '{}'", s_.substr(start, i_ - start + 1)),
                "put a space between a number and the word after it"};
          t.kind = Token::Kind::kNumber;
          t.text = std::string(s_.substr(start, i_ - start));
        }
      } else if (IsIdentStart(c)) {
        size_t start = i_;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) Advance(1);
        t.kind = Token::Kind::kIdent;
        t.text = std::string(s_.substr(start, i_ - start));
      } else {
        unsigned char uc = static_cast<unsigned char>(c);
        std::string shown = uc >= 0x20 && uc < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", uc);
        return ParseError{pos_, fmt::format("unexpected character '{}'", shown),
                          "names are letters, digits, '_', '.', '-' and ':'; quote other text with \"...\""};
      }
      out.push_back(std::move(t));
      if (out.size() > 100000) return ParseError{pos_, "too many tokens", ""};
    }
  }

 private:
  void Advance(size_t n) {
    for (size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
      if (s_[i_] == '\n') {
        ++pos_.line;
        pos_.column = 1;
      } else if ((static_cast<unsigned char>(s_[i_]) & 0xC0) != 0x80) {
        ++pos_.column;  // columns count characters, not UTF-8 continuation bytes
      }
      pos_.offset = i_ + 1;
    }
  }

  void SkipSpace() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        Advance(1);
      } else if (c == '#') {  // a comment to the end of the line
        while (i_ < s_.size() && s_[i_] != '\n') Advance(1);
      } else {
        return;
      }
    }
  }

  std::variant<std::string, ParseError> String(char quote) {
    Position start = pos_;
    Advance(1);
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == quote) {
        Advance(1);
        return out;
      }
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) break;
        char n = s_[i_ + 1];
        if (n == '"' || n == '\'' || n == '\\') {
          out.push_back(n);
        } else if (n == 'n') {
          out.push_back('\n');
        } else if (n == 't') {
          out.push_back('\t');
        } else {
          return ParseError{pos_, fmt::format("unknown escape '\\{}' in a string", n),
                            "escapes are \\\", \\', \\\\, \\n and \\t"};
        }
        Advance(2);
        continue;
      }
      if (c == '\n') break;
      out.push_back(c);
      Advance(1);
    }
    return ParseError{start, "a string is not closed", fmt::format("end it with {} on the same line", quote)};
  }

  std::string_view s_;
  size_t i_ = 0;
  Position pos_;
};

}  // namespace

std::variant<std::vector<Token>, ParseError> Tokenize(std::string_view source) {
  if (source.size() > kMaxSourceBytes)
    return ParseError{Position{}, fmt::format("an expression is at most {} bytes", kMaxSourceBytes), ""};
  return Lexer(source).Run();
}

}  // namespace rapport::segment
