#include "core/form_body.h"

#include "core/utf8.h"

namespace rapport {

namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = Hex(in[i + 1]), lo = Hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool Clean(std::string_view s, bool allow_newlines) {
  if (!IsValidUtf8(s)) return false;
  for (unsigned char c : s) {
    if (c == 0x7f) return false;
    if (c < 0x20 && !(allow_newlines && (c == '\t' || c == '\r' || c == '\n'))) return false;
  }
  return true;
}

Error Bad(std::string_view why) {
  return Error::Invalid("body", "the form body is not valid: " + std::string(why));
}

}  // namespace

std::string_view FormFields::Get(std::string_view name) const {
  for (const auto& [k, v] : pairs_)
    if (k == name) return v;
  return {};
}

bool FormFields::Has(std::string_view name) const {
  for (const auto& p : pairs_)
    if (p.first == name) return true;
  return false;
}

std::vector<std::string_view> FormFields::All(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : pairs_)
    if (k == name) out.push_back(v);
  return out;
}

Result<FormFields> ParseFormBody(std::string_view body) {
  if (body.size() > kMaxFormBytes) return Bad("too large");
  FormFields out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (out.pairs_.size() == kMaxFormFields) return Bad("too many fields");
    size_t eq = pair.find('=');
    std::string name, value;
    if (!Decode(pair.substr(0, eq), name)) return Bad("a bad %-escape");
    if (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), value)) return Bad("a bad %-escape");
    if (name.empty() || !Clean(name, false) || !Clean(value, true))
      return Bad("a name or value is not clean text");
    out.pairs_.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace rapport
