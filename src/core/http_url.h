// http(s) URLs as outbound clients use them (the journeys' webhooks, `rapport tracking
// update-ranges`), and as the journey validator checks them before they are saved.
#pragma once

#include <string>

#include "core/error.h"

namespace rapport {

// An http(s) URL split for a client: the host (an IPv6 literal without its brackets), the port
// (the scheme's default when absent) and the target (path and query, "/" when empty; no
// fragment). kInvalid (field "url") for another scheme, no host, a bad port, or credentials in
// the URL.
struct HttpUrl {
  bool tls = false;
  std::string host, port, target;
  // The Host header (RFC 9110, 7.2): an IPv6 literal in brackets, the port when not the default.
  std::string HostHeader() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? "443" : "80")) h += ":" + port;
    return h;
  }
};
Result<HttpUrl> ParseHttpUrl(const std::string& url);

}  // namespace rapport
