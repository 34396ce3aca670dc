#include "core/report_period.h"

#include <fmt/format.h>

namespace rapport {

Result<DayPeriod> ReportPeriod(int64_t today, std::optional<int64_t> from, std::optional<int64_t> to,
                               int64_t default_days, int64_t max_days) {
  DayPeriod p;
  p.to = to.value_or(today);
  p.from = from.value_or(p.to - (default_days - 1));
  if (p.from > p.to) return Error::Invalid("from", "from is on or before to");
  if (p.to - p.from + 1 > max_days)
    return Error::Invalid("from", fmt::format("a report covers at most {} days", max_days));
  return p;
}

}  // namespace rapport
