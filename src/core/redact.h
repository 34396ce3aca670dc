// Secrets out of URLs before they reach a log line or an error message. Pure; thread-safe.
//
// RedactUrl("postgres://app:s3cret@db:5432/x?sslmode=require&password=p") returns
// "postgres://app:***@db:5432/x?sslmode=require&password=***". The userinfo is everything between
// "scheme://" and the last '@' (an unencoded '@', '/' or '?' in a password is covered too): its
// password becomes "***", and a userinfo without ':' (a token as user) becomes "***" whole.
// Query or key=value (libpq conninfo) parameters that name a secret (password, pass, passwd,
// pwd, secret, token, sslpassword, api_key) get "***" as their value. Anything else comes back
// unchanged.
//
// RedactSecrets(text, url) returns `text` with `url` replaced by RedactUrl(url), and every secret
// of `url` (its password, raw and percent-decoded; its secret parameters' values) replaced by
// "***" wherever else it occurs (a library's error message may quote any part of the URL);
// secrets shorter than 3 bytes are left alone elsewhere (they would mask ordinary words).
#pragma once

#include <string>
#include <string_view>

namespace rapport {

std::string RedactUrl(std::string_view url);
std::string RedactSecrets(std::string_view text, std::string_view url);

}  // namespace rapport
