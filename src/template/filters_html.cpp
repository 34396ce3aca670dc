// HTML, URL and Base64 filters, and rapport's `raw` (marks output as already safe when
// html_escape is on).
#include <cstring>
#include <string>

#include "core/utf8.h"
#include "template/filter_registry.h"
#include "template/filter_util.h"
#include "template/html_escape.h"

namespace rapport::liquid {

namespace {

using R = Result<Value>;

R Escape(FilterContext& ctx, const Value& in, const FilterArgs&) {
  if (in.is_nil()) return Value();
  std::string_view s = AsText(ctx, in);
  size_t size = EscapedHtmlSize(s);
  if (size == s.size()) return Value::String(s);  // nothing to escape
  char* p = ctx.arena.AllocateChars(size);
  WriteEscapedHtml(p, s);
  return Value::String({p, size});
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// An entity at s[i] == '&': &name; or &#digits;
bool IsEntity(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && IsAlpha(s[j])) {
    while (j < s.size() && IsAlpha(s[j])) ++j;
    return j < s.size() && s[j] == ';';
  }
  if (j < s.size() && s[j] == '#') {
    ++j;
    size_t d = j;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    return j > d && j < s.size() && s[j] == ';';
  }
  return false;
}

R EscapeOnce(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::string_view s = AsText(ctx, in);
  std::string& out = ctx.scratch;
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&' && IsEntity(s, i)) {
      out += '&';
    } else {
      AppendEscapedHtml(out, s.substr(i, 1));
    }
  }
  return MakeString(ctx, out);
}

R UrlEncode(FilterContext& ctx, const Value& in, const FilterArgs&) {
  if (in.is_nil()) return Value();
  std::string_view s = AsText(ctx, in);
  auto unreserved = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '~';
  };
  size_t size = 0;
  bool changed = false;
  for (unsigned char c : s) {
    if (unreserved(c)) {
      ++size;
    } else {
      changed = true;
      size += c == ' ' ? 1 : 3;
    }
  }
  if (!changed) return Value::String(s);
  static const char* kHex = "0123456789ABCDEF";
  char* p = ctx.arena.AllocateChars(size);
  size_t w = 0;
  for (unsigned char c : s) {
    if (unreserved(c)) {
      p[w++] = static_cast<char>(c);
    } else if (c == ' ') {
      p[w++] = '+';
    } else {
      p[w++] = '%';
      p[w++] = kHex[c >> 4];
      p[w++] = kHex[c & 15];
    }
  }
  return Value::String({p, size});
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

R UrlDecode(FilterContext& ctx, const Value& in, const FilterArgs&) {
  if (in.is_nil()) return Value();
  std::string_view s = AsText(ctx, in);
  std::string& out = ctx.scratch;
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out += static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  if (!IsValidUtf8(out)) return FilterError("invalid byte sequence in UTF-8");
  return MakeString(ctx, out);
}

void Base64Encode(std::string& out, std::string_view s, bool url) {
  const char* table = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  while (i + 2 < s.size()) {
    uint32_t v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                 static_cast<unsigned char>(s[i + 2]);
    out += table[v >> 18];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
    i += 3;
  }
  if (i + 1 == s.size()) {
    uint32_t v = static_cast<unsigned char>(s[i]) << 16;
    out += table[v >> 18];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += table[v >> 18];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
}

// Strict decoding: length a multiple of 4, padding only at the end, no stray characters.
bool Base64Decode(std::string& out, std::string_view s, bool url) {
  auto val = [url](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
  };
  if (s.size() % 4 != 0) return false;
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=') {
        if (i + 4 != s.size() || k < 2) return false;
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return false;
        v[k] = val(c);
        if (v[k] < 0) return false;
      }
    }
    uint32_t w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(w >> 16);
    if (pad < 2) out += static_cast<char>((w >> 8) & 255);
    if (pad < 1) out += static_cast<char>(w & 255);
    // Unused bits must be zero (strict_decode64).
    if (pad == 2 && (v[1] & 15)) return false;
    if (pad == 1 && (v[2] & 3)) return false;
  }
  return true;
}

