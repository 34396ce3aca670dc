#include "delivery/smtp/smtp_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/encoding.h"

namespace rapport::delivery {
namespace {

Error Bad(std::string msg) { return Error::Invalid("url", std::move(msg)); }

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return Bad("bad percent escape in SMTP URL");
      int hi = HexDigitValue(s[i + 1]), lo = HexDigitValue(s[i + 2]);
      if (hi < 0 || lo < 0) return Bad("bad percent escape in SMTP URL");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<int> ParseInt(std::string_view s, int lo, int hi, std::string_view what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    return Bad("bad " + std::string(what) + " in SMTP URL (expected a number from " + std::to_string(lo) +
               " to " + std::to_string(hi) + ")");
  }
  return v;
}

Result<bool> ParseBool(std::string_view s, std::string_view what) {
  if (s == "true" || s == "1" || s == "yes") return true;
  if (s == "false" || s == "0" || s == "no") return false;
  return Bad("bad " + std::string(what) + " in SMTP URL (expected true or false)");
}

}  // namespace

std::string SmtpConfig::Describe() const {
  return std::string(tls == TlsMode::kImplicit ? "smtps://" : "smtp://") + host + ":" + std::to_string(port);
}

Result<SmtpConfig> ParseSmtpUrl(std::string_view url) {
  SmtpConfig cfg;
  std::string_view rest;
  std::string scheme(url.substr(0, std::min<size_t>(url.size(), 8)));
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (scheme.rfind("smtp://", 0) == 0) {
    rest = url.substr(7);
  } else if (scheme.rfind("smtps://", 0) == 0) {
    rest = url.substr(8);
    cfg.tls = TlsMode::kImplicit;
    cfg.port = 465;
  } else {
    return Bad("SMTP URL must start with smtp:// or smtps://");
  }
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view user = userinfo, pass;
    if (auto c = userinfo.find(':'); c != std::string_view::npos) {
      user = userinfo.substr(0, c);
      pass = userinfo.substr(c + 1);
    }
    RAPPORT_ASSIGN_OR_RETURN(cfg.user, PercentDecode(user));
    RAPPORT_ASSIGN_OR_RETURN(cfg.password, PercentDecode(pass));
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:25
    auto close = rest.find(']');
    if (close == std::string_view::npos) return Bad("unclosed '[' in SMTP URL host");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad("bad SMTP URL host");
      RAPPORT_ASSIGN_OR_RETURN(cfg.port, ParseInt(after.substr(1), 1, 65535, "port"));
    }
  } else if (auto c = rest.rfind(':'); c != std::string_view::npos) {
    host = rest.substr(0, c);
    RAPPORT_ASSIGN_OR_RETURN(cfg.port, ParseInt(rest.substr(c + 1), 1, 65535, "port"));
  }
  if (host.empty()) return Bad("SMTP URL needs a host");
  for (char ch : host) {
    if (ch == '/' || ch == '@' || ch == ' ' || static_cast<unsigned char>(ch) < 0x21) {
      return Bad("bad character in SMTP URL host");
    }
  }
  cfg.host = std::string(host);

  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string_view key = kv.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1);
    auto seconds = [&](std::chrono::milliseconds& out) -> Status {
      RAPPORT_ASSIGN_OR_RETURN(int v, ParseInt(value, 1, 3600, key));
      out = std::chrono::milliseconds(v * 1000);
      return {};
    };
    if (key == "tls") {
      if (cfg.tls == TlsMode::kImplicit) return Bad("tls= does not apply to smtps://");
      if (value == "required")
        cfg.tls = TlsMode::kRequired;
      else if (value == "opportunistic")
        cfg.tls = TlsMode::kOpportunistic;
      else if (value == "none")
        cfg.tls = TlsMode::kNone;
      else
        return Bad("tls must be opportunistic, required or none");
    } else if (key == "tls_verify") {
      RAPPORT_ASSIGN_OR_RETURN(cfg.tls_verify, ParseBool(value, key));
    } else if (key == "ca_file") {
      RAPPORT_ASSIGN_OR_RETURN(cfg.ca_file, PercentDecode(value));
    } else if (key == "helo") {
      if (value.empty()) return Bad("helo must not be empty");
      for (char ch : value) {
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return Bad("bad character in helo");
      }
      cfg.helo_name = std::string(value);
    } else if (key == "pool") {
      RAPPORT_ASSIGN_OR_RETURN(cfg.pool_size, ParseInt(value, 1, 1000, key));
    } else if (key == "max_messages") {
      RAPPORT_ASSIGN_OR_RETURN(cfg.max_messages_per_connection, ParseInt(value, 0, 1'000'000, key));
    } else if (key == "allow_plaintext_auth") {
      RAPPORT_ASSIGN_OR_RETURN(cfg.allow_plaintext_auth, ParseBool(value, key));
    } else if (key == "auth") {
      if (value != "plain" && value != "login") return Bad("auth must be plain or login");
      cfg.auth_mechanism = std::string(value);
    } else if (key == "connect_timeout") {
      RAPPORT_TRY(seconds(cfg.connect_timeout));
    } else if (key == "greeting_timeout") {
      RAPPORT_TRY(seconds(cfg.greeting_timeout));
    } else if (key == "command_timeout") {
      RAPPORT_TRY(seconds(cfg.command_timeout));
    } else if (key == "data_timeout") {
      RAPPORT_TRY(seconds(cfg.data_timeout));
    } else {
      // Not quoted: a password with an unencoded '?' or '&' would show up here.
      return Bad(
          "unknown option in the SMTP URL's query (known: tls, tls_verify, ca_file, helo, pool, "
          "max_messages, auth, allow_plaintext_auth, *_timeout); percent-encode '?', '&' and '@' "
          "in the password");
    }
  }
  return cfg;
}

}  // namespace rapport::delivery
