#include "core/http_url.h"

namespace rapport {

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  HttpUrl u;
  std::string rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return Error::Invalid("url", "the URL must start with http:// or https://");
  }
  size_t end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  u.target = end == std::string::npos ? "/" : rest.substr(end);
  if (u.target.front() != '/')
    u.target = "/" + u.target;  // not insert(0, ...): g++ 12 warns falsely (-Wrestrict)
  if (u.target.find('#') != std::string::npos) u.target.erase(u.target.find('#'));
  if (authority.find('@') != std::string::npos)
    return Error::Invalid("url", "the URL carries a user name or password: put credentials elsewhere");
  std::string port;
  if (authority.starts_with("[")) {  // an IPv6 literal: [::1] or [::1]:8080
    size_t close = authority.find(']');
    if (close == std::string::npos) return Error::Invalid("url", "the URL's IPv6 address has no closing ]");
    u.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Error::Invalid("url", "the URL's host is not followed by a port");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Error::Invalid("url", "the URL names no host");
  if (port.empty()) {
    u.port = u.tls ? "443" : "80";
  } else if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
             std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return Error::Invalid("url", "the URL's port is not a number from 1 to 65535");
  } else {
    u.port = port;
  }
  return u;
}

}  // namespace rapport
