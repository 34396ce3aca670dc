#include "tracking/link_rewriter.h"

#include <cctype>
#include <cstdint>

#include "core/utf8.h"

namespace rapport::tracking {

namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (Lower(s[i]) != prefix[i]) return false;
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Position of `needle` (lower case) in s at or after `from`, ignoring case; npos when absent.
size_t FindNoCase(std::string_view s, std::string_view needle, size_t from) {
  for (size_t i = from; i + needle.size() <= s.size(); ++i)
    if (StartsWithNoCase(s.substr(i), needle)) return i;
  return std::string_view::npos;
}

size_t RFindNoCase(std::string_view s, std::string_view needle) {
  if (s.size() < needle.size()) return std::string_view::npos;
  for (size_t i = s.size() - needle.size() + 1; i-- > 0;)
    if (StartsWithNoCase(s.substr(i), needle)) return i;
  return std::string_view::npos;
}

void AppendAttributeEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
}

struct Attribute {
  std::string_view name;
  size_t value_begin = 0, value_end = 0;  // in the document; the value without its quotes
  size_t raw_begin = 0, raw_end = 0;      // the value with its quotes
  bool has_value = false;
};

// Parses the attributes of the tag whose name ends at `i`; returns the position after '>' (or the
// end of the document), filling `attrs`.
size_t ParseAttributes(std::string_view doc, size_t i, std::vector<Attribute>& attrs) {
  attrs.clear();
  while (i < doc.size()) {
    while (i < doc.size() && (IsSpace(doc[i]) || doc[i] == '/')) ++i;
    if (i >= doc.size()) return i;
    if (doc[i] == '>') return i + 1;
    size_t name_begin = i;
    while (i < doc.size() && !IsSpace(doc[i]) && doc[i] != '=' && doc[i] != '>' && doc[i] != '/') ++i;
    Attribute a;
    a.name = doc.substr(name_begin, i - name_begin);
    size_t j = i;
    while (j < doc.size() && IsSpace(doc[j])) ++j;
    if (j < doc.size() && doc[j] == '=') {
      ++j;
      while (j < doc.size() && IsSpace(doc[j])) ++j;
      a.has_value = true;
      a.raw_begin = j;
      if (j < doc.size() && (doc[j] == '"' || doc[j] == '\'')) {
        char q = doc[j];
        size_t close = doc.find(q, j + 1);
        if (close == std::string_view::npos) close = doc.size();
        a.value_begin = j + 1;
        a.value_end = close;
        i = close < doc.size() ? close + 1 : close;
      } else {
        a.value_begin = j;
        while (j < doc.size() && !IsSpace(doc[j]) && doc[j] != '>') ++j;
        a.value_end = j;
        i = j;
      }
      a.raw_end = i;
    } else if (a.name.empty()) {
      ++i;  // a stray character: step over it
      continue;
    }
    attrs.push_back(a);
  }
  return i;
}

bool NameIs(std::string_view name, std::string_view lower) {
  return name.size() == lower.size() && StartsWithNoCase(name, lower);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string DecodeHtmlAttribute(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') {
      out.push_back(v[i]);
      continue;
    }
    size_t semi = v.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = v.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out.push_back('&');
    } else if (ent == "lt") {
      out.push_back('<');
    } else if (ent == "gt") {
      out.push_back('>');
    } else if (ent == "quot") {
      out.push_back('"');
    } else if (ent == "apos") {
      out.push_back('\'');
    } else if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      bool ok = !digits.empty() && digits.size() <= 7;
      for (char c : digits) {
        int d = std::isdigit(static_cast<unsigned char>(c))           ? c - '0'
                : hex && std::isxdigit(static_cast<unsigned char>(c)) ? Lower(c) - 'a' + 10
                                                                      : -1;
        if (d < 0) ok = false;
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d < 0 ? 0 : d);
      }
      if (!ok) {
        out.push_back('&');
        continue;
      }
      AppendUtf8(out, cp);
    } else {
      out.push_back('&');
      continue;
    }
    i = semi;
  }
  return out;
}

RewrittenHtml RewriteLinks(std::string_view doc, const RewriteOptions& options) {
  RewrittenHtml r;
  r.html.reserve(doc.size() + doc.size() / 8 + 128);
  std::vector<Attribute> attrs;
  size_t copied = 0;  // doc[0, copied) is in r.html
  size_t i = 0;
  while ((i = doc.find('<', i)) != std::string_view::npos) {
    std::string_view rest = doc.substr(i);
    if (rest.starts_with("<!--")) {
      size_t end = doc.find("-->", i + 4);
      i = end == std::string_view::npos ? doc.size() : end + 3;
      continue;
    }
    for (std::string_view raw : {std::string_view("script"), std::string_view("style")}) {
      if (rest.size() > raw.size() + 1 && StartsWithNoCase(rest.substr(1), raw) &&
          (IsSpace(rest[raw.size() + 1]) || rest[raw.size() + 1] == '>')) {
        std::string closing = "</" + std::string(raw);
        size_t end = FindNoCase(doc, closing, i + 1);
        i = end == std::string_view::npos ? doc.size() : end;
        break;
      }
    }
    if (i >= doc.size() || doc[i] != '<') continue;
    size_t name_end = i + 1;
    while (name_end < doc.size() && std::isalnum(static_cast<unsigned char>(doc[name_end]))) ++name_end;
    std::string_view name = doc.substr(i + 1, name_end - i - 1);
    if (!NameIs(name, "a") && !NameIs(name, "area")) {
      ++i;
      continue;
    }
    size_t tag_end = ParseAttributes(doc, name_end, attrs);
    const Attribute* href = nullptr;
    bool notrack = false;
    for (const Attribute& a : attrs) {
      if (NameIs(a.name, "data-rapport-notrack")) notrack = true;
      if (NameIs(a.name, "href") && a.has_value && href == nullptr) href = &a;
    }
    i = tag_end;
    if (href == nullptr || notrack || r.links.size() >= options.max_links) continue;
    std::string target(
        Trim(DecodeHtmlAttribute(doc.substr(href->value_begin, href->value_end - href->value_begin))));
    if (!IsTrackableUrl(target)) continue;
    bool keep = false;
    for (const std::string& p : options.keep_prefixes) keep = keep || (!p.empty() && target.starts_with(p));
    if (keep) continue;
    size_t index = r.links.size();
    r.html.append(doc.substr(copied, href->raw_begin - copied));
    r.html.push_back('"');
    AppendAttributeEscaped(r.html, options.click_url(index));
    r.html.push_back('"');
    copied = href->raw_end;
    r.links.push_back(std::move(target));
  }
  r.html.append(doc.substr(copied));
  return r;
}

std::string AddOpenPixel(std::string_view doc, std::string_view pixel_url) {
  std::string pixel = "<img src=\"";
  AppendAttributeEscaped(pixel, pixel_url);
  pixel += "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">";
  std::string out;
  out.reserve(doc.size() + pixel.size());
  size_t body = RFindNoCase(doc, "</body");
  if (body == std::string_view::npos) body = doc.size();
  out.append(doc.substr(0, body));
  out += pixel;
  out.append(doc.substr(body));
  return out;
}

bool IsTrackableUrl(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;  // never into a Location header
  return StartsWithNoCase(url, "http://") || StartsWithNoCase(url, "https://");
}

}  // namespace rapport::tracking
