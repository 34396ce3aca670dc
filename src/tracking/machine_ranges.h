// Address ranges of machines that fetch mail's images and links for people: Apple Mail Privacy
// Protection's proxies and the networks of mail security scanners. Read from the ranges file
// (data/tracking/machine-ranges.txt ships a dated copy; `rapport tracking update-ranges` refreshes
// the Apple part from Apple's published egress list).
//
// Text form, one range a line, '#' comments:   <label> <CIDR>     e.g. "apple 17.0.0.0/8"
// Labels: "apple" (MPP proxies), "scanner" (security scanners). IPv4 and IPv6.
// ParseAppleEgressCsv reads Apple's list ("<prefix>,<country>,<region>,<city>,..." per line).
//
// Pure values; immutable after parsing, so thread-safe. Errors: kInvalid naming the line.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rapport::tracking {

// An IPv4 address is kept as the IPv4-mapped IPv6 address (::ffff:a.b.c.d).
using IpAddress = std::array<uint8_t, 16>;
bool ParseIp(std::string_view text, IpAddress& out);

struct IpRange {
  IpAddress base{};
  int prefix = 0;  // over the 128 bits (an IPv4 /8 is /104)
  bool Contains(const IpAddress& ip) const;
};
Result<IpRange> ParseCidr(std::string_view text);

class MachineRanges {
 public:
  static Result<MachineRanges> Parse(std::string_view text);
  bool Contains(std::string_view label, const IpAddress& ip) const;
  size_t size() const { return ranges_.size(); }
  // The text form (the labels and ranges as parsed, in order).
  std::string Serialize() const;

 private:
  struct Labeled {
    std::string label;
    IpRange range;
    std::string text;
  };
  std::vector<Labeled> ranges_;
};

// Apple's egress list (CSV) as "apple <prefix>" lines, deduplicated; kInvalid when a line's
// prefix is not a CIDR or the list holds none.
Result<std::vector<std::string>> ParseAppleEgressCsv(std::string_view csv);

// An address truncated for storage: IPv4 to its /v4_prefix network, IPv6 to its /v6_prefix
// network, as text ("203.0.113.0", "2001:db8:1::"). Empty for text that is not an address.
std::string TruncateIp(std::string_view ip, int v4_prefix = 24, int v6_prefix = 48);

}  // namespace rapport::tracking
