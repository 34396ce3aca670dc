// Routes: GET /api/v1/reports/overview, /api/v1/reports/daily, /api/v1/reports/{dimension},
// /api/v1/reports/{dimension}/{key}, /api/v1/reports/messages/{id}, /api/v1/reports/clv-model,
// POST /api/v1/reports/rebuild (admin), /api/v1/reports/holdout (the global holdout's report, from the
// campaign service: docs/campaigns.md),
// /api/v1/contacts/{id}/analytics. The analytics service (analytics/) does the work; these parse
// the period (?from=&to=, dates in the workspace's timezone, default the last 30 days) and answer
// JSON, or CSV with `Accept: text/csv` or `?format=csv`. Shapes in docs/analytics.md.
#include <charconv>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "analytics/analytics_service.h"
#include "campaign/campaign_service.h"
#include "core/json_write.h"
#include "core/report_period.h"
#include "http/handlers.h"

namespace rapport::http {

namespace {

using analytics::Counts;
using analytics::Metric;

Result<analytics::AnalyticsService*> Service(Services& s) {
  if (!s.analytics) return Error::Unavailable("analytics is not running in this process");
  return s.analytics;
}

using Period = DayPeriod;

// ?from=&to= (days in the workspace's timezone) with core/report_period.h's rules.
Result<Period> PeriodOf(analytics::AnalyticsService& svc, const CallContext& call) {
  RAPPORT_ASSIGN_OR_RETURN(int64_t today, svc.Today(call.key.workspace_id));
  std::optional<int64_t> from, to;
  if (const std::string* v = call.request.Query("to")) {
    RAPPORT_ASSIGN_OR_RETURN(to, ParseDay(*v, "to"));
  }
  if (const std::string* v = call.request.Query("from")) {
    RAPPORT_ASSIGN_OR_RETURN(from, ParseDay(*v, "from"));
  }
  return ReportPeriod(today, from, to);
}

Result<bool> WantsCsv(const Request& r) {
  if (const std::string* f = r.Query("format")) {
    if (*f == "csv") return true;
    if (*f == "json") return false;
    return Error::Invalid("format", "format is json or csv");
  }
  const std::string* accept = r.Header("accept");
  return accept && accept->find("text/csv") != std::string::npos;
}

std::string Number(double v) {
  return WriteJson(json::value(v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 1e15
                                   ? json::value(static_cast<int64_t>(v))
                                   : json::value(v)));
}

// A count or an amount: an integer when it is one (1, not 1.0), else the double.
json::value Amount(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 1e15)
    return json::value(static_cast<int64_t>(v));
  return json::value(v);
}

json::value Rate(std::optional<double> r) { return r ? json::value(*r) : json::value(nullptr); }

json::object EncodeCounts(const Counts& c) {
  json::object o;
  for (size_t i = 0; i < analytics::kMetricCount; ++i) {
    double v = c.v[i];
    if (v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 1e15)
      o[analytics::MetricName(static_cast<Metric>(i))] = static_cast<int64_t>(v);
    else
      o[analytics::MetricName(static_cast<Metric>(i))] = v;
  }
  analytics::Rates r = analytics::RatesOf(c);
  o["open_rate"] = Rate(r.open_rate);
  o["click_rate"] = Rate(r.click_rate);
  o["click_to_open_rate"] = Rate(r.click_to_open);
  o["conversion_rate"] = Rate(r.conversion_rate);
  o["bounce_rate"] = Rate(r.bounce_rate);
  return o;
}

// CSV (RFC 4180): a header line, then one line per row; text fields quoted when they need it.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    // A leading = + - @ would be a formula in a spreadsheet: quote with a leading apostrophe.
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) return "'" + std::string(s);
    return std::string(s);
  }
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string CsvHeader(std::string_view first) {
  std::string h(first);
  // Appended piece by piece: `"," + std::string(...)` makes g++ 12 warn falsely (-Wstringop-overflow).
  for (size_t i = 0; i < analytics::kMetricCount; ++i) {
    h += ',';
    h += analytics::MetricName(static_cast<Metric>(i));
  }
  return h + ",open_rate,click_rate,click_to_open_rate,conversion_rate,bounce_rate\r\n";
}

std::string CsvRow(std::string_view first, const Counts& c) {
  std::string line = CsvField(first);
  for (size_t i = 0; i < analytics::kMetricCount; ++i) {
    line += ',';
    line += Number(c.v[i]);
  }
  analytics::Rates r = analytics::RatesOf(c);
  for (auto v : {r.open_rate, r.click_rate, r.click_to_open, r.conversion_rate, r.bounce_rate}) {
    line += ',';
    if (v) line += Number(*v);
  }
  return line + "\r\n";
}

Response CsvResponse(std::string body, std::string_view filename) {
  Response r;
  r.status = 200;
  r.content_type = "text/csv; charset=utf-8";
  r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}.csv\"", filename));
  r.body = std::move(body);
  return r;
}

