#include "tracking/machine_classifier.h"

#include <string>

namespace rapport::tracking {

namespace {

// The user agent in ASCII lower case, once per hit: the fragments below are then plain substring
// searches (a tolower call per character and fragment was a fifth of a hit's handler time).
std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Lower-case fragments of user agents sent by security scanners, link checkers, crawlers and
// HTTP libraries (a person's mail client or browser sends none of these).
constexpr std::string_view kScannerAgents[] = {
    "barracuda",
    "mimecast",
    "proofpoint",
    "urldefense",
    "messagelabs",
    "symantec",
    "forcepoint",
    "trendmicro",
    "sophos",
    "fortiguard",
    "ironport",
    "safelinks",
    "bingpreview",
    "bot/",
    "bot;",
    "crawler",
    "spider",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "apache-httpclient",
    "libwww-perl",
    "headlesschrome",
    "phantomjs",
    "facebookexternalhit",
    "skypeuripreview",
    "whatsapp",
    "zgrab",
    "masscan",
    "nessus",
};

MachineVerdict Machine(std::string reason) { return MachineVerdict{true, std::move(reason)}; }

}  // namespace

MachineVerdict ClassifyHit(const Hit& hit, const MachineRanges& ranges) {
  IpAddress ip{};
  bool has_ip = ParseIp(hit.ip, ip);
  const std::string agent = AsciiLower(hit.user_agent);
  if (hit.kind == HitKind::kOpen) {
    if (hit.user_agent == "Mozilla/5.0" && has_ip && ranges.Contains("apple", ip))
      return Machine("apple_mpp");
    if (agent.find("googleimageproxy") != std::string::npos) return Machine("gmail_image_proxy");
    if (agent.find("yahoomailproxy") != std::string::npos) return Machine("yahoo_image_proxy");
  }
  if (hit.method == "HEAD") return Machine("head_request");
  if (hit.user_agent.empty()) return Machine("no_user_agent");
  for (std::string_view fragment : kScannerAgents)
    if (agent.find(fragment) != std::string::npos) return Machine("scanner_user_agent");
  if (has_ip && ranges.Contains("scanner", ip)) return Machine("scanner_network");
  if (hit.kind == HitKind::kClick) {
    if (hit.since_sent && *hit.since_sent >= Micros(0) && *hit.since_sent < kFastClick)
      return Machine("click_within_seconds_of_delivery");
    if ((hit.links_in_message >= 2 && hit.distinct_links_in_burst >= hit.links_in_message) ||
        hit.distinct_links_in_burst >= 5)
      return Machine("all_links_at_once");
  }
  return {};
}

}  // namespace rapport::tracking
