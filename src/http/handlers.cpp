#include "http/handlers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "core/json_write.h"

namespace rapport::http {

Result<json::value> ParseBody(const Request& request) {
  thread_local JsonBodyParser parser;
  return parser.Parse(request.body);
}

Response JsonResponse(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = WriteJson(body);
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Result<int64_t> PathId(const CallContext& call, std::string_view name, std::string_view what) {
  const std::string& s = call.Param(name);
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || ptr != s.data() + s.size() || id <= 0)
    return Error::NotFound("no " + std::string(what) + " with id '" + s.substr(0, 40) + "'");
  return id;
}

Result<int> LimitParam(const Request& request) {
  const std::string* s = request.Query("limit");
  if (!s || s->empty()) return 50;
  int limit = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), limit);
  if (ec != std::errc() || ptr != s->data() + s->size() || limit < 1 || limit > 1000)
    return Error::Invalid("limit", "limit is an integer from 1 to 1000");
  return limit;
}

void Audit(Services& s, const CallContext& call, std::string action, std::string entity,
           std::string entity_id, json::object details) {
  AuditEntry e;
  e.workspace_id = call.key.workspace_id;
  e.actor =
      call.key.id != 0 ? "key:" + std::to_string(call.key.id) : "link";  // signed-link pages have no key
  e.action = std::move(action);
  e.entity = std::move(entity);
  e.entity_id = std::move(entity_id);
  e.details = std::move(details);
  e.at = s.clock.Now();
  Status st = s.store.audit().Record(e);
  if (!st.ok()) {
    s.metrics.AddStoreError();
    spdlog::error("audit record for {} {} failed: {}", e.action, e.entity_id, st.error().message);
  }
}

Result<int64_t> ParseDay(std::string_view s, std::string_view field) {
  int y = 0;
  unsigned m = 0, d = 0;
  auto bad = Error::Invalid(std::string(field), std::string(field) + " is a date, YYYY-MM-DD");
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad;
  if (std::from_chars(s.data(), s.data() + 4, y).ec != std::errc() ||
      std::from_chars(s.data() + 5, s.data() + 7, m).ec != std::errc() ||
      std::from_chars(s.data() + 8, s.data() + 10, d).ec != std::errc())
    return bad;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return bad;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

std::string FormatDay(int64_t day) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

}  // namespace rapport::http
