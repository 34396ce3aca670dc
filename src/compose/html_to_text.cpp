#include "compose/html_to_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "core/utf8.h"

namespace rapport::compose {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Decodes one entity starting at s[i] == '&'; returns the characters consumed (0: not one).
size_t DecodeEntity(std::string_view s, size_t i, std::string& out) {
  size_t semi = s.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  std::string_view name = s.substr(i + 1, semi - i - 1);
  if (name.size() > 1 && name[0] == '#') {
    uint32_t cp = 0;
    bool hex = name[1] == 'x' || name[1] == 'X';
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return 0;
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) cp = 0xFFFD;
    }
    AppendUtf8(out, cp);
    return semi - i + 1;
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kNamed{
      {{"amp", "&"},
       {"lt", "<"},
       {"gt", ">"},
       {"quot", "\""},
       {"apos", "'"},
       {"nbsp", " "},
       {"copy", "\xC2\xA9"},
       {"reg", "\xC2\xAE"},
       {"euro", "\xE2\x82\xAC"},
       {"hellip", "\xE2\x80\xA6"},
       {"mdash", "\xE2\x80\x94"},
       {"ndash", "\xE2\x80\x93"}}};
  for (const auto& [n, v] : kNamed) {
    if (n == name) {
      out += v;
      return semi - i + 1;
    }
  }
  return 0;
}

bool IsBlock(std::string_view tag) {
  static constexpr std::array<std::string_view, 22> kBlocks{
      "p",      "div",    "h1",  "h2",    "h3",         "h4",      "h5",      "h6",
      "tr",     "table",  "ul",  "ol",    "blockquote", "section", "article", "header",
      "footer", "center", "pre", "title", "tbody",      "thead"};
  return std::any_of(kBlocks.begin(), kBlocks.end(), [&](std::string_view b) { return IEquals(b, tag); });
}

// The value of attribute `name` in a tag's inner text, or empty.
std::string AttributeValue(std::string_view tag, std::string_view name) {
  size_t pos = 0;
  while (pos < tag.size()) {
    while (pos < tag.size() && !std::isalpha(static_cast<unsigned char>(tag[pos]))) ++pos;
    size_t start = pos;
    while (pos < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[pos])) || tag[pos] == '-')) ++pos;
    std::string_view attr = tag.substr(start, pos - start);
    while (pos < tag.size() && tag[pos] == ' ') ++pos;
    if (pos >= tag.size() || tag[pos] != '=') continue;
    ++pos;
    while (pos < tag.size() && tag[pos] == ' ') ++pos;
    std::string_view value;
    if (pos < tag.size() && (tag[pos] == '"' || tag[pos] == '\'')) {
      char q = tag[pos++];
      size_t end = tag.find(q, pos);
      if (end == std::string_view::npos) end = tag.size();
      value = tag.substr(pos, end - pos);
      pos = end + 1;
    } else {
      size_t end = pos;
      while (end < tag.size() && tag[end] != ' ' && tag[end] != '>') ++end;
      value = tag.substr(pos, end - pos);
      pos = end;
    }
    if (IEquals(attr, name)) {
      std::string decoded;
      for (size_t i = 0; i < value.size(); ++i) {
        size_t n = value[i] == '&' ? DecodeEntity(value, i, decoded) : 0;
        if (n)
          i += n - 1;
        else
          decoded.push_back(value[i]);
      }
      return decoded;
    }
  }
  return {};
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  std::string raw;  // text with '\n' for breaks, spaces not yet collapsed
  raw.reserve(html.size() / 2);
  std::string pending_href;
  size_t link_text_start = std::string::npos;
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      if (html.compare(i, 4, "<!--") == 0) {
        size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      size_t end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string_view inner = html.substr(i + 1, end - i - 1);
      bool closing = !inner.empty() && inner[0] == '/';
      if (closing) inner.remove_prefix(1);
      size_t name_end = 0;
      while (name_end < inner.size() && std::isalnum(static_cast<unsigned char>(inner[name_end]))) ++name_end;
      std::string_view tag = inner.substr(0, name_end);
      i = end + 1;
      if (!closing && (IEquals(tag, "style") || IEquals(tag, "script") || IEquals(tag, "head"))) {
        std::string close = "</" + std::string(tag);
        size_t pos = i;
        while (true) {
          size_t lt = html.find("</", pos);
          if (lt == std::string_view::npos) {
            i = html.size();
            break;
          }
          if (IEquals(html.substr(lt, close.size()), close)) {
            size_t gt = html.find('>', lt);
            i = gt == std::string_view::npos ? html.size() : gt + 1;
            break;
          }
          pos = lt + 2;
        }
        continue;
      }
      if (IEquals(tag, "br")) {
        raw.push_back('\n');
      } else if (IEquals(tag, "hr")) {
        raw += "\n----------\n";
      } else if (IEquals(tag, "li") && !closing) {
        raw += "\n- ";
      } else if (IEquals(tag, "td") || IEquals(tag, "th")) {
        if (closing) raw.push_back(' ');
      } else if (IEquals(tag, "a")) {
        if (!closing) {
          pending_href = AttributeValue(inner.substr(name_end), "href");
          link_text_start = raw.size();
        } else if (link_text_start != std::string::npos) {
          std::string_view label(raw.data() + link_text_start, raw.size() - link_text_start);
          while (!label.empty() && label.front() == ' ') label.remove_prefix(1);
          while (!label.empty() && label.back() == ' ') label.remove_suffix(1);
          bool useful = !pending_href.empty() && pending_href.rfind("mailto:", 0) != 0 &&
                        pending_href[0] != '#' && label != pending_href;
          if (useful) raw += " (" + pending_href + ")";
          pending_href.clear();
          link_text_start = std::string::npos;
        }
      } else if (IsBlock(tag)) {
        raw += "\n\n";
      }
      continue;
    }
    if (c == '&') {
      size_t n = DecodeEntity(html, i, raw);
      if (n) {
        i += n;
        continue;
      }
    }
    raw.push_back(c == '\t' || c == '\r' || c == '\n' ? ' ' : c);
    ++i;
  }

  // Collapse spaces within lines, trim lines, and keep at most one blank line in a row.
  std::string out;
  out.reserve(raw.size());
  int newlines = 0;
  bool space = false;
  for (char c : raw) {
    if (c == '\n') {
      ++newlines;
      space = false;
      continue;
    }
    if (c == ' ') {
      space = true;
      continue;
    }
    if (!out.empty()) {
      if (newlines > 0)
        out.append(newlines > 1 ? "\n\n" : "\n");
      else if (space)
        out.push_back(' ');
    }
    newlines = 0;
    space = false;
    out.push_back(c);
  }
  if (!out.empty()) out.push_back('\n');
  return out;
}

}  // namespace rapport::compose