R B64Encode(FilterContext& ctx, const Value& in, const FilterArgs&) {
  ctx.scratch.clear();
  Base64Encode(ctx.scratch, AsText(ctx, in), false);
  return MakeString(ctx, ctx.scratch);
}

R B64Decode(FilterContext& ctx, const Value& in, const FilterArgs&) {
  ctx.scratch.clear();
  if (!Base64Decode(ctx.scratch, AsText(ctx, in), false)) {
    return FilterError("invalid base64 provided to base64_decode");
  }
  return MakeString(ctx, ctx.scratch);
}

R B64UrlEncode(FilterContext& ctx, const Value& in, const FilterArgs&) {
  ctx.scratch.clear();
  Base64Encode(ctx.scratch, AsText(ctx, in), true);
  return MakeString(ctx, ctx.scratch);
}

R B64UrlDecode(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::string padded(AsText(ctx, in));
  if (padded.find('=') == std::string::npos && padded.size() % 4 != 0) {
    padded.append(4 - padded.size() % 4, '=');
  }
  ctx.scratch.clear();
  if (!Base64Decode(ctx.scratch, padded, true)) {
    return FilterError("invalid base64 provided to base64_url_safe_decode");
  }
  return MakeString(ctx, ctx.scratch);
}

// Removes every match of open.*?close (non-greedy, across lines).
R StripHtml(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::string_view s = AsText(ctx, in);
  if (s.find('<') == std::string_view::npos) return Value::String(s);
  // Regexp.union(script, comment, style): leftmost match first, whichever kind. The text
  // without those blocks is s itself when there are none (the usual case), else built in the
  // scratch buffer.
  std::string_view pass = s;
  std::string& buf = ctx.scratch;
  buf.clear();
  bool removed = false;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t best = std::string_view::npos, best_end = 0;
    const std::pair<std::string_view, std::string_view> kinds[] = {
        {"<script", "</script>"}, {"<!--", "-->"}, {"<style", "</style>"}};
    for (const auto& k : kinds) {
      size_t b = s.find(k.first, pos);
      if (b != std::string_view::npos) {
        size_t e = s.find(k.second, b + k.first.size());
        if (e != std::string_view::npos && b < best) {
          best = b;
          best_end = e + k.second.size();
        }
      }
    }
    if (best == std::string_view::npos) break;
    buf.append(s.substr(pos, best - pos));
    pos = best_end;
    removed = true;
  }
  if (removed) {
    buf.append(s.substr(std::min(pos, s.size())));
    pass = buf;
  }
  // Tags: the result is no longer than `pass`, so it is built in the arena directly.
  char* p = ctx.arena.AllocateChars(pass.size());
  size_t w = 0;
  pos = 0;
  while (true) {
    size_t b = pass.find('<', pos);
    if (b == std::string_view::npos) break;
    size_t e = pass.find('>', b + 1);
    if (e == std::string_view::npos) break;
    std::memcpy(p + w, pass.data() + pos, b - pos);
    w += b - pos;
    pos = e + 1;
  }
  std::memcpy(p + w, pass.data() + pos, pass.size() - pos);
  w += pass.size() - pos;
  ctx.arena.TrimLast(p, pass.size(), w);
  return Value::String({p, w});
}

R Raw(FilterContext&, const Value& in, const FilterArgs&) { return in; }

}  // namespace

void RegisterHtmlFilters(FilterRegistry& r) {
  r.Register("escape", Escape, 0, 0);
  r.Register("h", Escape, 0, 0);
  r.Register("escape_once", EscapeOnce, 0, 0);
  r.Register("url_encode", UrlEncode, 0, 0);
  r.Register("url_decode", UrlDecode, 0, 0);
  r.Register("base64_encode", B64Encode, 0, 0);
  r.Register("base64_decode", B64Decode, 0, 0);
  r.Register("base64_url_safe_encode", B64UrlEncode, 0, 0);
  r.Register("base64_url_safe_decode", B64UrlDecode, 0, 0);
  r.Register("strip_html", StripHtml, 0, 0);
  r.Register("raw", Raw, 0, 0);
}

}  // namespace rapport::liquid
