#include "tracking/machine_ranges.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>

namespace rapport::tracking {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void Mask(IpAddress& ip, int prefix) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(prefix - i * 8, 0, 8);
    ip[i] &= static_cast<uint8_t>(keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff);
  }
}

bool IsV4Mapped(const IpAddress& ip) {
  for (int i = 0; i < 10; ++i)
    if (ip[i] != 0) return false;
  return ip[10] == 0xff && ip[11] == 0xff;
}

}  // namespace

bool ParseIp(std::string_view text, IpAddress& out) {
  if (text.empty() || text.size() > 45) return false;
  std::string s(text);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out.fill(0);
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return true;
  }
  return false;
}

bool IpRange::Contains(const IpAddress& ip) const {
  IpAddress masked = ip;
  Mask(masked, prefix);
  return masked == base;
}

Result<IpRange> ParseCidr(std::string_view text) {
  text = Trim(text);
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  IpRange r;
  if (!ParseIp(addr, r.base)) return Error::Invalid("range", fmt::format("'{}' is not an address", addr));
  bool v4 = addr.find(':') == std::string_view::npos;
  int bits = v4 ? 32 : 128;
  int prefix = bits;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > bits)
      return Error::Invalid("range", fmt::format("'{}' has no valid prefix length", text));
  }
  r.prefix = v4 ? prefix + 96 : prefix;
  Mask(r.base, r.prefix);
  return r;
}

Result<MachineRanges> MachineRanges::Parse(std::string_view text) {
  MachineRanges out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos)
      return Error::Invalid("ranges", fmt::format("line {}: expected '<label> <CIDR>'", line_no));
    std::string_view label = line.substr(0, sp);
    if (label != "apple" && label != "scanner")
      return Error::Invalid("ranges", fmt::format("line {}: unknown label '{}'", line_no, label));
    auto range = ParseCidr(line.substr(sp + 1));
    if (!range.ok())
      return Error::Invalid("ranges", fmt::format("line {}: {}", line_no, range.error().message));
    out.ranges_.push_back({std::string(label), *range, std::string(Trim(line.substr(sp + 1)))});
  }
  return out;
}

bool MachineRanges::Contains(std::string_view label, const IpAddress& ip) const {
  for (const Labeled& l : ranges_)
    if (l.label == label && l.range.Contains(ip)) return true;
  return false;
}

std::string MachineRanges::Serialize() const {
  std::string out;
  for (const Labeled& l : ranges_) out += l.label + " " + l.text + "\n";
  return out;
}

Result<std::vector<std::string>> ParseAppleEgressCsv(std::string_view csv) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  int line_no = 0;
  while (!csv.empty()) {
    size_t nl = csv.find('\n');
    std::string_view line = Trim(csv.substr(0, nl));
    csv = nl == std::string_view::npos ? std::string_view() : csv.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::string_view prefix = Trim(line.substr(0, line.find(',')));
    if (!ParseCidr(prefix).ok())
      return Error::Invalid("ranges", fmt::format("Apple egress list line {}: '{}' is not a CIDR", line_no,
                                                  prefix.substr(0, 60)));
    if (seen.insert(std::string(prefix)).second) out.push_back("apple " + std::string(prefix));
  }
  if (out.empty()) return Error::Invalid("ranges", "the Apple egress list holds no range");
  return out;
}

std::string TruncateIp(std::string_view ip, int v4_prefix, int v6_prefix) {
  IpAddress a;
  if (!ParseIp(ip, a)) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  if (IsV4Mapped(a)) {
    Mask(a, 96 + std::clamp(v4_prefix, 0, 32));
    inet_ntop(AF_INET, a.data() + 12, buf, sizeof(buf));
  } else {
    Mask(a, std::clamp(v6_prefix, 0, 128));
    inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
  }
  return buf;
}

}  // namespace rapport::tracking
