#include "core/json_write.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace rapport {

namespace {

void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

template <class Int>
void AppendInt(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

char* WriteJsonNumber(char* at, double v) {
  auto put = [&at](std::string_view s) {
    std::memcpy(at, s.data(), s.size());
    at += s.size();
  };
  if (!std::isfinite(v)) {
    put("null");
    return at;
  }
  if (v == 0) {
    *at++ = '0';
    return at;
  }
  // The shortest digits that read back exactly, then ECMAScript's Number::toString layout.
  // On the stack: a double has at most 17 significant digits (no allocation per number).
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* p = buf;
  if (*p == '-') {
    *at++ = '-';
    ++p;
  }
  char digits_buf[24];
  size_t k_size = 0;
  for (; p != end && *p != 'e'; ++p)
    if (*p != '.') digits_buf[k_size++] = *p;
  int exponent = 0;
  if (p != end) {
    const char* e = p + 1;
    if (e != end && *e == '+') ++e;  // from_chars takes a '-' but not a '+'
    std::from_chars(e, end, exponent);
  }
  std::string_view digits(digits_buf, k_size);
  int k = static_cast<int>(k_size);
  int n = exponent + 1;  // where the decimal point goes
  if (k <= n && n <= 21) {
    put(digits);
    at = std::fill_n(at, n - k, '0');
  } else if (0 < n && n <= 21) {
    put(digits.substr(0, static_cast<size_t>(n)));
    *at++ = '.';
    put(digits.substr(static_cast<size_t>(n)));
  } else if (-6 < n && n <= 0) {
    put("0.");
    at = std::fill_n(at, -n, '0');
    put(digits);
  } else {
    *at++ = digits[0];
    if (k > 1) {
      *at++ = '.';
      put(digits.substr(1));
    }
    *at++ = 'e';
    *at++ = n - 1 < 0 ? '-' : '+';
    at = std::to_chars(at, at + 4, std::abs(n - 1)).ptr;
  }
  return at;
}

void AppendJsonNumber(std::string& out, double v) {
  char buf[kMaxJsonNumber];
  out.append(buf, WriteJsonNumber(buf, v));
}

void AppendJsonString(std::string& out, std::string_view value) { AppendString(out, value); }

void AppendJson(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: AppendInt(out, v.get_int64()); return;
    case boost::json::kind::uint64: AppendInt(out, v.get_uint64()); return;
    case boost::json::kind::double_: AppendJsonNumber(out, v.get_double()); return;
    case boost::json::kind::string: AppendString(out, v.get_string()); return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(out, item);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: AppendJson(out, v.get_object()); return;
  }
}

void AppendJson(std::string& out, const boost::json::object& object) {
  out.push_back('{');
  bool first = true;
  for (const auto& [key, item] : object) {
    if (!first) out.push_back(',');
    first = false;
    AppendString(out, key);
    out.push_back(':');
    AppendJson(out, item);
  }
  out.push_back('}');
}

std::string WriteJson(const boost::json::value& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

}  // namespace rapport
