// The options of the public tracking endpoints (/o/, /c/, /v/: http/tracking_handlers.cpp), shared
// by ApiOptions and ServerOptions. Plain values.
#pragma once

#include <memory>

#include "tracking/machine_ranges.h"

namespace rapport::http {

struct TrackingOptions {
  int ipv4_prefix = 24;  // stored client addresses are truncated to these networks
  int ipv6_prefix = 48;
  // The machine ranges (Apple's proxies, scanners); null: none.
  std::shared_ptr<const tracking::MachineRanges> ranges;
};

}  // namespace rapport::http
