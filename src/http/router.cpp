#include "http/router.h"

#include <array>

namespace rapport::http {

namespace {

// Calls fn(segment) for each '/'-separated segment of a path or pattern (one leading '/' dropped);
// stops, returning false, as soon as fn returns false.
template <class Fn>
bool ForEachSegment(std::string_view path, Fn&& fn) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    if (!fn(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
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
  ForEachSegment(pattern, [&](std::string_view seg) {
    r.segments.emplace_back(seg);
    return true;
  });
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
  bool whole = ForEachSegment(path, [&](std::string_view seg) {
    if (n == kMaxSegments) return false;
    segs[n++] = seg;
    return true;
  });
  if (!whole) return m;
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
