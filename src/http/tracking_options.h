// The options of the public tracking endpoints (/o/, /c/, /v/: http/tracking_handlers.cpp), shared
// by ApiOptions and ServerOptions. Plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "tracking/machine_ranges.h"

namespace rapport::http {

struct TrackingOptions {
  int ipv4_prefix = 24;  // stored client addresses are truncated to these networks
  int ipv6_prefix = 48;
  // The machine ranges (Apple's proxies, scanners); null: none.
  std::shared_ptr<const tracking::MachineRanges> ranges;
  // Sent messages' link tables kept in memory for the hits (tracking/link_table_cache.h): at most
  // this many messages (0: none), each for at most link_cache_ttl.
  size_t link_cache_entries = 65536;
  std::chrono::seconds link_cache_ttl{60};
};

}  // namespace rapport::http
