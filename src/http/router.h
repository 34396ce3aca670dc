// The router: method + path pattern ("/api/v1/contacts/{id}") -> handler, with the access each
// route needs. Built once at startup, then read-only (thread-safe for concurrent Find).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/model.h"
#include "http/message.h"

namespace rapport::http {

// Who may call a route: anyone, or an API key holding the scope.
enum class Access { kPublic, kRead, kWrite, kSend, kAdmin };

// What a handler gets: the request, the path parameters, and the authenticated key (a default
// ApiKey with id 0 on public routes).
struct CallContext {
  const Request& request;
  std::vector<std::pair<std::string, std::string>> params;
  ApiKey key;

  // The value of path parameter `name` ("id" for "{id}"); empty if the pattern has none.
  const std::string& Param(std::string_view name) const;
};

using Handler = std::function<Result<Response>(CallContext&)>;
// An optional second way into a route, for a server that must not block its I/O thread: the fast
// handler either declines at once (returns false: the server calls `handler` on a handler thread,
// as without one), or takes the request (returns true) and calls `done` exactly once, from any
// thread, with the response, or with nullopt to hand the request to `handler` after all. It must
// do no blocking I/O itself, and must not keep a reference to the CallContext once it returns.
using FastDone = std::function<void(std::optional<Result<Response>>)>;
using FastHandler = std::function<bool(CallContext&, FastDone)>;

struct Route {
  std::string method;
  std::string pattern;  // also the `route` label in metrics
  Access access = Access::kRead;
  Handler handler;
  FastHandler fast;                   // optional (above)
  std::vector<std::string> segments;  // the pattern split on '/'
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Access access, Handler handler, FastHandler fast = {});

  struct Match {
    const Route* route = nullptr;  // null: no route
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;  // when the path matched but not the method: "GET, POST" (-> 405)
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace rapport::http
