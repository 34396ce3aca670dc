// Errors at the HTTP edge: the one mapping from ErrorCode to an HTTP status, and the JSON error
// body {"error":{"code","message","field"}} every failure uses.
//
// Internal and unavailable errors are answered with a fixed message (the detail, which may name
// SQL or paths, goes to the log only). Pure; thread-safe.
#pragma once

#include <string_view>

#include "core/error.h"
#include "http/message.h"

namespace rapport::http {

int HttpStatusFor(ErrorCode code);

// The response for an error; 401 carries WWW-Authenticate: Bearer.
Response ErrorResponse(const Error& error);
// Errors that only HTTP has (405 method_not_allowed, 415 unsupported_media_type).
Response HttpErrorResponse(int status, std::string_view code, std::string_view message);
// The message the client sees for `error` (generic for internal/unavailable).
std::string PublicMessage(const Error& error);

}  // namespace rapport::http
