// Machine opens and bot clicks: which tracking hits were made by a machine for a person rather
// than by the person. A pure, documented heuristic (docs/tracking.md "Machine opens and bot
// clicks"); its cases are in tests/tracking/machine_cases.txt. The first rule that matches gives
// the reason:
//
// Opens (the pixel):
//   apple_mpp           user agent exactly "Mozilla/5.0" from an address in Apple's ranges
//                       (Mail Privacy Protection prefetches every image when mail arrives)
//   gmail_image_proxy   user agent naming GoogleImageProxy (Gmail fetches through its proxy)
//   yahoo_image_proxy   user agent naming YahooMailProxy
// Both:
//   head_request        a HEAD request (link checkers; people's browsers send GET)
// Clicks:
//   click_within_seconds_of_delivery   less than `fast_click` (10 s) after the message was sent
//   all_links_at_once   within `burst_window` (5 s), every link of a message with two or more links
//                       was clicked, or five distinct links were
// Both:
//   no_user_agent       no User-Agent header
//   scanner_user_agent  a user agent of a known scanner, crawler or HTTP library
//   scanner_network     an address in the scanner ranges
//
// A machine hit is still an event (flagged `machine: true` with its reason), and a machine click
// still redirects. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "tracking/machine_ranges.h"

namespace rapport::tracking {

// kView: the web view (/v/{token}), recorded as "email_viewed"; classified like an open minus the
// image proxies' rules (a proxy fetches images, not pages).
enum class HitKind { kOpen, kClick, kView };

struct Hit {
  HitKind kind = HitKind::kOpen;
  std::string_view method;           // "GET", "HEAD"
  std::string_view user_agent;       // empty: none was sent
  std::string_view ip;               // the client's full address (never stored as is)
  std::optional<Micros> since_sent;  // time from the message's sending to this hit, when known
  int links_in_message = 0;
  int distinct_links_in_burst = 0;  // distinct links of this message clicked within the burst window,
                                    // this one included
};

struct MachineVerdict {
  bool machine = false;
  std::string reason;  // empty for a person
  bool operator==(const MachineVerdict&) const = default;
};

inline constexpr Micros kFastClick = std::chrono::seconds(10);
inline constexpr Micros kBurstWindow = std::chrono::seconds(5);

MachineVerdict ClassifyHit(const Hit& hit, const MachineRanges& ranges);

}  // namespace rapport::tracking
