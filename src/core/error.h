// Error values and Result<T>: how rapport reports an expected failure.
//
// Failures that input can cause (a bad email, an unknown contact, an SMTP 4xx, a template
// syntax error) are values, never exceptions and never assertions. An Error carries a code
// (mapped to an HTTP status once, in http/), a human message, and the name of the offending
// field when there is one. Thread-safety: plain values.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rapport {

enum class ErrorCode {
  kBadRequest,        // malformed input (bad JSON, bad syntax)             -> 400
  kUnauthenticated,   // no or unknown credentials                          -> 401
  kPermissionDenied,  // credentials lack the scope                         -> 403
  kNotFound,          // the named thing does not exist                     -> 404
  kConflict,          // a unique key or a state transition conflicts       -> 409
  kTooLarge,          // a body or a batch over its limit                   -> 413
  kInvalid,           // well-formed but fails validation (names a field)   -> 422
  kLimitExceeded,     // a resource limit (render steps, output size)       -> 422
  kSuppressed,        // the mail rule refused this contact this mail       -> 422
  kUnavailable,       // a dependency is down or busy; retrying may succeed -> 503
  kInternal,          // a bug or an unexpected store failure               -> 500
};

// The stable, lower-case name of a code, as it appears in API errors ("invalid", "not_found").
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string field;  // empty when the error is not about one field

  static Error BadRequest(std::string msg, std::string field = {}) {
    return {ErrorCode::kBadRequest, std::move(msg), std::move(field)};
  }
  static Error Invalid(std::string field, std::string msg) {
    return {ErrorCode::kInvalid, std::move(msg), std::move(field)};
  }
  static Error NotFound(std::string msg) { return {ErrorCode::kNotFound, std::move(msg), {}}; }
  static Error Conflict(std::string msg, std::string field = {}) {
    return {ErrorCode::kConflict, std::move(msg), std::move(field)};
  }
  static Error Internal(std::string msg) { return {ErrorCode::kInternal, std::move(msg), {}}; }
  static Error Unavailable(std::string msg) { return {ErrorCode::kUnavailable, std::move(msg), {}}; }
};

// Result<T> holds a T or an Error. Result<void> holds nothing or an Error.
// Accessing the value of a failed result is a programmer error (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace rapport

// Propagates a failed Result from the enclosing function.
#define RAPPORT_TRY(expr)                                                         \
  do {                                                                            \
    auto rapport_try_result_ = (expr);                                            \
    if (!rapport_try_result_.ok()) return std::move(rapport_try_result_).error(); \
  } while (0)

#define RAPPORT_CONCAT_INNER_(a, b) a##b
#define RAPPORT_CONCAT_(a, b) RAPPORT_CONCAT_INNER_(a, b)
// Declares `lhs` from the value of a Result, or returns its Error.
#define RAPPORT_ASSIGN_OR_RETURN(lhs, expr)                          \
  auto RAPPORT_CONCAT_(rapport_r_, __LINE__) = (expr);               \
  if (!RAPPORT_CONCAT_(rapport_r_, __LINE__).ok())                   \
    return std::move(RAPPORT_CONCAT_(rapport_r_, __LINE__)).error(); \
  lhs = std::move(RAPPORT_CONCAT_(rapport_r_, __LINE__)).value()
