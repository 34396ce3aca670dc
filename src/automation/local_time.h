// Local times of day in a contact's timezone, for the waits until a time and the anniversaries.
// Pure (the tz database is read once by the date library) and thread-safe. An unknown timezone
// falls back to UTC. A local time that does not exist (the hour skipped by a DST change) is the
// instant the clocks jump; a local time that happens twice is the first one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace rapport::automation {

// The first instant strictly after `after` whose local time in `tz` is hour:minute on one of
// `weekdays` (0 Sunday .. 6 Saturday; empty: any day).
Timestamp NextLocalTime(Timestamp after, std::string_view tz, int hour, int minute,
                        const std::vector<int>& weekdays = {});

// The next anniversary, strictly after `after`, of `date` ("YYYY-MM-DD", or a timestamp whose
// local day in `tz` counts) at hour:minute local time in `tz`. The first anniversary is one year
// after the date (never the date itself); 29 February falls on 28 February in other years.
// nullopt for a value that is not a date.
std::optional<Timestamp> NextAnniversary(std::string_view date, Timestamp after, std::string_view tz,
                                         int hour, int minute);

// "sun".."sat" (or full names) -> 0..6.
std::optional<int> ParseWeekday(std::string_view s);

}  // namespace rapport::automation
