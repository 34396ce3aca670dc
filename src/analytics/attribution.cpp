#include "analytics/attribution.h"

#include <algorithm>
#include <map>

namespace rapport::analytics {

namespace {
bool Eligible(const Touch& t, int64_t c, const AttributionWindows& w) {
  if (t.at_us > c) return false;
  return c - t.at_us <= (t.click ? w.click_us : w.open_us);
}
}  // namespace

std::vector<Credit> Attribute(const std::vector<Touch>& touches, int64_t conversion_us,
                              const AttributionWindows& windows) {
  const Touch* last = nullptr;
  const Touch* first = nullptr;
  std::map<int64_t, Credit> credits;
  for (const Touch& t : touches) {
    if (!Eligible(t, conversion_us, windows)) continue;
    credits[t.message_id].message_id = t.message_id;
    if (!last || t.at_us > last->at_us || (t.at_us == last->at_us && t.click && !last->click)) last = &t;
    if (!first || t.at_us < first->at_us || (t.at_us == first->at_us && t.click && !first->click)) first = &t;
  }
  if (credits.empty()) return {};
  double share = 1.0 / static_cast<double>(credits.size());
  for (auto& [id, c] : credits) c.linear = share;
  credits[last->message_id].last = 1;
  credits[first->message_id].first = 1;
  std::vector<Credit> out;
  out.reserve(credits.size());
  for (auto& [id, c] : credits) out.push_back(c);
  return out;
}

bool TouchMayMatter(const Touch& t, int64_t now_us, const AttributionWindows& windows) {
  return now_us - t.at_us <= std::max(windows.click_us, windows.open_us) &&
         now_us - t.at_us <= (t.click ? windows.click_us : windows.open_us);
}

}  // namespace rapport::analytics
