// String filters: case, whitespace, slicing, replacing, splitting, truncating.
#include <algorithm>
#include <cstring>
#include <string>

#include "template/filter_registry.h"
#include "template/filter_util.h"
#include "template/number.h"

namespace rapport::liquid {

namespace {

using R = Result<Value>;

// ASCII and Latin-1 case mapping (Ruby maps all of Unicode; see docs/templates.md). The mapping
// keeps every character's length, so the result has the input's size.
void MapCase(char* out, std::string_view s, bool upper) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (upper && c >= 'a' && c <= 'z')
        c -= 32;
      else if (!upper && c >= 'A' && c <= 'Z')
        c += 32;
      out[i] = static_cast<char>(c);
    } else if (c == 0xC3 && i + 1 < s.size()) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      // U+00C0..U+00DE (except U+00D7) <-> U+00E0..U+00FE (except U+00F7)
      if (upper && d >= 0xA0 && d <= 0xBE && d != 0xB7)
        d -= 0x20;
      else if (!upper && d >= 0x80 && d <= 0x9E && d != 0x97)
        d += 0x20;
      out[i] = static_cast<char>(c);
      out[i + 1] = static_cast<char>(d);
      ++i;
    } else {
      out[i] = static_cast<char>(c);
    }
  }
}

// Whether MapCase would change anything in s.
bool CaseChanges(std::string_view s, bool upper) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) return true;
    } else if (c == 0xC3 && i + 1 < s.size()) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if (upper ? (d >= 0xA0 && d <= 0xBE && d != 0xB7) : (d >= 0x80 && d <= 0x9E && d != 0x97)) return true;
      ++i;
    }
  }
  return false;
}

Value MapCaseValue(FilterContext& ctx, std::string_view s, bool upper) {
  if (!CaseChanges(s, upper)) return Value::String(s);
  char* p = ctx.arena.AllocateChars(s.size());
  MapCase(p, s, upper);
  return Value::String({p, s.size()});
}

R Upcase(FilterContext& ctx, const Value& in, const FilterArgs&) {
  return MapCaseValue(ctx, AsText(ctx, in), true);
}

R Downcase(FilterContext& ctx, const Value& in, const FilterArgs&) {
  return MapCaseValue(ctx, AsText(ctx, in), false);
}

R Capitalize(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::string_view s = AsText(ctx, in);
  if (s.empty()) return Value::String("");
  size_t first_len = 1;
  unsigned char c = static_cast<unsigned char>(s[0]);
  if (c >= 0xC0) first_len = c >= 0xF0 ? 4 : (c >= 0xE0 ? 3 : 2);
  first_len = std::min(first_len, s.size());
  std::string_view head = s.substr(0, first_len), tail = s.substr(first_len);
  if (!CaseChanges(head, true) && !CaseChanges(tail, false)) return Value::String(s);
  char* p = ctx.arena.AllocateChars(s.size());
  MapCase(p, head, true);
  MapCase(p + first_len, tail, false);
  return Value::String({p, s.size()});
}

