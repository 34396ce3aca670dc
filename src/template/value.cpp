#include "template/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <boost/json/value.hpp>

namespace rapport::liquid {

namespace {
constexpr size_t kFirstBlock = 8 * 1024;
constexpr size_t kSmallObject = 12;
}  // namespace

void* Arena::Allocate(size_t bytes, size_t align) {
  uintptr_t p = reinterpret_cast<uintptr_t>(cur_);
  size_t pad = (align - (p % align)) % align;
  if (cur_ == nullptr || pad + bytes > left_) {
    size_t want = std::max(bytes + align, sizes_.empty() ? kFirstBlock : sizes_.back() * 2);
    blocks_.push_back(std::make_unique<char[]>(want));
    sizes_.push_back(want);
    cur_ = blocks_.back().get();
    left_ = want;
    p = reinterpret_cast<uintptr_t>(cur_);
    pad = (align - (p % align)) % align;
  }
  char* result = cur_ + pad;
  cur_ += pad + bytes;
  left_ -= pad + bytes;
  used_total_ += bytes;
  return result;
}

std::string_view Arena::Copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = AllocateChars(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

void Arena::Reset() {
  if (blocks_.empty()) return;
  if (blocks_.size() > 1) {
    auto last = std::move(blocks_.back());
    size_t size = sizes_.back();
    blocks_.clear();
    sizes_.clear();
    blocks_.push_back(std::move(last));
    sizes_.push_back(size);
  }
  cur_ = blocks_.back().get();
  left_ = sizes_.back();
  used_total_ = 0;
}

size_t ObjectData::FindIndex(std::string_view key) const {
  if (sorted == nullptr) {
    for (size_t i = size; i-- > 0;) {
      if (SameKey(members[i].key, key)) return i;
    }
    return kNone;
  }
  // The sorted index is stable by key then by position; find the last member with this key.
  const uint32_t* it = std::upper_bound(
      sorted, sorted + size, key, [this](std::string_view k, uint32_t idx) { return k < members[idx].key; });
  if (it == sorted) return kNone;
  uint32_t i = *(it - 1);
  return members[i].key == key ? i : kNone;
}

const ArrayData* MakeArray(Arena& arena, const Value* items, size_t n) {
  auto* data = arena.AllocateArray<ArrayData>(1);
  auto* copy = arena.AllocateArray<Value>(n);
  for (size_t i = 0; i < n; ++i) copy[i] = items[i];
  data->items = copy;
  data->size = n;
  return data;
}

const ObjectData* MakeObject(Arena& arena, const Member* members, size_t n) {
  auto* data = arena.AllocateArray<ObjectData>(1);
  auto* copy = arena.AllocateArray<Member>(n);
  for (size_t i = 0; i < n; ++i) new (&copy[i]) Member(members[i]);
  data->members = copy;
  data->size = n;
  data->sorted = nullptr;
  bool unique = true;
  if (n > kSmallObject) {
    auto* idx = arena.AllocateArray<uint32_t>(n);
    for (size_t i = 0; i < n; ++i) idx[i] = static_cast<uint32_t>(i);
    std::stable_sort(idx, idx + n, [copy](uint32_t a, uint32_t b) { return copy[a].key < copy[b].key; });
    data->sorted = idx;
    for (size_t i = 1; i < n && unique; ++i) unique = copy[idx[i - 1]].key != copy[idx[i]].key;
  } else {
    for (size_t i = 0; i < n && unique; ++i) {
      for (size_t j = i + 1; j < n && unique; ++j) unique = !SameKey(copy[i].key, copy[j].key);
    }
  }
  data->unique_keys = unique;
  return data;
}

Value FromJson(const boost::json::value& json, Arena& arena) {
  switch (json.kind()) {
    case boost::json::kind::null: return Value();
    case boost::json::kind::bool_: return Value::Bool(json.get_bool());
    case boost::json::kind::int64: return Value::Int(json.get_int64());
    case boost::json::kind::uint64: {
      uint64_t u = json.get_uint64();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Double(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case boost::json::kind::double_: return Value::Double(json.get_double());
    case boost::json::kind::string: {
      const auto& s = json.get_string();
      return Value::String(std::string_view(s.data(), s.size()));
    }
    case boost::json::kind::array: {
      const auto& a = json.get_array();
      auto* data = arena.AllocateArray<ArrayData>(1);
      auto* items = arena.AllocateArray<Value>(a.size());
      for (size_t i = 0; i < a.size(); ++i) items[i] = FromJson(a[i], arena);
      data->items = items;
      data->size = a.size();
      return Value::Array(data);
    }
    case boost::json::kind::object: {
      const auto& o = json.get_object();
      auto* members = arena.AllocateArray<Member>(o.size());
      size_t i = 0;
      for (const auto& kv : o) {
        new (&members[i])
            Member{std::string_view(kv.key().data(), kv.key().size()), FromJson(kv.value(), arena)};
        ++i;
      }
      auto* data = arena.AllocateArray<ObjectData>(1);
      data->members = members;
      data->size = i;
      data->sorted = nullptr;
      data->unique_keys = true;  // a boost::json::object's keys are unique
      if (i > kSmallObject) {
        auto* idx = arena.AllocateArray<uint32_t>(i);
        for (size_t k = 0; k < i; ++k) idx[k] = static_cast<uint32_t>(k);
        std::stable_sort(idx, idx + i,
                         [members](uint32_t a, uint32_t b) { return members[a].key < members[b].key; });
        data->sorted = idx;
      }
      return Value::Object(data);
    }
  }
  return Value();
}

void AppendInt(std::string& out, int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

size_t FormatRubyFloat(double d, char* buf) {
  char* o = buf;
  auto put = [&o](std::string_view t) {
    std::memcpy(o, t.data(), t.size());
    o += t.size();
  };
  if (std::isnan(d)) {
    put("NaN");
    return o - buf;
  }
  if (std::isinf(d)) {
    put(d < 0 ? "-Infinity" : "Infinity");
    return o - buf;
  }
  if (d == 0) {
    put(std::signbit(d) ? "-0.0" : "0.0");
    return o - buf;
  }
  // Shortest round-trip digits in scientific form: d.ddde[+-]x
  char sci[40];
  auto r = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific);
  std::string_view s(sci, r.ptr - sci);
  if (s[0] == '-') {
    *o++ = '-';
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  char digits[24];
  size_t nd = 0;
  digits[nd++] = s[0];
  for (size_t k = 2; k < e; ++k) digits[nd++] = s[k];
  int exp = 0;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
  if (exp >= 16 || exp < -4) {
    *o++ = digits[0];
    *o++ = '.';
    if (nd > 1) {
      put(std::string_view(digits + 1, nd - 1));
    } else {
      *o++ = '0';
    }
    *o++ = 'e';
    *o++ = exp < 0 ? '-' : '+';
    int ae = exp < 0 ? -exp : exp;
    if (ae < 10) *o++ = '0';
    o = std::to_chars(o, o + 8, ae).ptr;
    return o - buf;
  }
  if (exp < 0) {
    put("0.");
    for (int k = 0; k < -exp - 1; ++k) *o++ = '0';
    put(std::string_view(digits, nd));
    return o - buf;
  }
  size_t int_len = static_cast<size_t>(exp) + 1;
  if (nd <= int_len) {
    put(std::string_view(digits, nd));
    for (size_t k = nd; k < int_len; ++k) *o++ = '0';
    put(".0");
  } else {
    put(std::string_view(digits, int_len));
    *o++ = '.';
    put(std::string_view(digits + int_len, nd - int_len));
  }
  return o - buf;
}

void AppendRubyFloat(std::string& out, double d) {
  char buf[kRubyFloatChars];
  out.append(buf, FormatRubyFloat(d, buf));
}

namespace {

void AppendInspectString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\f': out += "\\f"; break;
      case '\v': out += "\\v"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case 27: out += "\\e"; break;
      case '#': out += '#'; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

void AppendInspect(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil: out += "nil"; return;
    case Value::Kind::kEmpty:
    case Value::Kind::kBlank: out += "\"\""; return;
    case Value::Kind::kString: AppendInspectString(out, v.as_string()); return;
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : v.as_array()) {
        if (!first) out += ", ";
        first = false;
        AppendInspect(out, item);
      }
      out += ']';
      return;
    }
    case Value::Kind::kObject: {
      out += '{';
      const ObjectData& o = v.as_object();
      for (size_t i = 0; i < o.size; ++i) {
        if (i) out += ", ";
        AppendInspectString(out, o.members[i].key);
        out += "=>";
        AppendInspect(out, o.members[i].value);
      }
      out += '}';
      return;
    }
    default: AppendValue(out, v); return;
  }
}

void AppendValue(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil:
    case Value::Kind::kEmpty:
    case Value::Kind::kBlank:
    case Value::Kind::kLoop: return;
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::kInt: AppendInt(out, v.as_int()); return;
    case Value::Kind::kDouble: AppendRubyFloat(out, v.as_double()); return;
    case Value::Kind::kString: out += v.as_string(); return;
    case Value::Kind::kArray:
      for (const Value& item : v.as_array()) {
        if (item.is_object()) {
          AppendInspect(out, item);
        } else {
          AppendValue(out, item);
        }
      }
      return;
    case Value::Kind::kObject: AppendInspect(out, v); return;
    case Value::Kind::kRange:
      AppendInt(out, v.range_first());
      out += "..";
      AppendInt(out, v.range_last());
      return;
  }
}

bool ValueEquals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_number() == b.as_number();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kNil:
    case Value::Kind::kEmpty:
    case Value::Kind::kBlank: return true;
    case Value::Kind::kBool: return a.as_bool() == b.as_bool();
    case Value::Kind::kString: return a.as_string() == b.as_string();
    case Value::Kind::kRange: return a.range_first() == b.range_first() && a.range_last() == b.range_last();
    case Value::Kind::kArray: {
      const ArrayData& x = a.as_array();
      const ArrayData& y = b.as_array();
      if (x.size != y.size) return false;
      for (size_t i = 0; i < x.size; ++i) {
        if (!ValueEquals(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Value::Kind::kObject: {
      const ObjectData& x = a.as_object();
      const ObjectData& y = b.as_object();
      if (x.size != y.size) return false;
      for (size_t i = 0; i < x.size; ++i) {
        const Value* other = y.Find(x.members[i].key);
        if (other == nullptr || !ValueEquals(x.members[i].value, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kLoop: return &a.as_loop() == &b.as_loop();
    default: return false;
  }
}

void AppendToS(std::string& out, const Value& v) {
  if (v.is_array()) {
    AppendInspect(out, v);
  } else {
    AppendValue(out, v);
  }
}

std::string_view ToStringView(const Value& v, Arena& arena) {
  if (v.is_string()) return v.as_string();
  if (v.is_nil()) return {};
  std::string tmp;
  AppendToS(tmp, v);
  return arena.Copy(tmp);
}

}  // namespace rapport::liquid
