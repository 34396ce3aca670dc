// The Date header's value (RFC 5322 3.3). Pure; thread-safe.
#pragma once

#include <string>

#include "core/clock.h"

namespace rapport::mail {

// RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 10:15:00 +0000".
std::string FormatRfc5322Date(Timestamp t);

}  // namespace rapport::mail
