// The period of a report, in days since 1970-01-01: `to` defaults to today, `from` to the
// `default_days` days ending at `to` (30: the analytics reports and the global holdout's report;
// 7: deliverability); from <= to, at most `max_days` days (kMaxReportDays; deliverability 367). One rule for
// every report's ?from=&to=, so a period means the same everywhere (docs/api.md).
#pragma once

#include <cstdint>
#include <optional>

#include "core/error.h"

namespace rapport {

inline constexpr int64_t kMaxReportDays = 1100;

struct DayPeriod {
  int64_t from = 0;
  int64_t to = 0;
};

// kInvalid naming "from" when from > to or the period is longer than max_days.
Result<DayPeriod> ReportPeriod(int64_t today, std::optional<int64_t> from, std::optional<int64_t> to,
                               int64_t default_days = 30, int64_t max_days = kMaxReportDays);

}  // namespace rapport