std::string_view StripLeft(std::string_view s) {
  while (!s.empty() && (IsRubySpace(s.front()) || s.front() == '\0')) s.remove_prefix(1);
  return s;
}
std::string_view StripRight(std::string_view s) {
  while (!s.empty() && (IsRubySpace(s.back()) || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

R Strip(FilterContext& ctx, const Value& in, const FilterArgs&) {
  return Value::String(StripRight(StripLeft(AsText(ctx, in))));
}
R Lstrip(FilterContext& ctx, const Value& in, const FilterArgs&) {
  return Value::String(StripLeft(AsText(ctx, in)));
}
R Rstrip(FilterContext& ctx, const Value& in, const FilterArgs&) {
  return Value::String(StripRight(AsText(ctx, in)));
}

R Append(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string_view x = AsText(ctx, in), y = AsText(ctx, a[0]);
  char* p = ctx.arena.AllocateChars(x.size() + y.size());
  if (!x.empty()) std::memcpy(p, x.data(), x.size());
  if (!y.empty()) std::memcpy(p + x.size(), y.data(), y.size());
  return Value::String({p, x.size() + y.size()});
}

R Prepend(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string_view x = AsText(ctx, a[0]), y = AsText(ctx, in);
  char* p = ctx.arena.AllocateChars(x.size() + y.size());
  if (!x.empty()) std::memcpy(p, x.data(), x.size());
  if (!y.empty()) std::memcpy(p + x.size(), y.data(), y.size());
  return Value::String({p, x.size() + y.size()});
}

// gsub/sub with a literal pattern.
R ReplaceImpl(FilterContext& ctx, std::string_view s, std::string_view pat, std::string_view rep, bool all) {
  std::string& out = ctx.scratch;
  out.clear();
  if (pat.empty()) {
    std::vector<size_t> offs;
    CharOffsets(s, offs);
    if (all && (offs.size() * rep.size() + s.size()) > ctx.max_bytes) return TooLarge(ctx);
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      if (all || i == 0) out += rep;
      out.append(s.substr(offs[i], offs[i + 1] - offs[i]));
    }
    if (all || s.empty()) out += rep;
    return MakeString(ctx, out);
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(pat, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out += rep;
    if (out.size() > ctx.max_bytes) return TooLarge(ctx);
    pos = hit + pat.size();
    if (!all) break;
  }
  out.append(s.substr(pos));
  return MakeString(ctx, out);
}

R Replace(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string_view rep = a.count > 1 ? AsText(ctx, a[1]) : std::string_view();
  return ReplaceImpl(ctx, AsText(ctx, in), AsText(ctx, a[0]), rep, true);
}
R ReplaceFirst(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string_view rep = a.count > 1 ? AsText(ctx, a[1]) : std::string_view();
  return ReplaceImpl(ctx, AsText(ctx, in), AsText(ctx, a[0]), rep, false);
}
R Remove(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  return ReplaceImpl(ctx, AsText(ctx, in), AsText(ctx, a[0]), {}, true);
}
R RemoveFirst(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  return ReplaceImpl(ctx, AsText(ctx, in), AsText(ctx, a[0]), {}, false);
}

Value ReplaceLastImpl(FilterContext& ctx, std::string_view s, std::string_view pat, std::string_view rep) {
  size_t hit = s.rfind(pat);
  if (hit == std::string_view::npos) return Value::String(s);
  std::string& out = ctx.scratch;
  out.assign(s.substr(0, hit));
  out += rep;
  out.append(s.substr(hit + pat.size()));
  return MakeString(ctx, out);
}

R ReplaceLast(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  return ReplaceLastImpl(ctx, AsText(ctx, in), AsText(ctx, a[0]), AsText(ctx, a[1]));
}
R RemoveLast(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  return ReplaceLastImpl(ctx, AsText(ctx, in), AsText(ctx, a[0]), {});
}

R Truncate(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  if (in.is_nil()) return Value();
  std::string_view s = AsText(ctx, in);
  int64_t length = 50;
  if (a.count > 0) {
    RAPPORT_ASSIGN_OR_RETURN(length, ToIntegerArg(a[0]));
  }
  std::string_view ellipsis = "...";
  if (a.count > 1) ellipsis = a[1].is_nil() ? std::string_view() : AsText(ctx, a[1]);
  int64_t count = static_cast<int64_t>(CharCount(s));
  if (count <= length) return Value::String(s);
  int64_t l = std::max<int64_t>(0, length - static_cast<int64_t>(CharCount(ellipsis)));
  size_t cut = CharByteOffset(s, static_cast<size_t>(std::min<int64_t>(l, count)));
  char* p = ctx.arena.AllocateChars(cut + ellipsis.size());
  std::memcpy(p, s.data(), cut);
  if (!ellipsis.empty()) std::memcpy(p + cut, ellipsis.data(), ellipsis.size());
  return Value::String({p, cut + ellipsis.size()});
}

// Ruby's awk-style split(" ") (no limit): the words between runs of whitespace.
void SplitWords(std::string_view s, std::vector<std::string_view>& out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsRubySpace(s[i])) ++i;
    if (i >= s.size()) break;
    size_t j = i;
    while (j < s.size() && !IsRubySpace(s[j])) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
}

// ruby-liquid: words = input.split(" ", n + 1); input if words.length <= n, else the first n
// joined by " " plus the ellipsis. With a limit, Ruby's split keeps the remainder after the n-th
// word as a last field even when it is empty (trailing whitespace), so "a b " has 3 fields.
R Truncatewords(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  if (in.is_nil()) return Value();
  std::string_view s = AsText(ctx, in);
  int64_t words = 15;
  if (a.count > 0) {
    RAPPORT_ASSIGN_OR_RETURN(words, ToIntegerArg(a[0]));
  }
  if (words <= 0) words = 1;
  std::string_view ellipsis = "...";
  if (a.count > 1) ellipsis = AsText(ctx, a[1]);
  // Count fields as split(" ", words + 1) would, stopping once there are more than `words`.
  const size_t n = static_cast<size_t>(std::min<int64_t>(words, int64_t{1} << 40));
  size_t fields = 0;  // words followed by whitespace, then the remainder
  size_t i = 0;
  size_t kept_end = 0;  // end of the n-th word
  bool more = false;
  while (i < s.size() && IsRubySpace(s[i])) ++i;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && !IsRubySpace(s[j])) ++j;
    if (fields == n) {  // a word past the n-th: the remainder is a field
      more = true;
      break;
    }
    if (j == s.size()) break;  // the last word, not followed by whitespace: the remainder
    ++fields;
    if (fields == n) kept_end = j;
    i = j;
    while (i < s.size() && IsRubySpace(s[i])) ++i;
    if (i == s.size() && fields == n) more = true;  // an empty remainder after the n-th word
  }
  if (s.empty() || !more) return Value::String(s);
  // The first n words joined by single spaces.
  char* p = ctx.arena.AllocateChars(kept_end + ellipsis.size());
  size_t w = 0;
  i = 0;
  size_t done = 0;
  while (done < n) {
    while (IsRubySpace(s[i])) ++i;
    size_t j = i;
    while (j < kept_end && !IsRubySpace(s[j])) ++j;
    if (done) p[w++] = ' ';
    std::memcpy(p + w, s.data() + i, j - i);
    w += j - i;
    i = j;
    ++done;
  }
  if (!ellipsis.empty()) std::memcpy(p + w, ellipsis.data(), ellipsis.size());
  return Value::String({p, w + ellipsis.size()});
}

