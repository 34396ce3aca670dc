#include "http/router.h"

#include <array>

namespace rapport::http {

namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsParam(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

}  // namespace

const std::string& CallContext::Param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return kEmpty;
}

void Router::Add(std::string method, std::string pattern, Access access, Handler handler, FastHandler fast) {
  Route r;
  for (std::string_view seg : Split(pattern)) r.segments.emplace_back(seg);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.access = access;
  r.handler = std::move(handler);
  r.fast = std::move(fast);
  routes_.push_back(std::move(r));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  // At most kMaxSegments on the stack (a longer path matches no route: none has that many).
  constexpr size_t kMaxSegments = 16;
  std::array<std::string_view, kMaxSegments> segs;
  size_t n = 0;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    if (n == kMaxSegments) return m;
    size_t slash = path.find('/');
    segs[n++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  // Literals compared first; the parameters are copied only for the route that is taken, so a
  // request costs no allocation for the routes it passes over.
  auto matches = [&](const Route& r) {
    if (r.segments.size() != n) return false;
    for (size_t i = 0; i < n; ++i) {
      const std::string& p = r.segments[i];
      if (IsParam(p) ? segs[i].empty() : p != segs[i]) return false;
    }
    return true;
  };
  for (const Route& r : routes_) {
    if (!matches(r)) continue;
    if (r.method == method) {
      m.route = &r;
      m.allow.clear();
      for (size_t i = 0; i < n; ++i) {
        const std::string& p = r.segments[i];
        if (IsParam(p)) m.params.emplace_back(p.substr(1, p.size() - 2), std::string(segs[i]));
      }
      return m;
    }
    if (m.allow.find(r.method) == std::string::npos) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += r.method;
    }
  }
  return m;
}

}  // namespace rapport::http
