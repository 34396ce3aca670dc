// Route: GET /api/v1/contacts/{id}/send-time: the contact's send-time profile
// (analytics/send_time.h): the zone used, their counts of human opens and clicks by local hour of
// the week, how much their own pattern weighs against the workspace's, the best hours, the
// 168-hour posterior and population weights, and the best moment of the next seven days.
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <numeric>

#include "analytics/analytics_service.h"
#include "analytics/send_time.h"
#include "http/handlers.h"

namespace rapport::http {

namespace {

constexpr std::array<std::string_view, 7> kDays = {"sunday",   "monday", "tuesday", "wednesday",
                                                   "thursday", "friday", "saturday"};

json::object Hour(int h, const analytics::SendTimeProfile& p) {
  const auto i = static_cast<size_t>(h);
  return json::object{{"hour_of_week", h},        {"day", kDays[i / 24]},          {"hour", h % 24},
                      {"weight", p.posterior[i]}, {"population", p.population[i]}, {"opens", p.own[i].opens},
                      {"clicks", p.own[i].clicks}};
}

json::array Weights(const analytics::WeekWeights& w) {
  json::array a;
  for (double x : w) a.push_back(x);
  return a;
}

}  // namespace

void AddSendTimeRoutes(Router& router, Services& s) {
  router.Add("GET", "/api/v1/contacts/{id}/send-time", Access::kRead,
             [&s](CallContext& call) -> Result<Response> {
               if (!s.analytics) return Error::Unavailable("analytics is not running in this process");
               RAPPORT_ASSIGN_OR_RETURN(int64_t id, PathId(call, "id", "contact"));
               const WorkspaceId ws = call.key.workspace_id;
               RAPPORT_ASSIGN_OR_RETURN(Contact contact, s.store.contacts().Get(ws, id));
               RAPPORT_ASSIGN_OR_RETURN(analytics::SendTimeProfile p,
                                        s.analytics->SendTime(ws, id, contact.timezone));
               const analytics::SendTimeOptions& o = p.options;

               std::vector<int> order(analytics::kHoursPerWeek);
               std::iota(order.begin(), order.end(), 0);
               std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
                 return p.posterior[static_cast<size_t>(a)] > p.posterior[static_cast<size_t>(b)];
               });
               json::array best;
               for (size_t i = 0; i < 5; ++i) best.push_back(Hour(order[i], p));
               json::array counts;
               for (int h = 0; h < analytics::kHoursPerWeek; ++h)
                 if (p.own[static_cast<size_t>(h)] != analytics::HourCounts{}) counts.push_back(Hour(h, p));

               const Timestamp now = s.clock.Now();
               json::object next;
               auto choice = analytics::BestInWindow(p.posterior, *analytics::ZoneOrUtc(p.timezone), now,
                                                     now + std::chrono::days(7), p.evidence > 0);
               if (choice.ok()) {
                 next = json::object{{"at", FormatTimestamp(choice->at)},
                                     {"hour_of_week", choice->hour_of_week},
                                     {"weight", choice->expected},
                                     {"personal", choice->personal}};
               }
               return JsonResponse(
                   200, json::object{{"contact_id", id},
                                     {"timezone", p.timezone},
                                     {"timezone_source", p.contact_timezone ? "contact" : "workspace"},
                                     {"human_opens", p.opens},
                                     {"human_clicks", p.clicks},
                                     {"evidence", p.evidence},
                                     {"personal_share", p.personal_share},
                                     {"personal", p.evidence > 0},
                                     {"model", json::object{{"open_weight", o.open_weight},
                                                            {"click_weight", o.click_weight},
                                                            {"contact_strength", o.contact_strength},
                                                            {"population_strength", o.population_strength}}},
                                     {"best_hours", std::move(best)},
                                     {"next_best", std::move(next)},
                                     {"counts", std::move(counts)},
                                     {"posterior", Weights(p.posterior)},
                                     {"population", Weights(p.population)}});
             });
}

}  // namespace rapport::http
