// Configuration of the SMTP transport, parsed from its URL. Pure.
//
//   smtp://[user[:password]@]host[:port][?option=value&...]    (port 25; STARTTLS when offered)
//   smtps://[user[:password]@]host[:port][?...]                (port 465; implicit TLS)
//
// Options: tls=opportunistic|required|none (smtp:// only), tls_verify=true|false, ca_file=PATH,
// helo=NAME, pool=N (connections, default 4), max_messages=N per connection (0 = unlimited),
// connect_timeout, greeting_timeout, command_timeout, data_timeout (seconds),
// auth=plain|login (forces a mechanism), allow_plaintext_auth=true|false (default false: with a
// user in the URL, a session that did not get TLS fails before AUTH rather than send the
// credentials in clear; true allows AUTH without TLS, for a relay on a trusted network).
// User and password are percent-decoded (a password with '@', ':', '/', '?' or '#' must be
// percent-encoded).
// Failure: kInvalid with field "url"; the message never quotes any part of the URL (it may hold
// the password). Describe() never shows credentials.
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
  std::string auth_mechanism;         // "" = best offered (PLAIN, then LOGIN)
  bool allow_plaintext_auth = false;  // AUTH over a connection without TLS
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
