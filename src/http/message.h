// The API's own small request and response values: what handlers read and write.
//
// The Beast server (server.cpp) converts to and from these, so handlers compile without Beast
// and are tested without sockets. Plain values; not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rapport::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // upper case: "GET", "POST" ...
  std::string path;    // percent-decoded, without the query: "/api/v1/contacts/12"
  Fields query;        // percent-decoded name/value pairs, in order
  Fields headers;      // names lower-cased
  std::string body;
  std::string peer_ip;  // the TCP peer's address

  // The first header / query parameter with this (lower-case) name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
  const std::string* Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Fields headers;  // extra headers (Allow, WWW-Authenticate ...)
  std::string body;
};

// The client's address: the TCP peer, or the first X-Forwarded-For hop when the proxy in front is
// trusted (and the hop is an address).
std::string ClientAddress(bool trust_forwarded_for, const Request& req);

// Splits "a=1&b=x%40y" into pairs, percent-decoding names and values ('+' stays '+').
Fields ParseQuery(std::string_view query);
// Percent-decodes; returns false (and leaves out undefined) on a bad escape.
bool PercentDecode(std::string_view in, std::string& out);

// The request target ("/api/v1/x?a=1") as req.path (percent-decoded) and req.query; false when
// the path does not decode or does not start with '/' (-> 400).
bool SetRequestTarget(std::string_view target, Request& req);
// Adds a header field with its name lower-cased (ASCII: names are tokens).
void AddRequestHeader(std::string_view name, std::string_view value, Request& req);

}  // namespace rapport::http
