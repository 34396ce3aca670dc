// One HTTP(S) GET, for `rapport tracking update-ranges` (Apple's egress list). Verifies the
// server's certificate against the system's CA store and its name; follows no redirect; at most
// `max_bytes` of body; 60 s in all. Errors: kUnavailable (connection, TLS, timeout, a status
// other than 200), kInvalid for a URL that is not http(s)://host[:port]/path.
#pragma once

#include <cstddef>
#include <string>

#include "core/error.h"
#include "core/http_url.h"

namespace rapport::app {

Result<std::string> HttpGet(const std::string& url, size_t max_bytes);

// ParseHttpUrl and HttpUrl: core/http_url.h.

}  // namespace rapport::app