R Split(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  std::string_view s = AsText(ctx, in);
  std::string_view pat = AsText(ctx, a[0]);
  std::vector<Value> items;
  if (pat == " ") {
    std::vector<std::string_view> words;
    SplitWords(s, words);
    for (auto w : words) items.push_back(Value::String(w));
  } else if (pat.empty()) {
    std::vector<size_t> offs;
    CharOffsets(s, offs);
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      items.push_back(Value::String(s.substr(offs[i], offs[i + 1] - offs[i])));
    }
  } else {
    size_t pos = 0;
    while (true) {
      size_t hit = s.find(pat, pos);
      if (hit == std::string_view::npos) {
        items.push_back(Value::String(s.substr(pos)));
        break;
      }
      items.push_back(Value::String(s.substr(pos, hit - pos)));
      pos = hit + pat.size();
    }
    while (!items.empty() && items.back().as_string().empty()) items.pop_back();
  }
  return ItemsValue(ctx, items);
}

R Slice(FilterContext& ctx, const Value& in, const FilterArgs& a) {
  RAPPORT_ASSIGN_OR_RETURN(int64_t offset, ToIntegerArg(a[0]));
  int64_t length = 1;
  if (a.count > 1 && !a[1].is_nil()) {
    RAPPORT_ASSIGN_OR_RETURN(length, ToIntegerArg(a[1]));
  }
  auto window = [&](int64_t size, int64_t* start, int64_t* len) {
    int64_t o = offset;
    if (o < 0) o += size;
    if (o < 0 || o > size || length < 0) return false;
    *start = o;
    *len = std::min(length, size - o);
    return true;
  };
  int64_t start, len;
  if (in.is_array()) {
    const ArrayData& arr = in.as_array();
    if (!window(static_cast<int64_t>(arr.size), &start, &len)) return ItemsValue(ctx, {});
    return Value::Array(MakeArray(ctx.arena, arr.items + start, static_cast<size_t>(len)));
  }
  std::string_view s = AsText(ctx, in);
  int64_t count = static_cast<int64_t>(CharCount(s));
  if (!window(count, &start, &len)) return Value::String("");
  size_t b = CharByteOffset(s, static_cast<size_t>(start));
  size_t e = b + CharByteOffset(s.substr(b), static_cast<size_t>(len));
  return Value::String(s.substr(b, e - b));
}

