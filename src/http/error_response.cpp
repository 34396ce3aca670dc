#include "http/error_response.h"

#include "core/json_write.h"
#include "http/json_codec.h"

namespace rapport::http {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kTooLarge: return 413;
    case ErrorCode::kInvalid: return 422;
    case ErrorCode::kLimitExceeded: return 422;
    case ErrorCode::kSuppressed: return 422;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string PublicMessage(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInternal: return "internal error; the server log has the details";
    case ErrorCode::kUnavailable: return "the store is unavailable or busy; retry later";
    default: return error.message;
  }
}

Response ErrorResponse(const Error& error) {
  Response r;
  r.status = HttpStatusFor(error.code);
  Error shown{error.code, PublicMessage(error), error.field};
  if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable) shown.field.clear();
  r.body = WriteJson(EncodeError(shown));
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rapport\"");
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response HttpErrorResponse(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  json::object err{{"error", json::object{{"code", code}, {"message", message}, {"field", nullptr}}}};
  r.body = WriteJson(err);
  return r;
}

}  // namespace rapport::http