Result<Response> SeriesResponse(Services& s, CallContext& call, analytics::Dimension d,
                                const std::string& key) {
  RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
  RAPPORT_ASSIGN_OR_RETURN(Period p, PeriodOf(*svc, call));
  RAPPORT_ASSIGN_OR_RETURN(bool csv, WantsCsv(call.request));
  RAPPORT_ASSIGN_OR_RETURN(auto series, svc->Series(call.key.workspace_id, d, key, p.from, p.to));
  if (csv) {
    std::string body = CsvHeader("day");
    for (const auto& [day, c] : series) body += CsvRow(FormatDay(day), c);
    return CsvResponse(std::move(body), "daily");
  }
  json::array days;
  Counts total;
  for (const auto& [day, c] : series) {
    json::object o = EncodeCounts(c);
    o["day"] = FormatDay(day);
    days.push_back(std::move(o));
    total += c;
  }
  return JsonResponse(200, json::object{{"dimension", analytics::DimensionName(d)},
                                        {"key", key},
                                        {"from", FormatDay(p.from)},
                                        {"to", FormatDay(p.to)},
                                        {"totals", EncodeCounts(total)},
                                        {"days", std::move(days)}});
}

json::object EncodeContactView(const analytics::ContactView& v) {
  json::object o{{"engagement_score", v.engagement_score},
                 {"lifecycle", analytics::StageName(v.lifecycle)},
                 {"orders", v.orders},
                 {"clv", v.revenue},
                 {"human_opens", v.human_opens},
                 {"human_clicks", v.human_clicks}};
  o["lifecycle_since"] =
      v.lifecycle_since_us ? json::value(FormatTimestamp(FromMicros(v.lifecycle_since_us))) : nullptr;
  o["first_order_at"] =
      v.first_order_us && v.orders ? json::value(FormatTimestamp(FromMicros(v.first_order_us))) : nullptr;
  o["last_order_at"] =
      v.last_order_us && v.orders ? json::value(FormatTimestamp(FromMicros(v.last_order_us))) : nullptr;
  json::object predicted{{"value_12_months", v.predicted.value},
                         {"purchases_12_months", v.predicted.purchases},
                         {"spend_per_order", v.predicted.spend},
                         {"probability_alive", v.predicted.p_alive},
                         {"method", v.orders == 0          ? "none"
                                    : v.predicted.fallback ? "fallback"
                                                           : "bg_nbd_gamma_gamma"}};
  if (v.predicted.fallback && !v.model_reason.empty()) predicted["reason"] = v.model_reason;
  o["clv_predicted"] = std::move(predicted);
  return o;
}

}  // namespace

void AddReportRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/reports/overview", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(Period p, PeriodOf(*svc, call));
    RAPPORT_ASSIGN_OR_RETURN(analytics::Overview o, svc->OverviewOf(call.key.workspace_id, p.from, p.to));
    json::array series;
    for (const auto& [day, c] : o.series)
      series.push_back(json::object{{"day", FormatDay(day)},
                                    {"sent", c[Metric::kSent]},
                                    {"delivered", c[Metric::kDelivered]},
                                    {"opened_human", c[Metric::kOpenedHuman]},
                                    {"clicked_human", c[Metric::kClickedHuman]},
                                    {"conversions", c[Metric::kConversions]},
                                    {"revenue", c[Metric::kRevenue]},
                                    {"orders", c[Metric::kOrders]},
                                    {"order_revenue", c[Metric::kOrderRevenue]}});
    json::object lifecycle;
    for (size_t i = 0; i < analytics::kStageCount; ++i)
      lifecycle[analytics::StageName(static_cast<analytics::Stage>(i))] = o.lifecycle[i];
    json::array engagement;
    for (size_t i = 0; i < o.engagement.size(); ++i)
      engagement.push_back(
          json::object{{"from", i * 10}, {"to", i == 9 ? 100 : i * 10 + 9}, {"contacts", o.engagement[i]}});
    json::array top;
    for (const auto& [name, c] : o.top_templates) {
      json::object t = EncodeCounts(c);
      t["template"] = name;
      top.push_back(std::move(t));
    }
    return JsonResponse(200, json::object{{"from", FormatDay(p.from)},
                                          {"to", FormatDay(p.to)},
                                          {"totals", EncodeCounts(o.totals)},
                                          {"series", std::move(series)},
                                          {"lifecycle", std::move(lifecycle)},
                                          {"engagement", std::move(engagement)},
                                          {"top_templates", std::move(top)}});
  });

  router.Add("GET", "/api/v1/reports/daily", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    return SeriesResponse(s, call, analytics::Dimension::kWorkspace, "");
  });

  // Drops the analytics state and folds the whole log again (after a change of [analytics]
  // settings, e.g. the goal event or the windows); answers when it is done.
  router.Add("POST", "/api/v1/reports/rebuild", Access::kAdmin, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
    auto start = std::chrono::steady_clock::now();
    RAPPORT_TRY(svc->Rebuild());
    int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
            .count();
    Audit(s, call, "reports.rebuild", "reports", "", json::object{{"position", svc->position()}});
    return JsonResponse(200, json::object{{"position", svc->position()}, {"milliseconds", ms}});
  });

  router.Add("GET", "/api/v1/reports/clv-model", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
    RAPPORT_ASSIGN_OR_RETURN(analytics::ClvModel m, svc->Model(call.key.workspace_id));
    json::object o{
        {"fitted", m.fitted}, {"customers", m.customers}, {"repeat_customers", m.repeat_customers}};
    if (m.fitted) {
      o["bg_nbd"] =
          json::object{{"r", m.bgnbd.r}, {"alpha", m.bgnbd.alpha}, {"a", m.bgnbd.a}, {"b", m.bgnbd.b}};
      o["gamma_gamma"] = json::object{{"p", m.gg.p}, {"q", m.gg.q}, {"gamma", m.gg.gamma}};
    } else {
      o["reason"] = m.reason;
    }
    return JsonResponse(200, o);
  });

  router.Add("GET", "/api/v1/reports/messages/{id}", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "message"));
               RAPPORT_ASSIGN_OR_RETURN(auto m, svc->Message(call.key.workspace_id, id));
               json::object keys;
               for (size_t d = 1; d < analytics::kDimensionCount; ++d)
                 if (!m.keys[d].empty())
                   keys[analytics::DimensionName(static_cast<analytics::Dimension>(d))] = m.keys[d];
               json::array outcomes;
               for (const std::string& x : m.outcomes) outcomes.push_back(json::value(x));
               // What was credited to it, by each attribution model (docs/analytics.md "Conversions").
               const analytics::MessageCredit& c = m.credit;
               json::object conversions{
                   {"last", Amount(c.last)}, {"first", Amount(c.first)}, {"linear", Amount(c.linear)}};
               json::object revenue{{"last", Amount(c.revenue_last)},
                                    {"first", Amount(c.revenue_first)},
                                    {"linear", Amount(c.revenue_linear)}};
               return JsonResponse(200, json::object{{"message_id", id},
                                                     {"keys", std::move(keys)},
                                                     {"outcomes", std::move(outcomes)},
                                                     {"conversions", std::move(conversions)},
                                                     {"revenue", std::move(revenue)}});
             });

  // Before {dimension}, which would take "holdout" as a dimension's name.
  router.Add("GET", "/api/v1/reports/holdout", Access::kRead, [&s](CallContext& call) -> Result<Response> {
    if (!s.campaigns) return Error::Unavailable("campaigns are not running in this process");
    std::optional<int64_t> from, to;
    if (const std::string* v = call.request.Query("from")) {
      RAPPORT_ASSIGN_OR_RETURN(from, ParseDay(*v, "from"));
    }
    if (const std::string* v = call.request.Query("to")) {
      RAPPORT_ASSIGN_OR_RETURN(to, ParseDay(*v, "to"));
    }
    RAPPORT_ASSIGN_OR_RETURN(json::object report,
                             s.campaigns->ProgrammeReport(call.key.workspace_id, from, to));
    return JsonResponse(200, report);
  });

  router.Add("GET", "/api/v1/reports/{dimension}", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
               auto d = analytics::ParseDimension(call.Param("dimension"));
               if (!d) return Error::NotFound("no report '" + call.Param("dimension") + "'");
               RAPPORT_ASSIGN_OR_RETURN(Period p, PeriodOf(*svc, call));
               RAPPORT_ASSIGN_OR_RETURN(bool csv, WantsCsv(call.request));
               RAPPORT_ASSIGN_OR_RETURN(auto rows, svc->Breakdown(call.key.workspace_id, *d, p.from, p.to));
               if (csv) {
                 std::string body = CsvHeader(analytics::DimensionName(*d));
                 for (const auto& [key, c] : rows) body += CsvRow(key, c);
                 return CsvResponse(std::move(body), std::string(analytics::DimensionName(*d)));
               }
               json::array data;
               for (const auto& [key, c] : rows) {
                 json::object o = EncodeCounts(c);
                 o["key"] = key;
                 data.push_back(std::move(o));
               }
               return JsonResponse(200, json::object{{"dimension", analytics::DimensionName(*d)},
                                                     {"from", FormatDay(p.from)},
                                                     {"to", FormatDay(p.to)},
                                                     {"data", std::move(data)}});
             });

  router.Add("GET", "/api/v1/reports/{dimension}/{key}", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               auto d = analytics::ParseDimension(call.Param("dimension"));
               if (!d || *d == analytics::Dimension::kWorkspace)
                 return Error::NotFound("no report '" + call.Param("dimension") + "'");
               return SeriesResponse(s, call, *d, call.Param("key"));
             });

  router.Add("GET", "/api/v1/contacts/{id}/analytics", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               RAPPORT_ASSIGN_OR_RETURN(analytics::AnalyticsService * svc, Service(s));
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "contact"));
               RAPPORT_TRY(s.store.contacts().Get(call.key.workspace_id, id));
               RAPPORT_ASSIGN_OR_RETURN(analytics::ContactView v, svc->Contact(call.key.workspace_id, id));
               json::object o = EncodeContactView(v);
               o["contact_id"] = id;
               return JsonResponse(200, o);
             });
}

}  // namespace rapport::http
