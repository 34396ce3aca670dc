// Configuration of the SMTP transport, parsed from its URL. Pure.
//
//   smtp://[user[:password]@]host[:port][?option=value&...]    (port 25; STARTTLS when offered)
//   smtps://[user[:password]@]host[:port][?...]                (port 465; implicit TLS)
//
// Options: tls=opportunistic|required|none (smtp:// only), tls_verify=true|false, ca_file=PATH,
// helo=NAME, pool=N (connections, default 4), max_messages=N per connection (0 = unlimited),
// connect_timeout, greeting_timeout, command_timeout, data_timeout (seconds),
// auth=plain|login (forces a mechanism). User and password are percent-decoded.
// Failure: kInvalid with field "url". Describe() never shows the password.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace rapport::delivery {

enum class TlsMode { kNone, kOpportunistic, kRequired, kImplicit };

struct SmtpConfig {
  std::string host;
  int port = 25;
  TlsMode tls = TlsMode::kOpportunistic;
  bool tls_verify = true;
  std::string ca_file;
  std::string user;
  std::string password;
  std::string auth_mechanism;  // "" = best offered (PLAIN, then LOGIN)
  std::string helo_name = "localhost";
  int pool_size = 4;
  int max_messages_per_connection = 0;
  std::chrono::milliseconds connect_timeout{30'000};
  std::chrono::milliseconds greeting_timeout{60'000};
  std::chrono::milliseconds command_timeout{60'000};
  std::chrono::milliseconds data_timeout{180'000};  // the reply to the final "."

  // "smtp://host:port" (no credentials).
  std::string Describe() const;
};

Result<SmtpConfig> ParseSmtpUrl(std::string_view url);

}  // namespace rapport::delivery