R NewlineToBr(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::string_view s = AsText(ctx, in);
  std::string& out = ctx.scratch;
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      out += "<br />\n";
      ++i;
    } else if (s[i] == '\n') {
      out += "<br />\n";
    } else {
      out += s[i];
    }
  }
  return MakeString(ctx, out);
}

R StripNewlines(FilterContext& ctx, const Value& in, const FilterArgs&) {
  std::string_view s = AsText(ctx, in);
  std::string& out = ctx.scratch;
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (s[i] == '\n') continue;
    out += s[i];
  }
  return MakeString(ctx, out);
}

R Size(FilterContext& ctx, const Value& in, const FilterArgs&) {
  switch (in.kind()) {
    case Value::Kind::kString: return Value::Int(static_cast<int64_t>(CharCount(in.as_string())));
    case Value::Kind::kArray: return Value::Int(static_cast<int64_t>(in.as_array().size));
    case Value::Kind::kObject: return Value::Int(static_cast<int64_t>(in.as_object().size));
    case Value::Kind::kInt: return Value::Int(8);
    case Value::Kind::kRange: {
      return Value::Int(RangeCount(in.range_first(), in.range_last()));
    }
    default: return Value::Int(0);
  }
}

}  // namespace

void RegisterStringFilters(FilterRegistry& r) {
  r.Register("upcase", Upcase, 0, 0);
  r.Register("downcase", Downcase, 0, 0);
  r.Register("capitalize", Capitalize, 0, 0);
  r.Register("strip", Strip, 0, 0);
  r.Register("lstrip", Lstrip, 0, 0);
  r.Register("rstrip", Rstrip, 0, 0);
  r.Register("append", Append, 1, 1);
  r.Register("prepend", Prepend, 1, 1);
  r.Register("replace", Replace, 1, 2);
  r.Register("replace_first", ReplaceFirst, 1, 2);
  r.Register("replace_last", ReplaceLast, 2, 2);
  r.Register("remove", Remove, 1, 1);
  r.Register("remove_first", RemoveFirst, 1, 1);
  r.Register("remove_last", RemoveLast, 1, 1);
  r.Register("truncate", Truncate, 0, 2);
  r.Register("truncatewords", Truncatewords, 0, 2);
  r.Register("split", Split, 1, 1);
  r.Register("slice", Slice, 1, 2);
  r.Register("newline_to_br", NewlineToBr, 0, 0);
  r.Register("strip_newlines", StripNewlines, 0, 0);
  r.Register("size", Size, 0, 0);
}

}  // namespace rapport::liquid
