#include "delivery/smtp/smtp_capabilities.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace rapport::delivery {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace

bool SmtpCapabilities::HasAuth(std::string_view mech) const {
  return std::find(auth.begin(), auth.end(), mech) != auth.end();
}

SmtpCapabilities ParseEhloReply(const SmtpReply& reply) {
  SmtpCapabilities caps;
  caps.esmtp = true;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    auto words = Words(reply.lines[i]);
    if (words.empty()) continue;
    std::string keyword = Upper(words[0]);
    if (keyword == "PIPELINING") {
      caps.pipelining = true;
    } else if (keyword == "STARTTLS") {
      caps.starttls = true;
    } else if (keyword == "8BITMIME") {
      caps.eight_bit_mime = true;
    } else if (keyword == "SMTPUTF8") {
      caps.smtputf8 = true;
    } else if (keyword == "SIZE") {
      caps.size = true;
      if (words.size() > 1) {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(words[1].data(), words[1].data() + words[1].size(), v);
        if (ec == std::errc() && p == words[1].data() + words[1].size()) caps.size_limit = v;
      }
    } else if (keyword == "AUTH" || keyword.rfind("AUTH=", 0) == 0) {
      // "AUTH PLAIN LOGIN" or the old "AUTH=PLAIN LOGIN".
      std::vector<std::string_view> mechs(words.begin() + 1, words.end());
      if (keyword.size() > 5) mechs.push_back(words[0].substr(5));
      for (auto m : mechs) {
        std::string mech = Upper(m);
        if (!caps.HasAuth(mech)) caps.auth.push_back(std::move(mech));
      }
    }
  }
  return caps;
}

}  // namespace rapport::delivery
