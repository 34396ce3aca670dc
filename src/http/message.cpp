#include "http/message.h"

#include <algorithm>
#include <cctype>

#include "core/encoding.h"

namespace rapport::http {

namespace {

const std::string* Find(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace

const std::string* Request::Header(std::string_view lower_name) const { return Find(headers, lower_name); }
const std::string* Request::Query(std::string_view name) const { return Find(query, name); }

std::string ClientAddress(bool trust_forwarded_for, const Request& req) {
  if (trust_forwarded_for) {
    if (const std::string* xff = req.Header("x-forwarded-for")) {
      std::string_view first = std::string_view(*xff).substr(0, xff->find(','));
      while (!first.empty() && first.front() == ' ') first.remove_prefix(1);
      while (!first.empty() && first.back() == ' ') first.remove_suffix(1);
      bool ok = !first.empty() && first.size() <= 45 &&
                std::all_of(first.begin(), first.end(),
                            [](unsigned char c) { return std::isxdigit(c) || c == '.' || c == ':'; });
      if (ok) return std::string(first);
    }
  }
  return req.peer_ip;
}

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int hi = i + 1 < in.size() ? HexDigitValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexDigitValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

Fields ParseQuery(std::string_view query) {
  Fields out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string name, value;
    if (!PercentDecode(part.substr(0, eq), name)) continue;
    if (eq != std::string_view::npos && !PercentDecode(part.substr(eq + 1), value)) continue;
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

bool SetRequestTarget(std::string_view target, Request& req) {
  size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), req.path) || req.path.empty() || req.path[0] != '/') return false;
  if (q != std::string_view::npos) req.query = ParseQuery(target.substr(q + 1));
  return true;
}

void AddRequestHeader(std::string_view name, std::string_view value, Request& req) {
  std::string lower(name);
  for (char& c : lower)  // no libc call per character
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  req.headers.emplace_back(std::move(lower), std::string(value));
}

}  // namespace rapport::http
