#include "http/request_head.h"

#include <array>
#include <cstring>

namespace rapport::http {

namespace {

// RFC 9110 5.6.2: tchar.
constexpr std::array<bool, 256> kToken = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!kToken[static_cast<unsigned char>(c)]) return false;
  return true;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (Lower(s[i]) != lower[i]) return false;
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field value: HTAB, SP, visible ASCII and obs-text; no other control character.
bool IsFieldValue(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// The Connection field's tokens (comma-separated, case-insensitive).
void ReadConnection(std::string_view v, bool& close, bool& keep_alive) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view t = TrimOws(v.substr(0, comma));
    if (EqualsLower(t, "close")) close = true;
    if (EqualsLower(t, "keep-alive")) keep_alive = true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "<unknown-status>";  // Beast's text for a code it does not know
  }
}

bool Writable(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void AppendUnsigned(std::string& out, size_t v) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  out.append(p, static_cast<size_t>(end - p));
}

}  // namespace

HeadParse ParseRequestHead(std::string_view data, RequestHead& head) {
  head.fields.clear();
  head.has_body = false;
  head.expect = false;
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // Not whole yet, unless a line already ends in a bare LF (the full parser then decides).
    for (size_t nl = data.find('\n'); nl != std::string_view::npos; nl = data.find('\n', nl + 1))
      if (nl == 0 || data[nl - 1] != '\r') return HeadParse::kUnusual;
    return HeadParse::kIncomplete;
  }
  head.size = end + 4;
  std::string_view rest = data.substr(0, end + 2);  // every line with its CRLF
  auto next_line = [&rest]() -> std::string_view {
    size_t crlf = rest.find("\r\n");
    std::string_view line = rest.substr(0, crlf);
    rest.remove_prefix(crlf + 2);
    return line;
  };

  // request-line = method SP request-target SP HTTP-version
  std::string_view line = next_line();
  if (line.find('\n') != std::string_view::npos) return HeadParse::kUnusual;
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return HeadParse::kUnusual;
  head.method = line.substr(0, sp1);
  if (!IsToken(head.method)) return HeadParse::kUnusual;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HeadParse::kUnusual;
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (head.target.empty() || head.target[0] != '/') return HeadParse::kUnusual;
  for (char ch : head.target) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return HeadParse::kUnusual;
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1")
    head.minor = 1;
  else if (version == "HTTP/1.0")
    head.minor = 0;
  else
    return HeadParse::kUnusual;

  bool close = false;
  bool keep_alive = false;
  while (!rest.empty()) {
    line = next_line();
    if (line.empty() || line[0] == ' ' || line[0] == '\t') return HeadParse::kUnusual;  // obs-fold
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return HeadParse::kUnusual;
    std::string_view name = line.substr(0, colon);
    std::string_view value = TrimOws(line.substr(colon + 1));
    if (!IsToken(name) || !IsFieldValue(value)) return HeadParse::kUnusual;
    if (head.fields.size() == RequestHead::kMaxFields) return HeadParse::kUnusual;
    head.fields.emplace_back(name, value);
    switch (Lower(name[0])) {
      case 'c':
        if (EqualsLower(name, "content-length")) {
          if (value != "0") head.has_body = true;
        } else if (EqualsLower(name, "connection")) {
          ReadConnection(value, close, keep_alive);
        }
        break;
      case 't':
        if (EqualsLower(name, "transfer-encoding")) head.has_body = true;
        break;
      case 'e':
        if (EqualsLower(name, "expect")) head.expect = true;
        break;
      default: break;
    }
  }
  head.keep_alive = head.minor == 1 ? !close : keep_alive && !close;
  return HeadParse::kComplete;
}

bool AppendResponse(const Response& r, int minor, bool keep_alive, bool head_only, std::string& out) {
  if (!Writable(r.content_type)) return false;
  for (const auto& [k, v] : r.headers)
    if (!Writable(k) || !Writable(v) || k.empty()) return false;
  int status = r.status >= 100 && r.status <= 999 ? r.status : 500;
  out += minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendUnsigned(out, static_cast<size_t>(status));
  out += ' ';
  out += Reason(status);
  out += "\r\n";
  if (!r.content_type.empty()) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\n";
  }
  for (const auto& [k, v] : r.headers) {
    // What the server sets itself (as Beast's prepare_payload and keep_alive do).
    if (EqualsLower(k, "content-length") || EqualsLower(k, "connection") ||
        EqualsLower(k, "transfer-encoding"))
      continue;
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (minor == 1 && !keep_alive) out += "Connection: close\r\n";
  if (minor == 0 && keep_alive) out += "Connection: keep-alive\r\n";
  if (status < 200 || status == 204 || status == 304) {  // no content, by definition (RFC 9110 8.6)
    out += "\r\n";
    return true;
  }
  out += "Content-Length: ";
  AppendUnsigned(out, r.body.size());
  out += "\r\n\r\n";
  if (!head_only) out += r.body;
  return true;
}

}  // namespace rapport::http
